"""Lecture 11, beyond grad (course/11_beyond_grad.ipynb), runs from a fresh kernel, and the numbers
it computes say what its text says: stop_gradient cuts exactly the stopped path, checkpointing keeps the
gradients while shrinking the tape and the peak, the composed softplus and log-sum-exp overflow where the stable
rules do not, and Newton's square root differentiated implicitly agrees with the converged unrolled loop.
(Its exercises are checked by test_exercises.py, like every lecture's.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

STEM = "11_beyond_grad"


@pytest.fixture(scope="module")
def run(course_runs):
    """The lecture, run once as Run All runs it, with every other lecture (conftest.course_runs)."""
    return course_runs[STEM]


def test_the_lecture_runs_top_to_bottom(run):
    assert run.error is None, run.error


def test_stop_gradient_cuts_only_the_stopped_path(run):
    assert run["grad_x_times_x"] == 6.0 and run["grad_x_times_stopped"] == 3.0
    assert run["ste_values"] == [-1.0, 1.0, 1.0]
    assert run["ste_gradient"] == [1.0, 1.0, 1.0] and run["sign_gradient"] == [0.0, 0.0, 0.0]


def test_checkpointing_keeps_the_gradients_and_cuts_the_memory(run):
    assert run["checkpoint_same_gradients"] is True
    # 64 inputs + x, a matmul and a tanh per layer, h * h and the sum; checkpointed: 8 block steps
    assert run["tape_steps"] == [65 + 2 * 64 + 2, 65 + 8 + 2]
    assert run["tape_ratio"] == pytest.approx((2 * 64 + 1) / (8 + 1), rel=0.01)  # values of h kept, + h * h
    assert run["peak_ratio"] > 3
    peaks = dict(zip(run["block_sizes"], run["peaks_by_block"]))
    assert run["best_block"] in (4, 8) and peaks[1] > peaks[4] and peaks[64] > peaks[8]
    assert run["forward_runs_per_block"] == 2


def test_composed_softplus_and_lse_overflow_where_the_stable_rules_do_not(run):
    composed_values, composed_grads = run["composed_values"], run["composed_grads"]
    assert math.isinf(composed_values[-1]) and math.isnan(composed_grads[-1]) and composed_values[1] == 0.0
    assert math.isnan(run["textbook_grads"][-1])
    assert np.allclose(run["stable_values"], [0.0, math.exp(-40), math.log(2), 40.0, 800.0], rtol=1e-15, atol=0)
    assert np.allclose(run["stable_grads"], [0.0, math.exp(-40), 0.5, 1.0, 1.0], rtol=1e-12, atol=0)
    assert run["softplus_report_ok"] is True
    assert math.isinf(run["lse_composed_value"]) and all(map(math.isnan, run["lse_composed_grad"]))
    assert run["lse_stable_value"] == pytest.approx(1000 + math.log(2 + math.exp(-1)), rel=1e-15)
    e = np.exp(np.array([1000.0, 1000.0, 999.0]) - 1000)
    assert np.allclose(run["lse_stable_grad"], e / e.sum()) and np.allclose(run["engine_lse_grad"], e / e.sum())


def test_newtons_sqrt_implicit_derivative_agrees_with_the_converged_unrolled_loop(run):
    exact = 1 / (2 * math.sqrt(7.0))
    assert run["implicit_derivative"] == pytest.approx(exact, rel=1e-15)
    assert run["implicit_vs_unrolled"] < 1e-15
    assert run["implicit_second"] == pytest.approx(-(7.0 ** -1.5) / 4, rel=1e-12)
    derivatives = run["unrolled_derivatives"]
    assert derivatives[0] == 0.5  # one step from x = 1: x_1 = (1 + a) / 2
    errors = [abs(d - exact) for d in derivatives]
    assert all(b < a for a, b in zip(errors[:5], errors[1:5])) and errors[-1] < 1e-15
    assert run["unrolled_tape_steps"] == [1 + 3 * k for k in run["newton_steps"]]  # divide, add, multiply per step
    assert run["unrolled_20_tape_steps"] == 61 and run["implicit_tape_steps"] == 2


def test_jacobians_of_a_dict_output_have_its_structure(run):
    assert run["pytree_shapes"] == {"y": [2, 3], "outer": [2, 2, 3], "loss": [3]}
    assert run["pytree_modes_agree"] is True
