"""Stochastic gradient descent, on parameters of any pytree structure."""

from __future__ import annotations

from typing import Any

from ..backend import shape
from ..pytree import StructureMismatch, describe, tree_flatten, tree_map


class SGD:
    """Gradient descent with optional momentum:

        v <- momentum * v + g          (v starts at 0; without momentum v = g)
        p <- p - lr * v

    `step(params, grads)` returns new parameters (the old ones are left untouched); grads must have the
    structure of params, as grad(loss)(params) gives them. With momentum the optimizer remembers v
    between steps, so use one SGD object per model."""

    def __init__(self, lr: float, momentum: float = 0.0) -> None:
        if not lr > 0:
            raise ValueError(f"SGD: the learning rate lr must be positive, got {lr!r}")
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must lie in [0, 1), got {momentum!r}")
        self.lr, self.momentum = lr, momentum
        self.velocity: Any = None  # v, in the structure of the params, once momentum has started

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum})"

    def step(self, params: Any, grads: Any) -> Any:
        velocity = grads
        if self.momentum and self.velocity is not None:
            try:
                velocity = tree_map(lambda v, g: self.momentum * v + g, self.velocity, grads)
            except StructureMismatch:
                raise ValueError(
                    f"SGD.step: this optimizer's momentum belongs to params of structure {_structure(self.velocity)}, "
                    f"not {_structure(grads)}; use a new SGD for another model."
                ) from None
        try:
            new_params = tree_map(self._descend, params, velocity)
        except StructureMismatch:
            raise ValueError(
                f"SGD.step: grads have structure {_structure(grads)} but params have {_structure(params)}; pass "
                f"the gradient of the loss with respect to these params, grad(loss)(params)."
            ) from None
        if self.momentum:
            self.velocity = velocity
        return new_params

    def _descend(self, p: Any, v: Any) -> Any:
        """p - lr * v for one parameter array, computed as (-lr v) + p: the same numbers, and when p is an
        array of the product's type, shape and dtype the sum goes in place into the fresh product (one array
        fewer)."""
        step = v * -self.lr
        try:
            in_place = type(step) is type(p) and step.shape == p.shape and step.dtype == p.dtype
        except AttributeError:  # Python numbers
            in_place = False
        if not in_place:  # a traced p, a Python number, two dtypes, or a wrong shape
            if getattr(p, "shape", ()) != getattr(v, "shape", ()):
                raise ValueError(f"SGD.step: a gradient has shape {shape(v)}, its parameter {shape(p)}")
            return p - self.lr * v
        step += p
        return step


def _structure(tree: Any) -> str:
    return describe(tree_flatten(tree)[1])
