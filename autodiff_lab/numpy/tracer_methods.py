"""Traced values behave like arrays: this file gives Box and Dual their operators, comparisons, indexing,
`.shape .ndim .dtype .T` and the methods `.sum() .mean() .max() .reshape()`, all routed to anp functions.

It also makes mistakes loud: a plain numpy function applied to a traced value would silently drop the
derivative, so it raises an error that names the anp function to use instead."""

import operator

from ..backend import shape as shape_of
from ..tracing import Tracer, raw
from . import arithmetic, elementwise, indexing, linear_algebra, reductions, shapes

_BINARY = {
    "add": arithmetic.add,
    "sub": arithmetic.subtract,
    "mul": arithmetic.multiply,
    "truediv": arithmetic.divide,
    "pow": arithmetic.power,
    "matmul": linear_algebra.matmul,
}
for _name, _fn in _BINARY.items():
    setattr(Tracer, f"__{_name}__", lambda self, other, fn=_fn: fn(self, other))
    setattr(Tracer, f"__r{_name}__", lambda self, other, fn=_fn: fn(other, self))



def _comparison(op):
    """Comparisons are not differentiable: they compare the plain values and return plain booleans."""
    return lambda self, other: op(raw(self), raw(other))


for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(Tracer, f"__{_name}__", _comparison(getattr(operator, _name)))

Tracer.__hash__ = object.__hash__
Tracer.__neg__ = lambda self: arithmetic.negative(self)
Tracer.__abs__ = lambda self: elementwise.abs(self)
Tracer.__pos__ = lambda self: self
Tracer.__bool__ = lambda self: bool(raw(self))
Tracer.__len__ = lambda self: len(raw(self))  # a 0-d value: TypeError, as numpy says
Tracer.__iter__ = lambda self: (self[i] for i in range(len(self)))
Tracer.__getitem__ = lambda self, index: indexing.getitem(self, indexing.plain_index(index))

Tracer.shape = property(lambda self: shape_of(self.value))  # the value inside is a tracer again when nested
Tracer.ndim = property(lambda self: len(shape_of(self.value)))
Tracer.dtype = property(lambda self: self.value.dtype)
Tracer.size = property(lambda self: raw(self).size)
Tracer.T = property(lambda self: shapes.transpose(self))
Tracer.mT = property(shapes.matrix_transpose)
Tracer.sum = lambda self, axis=None, keepdims=False: reductions.sum(self, axis=axis, keepdims=keepdims)
Tracer.mean = lambda self, axis=None, keepdims=False: reductions.mean(self, axis=axis, keepdims=keepdims)
Tracer.max = lambda self, axis=None, keepdims=False: reductions.max(self, axis=axis, keepdims=keepdims)
Tracer.reshape = lambda self, *shape: shapes.reshape(self, shape[0] if len(shape) == 1 else shape)
Tracer.astype = lambda self, dtype: elementwise.astype(self, dtype)


# ---- numpy interoperability: `array * traced` works, `np.exp(traced)` explains itself ----------------------
_UFUNC_OPERATORS = {
    "add": arithmetic.add,
    "subtract": arithmetic.subtract,
    "multiply": arithmetic.multiply,
    "divide": arithmetic.divide,
    "true_divide": arithmetic.divide,
    "power": arithmetic.power,
    "matmul": linear_algebra.matmul,
    "negative": arithmetic.negative,
}
_UFUNC_COMPARISONS = {
    "less": operator.lt, "less_equal": operator.le, "greater": operator.gt,
    "greater_equal": operator.ge, "equal": operator.eq, "not_equal": operator.ne,
}


def _plain_numpy_error(kind, name):
    from .. import numpy as anp

    fix = f"use anp.{name}" if hasattr(anp, name) else f"build it from anp functions (anp has no {name})"
    return TypeError(
        f"numpy.{name} was called on a traced value. Plain numpy {kind} cannot be differentiated, so the "
        f"derivative would be lost: {fix} instead (import autodiff_lab.numpy as anp)."
    )


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    # numpy calls this for `ndarray <op> tracer` as well as for np.<ufunc>(tracer).
    if method == "__call__" and not kwargs:
        if ufunc.__name__ in _UFUNC_OPERATORS:
            return _UFUNC_OPERATORS[ufunc.__name__](*inputs)
        if ufunc.__name__ in _UFUNC_COMPARISONS:
            return _UFUNC_COMPARISONS[ufunc.__name__](*(raw(i) for i in inputs))
    raise _plain_numpy_error("functions", ufunc.__name__)


def _array_function(self, func, types, args, kwargs):
    raise _plain_numpy_error("functions", func.__name__)


def _array(self, dtype=None, copy=None):
    raise TypeError(
        "a traced value cannot be turned into a plain numpy array (np.asarray, np.array, float) inside a "
        "transformation: its derivative would be lost. Keep computing with anp functions and operators."
    )


Tracer.__array_ufunc__ = _array_ufunc
Tracer.__array_function__ = _array_function
Tracer.__array__ = _array
Tracer.__array_priority__ = 1000  # cupy and older libraries defer to us for `array <op> tracer`
