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
    namespace(x, W)  # rejects arrays of two libraries with a clear message
    x_shape, W_shape, b_shape = shape(x), shape(W), shape(b)
    if len(W_shape) != 2 or b_shape != W_shape[1:] or x_shape[-1:] != W_shape[:1]:
        raise ValueError(
            f"affine(x, W, b) needs x (..., n_in), W (n_in, n_out) and b (n_out,); got x {x_shape}, "
            f"W {W_shape}, b {b_shape}"
        )
    return x @ W + b


def _as_rows(a: Any, n: int) -> Any:
    """a (..., n) as a matrix of rows (batch, n): one row per example, whatever the batch's shape."""
    return a if a.ndim == 2 else reshape(a, (-1, n))


def _weight_gradient(g: Any, x: Any, W: Any) -> Any:
    """x^T g, summed over every example of the batch: (n_in, n_out)."""
    n_in, n_out = W.shape
    return _as_rows(x, n_in).mT @ _as_rows(g, n_out)


defvjp(
    affine,
    lambda g, ans, x, W, b: g @ W.mT,
    lambda g, ans, x, W, b: _weight_gradient(g, x, W),
    lambda g, ans, x, W, b: sum(_as_rows(g, b.shape[0]), axis=0),
)
defjvp(
    affine,
    lambda t, ans, x, W, b: matmul(t, W),
    lambda t, ans, x, W, b: matmul(x, t),
    lambda t, ans, x, W, b: broadcast_to(t, shape(ans)),
)
