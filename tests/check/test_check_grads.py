"""check_grads on the engine: right derivatives pass in every mode and order, a wrong user-defined rule
fails in the mode (and order) that uses it, and the engine's errors become reports."""

import numpy as np
import pytest

import autodiff_lab.numpy as anp
from autodiff_lab import defjvp, defvjp, primitive
from autodiff_lab.check import assert_grads, check_grads, random_inputs
from autodiff_lab.tracing import raw

X = random_inputs((3, 2), seed=1)


def cube_primitive(vjp_rule, jvp_rule):
    @primitive
    def cube(x):
        return x * x * x

    defvjp(cube, vjp_rule)
    defjvp(cube, jvp_rule)
    return cube


RIGHT_VJP = lambda g, ans, x: g * 3 * x**2  # noqa: E731
RIGHT_JVP = lambda t, ans, x: t * 3 * x**2  # noqa: E731


def test_a_network_passes_to_second_order():
    W, b, x = random_inputs((3, 4)), random_inputs((4,), seed=1), random_inputs((5, 3), seed=2)
    loss = lambda W, b: anp.mean(anp.logsumexp(anp.tanh(x @ W + b), axis=1))  # noqa: E731
    report = check_grads(loss, (W, b), order=2)
    assert report.ok, str(report)
    assert len(report.details) == 2 * 2 + 4 * 2  # {jvp, vjp} x 2 arguments, then 4 second-order kinds x 2
    assert report.max_rel_error < 1e-8


def test_right_user_rules_pass():
    cube = cube_primitive(RIGHT_VJP, RIGHT_JVP)
    assert_grads(lambda x: cube(x), (X,), order=2)


def test_a_wrong_vjp_fails_in_reverse_mode_only():
    cube = cube_primitive(lambda g, ans, x: g * 6 * x**2, RIGHT_JVP)
    assert check_grads(cube, (X,), modes=("fwd",)).ok
    report = check_grads(cube, (X,), modes=("rev",))
    assert not report.ok and report.kind == "vjp"
    assert "2 times" in report.diagnosis
    with pytest.raises(AssertionError, match="FAILED: vjp check of cube"):
        assert_grads(cube, (X,))


def test_a_wrong_jvp_fails_in_forward_mode():
    cube = cube_primitive(RIGHT_VJP, lambda t, ans, x: -t * 3 * x**2)
    report = check_grads(cube, (X,))
    assert not report.ok and report.kind == "jvp"
    assert "sign flipped" in report.diagnosis


def test_a_rule_that_cannot_be_differentiated_again_fails_at_second_order():
    """raw(x) hides x from the outer transformation: first derivatives right, second derivatives wrong."""
    cube = cube_primitive(lambda g, ans, x: g * 3 * raw(x) ** 2, RIGHT_JVP)
    assert check_grads(cube, (X,), order=1).ok
    report = check_grads(cube, (X,), order=2)
    assert not report.ok
    assert report.kind in ("jvp of vjp", "vjp of vjp")


def test_a_rule_returning_the_wrong_shape_is_a_report_not_a_crash():
    cube = cube_primitive(lambda g, ans, x: anp.sum(g * 3 * x**2), RIGHT_JVP)
    report = check_grads(cube, (X,), modes=("rev",))
    assert not report.ok
    assert "RuleError" in report.error and "returned shape ()" in report.error


def test_a_function_that_raises_is_a_report():
    def broken(x):
        raise RuntimeError("boom")

    report = check_grads(broken, (X,))
    assert not report.ok and "boom" in report.error


def test_containers_of_arguments_and_outputs():
    params = {"W": random_inputs((2, 3)), "b": [random_inputs((3,), seed=1)]}
    f = lambda p, x: (anp.tanh(x @ p["W"] + p["b"][0]), anp.sum(x**2))  # noqa: E731
    report = check_grads(f, (params, random_inputs((4, 2), seed=2)), order=2)
    assert report.ok, str(report)
    assert any("argument 0['W']" in line for line in report.details)
    assert any("argument 0['b'][0]" in line for line in report.details)
    assert any("argument 1:" in line for line in report.details)


def test_matmul_of_two_vectors():
    """A regression: the VJP of vector @ vector (a scalar) used to fail on the scalar cotangent."""
    assert_grads(anp.matmul, (random_inputs((3,)), random_inputs((3,), seed=1)), order=2)


def test_float32_inputs_are_checked_in_float64():
    report = check_grads(anp.sin, (X.astype(np.float32),))
    assert report.ok and report.max_rel_error < 1e-8
