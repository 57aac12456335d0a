"""Workload 5: memory of a backward pass. For y = x W with x of shape (64, 4096) and W of shape
(4096, 4096) in float32, the Jacobian dy/dx has (64 * 4096)^2 entries: 256 GiB. Reverse mode never forms
it: the VJP of x is g W^T, an array of x's shape. tracemalloc measures the peak of what numpy allocates
while the gradients of x and W are computed."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

N, D, M = 64, 4096, 4096


def jacobian_bytes(dtype: str = "float32") -> int:
    """Bytes of the full Jacobian dy/dx: (N M) x (N D) entries."""
    return (N * M) * (N * D) * np.dtype(dtype).itemsize


def matmul_backward_peak(dtype: str = "float32", seed: int = 0) -> dict:
    """Run vjp of x @ W for both arguments; return the peak traced bytes, the seconds taken, and whether the
    gradients equal g W^T and x^T g."""
    from autodiff_lab import vjp

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D), dtype=np.float32).astype(dtype)
    W = rng.standard_normal((D, M), dtype=np.float32).astype(dtype)
    g = rng.standard_normal((N, M), dtype=np.float32).astype(dtype)
    tracemalloc.start()
    try:
        start = time.perf_counter()
        _, pullback = vjp(lambda a, b: a @ b, x, W)
        gx, gW = pullback(g)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    correct = (gx.shape == x.shape and gW.shape == W.shape and gx.dtype == gW.dtype == np.dtype(dtype)
               and np.allclose(gx, g @ W.T, rtol=1e-4, atol=1e-3)
               and np.allclose(gW, x.T @ g, rtol=1e-4, atol=1e-3))
    return {"peak_bytes": peak, "seconds": seconds, "correct": bool(correct),
            "gradient_bytes": gx.nbytes + gW.nbytes, "jacobian_bytes": jacobian_bytes(dtype)}
