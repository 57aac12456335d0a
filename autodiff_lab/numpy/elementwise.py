"""Functions applied entry by entry. Each local derivative is a diagonal Jacobian, so each VJP is just an
elementwise product with the upstream gradient g (the Jacobian is never built)."""

from ..backend import isdtype, namespace
from ..backend import shape as shape_of
from ..primitive import defjvp, defvjp, primitive
from ..tracing import raw
from .reductions import broadcast_to, unbroadcast


@primitive
def exp(x):
    """e^x. d/dx = e^x, the output itself."""
    return namespace(x).exp(x)


defvjp(exp, lambda g, ans, x: g * ans)
defjvp(exp, lambda t, ans, x: t * ans)


@primitive
def log(x):
    """Natural logarithm. d/dx = 1/x."""
    return namespace(x).log(x)


defvjp(log, lambda g, ans, x: g / x)
defjvp(log, lambda t, ans, x: t / x)


@primitive
def sin(x):
    """sin x. d/dx = cos x."""
    return namespace(x).sin(x)


@primitive
def cos(x):
    """cos x. d/dx = -sin x."""
    return namespace(x).cos(x)


defvjp(sin, lambda g, ans, x: g * cos(x))
defjvp(sin, lambda t, ans, x: t * cos(x))
defvjp(cos, lambda g, ans, x: -g * sin(x))
defjvp(cos, lambda t, ans, x: -t * sin(x))


@primitive
def tanh(x):
    """tanh x. d/dx = 1 - tanh^2 x, so g d/dx = g - g tanh^2 x (written without the scalar 1, which numpy
    converts on every call at the cost of a whole multiply)."""
    return namespace(x).tanh(x)


defvjp(tanh, lambda g, ans, x: g - g * ans * ans)
defjvp(tanh, lambda t, ans, x: t - t * ans * ans)


@primitive
def sigmoid(x):
    """1 / (1 + e^-x), computed without overflow. d/dx = sigmoid(x) (1 - sigmoid(x))."""
    xp = namespace(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


defvjp(sigmoid, lambda g, ans, x: g * ans * (1 - ans))
defjvp(sigmoid, lambda t, ans, x: t * ans * (1 - ans))


@primitive
def sqrt(x):
    """Square root. d/dx = 1 / (2 sqrt x)."""
    return namespace(x).sqrt(x)


defvjp(sqrt, lambda g, ans, x: g / (2 * ans))
defjvp(sqrt, lambda t, ans, x: t / (2 * ans))


@primitive
def where(condition, x, y):
    """x where condition holds, else y (broadcasting). The gradient is routed the same way."""
    return namespace(condition, x, y).where(condition, x, y)


defvjp(
    where,
    None,
    lambda g, ans, c, x, y: unbroadcast(where(c, g, 0), x),
    lambda g, ans, c, x, y: unbroadcast(where(c, 0, g), y),
)
defjvp(
    where,
    None,
    lambda t, ans, c, x, y: broadcast_to(where(c, t, 0), shape_of(ans)),
    lambda t, ans, c, x, y: broadcast_to(where(c, 0, t), shape_of(ans)),
)


@primitive
def relu(x):
    """max(x, 0). Subgradient at 0: 0."""
    return namespace(x).maximum(x, 0)


def _where_positive(v, x):
    """v where x > 0, else 0: v times relu's derivative, a constant 0/1 mask in v's dtype. (Multiplying by the
    mask is about three times faster than where(x > 0, v, 0) on numpy, and it is the hot spot of an MLP's
    backward pass.) A plain v is multiplied into the fresh mask, which saves an array; a traced v is not."""
    mask = x > 0  # plain bools, also when x is traced
    if not (hasattr(v, "dtype") and hasattr(mask, "dtype")):  # Python numbers
        return v * mask
    mask = namespace(mask).astype(mask, v.dtype)
    if type(mask) is not type(v):
        return v * mask
    mask *= v
    return mask


defvjp(relu, lambda g, ans, x: _where_positive(g, x))
defjvp(relu, lambda t, ans, x: _where_positive(t, x))


def sign(x):
    """-1, 0 or 1 by the sign of each entry; a constant (its derivative is 0 almost everywhere)."""
    r = raw(x)
    xp = namespace(r)
    return xp.sign(xp.asarray(r))  # asarray: the namespace's sign takes arrays, not Python numbers


@primitive
def abs(x):
    """|x|. Subgradient at 0: 0."""
    return namespace(x).abs(x)


defvjp(abs, lambda g, ans, x: g * sign(x))
defjvp(abs, lambda t, ans, x: t * sign(x))


@primitive
def maximum(x, y):
    """The larger of x and y, entry by entry (broadcasting): max routes the gradient to the winner.
    On a tie each side gets half."""
    return namespace(x, y).maximum(x, y)


def _route(v, mine, theirs):
    return where(mine == theirs, v / 2, where(mine > theirs, v, 0))


defvjp(
    maximum,
    lambda g, ans, x, y: unbroadcast(_route(g, x, y), x),
    lambda g, ans, x, y: unbroadcast(_route(g, y, x), y),
)
defjvp(
    maximum,
    lambda t, ans, x, y: broadcast_to(_route(t, x, y), shape_of(ans)),
    lambda t, ans, x, y: broadcast_to(_route(t, y, x), shape_of(ans)),
)


@primitive
def logaddexp(x, y):
    """log(e^x + e^y) without overflow (broadcasting). d/dx = e^(x - out)."""
    return namespace(x, y).logaddexp(x, y)


defvjp(
    logaddexp,
    lambda g, ans, x, y: unbroadcast(g * exp(x - ans), x),
    lambda g, ans, x, y: unbroadcast(g * exp(y - ans), y),
)
defjvp(
    logaddexp,
    lambda t, ans, x, y: broadcast_to(t * exp(x - ans), shape_of(ans)),
    lambda t, ans, x, y: broadcast_to(t * exp(y - ans), shape_of(ans)),
)


@primitive
def astype(x, dtype):
    """x converted to `dtype`, entry by entry (a Python number becomes an array). The gradient goes back in
    x's dtype: d/dx is 1, the conversion undone."""
    xp = namespace(x)
    return xp.astype(xp.asarray(x), dtype)


def _dtype_of(x):
    return getattr(raw(x), "dtype", None)


def astype_like(x, like):
    """x in the dtype of `like` when that is a real floating dtype and x is a real array of another dtype;
    otherwise x as it is. A float32 parameter gets a float32 gradient even where f computed in float64, and
    integer labels meet float32 scores as float32, so nothing is silently promoted."""
    try:
        if x.dtype == like.dtype:  # the common case, answered at once
            return x
    except AttributeError:  # a Python number on either side
        return x
    dtype, x_dtype = _dtype_of(like), _dtype_of(x)
    xp = namespace(raw(like))
    if isdtype(xp, dtype, "real floating") and not isdtype(xp, x_dtype, "complex floating"):
        return astype(x, dtype)
    return x


defvjp(astype, lambda g, ans, x, dtype: g if _dtype_of(x) is None else astype(g, _dtype_of(x)))
defjvp(astype, lambda t, ans, x, dtype: astype(t, dtype))
