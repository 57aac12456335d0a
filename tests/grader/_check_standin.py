"""TEMPORARY STAND-IN for autodiff_lab.check -- REMOVE when branch `check` is merged into main.

Only the part of the contract in BRIEF.md that the grader uses: numerical_grad, compare, CheckReport.
tests/grader/conftest.py installs it as `autodiff_lab.check` only when the real module is missing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class CheckReport:
    ok: bool
    kind: str = "gradient"
    name: str = ""
    argnum: int | None = None
    expected_shape: tuple | None = None
    got_shape: tuple | None = None
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    worst_index: tuple | None = None
    expected_value: float | None = None
    got_value: float | None = None
    diagnosis: str | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    def __str__(self) -> str:
        if self.ok:
            return f"{self.kind} of {self.name}: ok"
        if self.diagnosis:
            return f"{self.kind} of {self.name}: {self.diagnosis}"
        return (f"{self.kind} of {self.name}: at {self.worst_index} expected {self.expected_value}, "
                f"got {self.got_value}")


def numerical_grad(f, x, method="central", h=None):
    x = np.array(x, dtype=float)
    h = 1e-6 if h is None else h
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (float(f(xp)) - float(f(xm))) / (2 * h)
    return g


def compare(expected, got, *, what="gradient", name="", argnum=None, rtol=1e-5, atol=1e-7, **_):
    expected = np.asarray(expected, dtype=float)
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return CheckReport(False, kind=what, name=name, argnum=argnum, diagnosis=f"got {type(got).__name__}")
    base = dict(kind=what, name=name, argnum=argnum, expected_shape=expected.shape, got_shape=got.shape)
    if expected.shape != got.shape:
        return CheckReport(False, **base, diagnosis=f"shape {got.shape}, expected {expected.shape}")
    if expected.size == 0:
        return CheckReport(True, **base)
    err = np.abs(expected - got)
    bad = ~(err <= atol + rtol * np.abs(expected))
    worst = np.unravel_index(int(np.argmax(np.where(np.isnan(err), np.inf, err))), err.shape)
    rel = err / np.maximum(np.abs(expected), 1e-300)
    return CheckReport(
        not bad.any(), **base, max_abs_error=float(np.nanmax(err)), max_rel_error=float(np.nanmax(rel)),
        worst_index=tuple(int(i) for i in worst), expected_value=float(expected[worst]), got_value=float(got[worst]),
        diagnosis=None,
    )
