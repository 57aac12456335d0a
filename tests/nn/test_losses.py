"""Losses: values worked out by hand, stability on huge inputs, gradients against finite differences, and
the messages for bad labels."""

import math

import numpy as np
import pytest

from autodiff_lab import grad, nn
from autodiff_lab.check import check_grads


# --------------------------------------------------------------------------------------- hand-computed values
def test_mse_by_hand():
    assert nn.mse(np.array([1.0, 2.0]), np.array([0.0, 4.0])) == pytest.approx((1 + 4) / 2)


def test_logistic_loss_by_hand():
    z, y = np.array([0.0, 2.0]), np.array([1, -1])
    assert nn.logistic_loss(z, y) == pytest.approx((math.log(2) + math.log(1 + math.e**2)) / 2)


def test_softmax_cross_entropy_by_hand():
    assert nn.softmax_cross_entropy(np.zeros((1, 3)), np.array([1])) == pytest.approx(math.log(3))
    logits = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    lse = math.log(math.e + math.e**2 + math.e**3)
    expected = ((lse - 3.0) + (lse - 1.0)) / 2
    assert nn.softmax_cross_entropy(logits, np.array([2, 0])) == pytest.approx(expected)


def test_cross_entropy_with_soft_targets_by_hand():
    logits = np.array([[1.0, 2.0, 3.0]])
    targets = np.array([[0.2, 0.3, 0.5]])
    log_p = logits - math.log(math.e + math.e**2 + math.e**3)
    assert nn.cross_entropy(logits, targets) == pytest.approx(-(targets * log_p).sum())
    one_hot = nn.one_hot(np.array([2]), 3, np.float64)
    assert nn.cross_entropy(logits, one_hot) == pytest.approx(nn.softmax_cross_entropy(logits, np.array([2])))
    with pytest.raises(ValueError, match=r"logits has shape \(1, 3\) but targets has shape \(1, 2\)"):
        nn.cross_entropy(logits, np.array([[0.5, 0.5]]))


def test_cross_entropy_gradient_is_softmax_minus_targets():
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(4, 5)), np.array([0, 4, 2, 2])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = (probs - nn.one_hot(labels, 5, np.float64)) / 4
    np.testing.assert_allclose(grad(nn.softmax_cross_entropy)(logits, labels), expected, rtol=1e-12)


def test_cross_entropy_derivatives_to_second_order_in_both_arguments():
    rng = np.random.default_rng(4)
    logits, targets = rng.normal(size=(3, 4)), rng.dirichlet(np.ones(4), size=3)
    report = check_grads(nn.cross_entropy, (logits, targets), order=2)
    assert report.ok, report
    report = check_grads(nn.cross_entropy, (logits, 2.5 * targets), order=2)  # rows need not sum to 1
    assert report.ok, report
    assert check_grads(lambda s: nn.softmax_cross_entropy(s, np.array([1, 0, 3])), (logits,), order=2).ok


def test_svm_loss_by_hand():
    scores = np.array([[1.0, 2.5, 0.5], [0.0, -3.0, 2.0]])
    # example 0, label 0: max(0, 2.5 - 1 + 1) + max(0, 0.5 - 1 + 1) = 3.0
    # example 1, label 2: max(0, 0 - 2 + 1) + max(0, -3 - 2 + 1) = 0
    assert nn.svm_loss(scores, np.array([0, 2])) == pytest.approx(1.5)
    assert nn.svm_loss(scores, np.array([0, 2]), margin=3.0) == pytest.approx(((4.5 + 2.5) + (1.0 + 0.0)) / 2)


def test_kl_divergence_by_hand():
    p, q = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    assert nn.kl_divergence(p, q) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75))
    # a zero in p contributes nothing, even where q is 0 too; rows are averaged
    p2, q2 = np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([[0.5, 0.5], [0.5, 0.5]])
    assert nn.kl_divergence(p2, q2) == pytest.approx(math.log(2) / 2)
    assert nn.kl_divergence(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0


def test_l2_penalty_counts_weights_not_biases():
    params = [{"W": np.array([[1.0, 2.0]]), "b": np.array([3.0])},
              {"W": np.array([[-1.0]]), "b": np.array([5.0])}]
    assert nn.l2_penalty(params, 0.5) == pytest.approx(0.5 * (1 + 4 + 1))


def test_accuracy():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0]])
    assert nn.accuracy(logits, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert nn.accuracy(np.array([0.5, -2.0, 0.0]), np.array([1, -1, 1])) == pytest.approx(2 / 3)


def test_one_hot():
    np.testing.assert_array_equal(nn.one_hot(np.array([2, 0]), 3, np.float32), [[0, 0, 1], [1, 0, 0]])
    assert nn.one_hot(np.array([1]), 2, np.float32).dtype == np.float32


# ------------------------------------------------------------------------------------------------ stability
def test_huge_logits_do_not_overflow():
    with np.errstate(over="raise", invalid="raise"):
        assert nn.softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1])) == pytest.approx(1000.0)
        assert nn.softmax_cross_entropy(np.array([[1e5, -1e5]]), np.array([0])) == 0.0
        assert nn.logistic_loss(np.array([-1000.0]), np.array([1])) == pytest.approx(1000.0)
        assert nn.logistic_loss(np.array([1000.0]), np.array([1])) == 0.0
        g = grad(nn.logistic_loss)(np.array([-1000.0, 1000.0]), np.array([1, 1]))
        np.testing.assert_allclose(g, [-0.5, 0.0])
        g = grad(nn.softmax_cross_entropy)(np.array([[1000.0, 0.0]]), np.array([1]))
        np.testing.assert_allclose(g, [[1.0, -1.0]])
    logits32 = np.array([[3e4, -3e4, 0.0]], dtype=np.float32)
    assert np.isfinite(nn.softmax_cross_entropy(logits32, np.array([1])))


# ------------------------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize(
    "name, make_args",
    [
        ("mse", lambda r: (r.normal(size=(4, 3)), r.normal(size=(4, 3)))),
        ("logistic_loss", lambda r: (r.normal(size=6) * 3, r.choice([-1, 1], size=6))),
        ("softmax_cross_entropy", lambda r: (r.normal(size=(5, 4)) * 2, r.integers(0, 4, size=5))),
        ("svm_loss", lambda r: (r.normal(size=(5, 4)) * 2, r.integers(0, 4, size=5))),
        ("kl_divergence", lambda r: tuple(r.dirichlet(np.full(4, 5.0), size=3) for _ in range(2))),
    ],
)
def test_loss_gradients_match_finite_differences(name, make_args, rng, numerical_grad):
    loss = getattr(nn, name)
    x, other = make_args(rng)
    expected = numerical_grad(lambda v: loss(v, other), x)
    np.testing.assert_allclose(grad(loss)(x, other), expected, rtol=1e-6, atol=1e-8)
    if name in ("mse", "kl_divergence"):  # the second argument is differentiable too
        expected = numerical_grad(lambda v: loss(x, v), other)
        np.testing.assert_allclose(grad(loss, argnums=1)(x, other), expected, rtol=1e-6, atol=1e-8)


def test_kl_divergence_gradient_where_p_is_zero():
    p, q = np.array([[0.0, 0.25, 0.75]]), np.array([[0.0, 0.5, 0.5]])
    g = grad(nn.kl_divergence, argnums=1)(p, q)
    np.testing.assert_allclose(g, [[0.0, -0.5, -1.5]])


def test_l2_penalty_gradient(rng, numerical_grad_tree):
    params = nn.MLP([3, 4, 2], seed=1).init()
    g = grad(nn.l2_penalty)(params, 0.1)
    expected = numerical_grad_tree(lambda p: nn.l2_penalty(p, 0.1), params)
    for got, want in zip(g, expected, strict=True):
        np.testing.assert_allclose(got["W"], want["W"], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got["b"], 0.0)


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("loss", [nn.softmax_cross_entropy, nn.svm_loss])
def test_class_labels_are_checked(loss):
    logits = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"shape \(4,\).*got labels of shape \(4, 1\).*reshape\(-1\)"):
        loss(logits, np.zeros((4, 1), dtype=int))
    with pytest.raises(ValueError, match=r"labels of shape \(4,\).*got labels of shape \(5,\)"):
        loss(logits, np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match=r"must lie in 0\.\.2 for 3 classes, got values from 0 to 3"):
        loss(logits, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"got values from -1 to 2"):
        loss(logits, np.array([0, -1, 2, 2]))
    with pytest.raises(ValueError, match=r"integer class labels.*float64"):
        loss(logits, np.array([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"logits of shape \(batch, classes\), got shape \(4,\)"):
        loss(np.zeros(4), np.array([0, 1, 2, 1]))


def test_shapes_must_match_exactly():
    with pytest.raises(ValueError, match=r"pred has shape \(3, 1\) but target has shape \(3,\).*reshape"):
        nn.mse(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match=r"batch sizes differ"):
        nn.mse(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r"z has shape \(3,\) but y has shape \(2,\)"):
        nn.logistic_loss(np.zeros(3), np.array([1, -1]))
    with pytest.raises(ValueError, match=r"p has shape"):
        nn.kl_divergence(np.ones((2, 3)) / 3, np.ones((3, 3)) / 3)


def test_logistic_labels_must_be_plus_minus_one():
    with pytest.raises(ValueError, match=r"\{-1, \+1\}.*2 \* y - 1"):
        nn.logistic_loss(np.zeros(3), np.array([0, 1, 1]))


def test_l2_penalty_needs_a_weight_matrix():
    with pytest.raises(ValueError, match="no weight matrix"):
        nn.l2_penalty([np.zeros(3)], 0.1)


def test_list_targets_work_like_arrays():
    pred = np.array([[0.0, 1.0, 2.0, 5.0]])
    assert nn.mse(pred, [[1.0, 2.0, 3.0, 4.0]]) == pytest.approx(1.0)
    soft = [[0.1, 0.2, 0.3, 0.4]]
    assert nn.cross_entropy(pred, soft) == pytest.approx(nn.cross_entropy(pred, np.array(soft)))
    q = np.array([[0.25, 0.25, 0.25, 0.25]])
    assert nn.kl_divergence(soft, q) == pytest.approx(nn.kl_divergence(np.array(soft), q))
    with pytest.raises(ValueError, match=r"pred has shape \(1, 4\) but target has shape \(1, 3\)"):
        nn.mse(pred, [[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("loss, make_args", [
    ("mse", lambda r: (r.normal(size=(4, 3)).astype(np.float32), r.normal(size=(4, 3)))),
    ("cross_entropy", lambda r: (r.normal(size=(4, 3)).astype(np.float32), r.dirichlet(np.ones(3), size=4))),
])
def test_float64_targets_are_computed_in_the_predictions_float32(loss, make_args, rng):
    pred, target = make_args(rng)
    assert getattr(nn, loss)(pred, target).dtype == np.float32
    assert grad(getattr(nn, loss))(pred, target).dtype == np.float32
    assert getattr(nn, loss)(pred, target.tolist()).dtype == np.float32


def test_kl_divergence_of_a_float32_prediction_is_float32(rng):
    p, q = rng.dirichlet(np.ones(3), size=4), rng.dirichlet(np.ones(3), size=4).astype(np.float32)
    assert nn.kl_divergence(p, q).dtype == np.float32
    assert grad(nn.kl_divergence, argnums=1)(p, q).dtype == np.float32


@pytest.mark.parametrize("y", [1, -1])
def test_logistic_loss_of_a_python_float(y, numerical_grad):
    z = 0.3
    assert nn.logistic_loss(z, y) == pytest.approx(math.log1p(math.exp(-y * z)))
    expected = numerical_grad(lambda v: nn.logistic_loss(float(v), y), np.array(z))
    assert grad(lambda v: nn.logistic_loss(v, y))(z) == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize("labels", [[0, 1], [5, 7], [[-1], [2]]])
def test_accuracy_with_one_score_per_example_needs_labels_plus_minus_one(labels):
    scores = np.array([[-1.0], [1.0]]) if np.ndim(labels) == 2 else np.array([-1.0, 1.0])
    with pytest.raises(ValueError, match=r"accuracy with one score per example needs labels y in \{-1, \+1\}.*"
                                         r"pass 2 \* y - 1"):
        nn.accuracy(scores, np.array(labels))
    assert nn.accuracy(scores, -np.sign(scores)) == 0.0


def test_list_scores_work_like_arrays():
    scores, labels = [[1.0, 2.0], [3.0, 0.0], [0.0, 0.5]], [1, 0, 0]
    assert nn.accuracy(scores, labels) == pytest.approx(2 / 3)
    assert nn.svm_loss(scores, labels) == pytest.approx(nn.svm_loss(np.array(scores), np.array(labels)))
    assert nn.softmax_cross_entropy(scores, labels) == pytest.approx(
        nn.softmax_cross_entropy(np.array(scores), np.array(labels)))
    assert nn.logistic_loss([1.0], [1]) == pytest.approx(math.log1p(math.exp(-1.0)))
    assert nn.mse([1.0, 2.0], [1.0, 4.0]) == pytest.approx(2.0)
    assert nn.kl_divergence([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        nn.kl_divergence(np.array([0.5, 0.5]), np.array([0.25, 0.75])))
