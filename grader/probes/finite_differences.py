"""Finite differences of a reference function: the expected gradients and VJPs a probe judges against."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_array(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def substitute(args: list, i: int, xi: Any) -> list:
    return args[:i] + [xi] + args[i + 1:]


def fd_vjp(f, args: list, i: int, cotangent: Any, kwargs: dict) -> Any:
    """Finite-difference d/d args[i] of sum(cotangent * f(*args)), in args[i]'s structure (a float, an array,
    a list of floats, or a dict of arrays)."""
    from autodiff_lab.check import numerical_grad

    g = as_array(cotangent)
    x = args[i]
    if isinstance(x, dict):
        return {k: fd_vjp(lambda xk, k=k: f(*substitute(args, i, {**x, k: xk}), **kwargs), [v], 0, g, {})
                for k, v in x.items()}
    scalar_in = isinstance(x, float)
    listed = isinstance(x, list)
    xs = as_array(x)

    def objective(xi):
        xi = float(xi) if scalar_in else (list(xi) if listed else xi)
        return float(np.sum(g * as_array(f(*substitute(args, i, xi), **kwargs))))

    grad = np.asarray(numerical_grad(objective, xs))
    return float(grad) if scalar_in else grad
