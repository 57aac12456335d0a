"""compare and CheckReport: the pure comparison the grader uses, the text, the HTML and the JSON."""

import json

import numpy as np
import pytest

from autodiff_lab.check import ATOL, RTOL, CheckReport, check_vjp, compare, random_inputs

E = random_inputs((3, 4), seed=1)


def test_ok_is_a_real_bool():
    assert compare(E, E.copy()).ok is True
    assert compare(E, -E).ok is False
    assert CheckReport(np.bool_(True)).ok is True


def test_the_tolerance_is_numpys_allclose():
    for factor in (1 + RTOL / 2, 1 + 2 * RTOL, 1 + 1e-3):
        got = E * factor
        assert compare(E, got).ok == np.allclose(got, E, rtol=RTOL, atol=ATOL)
    assert compare(E, E * 1.001).max_rel_error == pytest.approx(1e-3, rel=0.01)


def test_the_report_names_the_worst_entry():
    got = E.copy()
    got[2, 1] += 0.5
    report = compare(E, got, name="my_rule", argnum=1)
    assert (report.worst_index, report.wrong_entries, report.entries) == ((2, 1), 1, 12)
    assert report.expected_value == E[2, 1] and report.got_value == got[2, 1]
    assert report.max_abs_error == pytest.approx(0.5)
    text = str(report)
    assert "FAILED: compare check of my_rule, argument 1" in text
    assert "index (2, 1)" in text and "only some entries are wrong (1 of 12)" in text


@pytest.mark.parametrize("got, words", [
    (2 * E, "2 times"), (0.5 * E, "1/2 times"), (-E, "sign flipped"), (np.zeros_like(E), "zero gradient"),
    (1.001 * E, "1.001 times (0.1% too large)"), (0.999 * E, "0.1% too small"),
])
def test_value_diagnoses(got, words):
    assert words in compare(E, got).diagnosis


def test_transposed_values_of_a_square_array():
    square = random_inputs((3, 3), seed=2)
    assert "transposed" in compare(square, square.T).diagnosis


@pytest.mark.parametrize("expected, got, hint, diagnosis", [
    (E[0], E, "did you undo broadcasting", None),
    (E.sum(axis=0), np.broadcast_to(E, (3, 4)) / 3 * 3, "did you undo broadcasting", "summing your result"),
    (E, E.T, "transposed?", "transposed"),
    (E, E.ravel(), "its argument's shape, (3, 4)", "reshape to (3, 4)"),
    (E, E[0], "smaller than expected", None),
])
def test_shape_hints_and_diagnoses(expected, got, hint, diagnosis):
    report = compare(expected, got)
    assert not report.ok and report.got_shape == got.shape and report.expected_shape == expected.shape
    assert hint in report.hint
    assert (diagnosis is None and report.diagnosis is None) or diagnosis in report.diagnosis


def test_dtypes():
    e32 = E.astype(np.float32)
    assert compare(e32, e32).ok
    assert "float64" in compare(e32, E).error  # a float32 computation came back as float64
    assert compare(e32, E, check_dtype=False).ok  # float32 rounding (6e-8) is below rtol
    assert compare(2.0, 2.0).ok and compare(np.float64(2.0), 2).ok


def test_nan_and_non_arrays_are_failures_with_a_message():
    got = E.copy()
    got[1, 1] = np.nan
    report = compare(E, got)
    assert not report.ok and "NaN" in report.error and report.worst_index == (1, 1)
    assert "list" in compare(E, E.tolist()).error
    assert "None" in compare(E, None).error
    assert "int64" in compare(E, E.astype(np.int64)).error


def test_mask_restricts_the_values_compared():
    got = E.copy()
    got[0] = 99.0
    mask = np.ones(E.shape, dtype=bool)
    mask[0] = False
    assert compare(E, got, mask=mask).ok
    assert compare(E, got, mask=mask).entries == 8


def test_a_broken_reference_is_the_callers_error():
    with pytest.raises(ValueError, match="NaN"):
        compare(np.array([1.0, np.nan]), np.zeros(2))
    with pytest.raises(TypeError, match="numbers or an array"):
        compare("abc", np.zeros(2))


def test_to_dict_is_json():
    reports = [compare(E, E), compare(E, -E), compare(E, E.T), compare(E, np.full_like(E, np.nan)),
               check_vjp(np.exp, lambda g, ans, x: g * ans, (E,))]
    for report in reports:
        data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
        assert data["ok"] is report.ok
        assert data["expected_shape"] == [3, 4]


def test_html_is_escaped_and_says_the_same():
    report = compare(np.float64(1.0), 2.0, what="dot product <v, J u>")
    page = report._repr_html_()
    assert "&lt;v, J u&gt;" in page and "<v, J u>" not in page
    assert "FAILED" in page and "2 times" in page


def test_compare_runs_no_user_code_and_works_on_harvested_arrays(tmp_path):
    """The grader saves arrays from a notebook and compares them elsewhere."""
    np.savez(tmp_path / "harvest.npz", expected=E, got=E * 1.001)
    with np.load(tmp_path / "harvest.npz") as saved:
        report = compare(saved["expected"], saved["got"], name="student", argnum=0)
    assert not report.ok and "0.1% too large" in report.diagnosis


def test_a_factor_no_mistake_makes_is_not_called_a_constant_factor():
    """A result all but zero or huge is no 'forgotten 1/N': 1/248883137302054 was printed once (lecture 9)."""
    expected = np.array([1.0, -2.0, 0.5])
    assert compare(expected, 2 * expected).diagnosis.startswith("off by a constant factor: your result is 2 times")
    assert compare(expected, expected / 8).diagnosis.startswith("off by a constant factor: your result is 1/8 times")
    for factor in (4e-15, 1e5, -1e-7):
        assert "constant factor" not in (compare(expected, factor * expected).diagnosis or "")
    tiny = np.array([1e-20, 2e-20])                          # expected within atol of zero: no factor to name
    assert "constant factor" not in (compare(tiny, 1e9 * tiny).diagnosis or "")


def test_an_exception_with_an_empty_message_is_said_to_have_one():
    def rule(g, ans, x):
        raise ValueError()

    report = check_vjp(np.sin, rule, (random_inputs((3,), "real", seed=0),))
    assert not report.ok and "ValueError" in report.error and "(its message is empty)" in report.error
    from autodiff_lab.check.exercise import check_function

    def student(x):
        raise KeyError()

    assert str(check_function(student, np.sin, [(1.0,)])).startswith("✗ student raised KeyError (its message is empty)")
