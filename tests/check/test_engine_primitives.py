"""The engine's own finite-difference test: check_grads (forward and reverse mode, to second order) on every
anp primitive, with hypothesis-drawn shapes (broadcasting included), axes and indices."""

import pytest
from check_cases import CASES, PRIMITIVES
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_lab.numpy as anp
from autodiff_lab.check import check_grads


def test_every_primitive_has_a_case():
    assert sorted(CASES) == sorted(PRIMITIVES)
    assert all(hasattr(anp, name) for name in PRIMITIVES)


@pytest.mark.parametrize("name", PRIMITIVES)
@settings(max_examples=20)
@given(data=st.data())
def test_second_order_derivatives_match_finite_differences(name, data):
    call = data.draw(CASES[name], label="call")
    report = check_grads(call.function(), call.diff_args(), modes=("fwd", "rev"), order=2)
    assert report.ok, str(report)
    assert report.details  # it did check something
