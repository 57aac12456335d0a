"""The namespace of numpy arrays: array-api-compat's numpy namespace with its hottest functions made cheaper.

numpy's module-level reductions (numpy.sum, numpy.max, numpy.all) are Python wrappers that inspect their
arguments before calling the ufunc's `reduce`: on the small arrays of a training step that is as much work
again as the reduction itself, and a training step makes a dozen of them. These functions call `reduce`
(or the array's method, or numpy's count_nonzero without compat's wrapper) directly, with the array API's
signatures and numpy's results. The creation functions skip array-api-compat's device check when no
device is named (numpy has one device, the CPU). Everything else is array-api-compat's.

Two reductions of a matrix are slow in numpy itself, because its loop restarts for every row: the sum over
one axis (a bias gradient, a softmax's normalizer) and the maximum of each short row (the shift of a stable
softmax). The sum is computed as a product with a vector of ones, which BLAS does 2 to 7 times quicker
(with the same accuracy: numpy also adds up a column one row after another, and a row of up to 128 entries
in blocks of 8). The row maximum reduces the transposed copy instead, whose rows are long: the same numbers,
2 to 3 times quicker when there are many short rows (bench/README.md, "Reductions").
"""

from __future__ import annotations

import functools
import types
from typing import Any

import array_api_compat.numpy as compat
import numpy as np

namespace = types.ModuleType(compat.__name__, compat.__doc__)
namespace.__dict__.update({k: v for k, v in vars(compat).items() if not k.startswith("__")})


def sum(x: Any, /, *, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    if type(axis) is int and type(x) is np.ndarray and x.ndim == 2 and dtype is None and x.dtype.char in "fd":
        if axis == 0 or axis == -2:  # column sums: ones (n,) @ x (n, m)
            out = _ones(x.shape[0], x.dtype) @ x
            return out.reshape(1, -1) if keepdims else out
        if (axis == 1 or axis == -1) and x.shape[1] <= 128:  # row sums: x (n, m) @ ones (m,)
            out = x @ _ones(x.shape[1], x.dtype)
            return out.reshape(-1, 1) if keepdims else out
    return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)


def max(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    if type(axis) is int and axis in (1, -1) and type(x) is np.ndarray and x.ndim == 2 and x.shape[1] <= 32 <= len(x):
        out = np.maximum.reduce(np.ascontiguousarray(x.T), axis=0)  # many short rows: reduce long ones instead
        return out.reshape(-1, 1) if keepdims else out
    return np.maximum.reduce(x, axis=axis, keepdims=keepdims)


def _ones(n: int, dtype: Any) -> Any:
    """A vector of n ones. Up to 4096 entries (a batch, a row of classes) it is kept for the next sum of that
    length; a longer one is made afresh, so that a sum over millions of rows leaves no large vector behind."""
    return _kept_ones(n, dtype) if n <= 4096 else np.ones(n, dtype)


@functools.lru_cache(maxsize=64)
def _kept_ones(n: int, dtype: Any) -> Any:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False  # shared by every later sum of this length
    return ones


def all(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return np.logical_and.reduce(x, axis=axis, keepdims=keepdims)


def count_nonzero(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:
    count = np.count_nonzero(x, axis=axis, keepdims=keepdims)
    return np.asarray(count) if axis is None and not keepdims else count  # an array, as the standard says


def reshape(x: Any, /, shape: tuple[int, ...], *, copy: bool | None = None) -> Any:
    if copy is None and isinstance(x, np.ndarray):
        return x.reshape(shape)
    return compat.reshape(x, shape, copy=copy)  # also takes Python numbers


def astype(x: Any, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Any:
    if device is None and isinstance(x, np.ndarray):
        return x.astype(dtype, copy=copy)
    return compat.astype(x, dtype, copy=copy, device=device)


def _on_the_cpu(name: str) -> Any:
    """compat's creation function `name`, calling numpy's directly when no device is asked for."""
    direct, checked = getattr(np, name), getattr(compat, name)

    def create(*args: Any, device: Any = None, **kwargs: Any) -> Any:
        return direct(*args, **kwargs) if device is None else checked(*args, device=device, **kwargs)

    create.__name__ = name
    return create


_CREATION = ("arange", "empty", "full", "ones", "zeros")
for _fn in (sum, max, all, count_nonzero, reshape, astype, *map(_on_the_cpu, _CREATION)):
    setattr(namespace, _fn.__name__, _fn)
