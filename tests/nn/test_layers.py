"""Linear and MLP: shapes, initialization, dtypes, gradients through the whole network, bad input."""

import numpy as np
import pytest

from autodiff_lab import grad, nn
from autodiff_lab.pytree import tree_flatten


def test_linear_shapes_and_formula(rng):
    layer = nn.Linear(5, 3, seed=7)
    params = layer.init()
    assert params["W"].shape == (5, 3) and params["b"].shape == (3,)
    assert params["W"].dtype == np.float64
    np.testing.assert_array_equal(params["b"], 0.0)
    params["b"] = rng.normal(size=3)
    x = rng.normal(size=(4, 5))
    np.testing.assert_allclose(layer(params, x), x @ params["W"] + params["b"])


def test_initialization_is_seeded_and_scaled():
    a, b, c = (nn.Linear(400, 300, seed=s).init() for s in (1, 1, 2))
    np.testing.assert_array_equal(a["W"], b["W"])
    assert not np.array_equal(a["W"], c["W"])
    assert np.std(a["W"]) == pytest.approx(1 / np.sqrt(400), rel=0.02)
    relu_net, tanh_net = nn.MLP([400, 300, 10]).init(), nn.MLP([400, 300, 10], "tanh").init()
    assert np.std(relu_net[0]["W"]) == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert np.std(tanh_net[0]["W"]) == pytest.approx(np.sqrt(1 / 400), rel=0.02)
    assert not np.array_equal(relu_net[0]["W"][:10, :10], relu_net[1]["W"][:10, :10])  # layers differ


@pytest.mark.parametrize("activation, fn", [("relu", lambda v: np.maximum(v, 0)), ("tanh", np.tanh),
                                            ("sigmoid", lambda v: 1 / (1 + np.exp(-v)))])
def test_mlp_forward_matches_numpy(activation, fn, rng):
    model = nn.MLP([6, 5, 4, 3], activation, seed=3)
    params = model.init()
    assert [p["W"].shape for p in params] == [(6, 5), (5, 4), (4, 3)]
    x = rng.normal(size=(7, 6))
    h = fn(x @ params[0]["W"] + params[0]["b"])
    h = fn(h @ params[1]["W"] + params[1]["b"])
    expected = h @ params[2]["W"] + params[2]["b"]  # logits: no activation after the last layer
    out = model(params, x)
    assert out.shape == (7, 3)
    np.testing.assert_allclose(out, expected)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("loss", ["softmax", "svm"])
def test_gradient_through_the_network_matches_finite_differences(activation, loss, rng, numerical_grad_tree):
    model = nn.MLP([3, 4, 3], activation, seed=5)
    params = model.init()
    x, y = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    loss_fn = nn.LOSSES[loss]

    def objective(p):
        return loss_fn(model(p, x), y) + nn.l2_penalty(p, 0.01)

    got, expected = grad(objective)(params), numerical_grad_tree(objective, params)
    for g, e in zip(tree_flatten(got)[0], tree_flatten(expected)[0], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("loss", ["softmax", "svm", "mse", "logistic"])
def test_float32_stays_float32_forward_and_backward(activation, loss, rng):
    n_out = 1 if loss == "logistic" else 3
    model = nn.MLP([4, 5, n_out], activation, dtype="float32")
    params = model.init()
    x = rng.normal(size=(8, 4)).astype(np.float32)
    y = {"softmax": rng.integers(0, 3, size=8), "svm": rng.integers(0, 3, size=8),
         "mse": rng.normal(size=(8, 3)).astype(np.float32),
         "logistic": rng.choice([-1, 1], size=(8, 1))}[loss]
    loss_fn = nn.LOSSES[loss]

    def objective(p):
        return loss_fn(model(p, x), y) + nn.l2_penalty(p, 0.01)

    assert model(params, x).dtype == np.float32
    assert objective(params).dtype == np.float32
    grads = grad(objective)(params)
    assert {leaf.dtype for leaf in tree_flatten(grads)[0]} == {np.dtype(np.float32)}
    new = nn.SGD(0.1, momentum=0.9).step(params, grads)
    assert {leaf.dtype for leaf in tree_flatten(new)[0]} == {np.dtype(np.float32)}


def test_kl_divergence_keeps_float32():
    p = np.array([[0.0, 0.5, 0.5]], dtype=np.float32)
    q = np.array([[0.2, 0.3, 0.5]], dtype=np.float32)
    assert grad(nn.kl_divergence, argnums=1)(p, q).dtype == np.float32


def test_float64_data_feeds_a_float32_network():
    model = nn.MLP([2, 2], dtype="float32")
    assert model(model.init(), np.ones((1, 2))).dtype == np.float32
    assert model(model.init(), [[1.0, 2.0]]).dtype == np.float32


def test_bad_layer_input():
    with pytest.raises(ValueError, match="n_in must be a positive int"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        nn.Linear(2, 3, dtype="int32")
    layer = nn.Linear(4, 2)
    with pytest.raises(ValueError, match=r"Linear\(4 -> 2\) expects inputs whose last axis has 4 features, "
                                         r"got shape \(3, 5\)"):
        layer(layer.init(), np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"takes params \{'W': \.\.\., 'b': \.\.\.\}"):
        layer({"W": np.zeros((4, 2))}, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="unknown activation 'gelu'; choose one of relu, tanh, sigmoid"):
        nn.MLP([2, 2], "gelu")
    with pytest.raises(ValueError, match="at least an input and an output size"):
        nn.MLP([2])
    model = nn.MLP([2, 3, 2])
    with pytest.raises(ValueError, match="takes a list of 2 layer parameter dicts, got 1 entries"):
        model(model.init()[:1], np.zeros((1, 2)))
