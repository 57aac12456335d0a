"""The functions the hidden tests differentiate, by name: the grader's references.

Written with `autodiff_lab.numpy`, so one definition serves both sides: in the judge they run on plain arrays
(finite differences of them are the expected gradients), and in the sandbox the student's Jacobian code
runs on them with tracers. Nothing here is secret; a hidden test names a function and chooses its inputs.
"""

from __future__ import annotations

import numpy as np

import autodiff_lab.numpy as anp


def _fixed(seed: int, shape: tuple) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


# ---- assignment 1: scalar graphs --------------------------------------------------------------------------
def add_mul(x, y, z):
    """(x + y) z, the first graph of the backprop lecture."""
    return (x + y) * z


def sigmoid_neuron(w0, x0, w1, x1, w2):
    """sigma(w0 x0 + w1 x1 + w2)."""
    return 1.0 / (1.0 + anp.exp(-(w0 * x0 + w1 * x1 + w2)))


def logistic_neuron_loss(w, x, b, y):
    """log(1 + exp(-y (w . x + b))), the logistic loss of one neuron (w, x vectors; y = +1 or -1)."""
    return anp.log(1.0 + anp.exp(-y * (anp.sum(anp.array(w) * anp.array(x)) + b)))


def mul(a, b):
    return a * b


def div(a, b):
    return a / b


def sigmoid(a):
    return 1.0 / (1.0 + anp.exp(-a))


def log(a):
    return anp.log(a)


def maximum(a, b):
    return anp.maximum(a, b)


def max_mul_div(a, b):
    """max(a b, a / b): the router after two rules."""
    return anp.maximum(a * b, a / b)


def log_sigmoid_mul(a, b):
    """log(sigmoid(a b) / b): a chain of the four rules."""
    return anp.log(sigmoid(a * b) / b)


# ---- assignment 2 (and 3): array primitives ----------------------------------------------------------------
add = anp.add
multiply = anp.multiply
tanh = anp.tanh
relu = anp.relu
exp = anp.exp
matmul = anp.matmul


def sum(x, axis=None, keepdims=False):  # noqa: A001  (named like the primitive it checks)
    return anp.sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return anp.mean(x, axis=axis, keepdims=keepdims)


def reshape(x, shape):
    return anp.reshape(x, shape)


def transpose(x, axes=None):
    return anp.transpose(x, axes)


def select_even(x):
    """The entries of x at even positions along the first axis: x[0], x[2], ..."""
    return x[::2]


def softmax(x):
    return anp.softmax(x, axis=-1)


def log_softmax(x):
    return anp.log_softmax(x, axis=-1)


# ---- assignment 3: forward mode ---------------------------------------------------------------------------
def rational(x1, x2, x3):
    """(x1 x2 - 3) / (x3 + 2 x1) + 1 / x2 + x3: the four operations and their mixes with constants."""
    return (x1 * x2 - 3.0) / (x3 + 2.0 * x1) + 1.0 / x2 + x3


def log_mul_sin(x1, x2):
    """ln x1 + x1 x2 - sin x2 (value 11.652 and df/dx1 = 5.5 at (2, 5))."""
    return anp.log(x1) + x1 * x2 - anp.sin(x2)


def exp_ratio(x1, x2):
    """x1 e^x2 / (1 + x1^2)."""
    return x1 * anp.exp(x2) / (1.0 + x1 * x1)


def cos_poly(x1, x2, x3):
    """cos(x1 x2) + x3^3 - x1 / x3."""
    return anp.cos(x1 * x2) + x3 * x3 * x3 - x1 / x3


_W = _fixed(7, (3, 6))
_V = _fixed(8, (6, 4))


def tanh_layer(x):
    """tanh(W x + 1) for a fixed W of shape (3, 6): R^6 -> R^3."""
    return anp.tanh(anp.matmul(anp.array(_W), x) + 1.0)


def wide_mix(x):
    """R^4 -> R^6: sin(V x) * x[0] + x[3]^2 for a fixed V of shape (6, 4)."""
    return anp.sin(anp.matmul(anp.array(_V), x)) * x[0] + x[3] * x[3]


def jvp_passes(n_in, n_out):
    """Forward mode builds a Jacobian one column per pass: n_in passes."""
    return n_in


def vjp_passes(n_in, n_out):
    """Reverse mode builds it one row per pass: n_out passes."""
    return n_out


def cheaper_mode(n_in, n_out):
    """Which mode builds the full Jacobian in fewer passes ("reverse" on ties: one pass gives a gradient)."""
    return "forward" if n_in < n_out else "reverse"


def chain_cost(dims, order):
    """Multiplications to evaluate the Jacobian chain J_k ... J_1 (J_i of shape dims[i] x dims[i-1]),
    starting from the input side ("forward") or the output side ("reverse")."""
    cost, n = 0, len(dims) - 1
    if order == "forward":
        for i in range(2, n + 1):
            cost += dims[i] * dims[i - 1] * dims[0]
    else:
        for i in range(n - 1, 0, -1):
            cost += dims[n] * dims[i] * dims[i - 1]
    return cost


# ---- assignment 4: two-layer network ---------------------------------------------------------------------
def softmax_loss(scores, y):
    """Mean cross-entropy of softmax(scores) against integer labels y."""
    n = scores.shape[0]
    return -anp.sum(anp.log_softmax(scores, axis=1)[np.arange(n), np.asarray(y)]) / n


def svm_loss(scores, y, margin=1.0):
    """Mean multiclass hinge loss: sum over j != y_i of max(0, s_j - s_y + margin)."""
    n = scores.shape[0]
    correct = anp.reshape(scores[np.arange(n), np.asarray(y)], (n, 1))
    hinge = anp.maximum(scores - correct + margin, 0.0)
    return (anp.sum(hinge) - n * margin) / n


def two_layer_scores(params, X):
    """relu(X W1 + b1) W2 + b2."""
    hidden = anp.relu(anp.matmul(X, params["W1"]) + params["b1"])
    return anp.matmul(hidden, params["W2"]) + params["b2"]


def two_layer_loss(params, X, y, reg, loss="softmax"):
    """Data loss of the two-layer net plus reg * (sum W1^2 + sum W2^2)."""
    scores = two_layer_scores(params, X)
    data = softmax_loss(scores, y) if loss == "softmax" else svm_loss(scores, y)
    return data + reg * (anp.sum(params["W1"] ** 2) + anp.sum(params["W2"] ** 2))


MAX_HIDDEN = 4096     # hidden units a trained network may have: its forward pass on the test split stays small


def check_network_shapes(params, n_in: int, n_classes: int) -> None:
    """ValueError unless params are W1 (n_in, H), b1 (H,), W2 (H, n_classes), b2 (n_classes,) with
    1 <= H <= MAX_HIDDEN: other shapes would broadcast the forward pass into gigabytes."""
    shapes = {k: np.shape(params[k]) for k in ("W1", "b1", "W2", "b2")}
    hidden = shapes["W1"][1] if len(shapes["W1"]) == 2 else 0
    want = {"W1": (n_in, hidden), "b1": (hidden,), "W2": (hidden, n_classes), "b2": (n_classes,)}
    if shapes != want or not 1 <= hidden <= MAX_HIDDEN:
        got = ", ".join(f"{k} {s}" for k, s in shapes.items())
        raise ValueError(f"they must have shapes W1 ({n_in}, H), b1 (H,), W2 (H, {n_classes}), b2 ({n_classes},) "
                         f"with H hidden units, 1 <= H <= {MAX_HIDDEN}; got {got}")


def test_accuracy(params) -> float:
    """Accuracy of the two-layer net on the shipped digits' test split."""
    from autodiff_lab.data import load_digits

    _, _, X_test, y_test = load_digits()
    params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    check_network_shapes(params, np.shape(X_test)[1], int(np.max(y_test)) + 1)
    scores = np.asarray(two_layer_scores(params, X_test))
    return float(np.mean(np.argmax(scores, axis=1) == y_test))


def names() -> list[str]:
    """The functions a hidden test may name."""
    return sorted(n for n, f in globals().items() if callable(f) and not n.startswith("_") and n not in _NOT_TESTS)


_NOT_TESTS = {"names", "test_accuracy", "check_network_shapes", "annotations"}
