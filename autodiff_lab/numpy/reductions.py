"""Reductions (sum, mean, max) and their transposes: broadcast_to copies a value along new axes, sum adds
copies back up. So the VJP of sum is a broadcast, the VJP of broadcast_to is a sum, and `unbroadcast` (the
sum over the axes that broadcasting added) undoes broadcasting in every elementwise VJP."""

from ..backend import namespace
from ..backend import shape as shape_of
from ..primitive import defjvp, defvjp, primitive
from ..tracing import raw
from .shapes import int_tuple, reshape


def normalize_axes(axis, ndim):
    """The reduced axes as non-negative ints (axis=None means all of them). As in numpy, a reduction of a
    0-d array takes axis 0 (or -1) and reduces over nothing."""
    if axis is None:
        return tuple(range(ndim))
    axes, n = int_tuple(axis), ndim or 1  # not max(ndim, 1): max is this file's reduction
    for a in axes:
        if not -n <= a < n:
            raise ValueError(f"axis {a} is out of bounds for array of dimension {ndim}")
    return tuple(a % ndim for a in axes) if ndim else ()


def kept_shape(x, axis):
    """x's shape with the reduced axes set to 1: the shape a reduction has with keepdims=True."""
    axes = normalize_axes(axis, len(shape_of(x)))
    return tuple(1 if i in axes else n for i, n in enumerate(shape_of(x)))


def reduced_shape(x, axis):
    """x's shape without the reduced axes: the shape a reduction has without keepdims."""
    axes = normalize_axes(axis, len(shape_of(x)))
    return tuple(n for i, n in enumerate(shape_of(x)) if i not in axes)


@primitive
def broadcast_to(x, shape):
    """x repeated along new or length-1 axes to fill `shape`."""
    return namespace(x).broadcast_to(x, int_tuple(shape))


def unbroadcast(g, x):
    """g summed over the axes that broadcasting added or stretched, so that it has x's shape.

    If x of shape (3,) was added to y of shape (2, 3), each entry of x was used twice, so its gradient is g
    summed over axis 0."""
    want, have = getattr(x, "shape", ()), getattr(g, "shape", ())
    if have == want:
        return g
    lead = len(have) - len(want)
    if lead:
        g = sum(g, axis=tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(want) if n == 1 and have[lead + i] != 1)
    return sum(g, axis=stretched, keepdims=True) if stretched else g


defvjp(broadcast_to, lambda g, ans, x, shape: unbroadcast(g, x))
defjvp(broadcast_to, lambda t, ans, x, shape: broadcast_to(t, shape))


@primitive
def sum(x, axis=None, keepdims=False):
    """The sum of x's entries over `axis` (all axes by default)."""
    return namespace(x).sum(x, axis=axis, keepdims=keepdims)


defvjp(sum, lambda g, ans, x, axis=None, keepdims=False: broadcast_to(reshape(g, kept_shape(x, axis)), shape_of(x)))
defjvp(sum, lambda t, ans, x, axis=None, keepdims=False: sum(t, axis=axis, keepdims=keepdims))


def _count(x, axis):
    n = 1
    for i in normalize_axes(axis, len(shape_of(x))):
        n *= shape_of(x)[i]
    return n


@primitive
def mean(x, axis=None, keepdims=False):
    """The mean of x's entries over `axis` (all axes by default)."""
    return namespace(x).mean(x, axis=axis, keepdims=keepdims)


defvjp(
    mean,
    lambda g, ans, x, axis=None, keepdims=False: broadcast_to(reshape(g, kept_shape(x, axis)), shape_of(x))
    / _count(x, axis),
)
defjvp(mean, lambda t, ans, x, axis=None, keepdims=False: mean(t, axis=axis, keepdims=keepdims))


@primitive
def max(x, axis=None, keepdims=False):
    """The largest entry over `axis`. Its gradient goes to the maximum; ties share it equally."""
    return namespace(x).max(x, axis=axis, keepdims=keepdims)


def _winners(ans, x, axis):
    """1/k at each of the k entries equal to the maximum, 0 elsewhere (a constant, in x's dtype)."""
    xp = namespace(raw(x))
    r = xp.asarray(raw(x))  # a Python number too
    hits = xp.astype(r == xp.reshape(raw(ans), kept_shape(x, axis)), r.dtype)
    return hits / xp.sum(hits, axis=normalize_axes(axis, r.ndim), keepdims=True)


defvjp(max, lambda g, ans, x, axis=None, keepdims=False: reshape(g, kept_shape(x, axis)) * _winners(ans, x, axis))
defjvp(max, lambda t, ans, x, axis=None, keepdims=False: sum(t * _winners(ans, x, axis), axis=axis, keepdims=keepdims))
