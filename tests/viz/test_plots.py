"""matplotlib pictures: Jacobian sparsity patterns and finite-difference error against h."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from autodiff_lab import viz
from autodiff_lab.viz.plots import fd_errors, jacobian_examples, jacobian_matrix


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_the_four_sparsity_patterns():
    elementwise, matrix_vector, total, even = (jacobian_matrix(J, out_ndim) != 0
                                               for J, out_ndim in jacobian_examples(6).values())
    np.testing.assert_array_equal(elementwise, np.eye(6, dtype=bool))                       # diagonal
    np.testing.assert_array_equal(matrix_vector, np.kron(np.eye(3), np.ones((1, 6))) != 0)  # block rows
    np.testing.assert_array_equal(total, np.ones((1, 6), dtype=bool))                       # a row of ones
    np.testing.assert_array_equal(even, np.eye(6, dtype=bool)[::2])                         # every other


def test_plot_jacobian_sparsity_draws_the_nonzeros():
    J = np.diag([1.0, 2.0, 0.0])
    ax = viz.plot_jacobian_sparsity(J, title="a diagonal")
    np.testing.assert_array_equal(ax.images[0].get_array(), J != 0)
    assert "a diagonal" in ax.get_title() and "2 of 9 entries nonzero" in ax.get_title()
    fig = viz.plot_jacobian_gallery()
    assert len(fig.axes) == 4


def test_finite_difference_errors_have_the_textbook_best_steps():
    hs = np.logspace(-16, -1, 61)
    errors = fd_errors(np.sin, 1.0, np.cos(1.0), hs)
    best_forward = hs[np.argmin(errors["forward"])]
    best_central = hs[np.argmin(errors["central"])]
    assert 1e-10 <= best_forward <= 1e-6       # near sqrt(eps) ~ 1e-8
    assert 1e-7 <= best_central <= 1e-3       # near eps^(1/3) ~ 6e-6
    assert errors["central"].min() < errors["forward"].min() / 10
    assert errors["forward"][-1] > errors["forward"][40] and errors["forward"][0] > errors["forward"][30]


def test_fd_errors_on_arrays_and_bad_shapes():
    x = np.array([0.3, -1.2])
    errors = fd_errors(lambda v: np.sum(v**3), x, 3 * x**2, [1e-3])
    assert errors["forward"][0] == pytest.approx(3 * np.max(np.abs(x)) * 1e-3, rel=0.01)  # (3x) h
    with pytest.raises(ValueError, match="gradient at x"):
        fd_errors(np.sin, np.ones(2), 1.0, [1e-3])


def test_plot_fd_error():
    ax = viz.plot_fd_error(np.exp, 0.5, np.exp(0.5))
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(label.startswith("forward") for label in labels)
    assert any(label.startswith("central") for label in labels)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0,)])
def test_an_empty_jacobian_is_refused_with_a_reason(shape):
    assert jacobian_matrix(np.zeros(shape)).size == 0
    with pytest.raises(ValueError, match=rf"the Jacobian is empty \(shape {re.escape(str(shape))}"):
        viz.plot_jacobian_sparsity(np.zeros(shape))
