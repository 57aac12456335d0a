"""The lecture notebooks run from a fresh kernel, reproduce the worked examples of the slide decks (listed in
the seeds' README) with numbers computed by their own code, and are stored as course/README.md says.

The notebooks run once per session (fixture `course_runs` in conftest.py); each test reads the variables a
notebook computed."""

from __future__ import annotations

import json
import math
import re
from itertools import pairwise
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from pytest import approx

from autodiff_lab import Value

COURSE = Path(__file__).resolve().parents[2] / "course"
LECTURES = sorted(p.stem for p in COURSE.glob("[0-9][0-9]*_*.ipynb"))
sigmoid = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731


def notebook(stem: str) -> nbformat.NotebookNode:
    return nbformat.read(COURSE / f"{stem}.ipynb", as_version=4)


def assert_close(got, expected, *, atol: float = 0.0, rtol: float = 1e-12) -> None:
    """Nested lists (arrays read back from a notebook) against expected numbers."""
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float), rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------------------ they run
def test_the_course_has_its_twelve_lectures_in_order():
    """Ten from the decks, 1b (students build the engine) right after lecture 1, and 11 (beyond grad)."""
    assert LECTURES[:3] == ["01_computational_graphs", "01b_build_an_engine", "02_backprop_as_code"], LECTURES
    assert len(LECTURES) == 12 and LECTURES[-1] == "11_beyond_grad", LECTURES


@pytest.mark.parametrize("stem", LECTURES)
def test_lecture_runs_top_to_bottom_from_a_fresh_kernel(course_runs, stem):
    run = course_runs[stem]
    if run.error:
        pytest.fail(f"{stem} failed after {run.seconds:.0f} s:\n{run.error}", pytrace=False)


# ------------------------------------------------------------------------- worked examples of the decks
def test_ln_x1_plus_x1x2_minus_sin_x2_forward_tangent_and_reverse_adjoint_traces(course_runs):
    fwd, rev = course_runs["04_forward_mode"], course_runs["05_reverse_mode"]
    assert fwd["ln_value"] == approx(11.652, abs=5e-4)
    assert fwd["ln_dfdx1_forward"] == approx(5.5, abs=1e-12)
    assert fwd["ln_dfdx2_forward"] == approx(1.716, abs=5e-4)
    assert rev["ln_grad_reverse"] == approx([5.5, 1.716], abs=5e-4)
    assert rev["ln_v0_bar_from_sin"] == approx(-0.284, abs=5e-4)


def test_log_ab_at_2_3(course_runs):
    """log 6 = 1.7918: 1.792 rounded, as the lecture says; the deck's 1.791 cuts the digits off."""
    run = course_runs["05_reverse_mode"]
    assert run["logab_value"] == approx(math.log(6), rel=1e-15)
    assert (run["logab_rounded"], run["logab_deck"]) == (1.792, 1.791)
    assert run["logab_grad"] == approx([0.5, 0.333], abs=5e-4)
    text = "".join(c.source for c in notebook("05_reverse_mode").cells if c.cell_type == "markdown")
    assert "1.792" in text and "1.791" in text and not re.search(r"log 6 = 1\.791(?!\d)", text)


def test_x_plus_y_times_z_at_minus2_5_minus4(course_runs):
    graphs, code = course_runs["01_computational_graphs"], course_runs["02_backprop_as_code"]
    assert graphs["f_xyz_value"] == -12
    assert graphs["f_xyz_grad"] == [-4, -4, 3]
    assert code["modular_xyz_grads"] == [-4, -4, 3]


def test_sigmoid_neuron_with_every_local_gradient(course_runs):
    run = course_runs["01_computational_graphs"]
    s = sigmoid(1.0)
    local = s * (1 - s)
    assert run["neuron_output"] == approx(s)
    assert run["neuron_grads"] == approx({"w0": -local, "x0": 2 * local, "w1": -2 * local, "x1": -3 * local,
                                          "w2": local})
    assert course_runs["02_backprop_as_code"]["flat_matches_value"] is True


def test_logistic_loss_neuron_chain_multiplies_to_minus_1_48(course_runs):
    run = course_runs["01_computational_graphs"]
    assert run["chain_local_grads_rounded"] == approx([-3.7, 0.2, 1, 1, 2])
    assert run["chain_product_rounded"] == approx(-1.48)
    p = sigmoid(-1.0)
    assert run["chain_exact"] == approx((-1 / p) * p * (1 - p) * 2)
    assert run["w1_updated_rounded"] == approx(0.48)


def test_gradient_of_sum_sigmoid_u(course_runs):
    got = course_runs["03_jacobians_and_vjps"]["sigmoid_sum_grad"]
    assert_close(got, [[0.1966, 0.1050], [0.0452, 0.0177]], atol=5e-5)


def test_matrix_product_y_equals_x_w_with_explicit_numbers(course_runs):
    run = course_runs["03_jacobians_and_vjps"]
    x = np.array([[2, 1, -3], [-3, 4, 2]])
    dL_dy = np.array([[2, 3, -3, 9], [-8, 1, 4, 6]])
    assert run["matmul_y"] == [[-1, -1, 2, 6], [5, 2, 11, 7]]
    assert run["matmul_dLdx"] == [[0, 16, -9], [-24, 9, -30]]
    assert run["matmul_dLdw"] == (x.T @ dL_dy).tolist()
    assert (run["matmul_slice_00"], run["matmul_slice_12"]) == (0, -30)   # the deck's x_11 and x_23, 0-based


def test_lecture_3_index_notation_frobenius_and_squared_loss(course_runs):
    run = course_runs["03_jacobians_and_vjps"]
    assert run["index_form_matches"] is True
    assert run["frobenius_shape_matches"] is True
    assert run["frobenius_change"] == approx(run["actual_change"], rel=1e-4)
    assert run["squared_loss_chain_matches"] is True


def test_lecture_3_prints_no_negative_zero_and_says_even_is_0_based(course_runs):
    relu = course_runs["03_jacobians_and_vjps"]["relu_dLdx"]
    assert [math.copysign(1, v) for v in relu] == [1, 1, 1, 1], f"a -0. would be printed: {relu}"
    text = "".join(c.source for c in notebook("03_jacobians_and_vjps").cells if c.cell_type == "markdown")
    assert "counting from 0" in text and "x₁₁ is `x[0, 0]`" in text


def test_r2_to_r2_function_in_both_modes(course_runs):
    run = course_runs["05_reverse_mode"]
    jacobian = [[3 * math.cos(6), 2 * math.cos(6)], [3, 2 + 1 / 3]]
    assert run["r2_value"] == approx([math.sin(6), 6 + math.log(3)])
    assert_close(run["r2_jac_forward"], jacobian)
    assert_close(run["r2_jac_reverse"], jacobian)


def test_logistic_map_symbolic_derivatives_swell_but_autodiff_does_not(course_runs):
    run = course_runs["07_symbolic_numeric_programs"]
    assert run["closed_forms_match"] == [True] * 4
    symbolic, recorded = run["swell_deriv_ops"], run["autodiff_op_counts"]
    assert recorded == [3 * (n - 1) for n in range(1, 7)]                    # linear in n
    assert all(b > 2 * a for a, b in pairwise(symbolic[2:]))       # more than doubles per step
    assert run["logistic_autodiff_vs_sympy_max_diff"] < 1e-9


def test_cost_of_the_two_association_orders(course_runs):
    run = course_runs["06_cost_of_derivatives"]
    costs = run["chain_costs"]
    N, P = costs["N"], costs["P"]
    assert costs["left_first"] == N**4 + N**2 * P
    assert costs["right_first"] == N**4 * P + N**2 * P
    assert run["dp_best_order_scalar_output"][1] == "(((A1 A2) A3) A4)"


def test_the_256_gb_jacobian_and_a_vjp_that_runs_without_it(course_runs):
    run = course_runs["03_jacobians_and_vjps"]
    assert run["jacobian_gib"] == 256
    assert run["vjp_shapes"] == [[64, 4096], [4096, 4096]]
    assert run["vjp_peak_mib"] < 1024


# ------------------------------------------------------------------------------- other lessons' numbers
def test_lecture_1_derives_sigma_prime(course_runs):
    forms = course_runs["01_computational_graphs"]["sigma_prime_forms"]
    s = sigmoid(1.0)
    assert forms["e^-s / (1 + e^-s)^2"] == approx(s * (1 - s), rel=1e-14)
    assert forms["(1 - sigma) sigma"] == approx(s * (1 - s), rel=1e-14)
    assert forms["finite difference"] == approx(s * (1 - s), rel=1e-8)


def test_lecture_2_step_size_bound_and_the_curvature_met_along_the_path(course_runs):
    run = course_runs["02_backprop_as_code"]
    assert run["xtx_lambda_max"] == approx(3.97, abs=5e-3)
    assert run["guaranteed_step"] == approx(2.01, abs=5e-3) and run["guaranteed_step"] < 5
    curvature = run["curvature_along_step5"]
    assert curvature[0] == approx(run["curvature_bound"], rel=1e-12)      # at w = 0 every sigma' is 1/4
    assert max(curvature[1:]) < 2 / 5                                     # step 5 is safe after the first step


def test_gradient_flow_patterns(course_runs):
    assert course_runs["01_computational_graphs"]["flow_grads"] == [-7, 6, 2, 0]


def test_backprop_code_and_training_loop(course_runs):
    run = course_runs["02_backprop_as_code"]
    assert run["logreg_grad_max_diff"] < 1e-12
    assert run["logreg_final_accuracy"] >= 0.9
    assert run["per_sample_sum_matches"] is True


def test_vjps_keep_the_input_shape_and_never_need_the_jacobian(course_runs):
    run = course_runs["03_jacobians_and_vjps"]
    assert run["chain_rule_matches"] is True and run["tanh_layer_matches"] is True
    assert run["relu_dLdx"] == [4, 0, 5, 0]
    assert run["see_vjp"] == [10, 0, 20, 0, 30, 0]
    assert run["derivative_shapes"]["X @ x: R^(2x3) -> R^2"] == [2, 2, 3]


def test_passes_per_mode(course_runs):
    run = course_runs["06_cost_of_derivatives"]
    assert run["passes"] == {"n=1000,m=10": {"forward": 1000, "reverse": 10},
                             "n=10,m=1000": {"forward": 10, "reverse": 1000}}
    assert run["jac_modes_agree"] is True and run["hvp_matches"] is True


def test_reverse_mode_memory_grows_with_the_computation_forward_mode_does_not(course_runs):
    run = course_runs["05_reverse_mode"]
    reverse, forward = run["reverse_mem_mib"], run["forward_mem_mib"]
    assert reverse[2] > 3 * reverse[0]
    assert max(forward) < 1.5 * min(forward)
    assert run["gauss_grad_matches"] is True


def test_finite_differences_and_gradient_checks(course_runs):
    run = course_runs["07_symbolic_numeric_programs"]
    assert 1e-10 <= run["fd_best_h"]["forward"] <= 1e-6
    assert 1e-7 <= run["fd_best_h"]["central"] <= 1e-3
    assert run["fd_evaluations"] == {"forward": 21, "central": 40}
    assert run["right_rule_ok"] is True and run["planted_bug_caught"] is True
    assert "factor" in run["planted_bug_diagnosis"]


def test_derivatives_of_programs_with_loops_and_branches(course_runs):
    run = course_runs["07_symbolic_numeric_programs"]
    assert run["branch_grads"] == {"0.5": 1.0, "3.0": 2.0}
    assert run["newton_sqrt_grad"] == approx(1 / (2 * math.sqrt(2)), rel=1e-9)


def test_inside_the_engine(course_runs):
    run = course_runs["08_inside_the_engine"]
    assert run["traced_primitives"] == ["negative", "exp", "add", "divide"]
    assert run["logistic_grad_manual"] == approx(sigmoid(1.5) * (1 - sigmoid(1.5)))
    assert run["softplus_checks"] == [True, True]
    assert "undo broadcasting" in run["rule_error_message"]


def test_neural_networks(course_runs):
    run = course_runs["09_neural_networks"]
    errors = run["bump_max_errors"]
    assert all(b < a for a, b in pairwise(errors)) and errors[-1] < 0.05
    assert run["manual_backprop_matches"] is True and run["affine_rules_match"] is True
    assert run["regression_final_mse"] < 0.01
    assert run["two_or_not_acc"] > 0.95
    assert run["acc_softmax"] > 0.9 and run["acc_svm"] > 0.9


def test_backends(course_runs):
    run = course_runs["10_gpu_and_backends"]
    assert run["backends_agree"] is True
    assert "mixes arrays of two libraries" in run["mixing_message"]


# ------------------------------------------------------------- lectures 6 to 10: issue 20's fixes and additions
def markdown_of(stem: str, cell_id: str) -> str:
    return next(c.source for c in notebook(stem).cells if c.get("id") == cell_id)


def test_lecture_6_the_input_end_builds_d1_d2_then_d3_by_d0_matrices(course_runs):
    run = course_runs["06_cost_of_derivatives"]
    D0, D1, D2, D3 = 784, 300, 100, 10
    assert run["chain_shapes"] == {"from the loss end": [[1, D2], [1, D1], [1, D0]],
                                   "from the input end": [[D1, D0], [D2, D0], [D3, D0]]}
    assert run["chain_ends_agree"] is True
    text = markdown_of("06_cost_of_derivatives", "06-011")
    assert "builds D₃ × D₀ matrices along the way" not in text
    assert all(shape in text for shape in ("D₁ × D₀", "D₂ × D₀", "D₃ × D₀"))


def test_lecture_7_sympy_forms_equal_the_decks_table_but_are_written_differently(course_runs):
    run = course_runs["07_symbolic_numeric_programs"]
    assert run["textbook_forms_equal"] == [True] * 4
    assert run["textbook_forms_identical"] == [True, False, False, False]   # n = 1 is just 1
    text = markdown_of("07_symbolic_numeric_programs", "07-005-a")
    assert "*equal*" in text and "not *identical*" in text


def test_lecture_9_affine_layer_uses_one_convention_row_gradients(course_runs):
    run = course_runs["09_neural_networks"]
    assert len(run["column_form_rules"]) == 3 and all(run["column_form_rules"].values())
    text = markdown_of("09_neural_networks", "09-010")
    assert "Wᵀ ∇_z" not in text and "(∇_z)ᵀ yᵀ" not in text          # the column ∇_z of the old text
    assert "∇_y D = ∇_z D W" in text and "∇_W D = y ∇_z D" in text and "**row**" in text


def test_lecture_9_boxed_multi_layer_recursion_on_a_real_net(course_runs):
    run = course_runs["09_neural_networks"]
    assert run["sizes"] == [4, 5, 3, 2] and run["K"] == 3
    assert run["recursion_matches_grad"] is True and run["chain_product_matches"] is True
    box = markdown_of("09_neural_networks", "09-recursion-1")
    assert r"\boxed{" in box and "r_{i-1} = g_i A_i" in box


def test_lecture_9_answers_the_decks_three_questions_by_computation(course_runs):
    run = course_runs["09_neural_networks"]
    assert run["question_1_gradients_match"] is True
    norms = run["closed_form_grad_norms"]
    assert norms["W2"] < 1e-6 < 1e-3 < norms["W1"]               # stationary in W2 only
    losses = run["convexity_losses"]
    assert losses["permuted"] == approx(losses["theta"], rel=1e-12)  # the same network, hidden units renumbered
    assert losses["midpoint"] > 100 * losses["theta"]               # convex would mean <= the ends' average
    line = run["along_the_line"]
    assert line[0] == approx(losses["theta"], rel=1e-12) and max(line) > 100 * max(line[0], line[-1])


# Every lecture with matplotlib figures: each figure is inspected as the notebook displays it, in the course run
# itself (conftest: labels of every axes that plots data, and whether any two tick labels of an axis overlap).
PLOTTING = [stem for stem in LECTURES
            if "plt." in "".join(c.source for c in notebook(stem).cells if c.cell_type == "code")]


@pytest.mark.parametrize("stem", PLOTTING)
def test_every_plot_labels_its_axes_and_no_tick_labels_overlap(course_runs, stem):
    run = course_runs[stem]
    assert run.error is None, f"{stem} did not run:\n{run.error}"
    audit = run.figures
    assert audit, f"{stem} displayed no figure"
    unlabelled = [a["title"] for a in audit
                  if not (a["xlabel"].strip() and a["ylabel"].strip() and (a["zlabel"] is None or a["zlabel"].strip()))]
    assert not unlabelled, f"{stem}: plots without an axis label: {unlabelled}"
    crowded = [(a["title"], a["overlaps"]) for a in audit if a["overlaps"]]
    assert not crowded, f"{stem}: tick labels overlap: {crowded}"


# ------------------------------------------------------------------- Build an engine (issue 20, part 2)
ENGINE = sorted(COURSE.glob("*build_an_engine.ipynb"))[0]    # found whether or not it has a number yet
ENGINE_RESULTS = ["neuron_on_your_engine", "bug_1_results", "piled_up_grads", "fitted_line", "kink",
                  "kink_one_sided", "engines_agree"]


@pytest.fixture(scope="module")
def engine_answered() -> dict:
    """Build an engine run with every exercise replaced by its model answer (its demonstrations run on the
    student's engine, so as shipped they only wait): the results of its demonstrations."""
    nb = nbformat.read(ENGINE, as_version=4)
    for i, cell in enumerate(nb.cells):
        if "exercise" in cell.metadata.get("tags", []):
            cell.source = re.search(r"```python\n(.*?)```", nb.cells[i + 2].source, re.DOTALL).group(1)
    nb.cells.append(nbformat.v4.new_code_cell(
        f"import json as _json\nprint('<<engine>>' + _json.dumps({{k: globals()[k] for k in {ENGINE_RESULTS!r}}}))"))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(COURSE)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    return json.loads(printed.split("<<engine>>", 1)[1])


def test_build_an_engine_the_students_engine_agrees_with_the_course_engine(engine_answered):
    w0, x0, w1, x1, b = (Value(v) for v in (2.0, -1.0, -3.0, -2.0, -3.5))
    out = (w0 * x0 + w1 * x1 + b).tanh()
    out.backward()
    value, grads = engine_answered["neuron_on_your_engine"]
    assert value == approx(out.data, rel=1e-14)
    assert grads == approx([v.grad for v in (w0, x0, w1, x1, b)], rel=1e-12)
    assert engine_answered["engines_agree"] is True


def test_build_an_engine_catches_equals_instead_of_plus_equals(engine_answered):
    results = engine_answered["bug_1_results"]      # f = x y + x at (2, -3): df/dx = y + 1 = -2
    assert results["backward_with_equals"] == [-3.0, False]
    assert results["backward"][0] == approx(-2.0) and results["backward"][1] is True


def test_build_an_engine_shows_gradients_piling_up_and_trains_once_they_are_reset(engine_answered):
    assert engine_answered["piled_up_grads"] == [4.0, 8.0, 12.0]
    losses, (w, b) = engine_answered["fitted_line"]
    assert all(later <= earlier for earlier, later in pairwise(losses)) and losses[-1] < 1e-12
    assert (w, b) == (approx(2.0), approx(1.0))


def test_build_an_engine_gradient_check_fails_at_the_relu_kink_and_why(engine_answered):
    by_backward, by_differences, ok = engine_answered["kink"]
    assert (by_backward, ok) == (0.0, False) and by_differences == approx(1.0)   # the central difference averages
    assert engine_answered["kink_one_sided"] == approx([0.0, 2.0])                # the slopes left and right


# ----------------------------------------------------------------------------- how they are written
def test_notebooks_are_stored_without_outputs():
    """course/README.md: outputs are not committed, so diffs show only what changed and every number shown
    comes from running the code. Clear them (Edit -> Clear Outputs of All Cells) before committing."""
    for path in sorted(COURSE.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        dirty = [i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
        assert not dirty, f"{path.name}: cells {dirty} hold outputs; clear them before committing"
        assert "widgets" not in nb.metadata, f"{path.name} stores widget state; clear it before committing"
        kernel = nb.metadata.get("kernelspec", {}).get("name")
        assert kernel == "python3", f"{path.name}: kernelspec {kernel!r}, expected python3"


@pytest.mark.parametrize("stem", LECTURES)
def test_lecture_says_what_it_teaches_and_has_exercises(stem):
    """The layout of each exercise (template, check, model answer) is tested in test_exercises.py."""
    cells = notebook(stem).cells
    number = stem.split("_")[0].lstrip("0")                  # 1, 1b, 2, ... 11
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith(f"# Lecture {number} ·")
    assert "**What you will learn**" in cells[0].source
    exercises = [i for i, c in enumerate(cells) if "exercise" in c.metadata.get("tags", [])]
    assert len(exercises) >= 2, f"{stem}: at least two exercises"
    for i in exercises:
        heading = rf"\*\*Exercise {number}\.\d+\.\*\*"
        assert re.search(heading, cells[i - 1].source), f"{stem} cell {i}: no exercise text"
    code = "".join(c.source for c in cells if c.cell_type == "code")
    assert "viz." in code, f"{stem}: no drawing from autodiff_lab.viz"


def test_index_and_readme_list_every_lecture():
    index_text = "".join(c.source for c in notebook("index").cells if c.cell_type == "markdown")
    readme = (COURSE / "README.md").read_text()
    for stem in LECTURES:
        assert f"]({stem}.ipynb)" in index_text, f"index.ipynb does not link {stem}"
        assert f"{stem}.ipynb" in readme, f"course/README.md does not list {stem}"
