"""Custom derivative rules with the engine's one mechanism, @primitive + defvjp / defjvp (JAX's custom_vjp /
custom_jvp, PyTorch's autograd.Function): the lecture beyond_grad's examples, as a student writes them.

- numerical stability: softplus and log-sum-exp composed of anp functions (or with a textbook rule) overflow to
  inf and give NaN gradients at large inputs; a stable implementation with a stable rule does not;
- implicit functions: Newton's square root differentiated through its fixed point x^2 = a (the implicit function
  theorem: dx/da = -F_a / F_x = 1 / (2x)) instead of through the loop's iterations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_lab.numpy as anp
from autodiff_lab import defjvp, defvjp, grad, jvp, primitive
from autodiff_lab.check import check_grads, check_jvp, check_vjp, numerical_grad


# ---------------------------------------------------------------------------------------------- softplus
def softplus_naive(x):
    return anp.log(1 + anp.exp(x))


@primitive
def softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|), which never overflows."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


defvjp(softplus, lambda g, ans, x: g * anp.sigmoid(x))
defjvp(softplus, lambda t, ans, x: t * anp.sigmoid(x))


@primitive
def softplus_textbook_rule(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


defvjp(softplus_textbook_rule, lambda g, ans, x: g * anp.exp(x) / (1 + anp.exp(x)))


def test_naive_softplus_overflows_and_its_gradient_is_nan():
    x = np.array([-800.0, 0.0, 800.0])
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isinf(softplus_naive(x)[2])
        g = grad(lambda x: anp.sum(softplus_naive(x)))(x)
        assert np.isnan(g[2]) and np.isclose(g[1], 0.5)
        assert np.isnan(grad(lambda x: anp.sum(softplus_textbook_rule(x)))(x)[2])  # a stable value is not enough


def test_stable_softplus_and_its_rule():
    x = np.array([-800.0, -40.0, 0.0, 800.0])
    assert np.allclose(softplus(x), [0.0, np.exp(-40.0), np.log(2.0), 800.0], rtol=1e-15, atol=0)
    assert softplus(np.array(-40.0)) > 0 and softplus_naive(np.array(-40.0)) == 0  # 1 + e^-40 rounds to 1
    assert np.allclose(grad(lambda x: anp.sum(softplus(x)))(x), [0.0, np.exp(-40.0), 0.5, 1.0], rtol=1e-12, atol=0)
    xs = np.array([-3.0, -0.5, 0.7, 2.5])
    assert check_vjp(softplus, lambda g, ans, x: g * anp.sigmoid(x), (xs,)).ok
    assert check_jvp(softplus, lambda t, ans, x: t * anp.sigmoid(x), (xs,)).ok
    assert check_grads(softplus, (xs,), order=2).ok  # the rule is written with anp: differentiable again


@settings(max_examples=100, deadline=None)
@given(x=st.floats(-700, 700))
def test_stable_softplus_gradient_is_finite_and_agrees_with_finite_differences(x):
    g = grad(softplus)(x)
    assert np.isfinite(g) and 0 <= g <= 1
    if abs(x) < 30:  # where finite differences of the value itself are accurate
        assert np.isclose(g, numerical_grad(lambda v: softplus(v), x), rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------------------------- log-sum-exp
def lse_naive(x):
    return anp.log(anp.sum(anp.exp(x)))


@primitive
def lse(x):
    """log sum e^x = m + log sum e^(x - m), m = max x."""
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


defvjp(lse, lambda g, ans, x: g * anp.exp(x - ans))  # softmax(x) = e^(x - lse(x)): no overflow
defjvp(lse, lambda t, ans, x: anp.sum(t * anp.exp(x - ans)))


def test_naive_lse_overflows_where_the_stable_one_matches_the_engines():
    x = np.array([1000.0, 1000.0, 999.0])
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isinf(lse_naive(x)) and np.isnan(grad(lse_naive)(x)).all()
    assert np.isclose(lse(x), anp.logsumexp(x))
    softmax = np.exp(x - lse(x))
    assert np.allclose(grad(lse)(x), softmax) and np.allclose(grad(anp.logsumexp)(x), softmax)
    xs = np.array([0.3, -1.2, 2.0, 0.1])
    assert check_grads(lse, (xs,), order=2).ok
    assert np.allclose(grad(lse)(xs), grad(lse_naive)(xs))  # where both are finite they agree


# ------------------------------------------------------------------------------------- Newton's sqrt
def newton_loop(a, steps):
    """sqrt(a) by x <- (x + a / x) / 2 from x = 1 (a > 0), traced step by step when a is traced."""
    x = 1.0
    for _ in range(steps):
        x = 0.5 * (x + a / x)
    return x


@primitive
def newton_sqrt(a):
    """sqrt(a) by Newton's method on plain arrays (nothing recorded), iterated until x^2 = a to rounding."""
    x = np.ones_like(a)
    for _ in range(100):
        x_next = 0.5 * (x + a / x)
        if np.all(x_next == x):
            break
        x = x_next
    return x


# implicit function theorem on F(x, a) = x^2 - a = 0: dx/da = -F_a / F_x = 1 / (2x), with x = ans the fixed point
defvjp(newton_sqrt, lambda g, ans, a: g / (2 * ans))
defjvp(newton_sqrt, lambda t, ans, a: t / (2 * ans))


def test_implicit_derivative_is_exact_where_the_unrolled_loop_converges_to_it():
    a = np.array(7.0)
    exact = 1 / (2 * np.sqrt(7.0))
    assert np.isclose(newton_sqrt(a), np.sqrt(7.0), rtol=1e-15) and np.isclose(grad(newton_sqrt)(a), exact, rtol=1e-15)
    errors = [abs(grad(lambda a, n=n: newton_loop(a, n))(a) - exact) for n in (1, 2, 3, 4, 5, 6)]
    assert errors[0] > 0.1 and all(later < earlier for earlier, later in zip(errors[:4], errors[1:5]))
    assert errors[-1] < 1e-12  # the unrolled loop's derivative converges to the implicit one, step by step


def test_implicit_rule_gives_every_order(arr, close):
    a = arr(2.5)
    assert close(grad(grad(newton_sqrt))(a), -0.25 * 2.5 ** -1.5)
    assert close(jvp(grad(newton_sqrt), (a,), (arr(1.0),))[1], -0.25 * 2.5 ** -1.5)
    assert check_grads(newton_sqrt, (np.array([0.5, 2.0, 9.0]),), order=2).ok


@pytest.mark.parametrize("a", [0.05, 0.3, 16.0, 1e6])
def test_implicit_derivative_matches_finite_differences(a):
    assert np.isclose(grad(newton_sqrt)(np.array(a)), numerical_grad(newton_sqrt, np.array(a)), rtol=1e-7)
