"""check_vjp and check_jvp: is a rule, written for defvjp / defjvp, right? Checked against finite differences
of the plain function it differentiates (derivative_check.py has the three comparisons and the tolerance).

    def cube(x):
        return x ** 3

    report = check_vjp(cube, lambda g, ans, x: g * 3 * x ** 2, (random_inputs((3, 4)),))
    report.ok        # True
    assert_vjp(cube, lambda g, ans, x: g * x ** 2, (random_inputs((3, 4)),))
    # AssertionError: FAILED: vjp check of cube, argument 0 (gradient)
    #   ...
    #   diagnosis    off by a constant factor: your result is 1/3 times the right one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .arguments import as_args, differentiable, fresh, in_float64, name_of, position
from .derivative_check import MAX_ENTRIES, check_derivative, failure
from .finite_differences import evaluate
from .report import ATOL, RTOL, CheckReport


def check_vjp(f: Callable, rule: Callable, args: tuple, argnum: int = 0, *, kwargs: dict | None = None,
              rtol: float = RTOL, atol: float = ATOL, seed: int = 0,
              max_entries: int = MAX_ENTRIES) -> CheckReport:
    """Check a VJP rule, called as rule(g, ans, *args, **kwargs) and returning the gradient for
    args[argnum] (shaped like it), against finite differences of f(*args, **kwargs) (a function on plain
    arrays). Inputs are converted to float64, so the rule must return float64. Returns a CheckReport.

    rtol and atol as in compare, but atol is relative to the Jacobian's largest entry (derivative_check.py);
    seed picks the random cotangent; at most max_entries entries of x (and of f's output) are checked one by
    one, a random sample of them if there are more."""
    return _check_rule("vjp", f, rule, args, argnum, kwargs, rtol=rtol, atol=atol, seed=seed,
                       max_entries=max_entries)


def check_jvp(f: Callable, rule: Callable, args: tuple, argnum: int = 0, *, kwargs: dict | None = None,
              rtol: float = RTOL, atol: float = ATOL, seed: int = 0,
              max_entries: int = MAX_ENTRIES) -> CheckReport:
    """Check a JVP rule, called as rule(t, ans, *args, **kwargs) with t shaped like args[argnum] and
    returning that argument's contribution to the output tangent (shaped like the output), against finite
    differences of f. Otherwise as check_vjp."""
    return _check_rule("jvp", f, rule, args, argnum, kwargs, rtol=rtol, atol=atol, seed=seed,
                       max_entries=max_entries)


def assert_vjp(*args: Any, **kwargs: Any) -> None:
    """check_vjp, raising AssertionError with the report's text when the check fails. Returns None, like
    numpy.testing's asserts, so that a notebook's test cell ending in it shows no output."""
    _assert(check_vjp(*args, **kwargs))


def assert_jvp(*args: Any, **kwargs: Any) -> None:
    """check_jvp, raising AssertionError with the report's text when the check fails (returns None)."""
    _assert(check_jvp(*args, **kwargs))


def _check_rule(mode: str, f: Callable, rule: Callable, args: Any, argnum: Any, kwargs: dict | None,
                **options: Any) -> CheckReport:
    who = f"check_{mode}"
    if not callable(f) or not callable(rule):
        raise TypeError(f"{who}(f, rule, args, argnum): f and rule must be functions")
    args = as_args(args, who)
    i = position(argnum, len(args), who)
    args = tuple(differentiable(a, who, f"argument {i}") if k == i else in_float64(a)
                 for k, a in enumerate(args))
    kwargs = dict(kwargs or {})
    name = name_of(f)

    def f_of_x(x: np.ndarray) -> Any:
        return f(*(x if k == i else a for k, a in enumerate(args)), **kwargs)

    try:
        ans = evaluate(f_of_x, args[i], name)
    except Exception as err:  # noqa: BLE001  (f's error becomes the report)
        return CheckReport(False, kind=mode, what="output", name=name, argnum=i, rtol=options["rtol"],
                           atol=options["atol"], error=failure(name, err))

    def apply(seed: np.ndarray) -> Any:
        return rule(seed, fresh(ans), *(fresh(a) for a in args), **kwargs)

    return check_derivative(mode, apply, f_of_x, args[i], kind=mode, name=name, argnum=i, **options)


def _assert(report: CheckReport) -> None:
    if not report.ok:
        raise AssertionError(str(report))
