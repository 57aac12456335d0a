"""Functions that move entries around without changing them: reshape, transpose, expand_dims, squeeze,
concatenate, stack. Their VJPs move the gradient back the same way."""

import operator

from ..backend import asarray, is_array, namespace
from ..backend import shape as shape_of
from ..primitive import defjvp, defjvp_any_arg, defvjp, defvjp_any_arg, primitive
from ..tracing import Tracer, raw
from .creation import zeros_like


def int_tuple(ints):
    """A shape or axes, given as one integer (numpy's too) or a sequence of integers, as a tuple."""
    if isinstance(ints, tuple):
        return ints
    try:
        return (operator.index(ints),)
    except TypeError:  # a list, or a 1-D array of integers
        return tuple(ints)


@primitive
def reshape(x, shape):
    """x with a new shape (same entries, row-major order)."""
    return namespace(x).reshape(x, int_tuple(shape))


defvjp(reshape, lambda g, ans, x, shape: reshape(g, shape_of(x)))
defjvp(reshape, lambda t, ans, x, shape: reshape(t, shape_of(ans)))


@primitive
def transpose(x, axes=None):
    """x with its axes permuted (reversed by default)."""
    ndim = len(shape_of(x))
    return namespace(x).permute_dims(x, tuple(range(ndim))[::-1] if axes is None else tuple(axes))


def _inverse(axes, ndim):
    if axes is None:
        return None
    axes = [a % ndim for a in axes]
    return tuple(sorted(range(ndim), key=axes.__getitem__))


defvjp(transpose, lambda g, ans, x, axes=None: transpose(g, _inverse(axes, len(shape_of(x)))))
defjvp(transpose, lambda t, ans, x, axes=None: transpose(t, axes))


def matrix_transpose(x):
    """Swap the last two axes (x.mT): the transpose of each matrix in a stack."""
    ndim = len(shape_of(x))
    return transpose(x, tuple(range(ndim - 2)) + (ndim - 1, ndim - 2))


@primitive
def expand_dims(x, axis):
    """x with a new axis of length 1 at position `axis`."""
    return namespace(x).expand_dims(x, axis=axis)


defvjp(expand_dims, lambda g, ans, x, axis: reshape(g, shape_of(x)))
defjvp(expand_dims, lambda t, ans, x, axis: reshape(t, shape_of(ans)))


@primitive
def squeeze(x, axis=None):
    """x without its axes of length 1 (all of them, or those in `axis`)."""
    if axis is None:
        axis = tuple(i for i, n in enumerate(shape_of(x)) if n == 1)
    return namespace(x).squeeze(x, axis=axis)


defvjp(squeeze, lambda g, ans, x, axis=None: reshape(g, shape_of(x)))
defjvp(squeeze, lambda t, ans, x, axis=None: reshape(t, shape_of(ans)))


def _as_arrays(pieces):
    """The pieces, with numbers and (nested) lists among them made arrays of the first array's library."""
    like = next((raw(p) for p in pieces if isinstance(p, Tracer) or is_array(p)), None)
    return [p if isinstance(p, Tracer) or is_array(p) else asarray(p, like=like) for p in pieces]


def concatenate(arrays, axis=0):
    """Join arrays along an existing axis; axis=None joins them flattened, as numpy does."""
    arrays = _as_arrays(arrays)
    if axis is None:
        arrays, axis = [reshape(a, -1) for a in arrays], 0
    return _concatenate(*arrays, axis=axis)


@primitive
def _concatenate(*arrays, axis=0):
    return namespace(*arrays).concat(arrays, axis=axis)


def _piece(argnum, ans, arrays, axis):
    """The index of arrays[argnum]'s block inside the concatenation."""
    start = sum(shape_of(a)[axis] for a in arrays[:argnum])
    stop = start + shape_of(arrays[argnum])[axis]
    return (slice(None),) * (axis % len(shape_of(ans))) + (slice(start, stop), ...)  # the array API wants `...`


def _zeros_except(argnum, t, arrays):
    return [t if i == argnum else zeros_like(a) for i, a in enumerate(arrays)]


_concatenate.name = "concatenate"
defvjp_any_arg(_concatenate, lambda argnum, g, ans, *arrays, axis=0: g[_piece(argnum, ans, arrays, axis)])
defjvp_any_arg(
    _concatenate,
    lambda argnum, t, ans, *arrays, axis=0: _concatenate(*_zeros_except(argnum, t, arrays), axis=axis),
)


def stack(arrays, axis=0):
    """Join arrays of one shape along a new axis."""
    return _stack(*_as_arrays(arrays), axis=axis)


@primitive
def _stack(*arrays, axis=0):
    return namespace(*arrays).stack(arrays, axis=axis)


_stack.name = "stack"
defvjp_any_arg(
    _stack,
    lambda argnum, g, ans, *arrays, axis=0: g[(slice(None),) * (axis % len(shape_of(ans))) + (argnum, ...)],
)
defjvp_any_arg(
    _stack, lambda argnum, t, ans, *arrays, axis=0: _stack(*_zeros_except(argnum, t, arrays), axis=axis)
)
