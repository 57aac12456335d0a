"""Neural networks on the engine: layers, losses, SGD and a training loop.

    from autodiff_lab import nn
    from autodiff_lab.data import load_digits

    X_train, y_train, X_test, y_test = load_digits()
    model = nn.MLP([64, 64, 10])
    params, history = nn.fit(model, model.init(), X_train, y_train, lr=0.1, momentum=0.9, epochs=10)
    nn.accuracy(model(params, X_test), y_test)          # over 90 % (README.md has the measured figure)

Parameters are plain pytrees (a list of {"W", "b"} dicts), so everything here is ordinary anp code that
grad differentiates; nothing is hidden in the layers.

    affine.py    affine(x, W, b) = x W + b, one primitive with the three gradients of a layer
    layers.py    Linear, MLP and the activations relu / tanh / sigmoid
    losses.py    mse, logistic_loss, softmax_cross_entropy, cross_entropy, svm_loss, kl_divergence, l2_penalty, accuracy
    optim.py     SGD (with momentum)
    training.py  fit, and the text progress bar it shows
"""

from .affine import affine
from .layers import ACTIVATIONS, MLP, Linear
from .losses import (
    accuracy,
    cross_entropy,
    kl_divergence,
    l2_penalty,
    logistic_loss,
    mse,
    one_hot,
    softmax_cross_entropy,
    svm_loss,
)
from .optim import SGD
from .training import LOSSES, ProgressBar, fit

__all__ = [
    "ACTIVATIONS", "LOSSES", "MLP", "Linear", "ProgressBar", "SGD", "accuracy", "affine", "cross_entropy", "fit",
    "kl_divergence", "l2_penalty", "logistic_loss", "mse", "one_hot", "softmax_cross_entropy", "svm_loss",
]
