"""The affine map of a linear layer, y = x W + b, as one primitive whose VJP rules are the three gradients
every course derives for a layer:

    dL/dx = g W^T        dL/dW = x^T g        dL/db = g summed over the batch

x (..., n_in), W (n_in, n_out), b (n_out,); y and the upstream gradient g are (..., n_out). A batch of any
shape is flattened into rows for dL/dW and dL/db. As one primitive rather than a matmul and an add, a layer
records one node instead of two, and its backward pass is two matrix products and a sum, nothing else.
"""

from __future__ import annotations

from typing import Any

from ..backend import namespace, shape
from ..numpy import broadcast_to, matmul, reshape, sum
from ..primitive import defjvp, defvjp, primitive


@primitive
def affine(x: Any, W: Any, b: Any) -> Any:
    """x @ W + b for x (..., n_in), W (n_in, n_out), b (n_out,): shape (..., n_out)."""
    try:
        x_shape, W_shape, b_shape = x.shape, W.shape, b.shape
    except AttributeError:  # a Python number or list among them
        x_shape, W_shape, b_shape = shape(x), shape(W), shape(b)
    if len(W_shape) != 2 or b_shape != W_shape[1:] or x_shape[-1:] != W_shape[:1]:
        raise ValueError(
            f"affine(x, W, b) needs x (..., n_in), W (n_in, n_out) and b (n_out,); got x {x_shape}, "
            f"W {W_shape}, b {b_shape}"
        )
    try:
        y = x @ W
    except Exception:
        namespace(x, W, b)  # arrays of two libraries: say so clearly
        raise
    if y.dtype == b.dtype:
        y += b  # in place on the fresh product: one (batch, n_out) array fewer than y + b
        return y
    return y + b


def _weight_gradient(g: Any, x: Any, W: Any) -> Any:
    """x^T g, summed over every example of the batch: (n_in, n_out). A batch of another shape than (batch,
    n_in) is first flattened into rows."""
    if x.ndim != 2:
        x, g = reshape(x, (-1, W.shape[0])), reshape(g, (-1, W.shape[1]))
    return x.mT @ g


def _bias_gradient(g: Any) -> Any:
    """g summed over every axis but the last (the examples of the batch): (n_out,)."""
    return sum(g if g.ndim == 2 else reshape(g, (-1, g.shape[-1])), axis=0)


defvjp(
    affine,
    lambda g, ans, x, W, b: g @ W.mT,
    lambda g, ans, x, W, b: _weight_gradient(g, x, W),
    lambda g, ans, x, W, b: _bias_gradient(g),
)
defjvp(
    affine,
    lambda t, ans, x, W, b: matmul(t, W),
    lambda t, ans, x, W, b: matmul(x, t),
    lambda t, ans, x, W, b: broadcast_to(t, shape(ans)),
)
