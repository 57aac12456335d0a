"""Which array library a computation runs on.

The engine never calls numpy directly: every primitive asks its inputs for their array namespace through
array-api-compat, so the same rules run on numpy, cupy, or any library that follows the array API standard.
Arrays keep their own library; the *default backend* is only used where no input is an array (Python numbers)
and by the creation helpers `asarray`, `zeros`, `ones`.

    set_backend("cupy")        # or AUTODIFF_LAB_BACKEND=cupy in the environment
"""

from __future__ import annotations

import functools
import importlib
import os
from types import ModuleType
from typing import Any

import array_api_compat

from . import backend_numpy

BACKENDS = ("numpy", "cupy", "array_api_strict")

_default: ModuleType
_namespace_of_type: dict[type, ModuleType | None] = {}  # None: not an array (a Python number, a shape...)
_UNSEEN = object()


def set_backend(name: str) -> ModuleType:
    """Make `name` ("numpy", "cupy" or "array_api_strict") the default backend; returns its namespace."""
    global _default
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    try:
        module = importlib.import_module(name)
    except ImportError as err:
        raise ImportError(
            f"backend {name!r} is not installed ({err}). Install it (e.g. `pip install {name}`; cupy needs a "
            f"CUDA GPU) or use set_backend('numpy')."
        ) from None
    _default = _namespace_for(module.zeros(1))
    return _default


def get_backend() -> ModuleType:
    """The array-API namespace used where no input is an array."""
    return _default


def is_array(x: Any) -> bool:
    """True for an array of any supported library (numpy scalars included), False for Python numbers."""
    xp = _namespace_of_type.get(type(x), _UNSEEN)
    return _lookup(x) is not None if xp is _UNSEEN else xp is not None


def _lookup(x: Any) -> ModuleType | None:
    """Ask array-api-compat (slow) for the namespace of x's type, once per type; None: not an array."""
    # a class is never an array, though a dtype such as numpy.float64 has __array_namespace__ too
    is_arr = not isinstance(x, (int, float, complex, type)) and array_api_compat.is_array_api_obj(x)
    xp = _namespace_of_type[type(x)] = _namespace_for(x) if is_arr else None
    return xp


def _namespace_for(x: Any) -> ModuleType:
    """array-api-compat's namespace for the array x; for numpy, the same with cheaper reductions."""
    xp = array_api_compat.array_namespace(x)
    return backend_numpy.namespace if xp is backend_numpy.compat else xp


def namespace(*xs: Any) -> ModuleType:
    """The array-API namespace shared by the arrays among `xs` (Python numbers are ignored).

    Raises a TypeError that says how to fix it when arrays of two libraries are mixed."""
    xp = _namespace_of_type.get(type(xs[0]))  # the common cases, kept quick: this runs on every primitive call
    if xp is not None:
        if len(xs) == 1:
            return xp
        if len(xs) == 2 and _namespace_of_type.get(type(xs[1]), _UNSEEN) in (xp, None):  # same library, or a number
            return xp
    found = None
    for x in xs:
        xp = _namespace_of_type.get(type(x), _UNSEEN)
        if xp is _UNSEEN:
            xp = _lookup(x)
        if xp is None or xp is found:
            continue
        if found is not None:
            raise TypeError(
                f"this operation mixes arrays of two libraries ({_library(found)} and {_library(xp)}). Move them "
                f"to one library first: autodiff_lab.asarray(x) converts to the default backend, "
                f"autodiff_lab.asarray(x, like=y) to y's library, autodiff_lab.to_numpy(x) to numpy."
            )
        found = xp
    return _default if found is None else found


def _library(xp: ModuleType) -> str:
    return xp.__name__.removeprefix("array_api_compat.")


@functools.cache
def isdtype(xp: ModuleType, dtype: Any, kind: str | tuple[str, ...]) -> bool:
    """xp.isdtype(dtype, kind), remembered: numpy's takes microseconds, and every transformation asks it."""
    return xp.isdtype(dtype, kind)


def shape(x: Any) -> tuple[int, ...]:
    """The shape of an array or traced value; () for a Python number."""
    return getattr(x, "shape", ())


def asarray(x: Any, dtype: Any = None, like: Any = None) -> Any:
    """`x` (numbers, nested lists, or an array of another library) as an array of the default backend, or of
    the library of the array `like` (a numpy batch for parameters on the GPU is copied there)."""
    xp = _default if like is None else namespace(like)
    if is_array(x) and namespace(x) is not xp:
        x = to_numpy(x)
    return xp.asarray(x, dtype=dtype)


def to_numpy(x: Any) -> Any:
    """A numpy copy of an array from any backend (cupy arrays are copied from the GPU)."""
    import numpy

    if hasattr(x, "get") and not isinstance(x, numpy.ndarray):  # cupy
        return x.get()
    if isinstance(x, (int, float, complex, numpy.ndarray, numpy.generic)):
        return numpy.asarray(x)
    return numpy.from_dlpack(x)


def scatter_add(xp: ModuleType, shape: tuple[int, ...], index: Any, values: Any) -> Any:
    """zeros(shape) with `values` added at `index`; repeated integer indices add up (numpy's `add.at`)."""
    out = xp.zeros(shape, dtype=values.dtype)
    add_at = getattr(getattr(xp, "add", None), "at", None)
    if add_at is not None:
        add_at(out, index, values)
        return out
    if _has_integer_array(index):
        raise NotImplementedError(
            f"{_library(xp)} has no scatter-add, so the gradient of integer-array indexing cannot be formed "
            f"there; use numpy or cupy arrays for that step."
        )
    out[index] = values  # slices, integers and boolean masks touch each element at most once
    return out


def _has_integer_array(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(is_array(p) and "int" in str(p.dtype) for p in parts)


set_backend(os.environ.get("AUTODIFF_LAB_BACKEND", "numpy"))
