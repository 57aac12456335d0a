"""stop_gradient: the same value, seen by every transformation as a constant (JAX's name and meaning).

    stop_gradient(x) = x            forward: nothing changes
    d stop_gradient(x) / dx = 0     to grad, vjp, jvp, jacrev, jacfwd, and to derivatives of every order

A traced value is a tracer wrapped around a plain array (tracing.py). stop_gradient hands back the plain array
inside, unwrapped at every level at once, so whatever is computed from it is recorded as computed from a
constant: no gradient flows back through it. PyTorch writes x.detach().

Two uses: a target that must not move while a prediction is fitted to it, and the straight-through estimator
x + stop_gradient(step(x) - x), whose value is step(x) and whose derivative is 1 (the derivative of x).
"""

from __future__ import annotations

from typing import Any

from .pytree import tree_map
from .tracing import raw


def stop_gradient(x: Any) -> Any:
    """x, with every tracer removed: an array, number or pytree of them whose derivative is zero."""
    return tree_map(raw, x)
