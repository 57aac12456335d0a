"""+ - * / ** and negation, broadcasting like numpy; each VJP undoes the broadcasting with unbroadcast."""

import math

from ..backend import asarray, namespace
from ..backend import shape as shape_of
from ..primitive import defjvp, defvjp, primitive
from ..tracing import raw
from .elementwise import log, where
from .reductions import broadcast_to, unbroadcast

_NOT_ARRAYS = {int, float, complex, bool, list, tuple}  # their operators add numbers or join sequences


def _one_library(x, y):
    """Whether x and y are arrays of one type, which the operators combine directly (quicker than asking for
    the namespace); Python numbers and lists, and arrays of two libraries, go through namespace(), which
    makes them arrays and names a mix of libraries."""
    return type(x) is type(y) and type(x) not in _NOT_ARRAYS


def list_as_array(v, like):
    """v, or a (nested) list v as an array of like's library: a list has no shape and no arithmetic."""
    return asarray(v, like=raw(like)) if isinstance(v, (list, tuple)) else v


def broadcast_like(t, ans):
    """t broadcast to ans's shape: a tangent always has the output's shape."""
    return t if shape_of(t) == shape_of(ans) else broadcast_to(t, shape_of(ans))


@primitive
def add(x, y):
    """x + y. Add distributes: both inputs get the upstream gradient unchanged."""
    return x + y if _one_library(x, y) else namespace(x, y).add(x, y)


defvjp(add, lambda g, ans, x, y: unbroadcast(g, x), lambda g, ans, x, y: unbroadcast(g, y))
defjvp(add, lambda t, ans, x, y: broadcast_like(t, ans), lambda t, ans, x, y: broadcast_like(t, ans))


@primitive
def subtract(x, y):
    """x - y."""
    return x - y if _one_library(x, y) else namespace(x, y).subtract(x, y)


defvjp(subtract, lambda g, ans, x, y: unbroadcast(g, x), lambda g, ans, x, y: unbroadcast(-g, y))
defjvp(subtract, lambda t, ans, x, y: broadcast_like(t, ans), lambda t, ans, x, y: broadcast_like(-t, ans))


@primitive
def multiply(x, y):
    """x * y. Multiply swaps: each input's local gradient is the other input."""
    return x * y if _one_library(x, y) else namespace(x, y).multiply(x, y)


defvjp(multiply, lambda g, ans, x, y: unbroadcast(g * y, x), lambda g, ans, x, y: unbroadcast(g * x, y))
defjvp(multiply, lambda t, ans, x, y: broadcast_like(t * y, ans), lambda t, ans, x, y: broadcast_like(x * t, ans))


@primitive
def divide(x, y):
    """x / y. d/dx = 1/y, d/dy = -x/y^2 = -out/y."""
    return x / y if _one_library(x, y) else namespace(x, y).divide(x, y)


defvjp(divide, lambda g, ans, x, y: unbroadcast(g / y, x), lambda g, ans, x, y: unbroadcast(-g * ans / y, y))
defjvp(divide, lambda t, ans, x, y: broadcast_like(t / y, ans), lambda t, ans, x, y: broadcast_like(-t * ans / y, ans))


@primitive
def negative(x):
    """-x."""
    return namespace(x).negative(x)


defvjp(negative, lambda g, ans, x: -g)
defjvp(negative, lambda t, ans, x: -t)


@primitive
def power(x, y):
    """x ** y. d/dx = y x^(y-1); d/dy = x^y log x (taken as 0 where x = 0)."""
    return namespace(x, y).pow(x, y)


def _power_dx(x, y):
    """d(x^y)/dx = y x^(y-1). Where x = y = 0 that is 0 * 0^-1 = nan, yet x^0 = 1 is constant: there the
    exponent y - 1 is replaced by 1, which gives 0 (and 0 for its derivatives). Replaced only there, the
    rule's own derivatives stay exact everywhere else, d/dy = x^(y-1) (1 + y log x) included."""
    if isinstance(y, (int, float)):  # the common x ** 2: a constant exponent, decided here in Python
        return y * x ** (y - 1 if y != 0 else 1)
    y = list_as_array(y, x)
    return y * x ** where((x == 0) & (y == 0), 1, y - 1)


def _log_base(x, ans):
    """log x, for d(x^y)/dy = x^y log x; taken as 0 where x = 0 (0^y is 0 for every y > 0)."""
    if isinstance(x, (int, float)):  # math.log: a Python float keeps a float32 gradient float32
        if x == 0:
            return 0.0
        return math.log(x) if x > 0 else math.nan
    x = list_as_array(x, ans)
    return log(where(x == 0, 1.0, x))


defvjp(
    power,
    lambda g, ans, x, y: unbroadcast(g * _power_dx(x, y), x),
    lambda g, ans, x, y: unbroadcast(g * ans * _log_base(x, ans), y),
)
defjvp(
    power,
    lambda t, ans, x, y: broadcast_like(t * _power_dx(x, y), ans),
    lambda t, ans, x, y: broadcast_like(t * ans * _log_base(x, ans), ans),
)
