"""Arrays made from scratch, on the default backend. They are constants: nothing here is differentiated."""

from ..backend import asarray, get_backend, namespace, shape
from ..tracing import raw


def array(values, dtype=None):
    """An array of the default backend (numpy unless set_backend chose another)."""
    return asarray(values, dtype=dtype)


def zeros(shape, dtype=None):
    return get_backend().zeros(shape, dtype=dtype)


def ones(shape, dtype=None):
    return get_backend().ones(shape, dtype=dtype)


def arange(start, stop=None, step=1, dtype=None):
    return get_backend().arange(start, stop, step, dtype=dtype)


def linspace(start, stop, num, dtype=None):
    return get_backend().linspace(start, stop, num, dtype=dtype)


def eye(n, m=None, dtype=None):
    return get_backend().eye(n, m, dtype=dtype)


def zeros_like(x):
    """Zeros with x's shape and dtype, in x's library (a traced x gives plain zeros)."""
    r = raw(x)
    return namespace(r).zeros(shape(r), dtype=getattr(r, "dtype", None))


def ones_like(x):
    """Ones with x's shape and dtype, in x's library (a traced x gives plain ones)."""
    r = raw(x)
    return namespace(r).ones(shape(r), dtype=getattr(r, "dtype", None))
