"""stop_gradient: the value unchanged, a zero derivative in every transformation and at every order (JAX's
jax.lax.stop_gradient), on arrays, numbers and pytrees."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_lab.numpy as anp
from autodiff_lab import Dual, grad, hessian, jacfwd, jacrev, jvp, stop_gradient, vjp
from autodiff_lab.check import numerical_grad


def test_the_value_is_unchanged_and_the_derivative_is_zero(arr, close):
    x = arr([0.5, -1.0, 2.0])
    assert close(stop_gradient(x), x)
    assert close(grad(lambda x: anp.sum(stop_gradient(x) ** 2))(x), [0.0, 0.0, 0.0])
    assert close(jvp(lambda x: stop_gradient(x) * 3.0, (x,), (arr([1.0, 1.0, 1.0]),))[1], [0.0, 0.0, 0.0])
    stopped = stop_gradient(Dual(2.0, 1.0))
    assert stopped == 2.0 and not isinstance(stopped, Dual)


def test_only_the_stopped_path_is_cut(arr, close):
    # d/dx [x * sg(x)] = sg(x) = x, not 2x
    x = arr([0.5, -1.0, 2.0])
    assert close(grad(lambda x: anp.sum(x * stop_gradient(x)))(x), x)
    assert close(jacrev(lambda x: x * stop_gradient(x))(x), np.diag([0.5, -1.0, 2.0]))
    assert close(jacfwd(lambda x: x * stop_gradient(x))(x), np.diag([0.5, -1.0, 2.0]))


def test_stopped_at_every_order(arr, close):
    # f(x) = x^2 sg(x): f' = 2x sg(x), f'' = 2 sg(x)
    f = lambda x: x**2 * stop_gradient(x)  # noqa: E731
    x = arr(1.5)
    assert close(grad(f)(x), 2 * 1.5 * 1.5)
    assert close(grad(grad(f))(x), 2 * 1.5)
    assert close(jvp(grad(f), (x,), (arr(1.0),))[1], 2 * 1.5)
    assert close(hessian(lambda v: anp.sum(v**2 * stop_gradient(v)))(arr([1.5, 2.0])), np.diag([3.0, 4.0]))


def test_a_gradient_computed_inside_is_a_constant_outside(arr, close):
    # grad of x -> sg(grad(sin)(x)) * x is cos(x), without the -sin(x) x term
    x = arr(0.7)
    assert close(grad(lambda x: stop_gradient(grad(anp.sin)(x)) * x)(x), np.cos(0.7))


def test_pytrees_keep_their_structure(arr, close):
    params = {"w": arr([1.0, 2.0]), "b": (arr(3.0), None)}
    out, pullback = vjp(lambda p: anp.sum(stop_gradient(p)["w"] * p["w"]) + stop_gradient(p)["b"][0], params)
    (g,) = pullback(arr(1.0))
    assert close(g["w"], [1.0, 2.0]) and close(g["b"][0], 0.0) and g["b"][1] is None
    assert stop_gradient(params)["b"][1] is None and close(out, 8.0)


def test_the_straight_through_estimator(arr, close):
    # forward: sign(x); backward: the derivative of x, 1
    ste = lambda x: x + stop_gradient(anp.sign(x) - x)  # noqa: E731
    x = arr([-0.3, 0.2, 1.7])
    assert close(ste(x), [-1.0, 1.0, 1.0])
    assert close(grad(lambda x: anp.sum(ste(x) * arr([1.0, 2.0, 3.0])))(x), [1.0, 2.0, 3.0])


@settings(max_examples=50, deadline=None)
@given(a=st.floats(-3, 3), b=st.floats(-3, 3))
def test_a_stopped_copy_matches_finite_differences_of_the_function_with_a_constant(a, b):
    # with c fixed at the point's value, d/dx [sin(x) c] = cos(x) c
    x = np.array([a, b])
    g = grad(lambda x: anp.sum(anp.sin(x) * stop_gradient(anp.exp(x))))(x)
    c = np.exp(x)
    assert np.allclose(g, numerical_grad(lambda x: np.sum(np.sin(x) * c), x), rtol=1e-7, atol=1e-9)
