"""Hidden tests read as data, judged on untrusted harvests, and the same checks run inside a notebook."""

import io
import zipfile

import numpy as np
import pytest

from grader.assignment import load_assignment
from grader.probes import VJP, HiddenTestError, hidden_region, parse_hidden
from grader.sandbox.supervisor import load_arrays
from grader.structure import nbgrader_meta, read_notebook

ASSIGNMENTS = ["a1_backprop", "a2_vjp", "a3_forward_mode", "a4_two_layer_net"]


def hidden(code):
    return f"x = 1\n### BEGIN HIDDEN TESTS\n{code}\n### END HIDDEN TESTS\n"


@pytest.mark.parametrize("code, message", [
    ("import os\nos.system('rm -rf /')", "not a call grade"),
    ("grade.vjp(my_tanh, 'tanh', args=[np.ones(3)])", "only names and literals"),
    ("grade.vjp(my_tanh, 'no_such_function', args=[(3,)])", "unknown reference function"),
    ("grade.everything_passes(my_tanh)", "not a call grade"),
    ("grade.vjp(my_tanh, 'tanh', argz=[(3,)])", "unexpected keyword"),
])
def test_hidden_tests_are_data_never_code(code, message):
    with pytest.raises(HiddenTestError, match=message):
        parse_hidden(hidden(code), "cell")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_part_has_points_and_hidden_checks_and_students_never_get_them(assignment):
    a = load_assignment(assignment)
    assert a.parts and all(p.points > 0 and p.probes for p in a.parts)
    released = a.release_path.read_text()
    assert "BEGIN HIDDEN TESTS" not in released and "grade." not in released and "BEGIN SOLUTION" not in released


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solutions_pass_their_own_hidden_tests_run_in_a_notebook(assignment):
    """Plain-nbgrader mode: the hidden tests executed in the kernel (here, in this process)."""
    namespace = {"__name__": "__main__"}
    for cell in read_notebook(load_assignment(assignment).source_path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        is_test = nbgrader_meta(cell).get("grade")
        exec(compile(hidden_region(cell["source"]) if is_test else cell["source"], "cell", "exec"), namespace)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solutions_pass_their_visible_self_checks(assignment):
    """The whole source notebook, top to bottom, as an instructor runs it before releasing."""
    namespace = {"__name__": "__main__"}
    for cell in read_notebook(load_assignment(assignment).source_path)["cells"]:
        if cell["cell_type"] == "code":
            exec(compile(cell["source"], "cell", "exec"), namespace)


def test_a_wrong_rule_fails_in_a_notebook_with_the_checkers_report():
    from autodiff_lab import defvjp, primitive
    from grader.probes import grade

    @primitive
    def my_tanh(x):
        return np.tanh(x)

    defvjp(my_tanh, lambda g, ans, x: g * (1 + ans**2))
    with pytest.raises(AssertionError, match="VJP"):
        grade.vjp(my_tanh, "tanh", args=[(4,)])


def probe():
    return VJP("my_tanh", "tanh", args=[(3,)])


@pytest.mark.parametrize("harvested, says", [
    ({}, "no answer came back"),
    ({"out": {"error": "ZeroDivisionError: division by zero"}}, "raised ZeroDivisionError"),
    ({"out": {"value": "hello"}}, "expected a pair"),
    ({"out": {"value": [[1.0, 2.0, 3.0], ["x"]]}}, ""),
    ({"out": {"value": [np.zeros(3), [np.zeros((2, 2))]]}}, ""),
    ({"out": "garbage"}, "no answer came back"),
])
def test_untrusted_harvests_fail_cleanly(harvested, says):
    p = probe()
    checks = p.judge(p.expected(), harvested)
    assert checks and not all(c.ok for c in checks)
    assert says in " ".join(c.text for c in checks)


def test_a_right_harvest_passes():
    p = probe()
    (x,) = p._values()
    g = p.cotangent()
    out = np.tanh(x)
    assert all(c.ok for c in p.judge(p.expected(), {"out": {"value": [out, [g * (1 - out**2)]]}}))


def npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_harvested_arrays_are_never_unpickled():
    with pytest.raises(ValueError):
        load_arrays(npz(evil=np.array([object()], dtype=object)), 2**20)


def test_compressed_or_oversized_harvests_are_refused():
    buf = io.BytesIO()
    np.savez_compressed(buf, zeros=np.zeros(10**6))
    with pytest.raises(ValueError, match="compressed, oversized"):
        load_arrays(buf.getvalue(), 2**30)
    with pytest.raises(ValueError, match="compressed, oversized"):
        load_arrays(npz(a=np.zeros(10**5)), 1000)
    with pytest.raises(zipfile.BadZipFile):
        load_arrays(b"not a zip", 1000)
