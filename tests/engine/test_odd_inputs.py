"""Odd but legal inputs found by review: Python numbers and lists where arrays are expected, numpy integers
as axes and shapes, 0 ** 0. Each gets numpy's answer and a derivative checked against finite differences."""

import array_api_strict as xps
import numpy as np
import pytest

import autodiff_lab as ad
import autodiff_lab.numpy as anp
from autodiff_lab import grad, hessian, jvp, vjp
from autodiff_lab.check import assert_grads, numerical_grad
from autodiff_lab.numpy.reductions import normalize_axes

# ---- a Python number raised to a traced power -------------------------------------------------------------


def test_number_to_a_traced_power_keeps_float32():
    x = np.array([0.5, 1.5, 2.0], np.float32)
    expected = 2.0 ** x.astype(np.float64) * np.log(2.0)
    out, f_vjp = vjp(lambda x: 2.0**x, x)
    (g,) = f_vjp(np.ones(3, np.float32))
    _, t = jvp(lambda x: 2.0**x, (x,), (np.ones(3, np.float32),))
    for d in (out, g, t, grad(lambda x: anp.sum(2.0**x))(x)):
        assert d.dtype == np.float32
    assert np.allclose(g, expected, rtol=1e-6) and np.allclose(t, expected, rtol=1e-6)


def test_number_to_a_traced_power_on_array_api_strict():
    x = xps.asarray([0.5, 1.0])
    g = grad(lambda x: anp.sum(2.0**x))(x)
    _, t = jvp(lambda x: 2.0**x, (x,), (xps.asarray([1.0, 1.0]),))
    for d in (g, t):
        assert type(d).__module__.startswith("array_api_strict")
        assert np.allclose(ad.to_numpy(d), 2.0 ** np.array([0.5, 1.0]) * np.log(2.0))


def test_zero_to_a_traced_power_has_derivative_zero_not_nan(arr, close):
    assert close(grad(lambda y: anp.sum(0.0**y))(arr([1.0, 2.0])), [0.0, 0.0])
    assert close(grad(lambda y: anp.sum(0**y))(arr([1.0, 2.0])), [0.0, 0.0])


def test_negative_number_to_a_traced_power_gives_nan_as_numpy(arr):
    with np.errstate(invalid="ignore"):
        g = ad.to_numpy(grad(lambda y: anp.sum((-2.0) ** y))(arr([2.0])))
    assert np.isnan(g).all()


def test_list_to_a_traced_power(arr, close):
    y = arr([2.0, 0.5])
    assert close(grad(lambda y: anp.sum([0.0, 3.0] ** y))(y), [0.0, 3.0**0.5 * np.log(3.0)])


# ---- x ** y at x = 0, y = 0 --------------------------------------------------------------------------------


def test_power_derivative_at_zero_to_the_zero_is_zero(arr, close):
    assert close(grad(lambda x: anp.sum(x**0))(arr([0.0, 1.0])), [0.0, 0.0])
    assert close(grad(lambda x: anp.sum(x ** arr(np.arange(4.0))))(arr(0.0)), 1.0)
    assert close(jvp(lambda x: x**0, (arr([0.0, 1.0]),), (arr([1.0, 1.0]),))[1], [0.0, 0.0])
    assert close(jvp(lambda x: x ** arr([0.0, 2.0]), (arr([0.0, 0.0]),), (arr([1.0, 1.0]),))[1], [0.0, 0.0])


def test_power_derivative_at_zero_keeps_float32():
    x, ones = np.array([0.0, 1.0, 2.0], np.float32), np.ones(3, np.float32)
    _, t = jvp(lambda x: x**0, (x,), (ones,))
    assert t.dtype == np.float32 and t.tolist() == [0.0, 0.0, 0.0]
    y = np.array([0.0, 0.0, 3.0], np.float32)
    _, t = jvp(lambda x: x**y, (x,), (ones,))
    assert t.dtype == np.float32 and t.tolist() == [0.0, 0.0, 12.0]


def test_power_derivative_at_zero_on_array_api_strict():
    x, y = xps.asarray([0.0, 0.0, 2.0]), xps.asarray([0.0, 1.0, 0.5])
    g = grad(lambda x: anp.sum(anp.power(x, y)))(x)
    assert type(g).__module__.startswith("array_api_strict")
    assert np.allclose(ad.to_numpy(g), [0.0, 1.0, 0.5 * 2.0**-0.5])


def test_power_second_derivatives_at_zero(arr, close):
    assert close(hessian(lambda x: anp.sum(3.0 * x**1))(arr([0.0, 1.0])), np.zeros((2, 2)))
    assert close(hessian(lambda x: anp.sum(x**0))(arr([0.0, 1.0])), np.zeros((2, 2)))
    y = arr(np.arange(4.0))
    assert close(hessian(lambda x: anp.sum(x**y))(arr(0.0)), 2.0)  # 1 + x + x^2 + x^3
    assert_grads(lambda x: x**y, (np.array(0.0),), order=2)
    assert_grads(lambda x: x**0, (np.array([0.0, 1.5]),), order=2)


def test_power_mixed_second_derivative_at_a_zero_exponent():
    # d/dy d/dx x^y = x^(y-1) (1 + y log x), which is 1/x at y = 0
    assert_grads(lambda x, y: x**y, (np.array([0.5, 2.0, 3.0]), np.array([0.0, 0.0, 1.0])), order=2)


# ---- list operands -----------------------------------------------------------------------------------------


def test_dot_with_a_list_operand_is_numpy_dot(arr, close):
    v, m = np.array([1.0, 2.0]), np.array([[1.0, 2.0], [3.0, 4.0]])
    assert close(anp.dot(arr(v), [3.0, 4.0]), np.dot(v, [3.0, 4.0]))
    assert close(anp.dot(arr(np.eye(2)), [1.0, 2.0]), [1.0, 2.0])
    assert close(anp.dot([[1.0, 2.0], [3.0, 4.0]], arr(v)), m @ v)
    assert close(anp.dot([1.0, 2.0], [3.0, 4.0]), 11.0)
    assert close(anp.matmul([[1.0, 2.0]], [[3.0], [4.0]]), [[11.0]])
    assert close(grad(lambda x: anp.dot(x, [3.0, 4.0]))(arr(v)), [3.0, 4.0])


def test_dot_with_a_list_on_array_api_strict():
    out = anp.dot(xps.asarray([1.0, 2.0]), [3.0, 4.0])
    assert type(out).__module__.startswith("array_api_strict") and float(out) == 11.0


def test_matmul_gradient_with_a_list_operand(arr, close):
    m = [[1.0, 2.0], [3.0, 4.0]]
    x = arr([1.0, 2.0])
    assert close(grad(lambda x: anp.sum(x @ m))(x), np.array(m) @ np.ones(2))
    assert close(grad(lambda x: anp.sum(m @ x))(x), np.ones(2) @ np.array(m))
    assert close(grad(lambda x: anp.sum(anp.matmul(m, x)))(x), np.ones(2) @ np.array(m))
    assert close(jvp(lambda x: x @ m, (x,), (arr([1.0, 0.0]),))[1], m[0])
    assert_grads(lambda x: anp.tanh(x @ m), (np.array([[0.1, 0.2]]),), order=2)


def test_matmul_with_a_list_operand_on_array_api_strict():
    x = xps.asarray([1.0, 2.0])
    out = anp.matmul(x, [[1.0, 2.0], [3.0, 4.0]])
    assert type(out).__module__.startswith("array_api_strict") and ad.to_numpy(out).tolist() == [7.0, 10.0]


def test_power_with_a_list_exponent(arr, close):
    x = arr([1.0, 2.0])
    assert close(grad(lambda x: anp.sum(x ** [2.0, 3.0]))(x), [2.0, 12.0])
    assert close(jvp(lambda x: x ** [2.0, 3.0], (x,), (arr([1.0, 1.0]),))[1], [2.0, 12.0])
    assert close(grad(lambda x: anp.sum(x ** [0, 1]))(arr([0.0, 0.0])), [0.0, 1.0])
    assert_grads(lambda x: x ** [2.0, 3.0, 0.0], (np.array([0.5, 1.5, 2.0]),), order=2)


# ---- concatenate and stack ---------------------------------------------------------------------------------


def test_concatenate_with_list_pieces(arr, close):
    x = arr([1.0, 2.0])
    f = lambda x: anp.sum(anp.concatenate([[5.0, 6.0], x]) ** 2)  # noqa: E731
    assert close(f(x), 25.0 + 36.0 + 1.0 + 4.0)
    assert close(grad(f)(x), [2.0, 4.0])
    assert close(jvp(lambda x: anp.concatenate([[5.0, 6.0], x]), (x,), (arr([1.0, -1.0]),))[1], [0, 0, 1, -1])
    assert_grads(lambda x: anp.concatenate([[5.0], x, [7.0]]) ** 3, (np.array([1.0, 2.0]),), order=2)


def test_concatenate_with_axis_none_flattens_as_numpy(arr, close):
    a, b = np.arange(4.0).reshape(2, 2), np.array([[9.0, 8.0]])
    assert close(anp.concatenate([arr(a), arr(b)], axis=None), np.concatenate([a, b], axis=None))
    assert close(anp.concatenate([arr(1.0), [2.0, 3.0]], axis=None), [1.0, 2.0, 3.0])
    assert close(grad(lambda x: anp.sum(anp.concatenate([x, x], axis=None) ** 2))(arr(a)), 4 * a)
    assert_grads(lambda x, y: anp.concatenate([x, y], axis=None) ** 2, (a, b), order=2)


def test_stack_with_list_pieces(arr, close):
    x = arr([1.0, 2.0])
    assert close(anp.stack([[5.0, 6.0], x], axis=1), [[5.0, 1.0], [6.0, 2.0]])
    assert close(grad(lambda x: anp.sum(anp.stack([[5.0, 6.0], x]) ** 2))(x), [2.0, 4.0])
    assert close(jvp(lambda x: anp.stack([[5.0, 6.0], x]), (x,), (arr([1.0, -1.0]),))[1], [[0, 0], [1, -1]])
    assert_grads(lambda x: anp.stack([x, [5.0, 6.0]], axis=-1) ** 3, (np.array([1.0, 2.0]),), order=2)


def test_concatenate_list_pieces_take_the_arrays_library():
    x = xps.asarray([1.0, 2.0])
    out = anp.concatenate([[5.0], x])
    assert type(out).__module__.startswith("array_api_strict") and ad.to_numpy(out).tolist() == [5.0, 1.0, 2.0]
    g = grad(lambda x: anp.sum(anp.stack([[5.0, 6.0], x]) ** 2))(x)
    assert ad.to_numpy(g).tolist() == [2.0, 4.0]


# ---- numpy integers as axes and shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("axis", [np.int64(0), np.int32(-1)])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "logsumexp", "softmax", "log_softmax"])
def test_numpy_integer_axis_forward_and_backward(name, axis, arr, close):
    x = np.array([[1.0, 5.0, 2.0], [4.0, 3.0, 0.5]])
    f = getattr(anp, name)
    assert close(f(arr(x), axis=axis), f(arr(x), axis=int(axis)))
    out_shape = f(x, axis=int(axis)).shape
    w = np.arange(1.0, 1.0 + np.prod(out_shape)).reshape(out_shape)

    def loss(x, axis=axis):
        return anp.sum(f(x, axis=axis) * w)

    assert close(grad(loss)(arr(x)), numerical_grad(loss, x), rtol=1e-6)
    assert close(grad(loss)(arr(x)), grad(lambda x: loss(x, int(axis)))(arr(x)))
    if name != "max":  # max has kinks
        assert_grads(lambda x: f(x, axis=axis), (x,), order=2)


@pytest.mark.parametrize("axis", [0, -1, np.int64(0)])
@pytest.mark.parametrize("name", ["sum", "max"])
def test_reducing_a_0d_array_over_axis_0_reduces_over_nothing_as_numpy(name, axis, arr, close):
    f = getattr(anp, name)
    assert close(f(arr(3.0), axis=axis), getattr(np, name)(np.array(3.0), axis=axis))
    assert close(grad(lambda x: f(x, axis=axis) * 2.0)(arr(3.0)), 2.0)
    assert close(jvp(lambda x: f(x, axis=axis), (arr(3.0),), (arr(1.0),))[1], 1.0)
    assert_grads(lambda x: f(x, axis=axis) ** 2, (np.array(3.0),), order=2)


def test_mean_of_a_0d_array_over_axis_0_raises_as_numpy(arr):
    with pytest.raises(np.exceptions.AxisError) as expected:
        np.mean(np.array(3.0), axis=0)
    with pytest.raises(type(expected.value), match="out of bounds"):
        anp.mean(arr(3.0), axis=0)


def test_an_axis_out_of_bounds_is_a_clear_error_not_a_division_by_zero():
    for axis, ndim in ((1, 0), (-2, 0), (2, 2), (-3, 2)):
        with pytest.raises((ValueError, IndexError), match=f"axis {axis} is out of bounds .* dimension {ndim}"):
            normalize_axes(axis, ndim)
    assert normalize_axes(np.int64(-1), 0) == () and normalize_axes((np.int64(-1), 0), 2) == (1, 0)


def test_reshape_and_broadcast_to_take_one_integer_as_numpy(arr, close):
    x = np.arange(6.0).reshape(2, 3)
    assert close(anp.reshape(arr(x), np.int64(6)), np.reshape(x, np.int64(6)))
    assert close(anp.reshape(arr(x), np.array([3, 2])), x.reshape(3, 2))
    assert close(anp.broadcast_to(arr([2.0]), 3), np.broadcast_to([2.0], 3))
    assert close(anp.broadcast_to(arr(2.0), np.int64(3)), [2.0, 2.0, 2.0])
    w = np.array([1.0, 2.0, 3.0])
    assert close(grad(lambda x: anp.sum(anp.broadcast_to(x, np.int64(3)) * w))(arr([2.0])), [6.0])
    assert close(grad(lambda x: anp.sum(anp.reshape(x, np.int64(6)) * np.arange(6.0)))(arr(x)), x)
    assert_grads(lambda x: anp.reshape(x, np.int64(6)) ** 2, (x,), order=2)
