"""Workload 1: one SGD training step of a 784-256-256-10 ReLU MLP with softmax cross-entropy on a batch of
128, in float64 and float32. Each implementation computes the loss, the gradients of all six parameter
arrays, and the updated parameters from the same starting point.

The reference is a handwritten numpy forward and backward pass: the floor for any engine built on numpy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SIZES = [784, 256, 256, 10]
DTYPES = ("float64", "float32")
BATCH = 128
LR = 0.01
LOOP = 5  # steps timed back to back in each round, as in a training loop (bench/README.md)


def problem(dtype: str, seed: int = 0) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """(params, X, y): He-initialized parameters, a random batch and random labels."""
    from autodiff_lab import nn

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(BATCH, SIZES[0])).astype(dtype)
    y = rng.integers(0, SIZES[-1], size=BATCH)
    return nn.MLP(SIZES, dtype=dtype, seed=seed).init(), X, y


def autodiff_lab_step(params: list[dict], X: np.ndarray, y: np.ndarray) -> Callable[[], tuple]:
    from autodiff_lab import nn, value_and_grad

    model = nn.MLP(SIZES, dtype=str(X.dtype))
    loss_and_grads = value_and_grad(lambda p: nn.softmax_cross_entropy(model(p, X), y))
    optimizer = nn.SGD(LR)

    def step() -> tuple:
        loss, grads = loss_and_grads(params)
        return optimizer.step(params, grads), loss

    return step


def numpy_step(params: list[dict], X: np.ndarray, y: np.ndarray) -> Callable[[], tuple]:
    """Forward and backward written out by hand: the chain rule applied layer by layer."""
    rows = np.arange(len(y))

    def step() -> tuple:
        (W1, b1), (W2, b2), (W3, b3) = [(p["W"], p["b"]) for p in params]
        z1 = X @ W1 + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2 + b2
        h2 = np.maximum(z2, 0)
        s = h2 @ W3 + b3
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[rows, y]).mean()
        ds = p  # d loss / d scores = (softmax - one_hot) / batch
        ds[rows, y] -= 1
        ds /= len(y)
        dz2 = (ds @ W3.T) * (z2 > 0)
        dz1 = (dz2 @ W2.T) * (z1 > 0)
        grads = [(X.T @ dz1, dz1.sum(0)), (h1.T @ dz2, dz2.sum(0)), (h2.T @ ds, ds.sum(0))]
        new = [{"W": q["W"] - LR * dW, "b": q["b"] - LR * db}
               for q, (dW, db) in zip(params, grads, strict=True)]
        return new, loss

    return step


def autograd_step(params: list[dict], X: np.ndarray, y: np.ndarray) -> Callable[[], tuple]:
    """HIPS autograd on the same model, written with autograd.numpy."""
    import autograd
    import autograd.numpy as agnp

    rows = np.arange(len(y))

    def loss(p: list[dict]) -> float:
        h = X
        for i, layer in enumerate(p):
            h = agnp.dot(h, layer["W"]) + layer["b"]
            if i < len(p) - 1:
                h = agnp.maximum(h, 0)
        log_p = h - agnp.max(h, axis=1, keepdims=True)
        log_p = log_p - agnp.log(agnp.sum(agnp.exp(log_p), axis=1, keepdims=True))
        return -agnp.mean(log_p[rows, y])

    loss_and_grads = autograd.value_and_grad(loss)

    def step() -> tuple:
        value, grads = loss_and_grads(params)
        return [{k: q[k] - LR * g[k] for k in q} for q, g in zip(params, grads, strict=True)], value

    return step


def torch_step(params: list[dict], X: np.ndarray, y: np.ndarray) -> Callable[[], tuple]:
    """PyTorch on the CPU (only when torch is installed; the project does not depend on it)."""
    import torch

    weights = [{k: torch.tensor(v, requires_grad=True) for k, v in layer.items()} for layer in params]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step() -> tuple:
        h = Xt
        for i, layer in enumerate(weights):
            h = h @ layer["W"] + layer["b"]
            if i < len(weights) - 1:
                h = torch.relu(h)
        loss = torch.nn.functional.cross_entropy(h, yt)
        leaves = [t for layer in weights for t in layer.values()]
        grads = torch.autograd.grad(loss, leaves)
        with torch.no_grad():
            return [t - LR * g for t, g in zip(leaves, grads, strict=True)], loss.item()

    return step


IMPLEMENTATIONS = {
    "autodiff_lab": autodiff_lab_step,
    "numpy (by hand)": numpy_step,
    "autograd": autograd_step,
    "torch (CPU)": torch_step,
}
REFERENCE = "numpy (by hand)"


def check_agreement(steps: dict[str, Callable[[], tuple]]) -> None:
    """Every implementation must compute the same loss and the same updated parameters before its time
    means anything."""
    results = {name: step() for name, step in steps.items()}
    ref_params, ref_loss = results[REFERENCE]
    ref_leaves = _leaves(ref_params)
    for name, (new_params, loss) in results.items():
        leaves = _leaves(new_params)
        pairs = list(zip(leaves, ref_leaves, strict=True))
        dtype_ok = all(leaf.dtype == ref.dtype for leaf, ref in pairs)
        close = all(np.allclose(leaf, ref, rtol=1e-3, atol=1e-5) for leaf, ref in pairs)
        if not (np.isclose(float(loss), float(ref_loss), rtol=1e-4) and close and dtype_ok):
            raise AssertionError(f"{name} does not compute what the numpy reference computes")


def _leaves(new_params: list) -> list[np.ndarray]:
    """The updated parameters as numpy arrays, in the order W1, b1, W2, b2, W3, b3."""
    if isinstance(new_params[0], dict):
        return [np.asarray(layer[k]) for layer in new_params for k in ("W", "b")]
    return [t.detach().numpy() for t in new_params]  # torch
