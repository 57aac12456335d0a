"""A right rule never fails: check_vjp and check_jvp pass the engine's own rules for every primitive, on
hypothesis-drawn shapes, axes and indices (rules called directly, in defvjp / defjvp form)."""

import pytest
from check_cases import CASES, PRIMITIVES
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_lab.check import check_jvp, check_vjp
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
