"""The namespace of numpy arrays: array-api-compat's numpy namespace with its hottest functions made cheaper.

numpy's module-level reductions (numpy.sum, numpy.max, numpy.all) are Python wrappers that inspect their
arguments before calling the ufunc's `reduce`: on the small arrays of a training step that is as much work
again as the reduction itself, and a training step makes a dozen of them. These functions call `reduce`
(or the array's method, or numpy's count_nonzero without compat's wrapper) directly, with the array API's
signatures and numpy's results. The creation functions skip array-api-compat's device check when no
device is named (numpy has one device, the CPU). Everything else is array-api-compat's.
"""

from __future__ import annotations

import types
from typing import Any

import array_api_compat.numpy as compat
import numpy as np

namespace = types.ModuleType(compat.__name__, compat.__doc__)
namespace.__dict__.update({k: v for k, v in vars(compat).items() if not k.startswith("__")})


def sum(x: Any, /, *, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)


def max(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return np.maximum.reduce(x, axis=axis, keepdims=keepdims)


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
