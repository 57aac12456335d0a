"""Feedback a student can read (issue 20, part 7): the part headings' math rendered as MathML when the page is
written (no script, no network), numbers of a diagnosis to two significant digits as grader/README.md section 4
promises, each report of a check run on several input sets saying which input set it is, and an exception
with an empty message said to be empty. The pages are made from verdicts judged here (no sandbox)."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from grader.feedback import render, write_autograded
from grader.math_text import math_html, title_html
from grader.probes import VJP
from grader.runner import Result, Run, judge


@pytest.fixture(scope="module")
def a1():
    from grader.assignment import load_assignment

    return load_assignment("a1_backprop")


def page_for(a1, parts_checks: dict | None = None, **fields) -> str:
    parts = {p.grade_id: {"points": p.points, "score": 0.0, "checks": [], "note": ""} for p in a1.parts}
    for gid, checks in (parts_checks or {}).items():
        parts[gid]["checks"] = checks
    return render(Result("ann", a1.id, "ok", 0.0, a1.max_score, parts, **fields), a1)


def vjp_verdicts(scale) -> list[dict]:
    """The verdicts on a tanh VJP whose cotangent is the right one times `scale` (a number or an array)."""
    probe = VJP("my_tanh", "tanh", args=[(3,)])
    expected = probe.expected()
    got = [expected[0], [np.asarray(expected[1][0]) * scale]]
    return [c.to_dict() for c in probe.judge(expected, {"out": {"value": got}})]


# -------------------------------------------------------------------------------------------------- math
def test_part_headings_show_their_math_as_mathml_and_code_as_code(a1):
    page = page_for(a1)
    heading = re.search(r"<h2[^>]*>.*?Part 1 \(1 point\): the graph of (.*?) <small>", page).group(1)
    assert heading.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">')
    assert "<mi>x</mi>" in heading and "<mi>z</mi>" in heading and "$" not in heading
    assert "with <code>Value</code>" in page and "`" not in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/1998/Math/MathML", "")
    assert "https://" not in page


def test_latex_that_cannot_be_converted_is_shown_as_written():
    assert math_html(r"\begin{nosuchenv}") == r"<code>\begin{nosuchenv}</code>"
    assert title_html("a <b> & $x$").startswith("a &lt;b&gt; &amp; <math")


# ----------------------------------------------------------------------------------- two significant digits
@pytest.mark.parametrize("scale, diagnosis", [
    (2.5, "your result is about 2.5 times the right one."),
    (2.0, "your result is about 2.0 times the right one."),
    (1.0137, "your result is about 1.0 times the right one (slightly too large)."),
    (0.7, "your result is about 0.70 times the right one."),
])
def test_a_constant_factor_is_given_to_two_significant_digits(a1, scale, diagnosis):
    checks = vjp_verdicts(scale)
    text = html.unescape(page_for(a1, {a1.parts[0].grade_id: checks}))
    assert diagnosis in text


def test_error_sizes_are_given_to_two_significant_digits(a1):
    text = html.unescape(page_for(a1, {a1.parts[0].grade_id: vjp_verdicts(0.7)}))
    difference = re.search(r"difference\s+max abs (\S+), max rel (\S+) \(", text)
    assert difference.group(2) == "0.30"                # 1 - 0.7, written with its two digits
    for number in (difference.group(1), re.search(r"off by (\S+)", text).group(1)):
        digits = number.split("e")[0].replace(".", "").lstrip("0")
        assert len(digits) == 2, number


# ------------------------------------------------------------------------------------------- input sets
def test_each_report_of_a_check_run_on_several_input_sets_names_its_input_set(a1):
    part = a1.parts[0]          # add_mul_backprop, checked on two input sets
    assert len(part.probes) == 2
    harvests = {part.grade_id: ({0: {"out": {"value": [0.0, [0.0, 0.0, 0.0]]}},
                                 1: {"out": {"error": "ValueError: "}}}, {})}
    parts = judge(a1, Run(harvests=harvests))
    checks = parts[part.grade_id]["checks"]
    assert {c["input_set"] for c in checks} == {"input set 1 of 2", "input set 2 of 2"}
    page = html.unescape(page_for(a1, {part.grade_id: checks}))
    assert "(input set 1 of 2)" in page and "(input set 2 of 2)" in page
    for p in a1.parts:   # a part with one input set says nothing of it
        if len(p.probes) != 1:
            continue
        got = judge(a1, Run(harvests={p.grade_id: ({}, {})}))[p.grade_id]["checks"]
        assert all(c["input_set"] == "" for c in got)


def test_the_autograded_notebook_names_the_input_set_too(a1, tmp_path):
    part = a1.parts[0]
    parts = judge(a1, Run(harvests={part.grade_id: ({1: {"out": {"error": "ValueError: "}}}, {})}))
    result = Result("ann", a1.id, "ok", 0.0, a1.max_score, parts)
    notebook = write_autograded(tmp_path, result, a1).read_text(encoding="utf-8")
    assert "(input set 2 of 2): add_mul_backprop raised ValueError (with an empty message)" in notebook


# ------------------------------------------------------------------------------------------ empty messages
def test_an_exception_with_an_empty_message_says_so(a1):
    probe = a1.parts[3].probes[0]
    checks = [c.to_dict() for c in probe.judge(probe.expected(), {"out": {"error": "ValueError: "}})]
    page = html.unescape(page_for(a1, {a1.parts[3].grade_id: checks},
                                  cells=[{"grade_id": "add_mul", "ename": "RuntimeError", "evalue": ""}]))
    assert f"{probe.student} raised ValueError (with an empty message)" in page
    assert "cell 'add_mul' raised RuntimeError (with an empty message)" in page
