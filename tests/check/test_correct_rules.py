"""A right rule never fails and a slightly wrong one never passes: check_vjp and check_jvp pass the engine's
own rules for every primitive, and fail the same rules scaled by 1.001 or with their sign flipped, on
hypothesis-drawn shapes, axes and indices (rules called directly, in defvjp / defjvp form)."""

import numpy as np
import pytest
from check_cases import CASES, PRIMITIVES
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autodiff_lab.numpy as anp
from autodiff_lab.check import assert_jvp, assert_vjp, check_jvp, check_vjp, random_inputs
from autodiff_lab.primitive import Primitive

RULE_PRIMITIVES = [name for name in PRIMITIVES if name != "dot"]  # anp.dot is matmul or multiply


@pytest.mark.parametrize("name", RULE_PRIMITIVES)
@settings(max_examples=25)
@given(data=st.data())
def test_engine_rules_pass(name, data):
    call = data.draw(CASES[name], label="call")
    assert isinstance(call.primitive, Primitive)
    for argnum in call.diff:
        for check, rule in ((check_vjp, call.vjp_rule(argnum)), (check_jvp, call.jvp_rule(argnum))):
            report = check(call.primitive, rule, call.args, argnum, kwargs=call.kwargs)
            assert report.ok, str(report)
            assert report.max_rel_error < 1e-8  # a thousand times below rtol


SPOILED = {"off by 0.1 %": 1.001, "sign flipped": -1.0, "zero": 0.0}


@pytest.mark.parametrize("name", RULE_PRIMITIVES)
@settings(max_examples=8)
@given(data=st.data())
def test_slightly_wrong_engine_rules_fail(name, data):
    """Every rule of every primitive, spoiled by a factor, fails on random shapes, unless the derivative is
    zero there (relu of negative entries: 0 times anything is still right), which the zero rule tells."""
    call = data.draw(CASES[name], label="call")
    checked = 0
    for argnum in call.diff:
        for check, rule in ((check_vjp, call.vjp_rule(argnum)), (check_jvp, call.jvp_rule(argnum))):
            verdicts = {
                how: check(call.primitive, lambda *a, rule=rule, factor=factor, **k: np.asarray(rule(*a, **k)) * factor,
                           call.args, argnum, kwargs=call.kwargs).ok
                for how, factor in SPOILED.items()
            }
            if verdicts.pop("zero"):
                continue  # the derivative is zero for these inputs
            assert not any(verdicts.values()), f"{check.__name__}, argument {argnum}: {verdicts}"
            checked += 1
    assume(checked)


def test_assert_vjp_and_assert_jvp_raise_with_the_report():
    x = random_inputs((3, 2), "real", seed=0)
    # a right rule passes quietly: None, so that a notebook cell ending in the assert shows no output (nbgrader
    # would read an output of a test cell as a partial-credit score)
    assert assert_vjp(anp.sin, lambda g, ans, x: g * anp.cos(x), (x,)) is None
    assert assert_jvp(anp.sin, lambda t, ans, x: t * anp.cos(x), (x,)) is None
    with pytest.raises(AssertionError, match="sign flipped") as failed:
        assert_vjp(anp.sin, lambda g, ans, x: -g * anp.cos(x), (x,))
    assert str(failed.value) == str(check_vjp(anp.sin, lambda g, ans, x: -g * anp.cos(x), (x,)))
    with pytest.raises(AssertionError, match="off by a constant factor: your result is 2 times"):
        assert_jvp(anp.sin, lambda t, ans, x: 2 * t * anp.cos(x), (x,))
