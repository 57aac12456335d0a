"""Engine fixes made while building nn and the benchmarks (each failed before its fix)."""

import gc

import numpy as np

import autodiff_lab.numpy as anp
from autodiff_lab import Value, grad, hessian
from autodiff_lab.backend import is_array, isdtype, namespace


def test_grad_of_a_float32_function_returns_float32():
    # a float32 sum is a numpy float32 scalar, not a Python float: grad must accept it as a scalar output
    x = np.array([1.0, 2.0], dtype=np.float32)
    g = grad(lambda v: anp.sum(anp.tanh(v) * v))(x)
    assert g.dtype == np.float32


def test_gradient_of_a_vector_dot_product(numerical_grad):
    x, y = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -1.0])
    gx, gy = grad(lambda a, b: anp.tanh(a @ b), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, numerical_grad(lambda v: np.tanh(v @ y), x), rtol=1e-7)
    np.testing.assert_allclose(gy, numerical_grad(lambda v: np.tanh(x @ v), y), rtol=1e-7)
    np.testing.assert_allclose(grad(lambda a: anp.dot(a, y))(x), y)
    assert hessian(lambda a: anp.dot(a, a))(x).shape == (3, 3)


def test_is_array_and_isdtype_answers_are_remembered_correctly():
    assert is_array(np.zeros(2)) and is_array(np.zeros((), dtype=np.float32))
    assert not is_array(1.0) and not is_array([1.0]) and not is_array(None)
    assert is_array(np.zeros(2))  # the second answer comes from the cache
    xp = namespace(np.zeros(1))
    assert isdtype(xp, np.dtype("float32"), "real floating")
    assert not isdtype(xp, np.dtype("int64"), ("real floating", "complex floating"))


def test_scalar_backward_keeps_the_cycle_collector_setting():
    x = Value(0.5)
    y = (x * x).tanh()
    was = gc.isenabled()
    y.backward()
    assert gc.isenabled() == was
    assert x.grad == np.float64(2 * 0.5 * (1 - np.tanh(0.25) ** 2))


def test_relu_derivative_is_a_mask_in_the_gradients_dtype():
    # relu's VJP multiplies by a 0/1 mask (faster than where); it must keep the dtype, use 0 at the kink,
    # and still nest (second derivative of relu(x)^3 is 6 relu(x))
    x = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    g = grad(lambda v: anp.sum(anp.relu(v) * 3.0))(x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [0.0, 0.0, 3.0])
    H = hessian(lambda v: anp.sum(anp.relu(v) ** 3))(np.array([-1.0, 2.0]))
    np.testing.assert_allclose(H, [[0.0, 0.0], [0.0, 12.0]])
