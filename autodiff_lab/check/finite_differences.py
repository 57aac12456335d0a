"""Finite differences: derivatives from function values alone, the reference every VJP and JVP is checked
against. For a step h along a direction d (d = e_j, the j-th basis vector, gives the j-th partial derivative):

    forward     (f(x + h d) - f(x)) / h               truncation error ~ h f''/2
    backward    (f(x) - f(x - h d)) / h               truncation error ~ h f''/2
    central     (f(x + h d) - f(x - h d)) / (2h)      truncation error ~ h^2 f'''/6
    richardson  (4 C(h/2) - C(h)) / 3, C = central    truncation error ~ h^4 f^(5)/480

Every formula also has a rounding error of about eps |f| / h: f(x + h d) and f(x) agree in their leading
digits, which cancel (eps = 2.2e-16 in float64). Truncation shrinks with h, rounding grows, and the step that
balances them depends on the method's order p: h ~ eps^(1/(p+1)). So the default steps are

    forward, backward   h = eps^(1/2) * max(1, |x|) = 1.5e-8 * max(1, |x|)   relative error ~ 1e-8
    central             h = eps^(1/3) * max(1, |x|) = 6.1e-6 * max(1, |x|)   relative error ~ 1e-11
    richardson          h = eps^(1/5) * max(1, |x|) = 7.4e-4 * max(1, |x|)   relative error ~ 1e-12

scaled to |x| so that a large x takes a proportionally large step. The checkers use Richardson
extrapolation: its error (1e-12 typically, 1e-9 to 1e-7 at worst in the tests) is far below their tolerance of 1e-5,
while a VJP off by 0.1 % is off by 1e-3. Everything is computed in float64, whatever the dtype of the input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import is_array, to_numpy

EPS = float(np.finfo(np.float64).eps)
METHODS = ("central", "forward", "backward", "richardson")
RELATIVE_STEP = {"forward": EPS ** (1 / 2), "backward": EPS ** (1 / 2), "central": EPS ** (1 / 3),
                 "richardson": EPS ** (1 / 5)}


def numerical_grad(f: Callable, x: Any, method: str = "central", h: float | None = None) -> Any:
    """The gradient of scalar-valued f at x by finite differences: an array shaped like x (a float if x is a
    float), entry j being (d/dx_j) f. Two evaluations of f per entry of x (four for "richardson").

    method: "central" (default), "forward", "backward" or "richardson"; h: the step (default: the
    method's optimal step scaled to each |x_j|, see the module docstring)."""
    x64, unwrap = as_float64(x, "numerical_grad")
    _check_method(method, h)
    out = evaluate(f, unwrap(x64), "numerical_grad")
    if out.shape != ():
        raise ValueError(
            f"numerical_grad needs f to return a scalar, but it returned an array of shape {out.shape}. "
            f"Use numerical_jacobian(f, x) for a vector-valued f (or reduce f's output, e.g. with sum)."
        )
    grad = numerical_jacobian(f, x, h=h, method=method)
    return float(grad) if np.ndim(grad) == 0 and not is_array(x) else grad


def numerical_jacobian(f: Callable, x: Any, h: float | None = None, method: str = "central") -> np.ndarray:
    """The Jacobian J[i..., j...] = d f(x)[i...] / d x[j...] by finite differences: shape out.shape + x.shape,
    float64. One column (a derivative along e_j) per entry of x; method and h as in numerical_grad."""
    x64, unwrap = as_float64(x, "numerical_jacobian")
    _check_method(method, h)
    columns = [derivative_along(lambda z: f(unwrap(z)), x64, e, method, h or step(x64.flat[j], method))
               for j, e in enumerate(basis(x64))]
    if not columns:  # x has no entries
        return np.zeros(evaluate(f, unwrap(x64), "numerical_jacobian").shape + x64.shape)
    return np.stack(columns, axis=-1).reshape(columns[0].shape + x64.shape)


def derivative_along(f: Callable, x: np.ndarray, direction: np.ndarray, method: str = "richardson",
                     h: float | None = None) -> np.ndarray:
    """(d/ds) f(x + s * direction) at s = 0, which is J @ direction: f's directional derivative, shaped like
    f's output. x and direction are float64 arrays of one shape; h defaults to the method's relative step
    times max(1, max |x|) / max |direction|."""
    if h is None:
        size = float(np.max(np.abs(direction), initial=0.0)) or 1.0
        h = step(float(np.max(np.abs(x), initial=0.0)), method) / size

    def at(s: float) -> np.ndarray:
        return evaluate(f, x + s * direction, "finite differences")

    if method == "forward":
        return (at(h) - at(0.0)) / h
    if method == "backward":
        return (at(0.0) - at(-h)) / h
    coarse = (at(h) - at(-h)) / (2 * h)
    if method == "central":
        return coarse
    fine = (at(h / 2) - at(-h / 2)) / h
    return (4 * fine - coarse) / 3


def step(x: float, method: str) -> float:
    """The default step at a point x: the method's relative step times max(1, |x|), rounded so that x + h is
    exactly representable (then the step taken is exactly the step divided by)."""
    h = RELATIVE_STEP[method] * max(1.0, abs(float(x)))
    return float((x + h) - x)


def basis(x: np.ndarray) -> list[np.ndarray]:
    """The basis vectors e_0, e_1, ... of x's space, each shaped like x."""
    vectors = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = 1.0
        vectors.append(e.reshape(x.shape))
    return vectors


class NotNumbersError(TypeError):
    """f returned something that is not real numbers (None, a string, an array of objects)."""


def evaluate(f: Callable, x: Any, who: str) -> np.ndarray:
    """f(x) as a float64 numpy array; a NotNumbersError saying what f returned if that is not real numbers
    (numpy would turn None into NaN and "1.5" into 1.5)."""
    out = f(x)
    if out is None:
        raise NotNumbersError(f"{who}: f returned None; f must return numbers (did you forget `return`?)")
    try:
        array = np.asarray(to_numpy(out) if is_array(out) else out)
    except (TypeError, ValueError):  # a ragged list
        array = None
    if array is None or array.dtype.kind not in "biuf":  # bool, int, unsigned, float
        dtype = f" of dtype {array.dtype}" if is_array(out) else ""
        raise NotNumbersError(
            f"{who}: f returned a {type(out).__name__}{dtype}, but f must return numbers: a float or an array of "
            f"real numbers."
        )
    return array.astype(np.float64, copy=False)


def as_float64(x: Any, who: str) -> tuple[np.ndarray, Callable]:
    """x as a float64 numpy array, plus the function that turns such an array back into the form f expects
    (a Python float for a float x). Integers and booleans are refused: they have no derivative."""
    if isinstance(x, bool) or isinstance(x, (int, np.integer)):
        raise TypeError(
            f"{who}: x is the integer {x!r}, but finite differences need a floating-point input: pass "
            f"{float(x)!r} instead."
        )
    if isinstance(x, float):
        return np.asarray(x, dtype=np.float64), float
    if not is_array(x):
        raise TypeError(f"{who}: x must be a float or a floating-point array, not a {type(x).__name__}.")
    x = np.asarray(to_numpy(x))
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{who}: x has dtype {x.dtype}, but finite differences need a floating-point input: pass "
            f"x.astype(float)."
        )
    return x.astype(np.float64), lambda z: z


def _check_method(method: str, h: float | None) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown finite-difference method {method!r}; choose one of {', '.join(METHODS)}")
    if h is not None and not h > 0:
        raise ValueError(f"the step h must be a positive number, got {h!r}")
