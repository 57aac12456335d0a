"""The engine's own finite-difference test: check_grads (forward and reverse mode, to second order) on every
anp primitive, with hypothesis-drawn shapes (broadcasting included), axes and indices."""

import array_api_strict as xps
import numpy as np
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


# numpy-style indices are not all valid there, it has no scatter-add for untake, and its astype takes only its
# own dtypes
STRICT = [name for name in PRIMITIVES if name not in ("getitem", "untake", "astype")]


@pytest.mark.parametrize("name", STRICT)
@settings(max_examples=5)
@given(data=st.data())
def test_first_derivatives_on_array_api_strict(name, data):
    """The same checks with the engine running on array-api-strict arrays (the finite differences stay in
    numpy): rules that use only the array API standard. (Second order there is out of reach for now:
    array-api-strict's operators raise TypeError on a traced operand instead of deferring to it.)"""
    call = data.draw(CASES[name], label="call")
    call.args = tuple(xps.asarray(a) if isinstance(a, np.ndarray) else a for a in call.args)
    report = check_grads(call.function(), call.diff_args(), modes=("fwd", "rev"), order=1)
    assert report.ok, str(report)
