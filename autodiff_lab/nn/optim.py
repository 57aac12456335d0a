"""Stochastic gradient descent, on parameters of any pytree structure."""

from __future__ import annotations

from typing import Any

from ..backend import shape
from ..pytree import describe, tree_flatten, tree_unflatten


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
        self.velocity: list | None = None  # one array per parameter leaf, once momentum has started
        self._structure = None

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum})"

    def step(self, params: Any, grads: Any) -> Any:
        p_leaves, p_def = tree_flatten(params)
        g_leaves, g_def = tree_flatten(grads)
        if p_def != g_def:
            raise ValueError(
                f"SGD.step: grads have structure {describe(g_def)} but params have {describe(p_def)}; pass "
                f"the gradient of the loss with respect to these params, grad(loss)(params)."
            )
        for p, g in zip(p_leaves, g_leaves, strict=True):
            if getattr(p, "shape", ()) != getattr(g, "shape", ()):
                raise ValueError(f"SGD.step: a gradient has shape {shape(g)}, its parameter {shape(p)}")
        if self.momentum:
            if self.velocity is None:
                self.velocity, self._structure = [0.0] * len(g_leaves), p_def
            elif p_def != self._structure:
                raise ValueError(
                    f"SGD.step: this optimizer's momentum belongs to params of structure "
                    f"{describe(self._structure)}, not {describe(p_def)}; use a new SGD for another model."
                )
            self.velocity = [self.momentum * v + g for v, g in zip(self.velocity, g_leaves, strict=True)]
            g_leaves = self.velocity
        return tree_unflatten(p_def, [p - self.lr * g for p, g in zip(p_leaves, g_leaves, strict=True)])
