"""numerical_grad and numerical_jacobian: accuracy of each method at its default step, and the slides'
worked example."""

import math

import numpy as np
import pytest

import autodiff_lab.numpy as anp
from autodiff_lab import jacrev
from autodiff_lab.check import DOMAINS, numerical_grad, numerical_jacobian, random_inputs
from autodiff_lab.check.finite_differences import RELATIVE_STEP

X = random_inputs((6,), seed=3)


def f(x):
    return np.sum(np.sin(x) * x**2)


def exact(x):
    return np.cos(x) * x**2 + 2 * x * np.sin(x)


@pytest.mark.parametrize("method, worst", [("forward", 1e-6), ("backward", 1e-6), ("central", 1e-9),
                                           ("richardson", 1e-11)])
def test_each_method_reaches_its_accuracy(method, worst):
    error = np.abs(numerical_grad(f, X, method=method) - exact(X)).max() / np.abs(exact(X)).max()
    assert error < worst


def test_higher_order_methods_are_more_accurate():
    errors = {m: np.abs(numerical_grad(f, X, method=m) - exact(X)).max()
              for m in ("forward", "central", "richardson")}
    assert errors["richardson"] < errors["central"] / 10 < errors["forward"] / 1000


@pytest.mark.parametrize("method", ["forward", "central"])
def test_the_default_step_beats_much_larger_and_much_smaller_ones(method):
    """Truncation error wins for large steps, rounding error for small ones."""
    def error(h):
        return np.abs(numerical_grad(f, X, method=method, h=h) - exact(X)).max()

    h = RELATIVE_STEP[method]
    assert error(None) < error(h * 1e3) and error(None) < error(h * 1e-3)


def test_the_slides_example():
    """f(x1, x2) = ln x1 + x1 x2 - sin x2 at (2, 5): gradient (5.5, 1.716)."""
    g = numerical_grad(lambda x: np.log(x[0]) + x[0] * x[1] - np.sin(x[1]), np.array([2.0, 5.0]))
    np.testing.assert_allclose(g, [5.5, 2 - math.cos(5)], rtol=1e-9)
    assert round(g[1], 3) == 1.716


def test_a_float_input_gives_a_float():
    g = numerical_grad(math.sin, 0.5)
    assert isinstance(g, float) and abs(g - math.cos(0.5)) < 1e-10


def test_the_jacobian_has_shape_out_plus_in_and_matches_the_engine():
    x = random_inputs((2, 3), seed=4)
    f = lambda x: anp.tanh(x @ np.ones((3, 4)))  # noqa: E731
    J = numerical_jacobian(f, x, method="richardson")
    assert J.shape == (2, 4, 2, 3)
    np.testing.assert_allclose(J, jacrev(f)(x), rtol=1e-9, atol=1e-12)


def test_float32_inputs_are_differentiated_in_float64():
    g = numerical_grad(f, X.astype(np.float32))
    assert g.dtype == np.float64
    assert np.abs(g - exact(X.astype(np.float32).astype(np.float64))).max() < 1e-8


@pytest.mark.parametrize("domain", DOMAINS)
def test_random_inputs_keep_away_from_kinks_and_edges(domain):
    x = random_inputs((50,), domain, seed=5)
    assert x.dtype == np.float64 and x.shape == (50,)
    np.testing.assert_array_equal(x, random_inputs((50,), domain, seed=5))  # reproducible
    if domain == "positive":
        assert x.min() >= 0.5
    if domain == "away_from_zero":
        assert np.abs(x).min() >= 0.5
    if domain == "near_zero":
        assert np.abs(x).max() <= 0.25
    if domain == "distinct":
        assert np.diff(np.sort(x)).min() >= 0.1


def test_random_inputs_of_no_dimensions_are_arrays():
    assert all(isinstance(random_inputs((), domain), np.ndarray) for domain in DOMAINS)
