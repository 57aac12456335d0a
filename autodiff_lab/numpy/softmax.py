"""The log-sum-exp family, computed stably by shifting by the maximum first:
logsumexp(x) = m + log sum e^(x - m), softmax = e^(x - logsumexp), log_softmax = x - logsumexp."""

from ..backend import namespace
from ..primitive import defjvp, defvjp, primitive
from .elementwise import exp
from .reductions import kept_shape, reduced_shape, sum
from .shapes import reshape


@primitive
def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over `axis`, without overflow. Its gradient is softmax(x)."""
    xp = namespace(x)
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.reshape(out, reduced_shape(x, axis))


def _softmax_of(ans, x, axis):
    return exp(x - reshape(ans, kept_shape(x, axis)))


defvjp(
    logsumexp,
    lambda g, ans, x, axis=None, keepdims=False: reshape(g, kept_shape(x, axis)) * _softmax_of(ans, x, axis),
)
defjvp(
    logsumexp,
    lambda t, ans, x, axis=None, keepdims=False: sum(t * _softmax_of(ans, x, axis), axis=axis, keepdims=keepdims),
)


@primitive
def softmax(x, axis=-1):
    """e^x normalized to sum to 1 along `axis`. VJP: s * (g - sum(g * s))."""
    xp = namespace(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


defvjp(softmax, lambda g, ans, x, axis=-1: ans * (g - sum(g * ans, axis=axis, keepdims=True)))
defjvp(softmax, lambda t, ans, x, axis=-1: ans * (t - sum(t * ans, axis=axis, keepdims=True)))


@primitive
def log_softmax(x, axis=-1):
    """x - logsumexp(x) along `axis`: log-probabilities. VJP: g - softmax * sum(g)."""
    return x - logsumexp(x, axis=axis, keepdims=True)


defvjp(log_softmax, lambda g, ans, x, axis=-1: g - exp(ans) * sum(g, axis=axis, keepdims=True))
defjvp(log_softmax, lambda t, ans, x, axis=-1: t - sum(exp(ans) * t, axis=axis, keepdims=True))
