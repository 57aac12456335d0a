"""Every mistake a user can make with the checkers gets a message that names the problem and the fix."""

import numpy as np
import pytest

import autodiff_lab.numpy as anp
from autodiff_lab.check import (
    assert_vjp,
    check_grads,
    check_jvp,
    check_vjp,
    numerical_grad,
    numerical_jacobian,
    random_inputs,
)

X = random_inputs((3,), seed=1)
EXP_VJP = lambda g, ans, x: g * ans  # noqa: E731


@pytest.mark.parametrize("call, error, words", [
    (lambda: numerical_grad(np.sin, X), ValueError, "numerical_jacobian"),
    (lambda: numerical_grad(np.sin, 2), TypeError, "pass 2.0"),
    (lambda: numerical_grad(np.sin, np.arange(3)), TypeError, "astype(float)"),
    (lambda: numerical_grad(np.sin, "x"), TypeError, "float or a floating-point array"),
    (lambda: numerical_grad(np.sum, X, method="centered"), ValueError, "choose one of central"),
    (lambda: numerical_jacobian(np.sin, X, h=0.0), ValueError, "positive"),
    (lambda: numerical_grad(lambda x: "big", X), TypeError, "f must return numbers"),
    (lambda: numerical_grad(lambda x: None, X), TypeError, "f must return numbers (did you forget `return`?)"),
    (lambda: numerical_jacobian(lambda x: np.array([x[0], None]), X), TypeError, "dtype object"),
    (lambda: check_vjp(np.exp, EXP_VJP, X), TypeError, "(x,)"),
    (lambda: check_vjp(np.exp, EXP_VJP, (X,), argnum=1), ValueError, "valid: 0 to 0"),
    (lambda: check_vjp(np.exp, EXP_VJP, (X,), argnum="x"), ValueError, "argnum='x'"),
    (lambda: check_vjp(np.exp, EXP_VJP, (np.arange(3),)), TypeError, "astype(float)"),
    (lambda: check_jvp(np.exp, EXP_VJP, (3,)), TypeError, "pass 3.0"),
    (lambda: check_vjp(np.exp, None, (X,)), TypeError, "must be functions"),
    (lambda: check_grads(np.exp, X), TypeError, "(x,)"),
    (lambda: check_grads(np.exp, (X,), modes=("reverse",)), ValueError, "('fwd', 'rev')"),
    (lambda: check_grads(np.exp, (X,), order=3), ValueError, "order must be 1 or 2"),
    (lambda: check_grads(lambda x, i: x[i], (X, np.array([0, 1]))), TypeError, "close over"),
    (lambda: random_inputs(3, "negative"), ValueError, "choose one of real"),
])
def test_bad_input_gets_a_clear_message(call, error, words):
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value)


def test_an_integer_index_argument_need_not_be_differentiated():
    idx = np.array([0, 2, 2])

    def take(x, idx):
        return x[idx]

    def take_vjp(g, ans, x, idx):
        out = np.zeros_like(x)
        np.add.at(out, idx, g)
        return out

    assert check_vjp(take, take_vjp, (X, idx)).ok


def test_a_function_that_raises_is_a_failed_report():
    def broken(x, scale):
        return x * scale["missing"]

    report = check_vjp(broken, EXP_VJP, (X, {}))
    assert report.ok is False and "broken raised KeyError" in report.error


@pytest.mark.parametrize("check", [check_vjp, check_jvp])
def test_a_function_that_returns_none_is_a_failed_report(check):
    report = check(lambda x: None, EXP_VJP, (X,))
    assert report.ok is False and "did you forget `return`?" in report.error and "raised" not in report.error


def test_check_grads_of_a_function_that_returns_none_fails():
    report = check_grads(lambda x: None, (X,))
    assert report.ok is False and "did you forget `return`?" in report.error


LOG_VJP = lambda g, ans, x: g / x  # noqa: E731
SQRT_VJP = lambda g, ans, x: g / (2 * ans)  # noqa: E731


@pytest.mark.parametrize("f, rule, x, words", [
    (np.log, LOG_VJP, np.array([-1.0, 2.0]), "log at x[0] = -1 is NaN: pick inputs inside the domain"),
    (np.log, LOG_VJP, -1.0, "log at -1 is NaN"),
    (np.exp, EXP_VJP, np.array([2.0, 800.0]), "exp at x[1] = 800 is infinite"),
    (np.sqrt, SQRT_VJP, np.array([4.0, 0.0]), "sqrt is finite at x[1] = 0 but not a step of"),
])
@pytest.mark.parametrize("check", [check_vjp, check_jvp])
def test_a_function_not_finite_at_the_input_is_a_failed_report(check, f, rule, x, words):
    with np.errstate(all="ignore"):
        report = check(f, rule, (x,))
    assert report.ok is False and words in report.error


def test_assert_vjp_carries_the_not_finite_report():
    with np.errstate(all="ignore"), pytest.raises(AssertionError, match=r"log at x\[0\] = -1 is NaN"):
        assert_vjp(np.log, LOG_VJP, (np.array([-1.0, 2.0]),))


def test_check_grads_where_the_function_is_not_finite_fails():
    with np.errstate(all="ignore"):
        report = check_grads(anp.log, (np.array([-1.0, 2.0]),))
    assert report.ok is False and "log at x[0] = -1 is NaN" in report.error
