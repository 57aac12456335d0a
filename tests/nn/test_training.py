"""SGD and fit: one step by hand, momentum, training lowers the loss, the digits requirement, progress, and
bad input."""

import io

import numpy as np
import pytest

import autodiff_lab.numpy as anp
from autodiff_lab import grad, nn
from autodiff_lab.data import load_digits


def test_sgd_step_by_hand():
    params = [{"W": np.array([[1.0, 2.0]]), "b": np.array([0.5])}]
    grads = [{"W": np.array([[10.0, -10.0]]), "b": np.array([1.0])}]
    new = nn.SGD(0.1).step(params, grads)
    np.testing.assert_allclose(new[0]["W"], [[0.0, 3.0]])
    np.testing.assert_allclose(new[0]["b"], [0.4])
    np.testing.assert_array_equal(params[0]["W"], [[1.0, 2.0]])  # the old params are left as they were


@pytest.mark.parametrize("p_dtype, g_dtype", [("float32", "float32"), ("float64", "float64"), ("float64", "float32"),
                                              ("float32", "float64")])
def test_sgd_step_gives_numpys_numbers_and_dtype(p_dtype, g_dtype, rng):
    """The step is computed in place on the fresh product -lr * g where it can: the same numbers, bit for
    bit, and the same dtype as p - lr * g, with the old params and the grads untouched."""
    p, g = rng.normal(size=(5, 3)).astype(p_dtype), rng.normal(size=(5, 3)).astype(g_dtype)
    copies = p.copy(), g.copy()
    new = nn.SGD(0.01).step({"W": p}, {"W": g})["W"]
    expected = p - 0.01 * g
    assert new.dtype == expected.dtype
    np.testing.assert_array_equal(new, expected)
    np.testing.assert_array_equal(p, copies[0])
    np.testing.assert_array_equal(g, copies[1])


def test_sgd_steps_python_numbers_and_numpy_scalars():
    new = nn.SGD(0.5).step({"a": 1.0, "b": np.float32(2.0)}, {"a": 0.5, "b": np.float32(1.0)})
    assert new == {"a": 0.75, "b": 1.5} and type(new["a"]) is float and new["b"].dtype == np.float32


def test_sgd_step_can_be_differentiated():
    """A step on traced params (as in meta-learning) is recorded like any other computation:
    d/dp sum(p - lr * g(p)) with g(p) = 2 p is 1 - 2 lr."""
    opt = nn.SGD(0.1)
    dp = grad(lambda p: anp.sum(opt.step([p], [2 * p])[0]))(np.array([1.0, -2.0]))
    np.testing.assert_allclose(dp, [0.8, 0.8])


def test_sgd_momentum_accumulates_velocity():
    opt = nn.SGD(0.5, momentum=0.9)
    p = {"x": np.array([0.0])}
    g = {"x": np.array([1.0])}
    p = opt.step(p, g)  # v = 1,          x = -0.5
    p = opt.step(p, g)  # v = 0.9 + 1,    x = -0.5 - 0.95
    np.testing.assert_allclose(p["x"], [-1.45])


def test_sgd_bad_input():
    with pytest.raises(ValueError, match="learning rate lr must be positive"):
        nn.SGD(0.0)
    with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\)"):
        nn.SGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match=r"grads have structure \[\*\] but params have \[\*, \*\]"):
        nn.SGD(0.1).step([np.zeros(2), np.zeros(2)], [np.zeros(2)])
    with pytest.raises(ValueError, match=r"a gradient has shape \(3,\), its parameter \(2,\)"):
        nn.SGD(0.1).step([np.zeros(2)], [np.zeros(3)])
    opt = nn.SGD(0.1, momentum=0.5)
    opt.step([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="use a new SGD for another model"):
        opt.step({"a": np.zeros(2)}, {"a": np.ones(2)})


def _blobs(n=120, seed=0):
    """Three well-separated Gaussian clusters in 2-D, integer labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    return centers[y] + 0.4 * rng.normal(size=(n, 2)), y


@pytest.mark.parametrize("loss", ["softmax", "svm"])
def test_fit_reduces_the_loss(loss):
    X, y = _blobs()
    model = nn.MLP([2, 16, 3], seed=1)
    params0 = model.init()
    before = nn.LOSSES[loss](model(params0, X), y)
    params, history = nn.fit(model, params0, X, y, loss=loss, lr=0.05, epochs=15, batch_size=16,
                             l2=1e-4, validation=(X, y), progress=False)
    assert history["loss"][-1] < 0.5 * before
    assert history["loss"][-1] < history["loss"][0]
    assert len(history["batch_loss"]) == 15 * 8
    assert history["accuracy"][-1] > 0.95 and history["val_accuracy"][-1] > 0.95
    assert nn.accuracy(model(params, X), y) == history["accuracy"][-1]


def test_fit_cuts_every_epoch_into_batches_of_nearly_equal_size(monkeypatch):
    sizes = []
    real = nn.training.value_and_grad

    def spy(objective):
        g = real(objective)
        return lambda params, X, y: (sizes.append(len(y)), g(params, X, y))[1]

    monkeypatch.setattr(nn.training, "value_and_grad", spy)
    X, y = _blobs(n=1347)  # 1347 = 42 * 32 + 3: no batch of 3 at the end of an epoch
    nn.fit(nn.MLP([2, 4, 3]), nn.MLP([2, 4, 3]).init(), X, y, epochs=1, batch_size=32, progress=False)
    assert len(sizes) == 42 and sum(sizes) == 1347 and set(sizes) <= {32, 33}


def test_fit_regression_and_binary_losses():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(64, 3))
    target = X @ np.array([[1.0], [-2.0], [0.5]])
    model = nn.MLP([3, 1])
    _, history = nn.fit(model, model.init(), X, target, loss="mse", lr=0.1, epochs=20, progress=False)
    assert history["loss"][-1] < 1e-3 and "accuracy" not in history
    labels = np.where(target > 0, 1, -1)
    _, history = nn.fit(model, model.init(), X, labels, loss="logistic", lr=0.5, epochs=20, progress=False)
    assert history["accuracy"][-1] > 0.95


def test_fit_is_reproducible_and_the_seed_shuffles():
    X, y = _blobs()
    model = nn.MLP([2, 8, 3])
    runs = [nn.fit(model, model.init(), X, y, epochs=2, seed=s, progress=False)[1]["batch_loss"]
            for s in (0, 0, 1)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_two_layer_net_beats_90_percent_on_digits():
    X_train, y_train, X_test, y_test = load_digits()
    model = nn.MLP([64, 64, 10], seed=0)
    params, _ = nn.fit(model, model.init(), X_train, y_train, lr=0.1, momentum=0.9, epochs=10, batch_size=32,
                       progress=False)
    assert nn.accuracy(model(params, X_test), y_test) > 0.90


def test_progress_bar_shows_epochs_and_fit_is_quiet_without_it(capsys):
    X, y = _blobs(40)
    model = nn.MLP([2, 4, 3])
    nn.fit(model, model.init(), X, y, epochs=2, batch_size=10, progress=False)
    assert capsys.readouterr().err == ""
    nn.fit(model, model.init(), X, y, epochs=2, batch_size=10)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "100% (8/8)" in err and "accuracy" in err and err.endswith("\n")


def test_progress_bar_blanks_a_longer_previous_line():
    stream = io.StringIO()
    bar = nn.ProgressBar(2, "job", stream=stream, interval=0.0)
    bar.update("a long status line")
    bar.update("short")
    bar.close()
    _, first, second, final = stream.getvalue().split("\r")
    assert "a long status line" in first and "short" in second and "long" not in second
    assert len(second) == len(first)  # padded with blanks over the longer line
    assert final.endswith("\n") and "100% (2/2)" in final


def test_fit_bad_input():
    X, y = _blobs(20)
    model = nn.MLP([2, 3])
    params = model.init()
    with pytest.raises(ValueError, match=r"X has 20 examples but y has 19 labels"):
        nn.fit(model, params, X, y[:19], progress=False)
    with pytest.raises(ValueError, match=r"validation X has 20 examples but validation y has 5 labels"):
        nn.fit(model, params, X, y, validation=(X, y[:5]), progress=False)
    with pytest.raises(ValueError, match=r"one row per example"):
        nn.fit(model, params, X[:, 0], y, progress=False)
    with pytest.raises(ValueError, match=r"fit: X has no examples \(shape \(0, 2\)\)"):
        nn.fit(model, params, X[:0], y[:0], progress=False)
    with pytest.raises(ValueError, match=r"validation X has no examples"):
        nn.fit(model, params, X, y, validation=(X[:0], y[:0]), progress=False)
    with pytest.raises(ValueError, match=r"validation must be a pair \(X_val, y_val\), got a tuple of 1"):
        nn.fit(model, params, X, y, validation=(X,), progress=False)
    with pytest.raises(ValueError, match="unknown loss 'hinge'; choose one of softmax, svm, logistic, mse"):
        nn.fit(model, params, X, y, loss="hinge", progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        nn.fit(model, params, X, y, epochs=0, progress=False)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.2"):
        nn.fit(model, params, X, y + 1, progress=False)
    with pytest.raises(ValueError, match=r"expects inputs whose last axis has 2 features"):
        nn.fit(model, params, np.zeros((20, 5)), y, progress=False)
    diverged = r"loss became inf in epoch \d+: training diverged.*lr=1e\+100"
    with pytest.raises(FloatingPointError, match=diverged), np.errstate(all="ignore"):
        nn.fit(model, params, X, X @ np.ones((2, 3)), loss="mse", lr=1e100, progress=False)


def test_numpy_data_trains_parameters_that_live_in_another_library():
    """A GPU user loads data with numpy and keeps the parameters on cupy: layers, losses and fit move each
    batch to the parameters' library. array-api-strict stands in for cupy here (no GPU needed)."""
    import array_api_strict as xps

    import autodiff_lab as ad

    model = nn.MLP([4, 5, 3], dtype="float32")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 4)), rng.integers(0, 3, size=12)
    elsewhere = ad.tree_map(lambda a: xps.asarray(ad.to_numpy(a)), model.init())
    trained, history = nn.fit(model, elsewhere, X, y, lr=0.1, epochs=3, batch_size=4, progress=False)
    expected, expected_history = nn.fit(model, model.init(), X, y, lr=0.1, epochs=3, batch_size=4,
                                        progress=False)
    assert all(type(leaf) is type(xps.asarray(1.0)) for leaf in ad.tree_flatten(trained)[0])
    np.testing.assert_allclose(history["loss"], expected_history["loss"], rtol=1e-6)
    np.testing.assert_allclose(ad.to_numpy(trained[1]["W"]), expected[1]["W"], rtol=1e-5, atol=1e-7)
    scores = model(trained, X)
    assert nn.accuracy(scores, y) == nn.accuracy(model(expected, X), y)
    assert float(nn.logistic_loss(scores[:, 0], np.where(y > 0, 1, -1))) > 0


@pytest.mark.parametrize("make_targets", [lambda y: y, lambda y: y.tolist()], ids=["float64", "list"])
def test_fit_moves_float_targets_to_the_parameters_dtype(make_targets):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    model = nn.MLP([3, 4, 2], dtype="float32")
    seen = []

    def loss(out, y):
        seen.append(y.dtype)
        return nn.mse(out, y)

    params, _ = nn.fit(model, model.init(), X, make_targets(Y), loss=loss, epochs=1, batch_size=4,
                       progress=False)
    assert seen and all(dtype == np.float32 for dtype in seen)
    params, _ = nn.fit(model, model.init(), X, make_targets(Y), loss="mse", epochs=1, progress=False)
    assert all(leaf.dtype == np.float32 for layer in params for leaf in layer.values())


def test_fit_keeps_class_labels_integers():
    X, y = _blobs(20)
    model = nn.MLP([2, 3], dtype="float32")
    seen = []

    def loss(out, labels):
        seen.append(labels.dtype)
        return nn.softmax_cross_entropy(out, labels)

    nn.fit(model, model.init(), X, y, loss=loss, epochs=1, progress=False)
    assert seen and all(np.issubdtype(dtype, np.integer) for dtype in seen)


def test_the_package_docstring_quotes_no_measured_accuracy():
    """A measured figure drifts with every change to the defaults; README.md holds the measured one."""
    import re

    assert "over 90 %" in nn.__doc__ and not re.search(r"\b0\.9\d", nn.__doc__)
