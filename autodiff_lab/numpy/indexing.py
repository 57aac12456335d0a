"""x[index] with slices, integers, integer arrays and boolean masks. The VJP puts the gradient back where
the entries came from (adding up where an entry was taken twice); that scatter is itself a primitive,
whose VJP is indexing again, so second derivatives work."""

from ..backend import namespace, scatter_add
from ..backend import shape as shape_of
from ..primitive import defjvp, defvjp, primitive
from ..tracing import raw


def plain_index(index):
    """The index with any traced parts replaced by their values (an index is never differentiated)."""
    if isinstance(index, tuple):
        return tuple(raw(i) for i in index)
    return raw(index)


@primitive
def getitem(x, index):
    """x[index]."""
    return x[index]


@primitive
def untake(g, index, shape):
    """zeros(shape) with g added at index: where the gradient of x[index] goes."""
    return scatter_add(namespace(g), shape, index, g)


defvjp(getitem, lambda g, ans, x, index: untake(g, index, shape_of(x)))
defjvp(getitem, lambda t, ans, x, index: getitem(t, index))
defvjp(untake, lambda g, ans, v, index, shape: getitem(g, index))
defjvp(untake, lambda t, ans, v, index, shape: untake(t, index, shape))
