"""What a check found, in words a student can act on: CheckReport, and `compare`, the pure comparison of an
expected array with a computed one that every checker (and the grader, on harvested arrays) uses.

The tolerance. An entry passes when |got - expected| <= atol + rtol * |expected|, the test of numpy.allclose,
with rtol = 1e-5 and atol = 1e-9 by default. The relative error reported for an entry is
|got - expected| / (|expected| + atol / rtol), so "every entry's relative error <= rtol" is exactly the
pass test (entries smaller than atol / rtol = 1e-4 count as if they were 1e-4).

Why 1e-5: the checkers' references are finite differences with Richardson extrapolation in float64
(finite_differences.py). Over some 30,000 random checks of every primitive's right rules, to second order
(tests/check and longer runs of the same), the relative error was below 3.4e-9 but once, at 7e-8: more than
a hundred times below the tolerance. A rule off by 0.1 % is off by 1e-3, a hundred times above it (a
constant factor fails from about 1 + 1.1e-5 on). PyTorch's gradcheck uses rtol = 1e-3, which lets such a
rule pass.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..backend import is_array, to_numpy

RTOL = 1e-5
ATOL = 1e-9


@dataclass
class CheckReport:
    """The outcome of one check. `ok` is a bool; the other fields say what was compared and, on failure, what
    was wrong. print(report) or display it in a notebook; report.to_dict() is JSON-able."""

    ok: bool
    kind: str = "compare"  # which check: "vjp", "jvp", "jvp of vjp", ...
    what: str = "gradient"  # what was compared: "gradient", "tangent", "Jacobian", ...
    name: str = ""  # the function or rule checked
    argnum: int | str | None = None  # a path such as "0['W']" for an entry of a container
    expected_shape: tuple | None = None
    got_shape: tuple | None = None
    expected_dtype: str | None = None
    got_dtype: str | None = None
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    worst_index: tuple | None = None
    expected_value: float | None = None
    got_value: float | None = None
    wrong_entries: int | None = None
    entries: int | None = None
    hint: str | None = None  # about the shape: "did you undo broadcasting?"
    diagnosis: str | None = None  # about the values: "sign flipped", "off by a constant factor 2"
    error: str | None = None  # the rule raised, returned NaN, or returned something that is not an array
    rtol: float = RTOL
    atol: float = ATOL
    details: list[str] = field(default_factory=list)  # the checks that ran, one line each

    def __post_init__(self) -> None:
        self.ok = bool(self.ok)

    @property
    def title(self) -> str:
        subject = f"{self.kind} check" + (f" of {self.name}" if self.name else "")
        if self.argnum is not None:
            subject += f", argument {self.argnum}"
        return f"{'ok' if self.ok else 'FAILED'}: {subject} ({self.what})"

    def rows(self) -> list[tuple[str, str]]:
        """(label, text) pairs: the body of str() and of the HTML table."""
        rows = []
        if self.error:
            rows.append(("error", self.error))
        if self.expected_shape is not None:
            shapes = f"expected {self.expected_shape}"
            if self.got_shape is not None and self.got_shape != self.expected_shape:
                shapes += f", got {self.got_shape}"
            rows.append(("shape", shapes))
        if self.got_dtype is not None and self.got_dtype != self.expected_dtype:
            rows.append(("dtype", f"expected {self.expected_dtype}, got {self.got_dtype}"))
        if self.hint:
            rows.append(("hint", self.hint))
        if self.max_abs_error is not None:
            rows.append(("difference", f"max abs {_num(self.max_abs_error)}, max rel "
                                       f"{_num(self.max_rel_error)} (allowed: rtol {self.rtol:g}, atol "
                                       f"{_num(self.atol)})"))
        if self.worst_index is not None:
            values = f"got {_num(self.got_value)}"
            if self.expected_value is not None:
                values = f"expected {_num(self.expected_value)}, " + values
            rows.append(("worst entry", f"index {self.worst_index}: {values}"))
        if self.wrong_entries:
            rows.append(("wrong", f"{self.wrong_entries} of {self.entries} entries"))
        if self.diagnosis:
            rows.append(("diagnosis", self.diagnosis))
        rows.extend(("checked", line) for line in self.details)
        return rows

    def __str__(self) -> str:
        width = max((len(label) for label, _ in self.rows()), default=0)
        return "\n".join([self.title] + [f"  {label:<{width}}  {text}" for label, text in self.rows()])

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#cf222e"
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(label)}</th>"
            f"<td style='text-align:left'>{html.escape(text)}</td></tr>"
            for label, text in self.rows()
        )
        return (f"<div><b style='color:{colour}'>{html.escape(self.title)}</b>"
                f"<table style='margin-left:1em'>{body}</table></div>")

    def to_dict(self) -> dict:
        """The fields as plain JSON types (tuples become lists; NaN and infinity become None)."""
        return {key: _jsonable(value) for key, value in asdict(self).items()}


def compare(expected: Any, got: Any, *, what: str = "gradient", name: str = "", argnum: int | None = None,
            rtol: float = RTOL, atol: float = ATOL, kind: str = "compare", check_dtype: bool = True,
            mask: Any = None) -> CheckReport:
    """Compare a computed array `got` with the `expected` one, entry by entry (see the module docstring for
    the tolerance), and say what is wrong: shape (with a hint), dtype, NaN, the worst entry, and a diagnosis
    where one fits (sign flipped, off by a constant factor, transposed, zero, only some entries wrong).

    Pure: it runs no user code, so a grader can call it on arrays harvested from a notebook. `expected` must
    be finite numbers; `got` may be anything (a wrong type or shape is reported, never raised). `mask`, a
    boolean array of expected's shape, restricts the comparison of values to its True entries (the form of
    `got` -- type, shape, dtype, NaN -- is always checked in full). The default rtol suits float64; for a
    float32 computation pass a looser one (float32 rounding alone is about 6e-8 per operation, and it adds up)."""
    expected, dtype = _reference(expected)
    report = CheckReport(False, kind=kind, what=what, name=name, argnum=argnum, expected_shape=expected.shape,
                         expected_dtype=str(dtype), rtol=rtol, atol=atol)
    got = _form_problems(expected if mask is None else None, got, report, dtype if check_dtype else None)
    if got is None:
        return report
    picked = np.ones(expected.shape, dtype=bool) if mask is None else np.broadcast_to(np.asarray(mask, bool),
                                                                                     expected.shape)
    positions = np.argwhere(picked)  # the compared entries' indices, in row-major order
    e, g = expected[picked], got[picked]
    error = np.abs(g - e)
    allowed = atol + rtol * np.abs(e)
    wrong = error > allowed
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = error / (np.abs(e) + (atol / rtol if rtol > 0 else 0.0))
        badness = np.where(error > 0, error / allowed, 0.0)  # > 1 means the entry fails
    report.ok = not wrong.any()
    report.max_abs_error = float(error.max(initial=0.0))
    report.max_rel_error = float(np.nan_to_num(relative, nan=0.0).max(initial=0.0))
    report.entries = int(e.size)
    report.wrong_entries = int(wrong.sum())
    if e.size:
        worst = int(np.argmax(badness))
        report.worst_index = tuple(int(i) for i in positions[worst])
        report.expected_value, report.got_value = float(e[worst]), float(g[worst])
    if not report.ok:
        report.diagnosis = (diagnose_values(expected, got, wrong.reshape(expected.shape), rtol, atol, what)
                            if mask is None else diagnose_values(e, g, wrong, rtol, atol, what))
    return report


def check_form(got: Any, shape: tuple, dtype: Any, *, what: str = "gradient",
               **fields: Any) -> CheckReport | None:
    """None if `got` is a finite floating-point array of this shape and dtype; otherwise a failed report
    that says what is wrong with it (type, shape with a hint, dtype, NaN). `fields` go into the report."""
    report = CheckReport(False, what=what, expected_shape=tuple(shape), expected_dtype=str(np.dtype(dtype)),
                         **fields)
    return None if _form_problems(None, got, report, np.dtype(dtype)) is not None else report


# ------------------------------------------------------------------------------------------- the form of got
def _reference(expected: Any) -> tuple[np.ndarray, np.dtype]:
    """expected as float64, and the dtype a result must have (expected's own, float64 for numbers)."""
    if is_array(expected):
        expected = to_numpy(expected)
    try:
        array = np.asarray(expected)
        values = array.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"compare: expected must be numbers or an array, not a {type(expected).__name__}"
                        ) from None
    if not np.all(np.isfinite(values)):
        raise ValueError("compare: expected contains NaN or infinity, so it cannot serve as a reference")
    return values, array.dtype if np.issubdtype(array.dtype, np.floating) else np.dtype(np.float64)


def _form_problems(expected: np.ndarray | None, got: Any, report: CheckReport,
                   dtype: np.dtype | None) -> np.ndarray | None:
    """got as a float64 numpy array if it has report.expected_shape, the dtype (unless dtype is None) and only
    finite entries; otherwise fill in the report's error / hint / diagnosis and return None. `expected` (when
    known) lets the report say what a wrong-shaped result is close to, and the expected value at a NaN."""
    what = report.what
    if got is None:
        report.error = f"the {what} is None: did the function forget to `return` its result?"
        return None
    if isinstance(got, (int, float)) and not isinstance(got, bool):
        got = np.asarray(got, dtype=dtype or np.float64)  # a Python number stands for a 0-d array
    elif is_array(got):
        got = np.asarray(to_numpy(got))
    else:
        report.error = (f"the {what} is a {type(got).__name__}, not an array. Return an array (build it with "
                        f"anp functions or operators on the arrays you were given).")
        return None
    report.got_shape, report.got_dtype = tuple(got.shape), str(got.dtype)
    want = report.expected_shape
    if got.shape != want:
        report.hint = shape_hint(want, got.shape, what)
        if expected is not None and np.issubdtype(got.dtype, np.number) and np.all(np.isfinite(got)):
            report.diagnosis = diagnose_shape(expected, got.astype(np.float64), report.rtol, report.atol,
                                              what)
        return None
    if not np.issubdtype(got.dtype, np.floating):
        report.error = f"the {what} has dtype {got.dtype}, but it must be a floating-point array ({dtype})."
        return None
    if dtype is not None and got.dtype != dtype:
        report.error = (f"the {what} has dtype {got.dtype}, expected {dtype}: compute in the input's dtype "
                        f"(look for a constant or an astype that changes it).")
        return None
    finite = np.isfinite(got)
    if not finite.all():
        first = np.unravel_index(int(np.argmin(finite)), got.shape) if got.ndim else ()
        report.worst_index = tuple(int(i) for i in first)
        report.got_value = float(got[first])
        report.expected_value = None if expected is None else float(expected[first])
        report.error = (f"the {what} contains NaN or infinity ({int((~finite).sum())} of {got.size} entries, "
                        f"the first at index {report.worst_index}): look for a division by zero, log of 0 or "
                        f"of a negative number, or an overflowing exp.")
        return None
    return got.astype(np.float64)


def shape_hint(want: tuple, got: tuple, what: str) -> str:
    """Why the shape might be wrong, from the two shapes alone."""
    tangent = what == "tangent"
    if got == want[::-1] and len(want) >= 2:
        return "your result has the transposed shape: transposed? (check the order of a matrix product)"
    if _broadcasts_to(want, got):
        if tangent:
            return (f"a tangent has the output's shape {want}: sum your result over the axes that the "
                    f"function reduces.")
        return ("your result has the shape of a broadcast: did you undo broadcasting? Sum it over the axes "
                "that broadcasting added or stretched (anp.unbroadcast(g, x)).")
    if _broadcasts_to(got, want):
        if tangent:
            return f"a tangent has the output's shape {want}: broadcast your result to it."
        return f"your result is smaller than expected ({want}): did you sum over an axis that should stay?"
    if tangent:
        return f"a tangent has the output's shape, {want}."
    if what == "gradient":
        return f"a gradient has its argument's shape, {want}."
    return f"the {what} must have shape {want}."


def _broadcasts_to(small: tuple, big: tuple) -> bool:
    try:
        return small != big and np.broadcast_shapes(small, big) == big
    except ValueError:
        return False


# ------------------------------------------------------------------------------------------------- diagnoses
def _matches(candidate: np.ndarray, got: np.ndarray, rtol: float, atol: float) -> bool:
    """got equals candidate up to ten times the tolerance (a pattern is named only when it fits well)."""
    return candidate.shape == got.shape and bool(np.allclose(got, candidate, rtol=10 * rtol, atol=10 * atol))


def diagnose_shape(expected: np.ndarray, got: np.ndarray, rtol: float, atol: float, what: str) -> str | None:
    """For a result of the wrong shape: would summing, broadcasting, transposing or reshaping fix it?"""
    if _broadcasts_to(expected.shape, got.shape):
        lead = got.ndim - expected.ndim
        stretched = tuple(lead + i for i, n in enumerate(expected.shape)
                          if n == 1 and got.shape[lead + i] != 1)
        summed = np.sum(got, axis=tuple(range(lead)) + stretched).reshape(expected.shape)
        if _matches(expected, summed, rtol, atol):
            return "summing your result over the extra axes gives the right values" + (
                "." if what == "tangent" else ": undo broadcasting.")
    if _broadcasts_to(got.shape, expected.shape) and _matches(expected, np.broadcast_to(got, expected.shape),
                                                              rtol, atol):
        return f"broadcasting your result to {expected.shape} gives the right values."
    if got.shape == expected.shape[::-1] and _matches(expected, got.T, rtol, atol):
        return "transposed: your result is the transpose of the right one."
    if got.size == expected.size and _matches(expected, got.reshape(expected.shape), rtol, atol):
        return f"the right values in the wrong shape: reshape to {expected.shape}."
    return None


FACTOR_RANGE = (1e-3, 1e3)   # the constant factors diagnosed as such (a forgotten 1/N, a doubled term, ...)


def diagnose_values(expected: np.ndarray, got: np.ndarray, wrong: np.ndarray, rtol: float, atol: float,
                    what: str) -> str | None:
    """A name for the way got differs from expected, when one fits."""
    scale = float(np.abs(expected).max(initial=0.0))
    if float(np.abs(got).max(initial=0.0)) <= atol and scale > atol:
        incoming = "tangent" if what == "tangent" else "upstream gradient"
        return (f"zero {what}: every entry is 0. Did you forget to multiply by the {incoming}, or return a "
                f"fresh array of zeros?")
    norm2 = float(np.vdot(expected, expected))
    if norm2 > 0 and scale > atol:
        factor = float(np.vdot(expected, got)) / norm2
        # a factor of 1e-15 or 1e15 names no mistake anyone makes: it is a result that is all but zero, or huge
        if FACTOR_RANGE[0] <= abs(factor) <= FACTOR_RANGE[1] and _matches(factor * expected, got, rtol, atol):
            if abs(factor + 1) <= 10 * rtol:
                return "sign flipped: your result is minus the right one."
            return f"off by a constant factor: your result is {_factor(factor)} the right one."
    if expected.ndim >= 2 and expected.shape[-1] == expected.shape[-2]:
        if _matches(np.swapaxes(expected, -1, -2), got, rtol, atol):
            return ("transposed: your result is the transpose of the right one (the factors of a matrix "
                    "product swapped, or a sum / broadcast along the wrong axis?).")
    n_wrong = int(wrong.sum())
    if n_wrong < wrong.size:
        return (f"only some entries are wrong ({n_wrong} of {wrong.size}); the others match. Look at what "
                f"is special about those entries (a branch, an edge, a tie, a repeated index).")
    return None


def _factor(c: float) -> str:
    """2.0 -> '2 times', 0.5 -> '1/2 times', 1.001 -> '1.001 times (0.1% too large)'."""
    k, inverse = round(c), round(1 / c) if c else 0
    if k not in (0, 1) and abs(c - k) <= 1e-3 * abs(c):
        return f"{k} times"
    if inverse not in (0, 1) and abs(1 / c - inverse) <= 1e-3 * abs(1 / c):
        return f"1/{inverse} times"
    text = f"{c:.6g} times"
    if abs(c - 1) < 0.1:
        text += f" ({abs(c - 1) * 100:.2g}% too {'large' if c > 1 else 'small'})"
    return text


def exception_words(err: BaseException) -> str:
    """An exception as a report writes it: "ValueError: bad shape", or "ValueError (its message is empty)"."""
    message = str(err)
    return f"{type(err).__name__}: {message}" if message else f"{type(err).__name__} (its message is empty)"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    return value
