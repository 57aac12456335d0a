"""Workload 4: the Jacobian of f(x) = tanh(W x), W of shape (m, n), by reverse mode (jacrev: one VJP per
output, m of them) and by forward mode (jacfwd: one JVP per input, n of them). With many inputs and few
outputs reverse mode wins; with few inputs and many outputs forward mode does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

SHAPES = [(1000, 10), (10, 1000)]  # (n inputs, m outputs)


def problem(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, n)) / np.sqrt(n), rng.normal(size=n)


def autodiff_lab_jacobians(W: np.ndarray, x: np.ndarray) -> dict[str, Callable[[], Any]]:
    import autodiff_lab.numpy as anp
    from autodiff_lab import jacfwd, jacrev

    def f(v: Any) -> Any:
        return anp.tanh(W @ v)

    return {"jacrev": lambda: jacrev(f)(x), "jacfwd": lambda: jacfwd(f)(x)}


def autograd_jacobians(W: np.ndarray, x: np.ndarray) -> dict[str, Callable[[], Any]]:
    """autograd's jacobian is reverse mode; its forward mode (make_jvp) gives the columns one by one."""
    import autograd
    import autograd.numpy as agnp
    from autograd.differential_operators import make_jvp

    def f(v: Any) -> Any:
        return agnp.tanh(agnp.dot(W, v))

    def forward() -> np.ndarray:
        jvp_at_x = make_jvp(f)(x)
        return np.stack([jvp_at_x(e)[1] for e in np.eye(len(x))], axis=-1)

    return {"jacrev": lambda: autograd.jacobian(f)(x), "jacfwd": forward}


def exact(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d tanh(W x) / dx = diag(1 - tanh^2(W x)) W."""
    return (1 - np.tanh(W @ x) ** 2)[:, None] * W
