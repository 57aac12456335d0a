"""The arguments of a check, validated with messages that say how to fix them, and converted to float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import is_array, to_numpy


def as_args(args: Any, who: str) -> tuple:
    """args as a tuple; anything that is not a tuple or list of f's arguments is refused."""
    if not isinstance(args, (tuple, list)):
        raise TypeError(
            f"{who}: args must be a tuple of f's positional arguments, but it is a {type(args).__name__}. "
            f"For a function of one argument write a 1-tuple: {who}(..., (x,))."
        )
    return tuple(args)


def position(argnum: Any, nargs: int, who: str) -> int:
    """argnum as an index into args (negative numbers count from the end), or a clear error."""
    if not isinstance(argnum, (int, np.integer)) or isinstance(argnum, bool) or not -nargs <= argnum < nargs:
        raise ValueError(
            f"{who}: argnum={argnum!r}, but args has {nargs} entr{'y' if nargs == 1 else 'ies'} "
            f"(valid: 0 to {nargs - 1})."
        )
    return int(argnum) % nargs


def differentiable(x: Any, who: str, where: str) -> np.ndarray:
    """A floating-point input (float or array) as a float64 numpy array; integers and others are refused."""
    if isinstance(x, (bool, np.bool_)) or isinstance(x, (int, np.integer)):
        raise TypeError(
            f"{who}: {where} is the integer {x!r}, but only floating-point inputs can be differentiated: "
            f"pass {float(x)!r}."
        )
    if isinstance(x, float):
        return np.asarray(x, dtype=np.float64)
    if not is_array(x):
        raise TypeError(
            f"{who}: {where} is a {type(x).__name__}; a differentiated input must be a float or a "
            f"floating-point array."
        )
    x = np.asarray(to_numpy(x))
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{who}: {where} has dtype {x.dtype}, but only floating-point inputs can be differentiated: "
            f"pass x.astype(float)."
        )
    return x.astype(np.float64)


def in_float64(x: Any) -> Any:
    """A floating-point array converted to a float64 numpy array; anything else (an index, an axis) as is."""
    if is_array(x):
        array = np.asarray(to_numpy(x))
        if np.issubdtype(array.dtype, np.floating):
            return array.astype(np.float64)
    return x


def fresh(x: Any) -> Any:
    """A copy of an array (so a rule that writes into its inputs cannot spoil the next call)."""
    return x.copy() if isinstance(x, np.ndarray) else x


def name_of(f: Callable) -> str:
    return getattr(f, "name", None) or getattr(f, "__name__", None) or type(f).__name__
