"""Matrix products. For y = x @ w with upstream gradient g (shaped like y): dL/dx = g @ w.T and
dL/dw = x.T @ g, each with its input's shape (.mT transposes the last two axes, so stacks of matrices work
too). The (huge) Jacobian dy/dx is never formed."""

from ..backend import namespace
from ..backend import shape as shape_of
from ..primitive import defjvp, defvjp, primitive
from .arithmetic import list_as_array, multiply
from .reductions import unbroadcast
from .shapes import expand_dims, reshape


@primitive
def matmul(x, y):
    """x @ y, with numpy's rules: 1-D operands are vectors, extra leading axes are stacks of matrices."""
    if type(x) is not type(y) or type(x) is list:  # a list operand becomes an array first
        x, y = list_as_array(x, y), list_as_array(y, x)
    namespace(x, y)  # only to reject arrays of two libraries with a clear message
    return x @ y


def _as_matrices(g, x, y):
    """Treat a 1-D x as a row and a 1-D y as a column (and give g the matching axes), so that one
    formula covers every case."""
    if len(shape_of(y)) == 1:  # first: for vector @ vector, g is a scalar until it gets this axis
        y, g = reshape(y, (-1, 1)), expand_dims(g, -1)
    if len(shape_of(x)) == 1:
        x, g = reshape(x, (1, -1)), expand_dims(g, -2)
    return g, x, y


def _has_vector(x, y):
    return len(shape_of(x)) == 1 or len(shape_of(y)) == 1


def _matmul_vjp_x(g, ans, x, y):
    """g @ y^T, summed over broadcast stack axes; a vector operand goes through _as_matrices first."""
    if type(x) is not type(y):
        x, y = list_as_array(x, y), list_as_array(y, x)
    if _has_vector(x, y):
        g, x2, y = _as_matrices(g, x, y)
        return reshape(unbroadcast(g @ y.mT, x2), shape_of(x))
    return unbroadcast(g @ y.mT, x)


def _matmul_vjp_y(g, ans, x, y):
    """x^T @ g, summed over broadcast stack axes; a vector operand goes through _as_matrices first."""
    if type(x) is not type(y):
        x, y = list_as_array(x, y), list_as_array(y, x)
    if _has_vector(x, y):
        g, x, y2 = _as_matrices(g, x, y)
        return reshape(unbroadcast(x.mT @ g, y2), shape_of(y))
    return unbroadcast(x.mT @ g, y)


defvjp(matmul, _matmul_vjp_x, _matmul_vjp_y)
defjvp(matmul, lambda t, ans, x, y: matmul(t, y), lambda t, ans, x, y: matmul(x, t))


def dot(x, y):
    """numpy's dot for arrays of up to 2 dimensions: a product with a scalar, the inner product of vectors,
    or a matrix product."""
    x, y = list_as_array(x, y), list_as_array(y, x)
    nx, ny = len(shape_of(x)), len(shape_of(y))
    if nx == 0 or ny == 0:
        return multiply(x, y)
    if nx > 2 or ny > 2:
        raise ValueError(
            f"anp.dot takes arrays of at most 2 dimensions (got {nx} and {ny}); use anp.matmul for stacks of "
            f"matrices"
        )
    return matmul(x, y)
