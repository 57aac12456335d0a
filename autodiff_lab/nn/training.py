"""fit: the training loop. Each epoch shuffles the examples, cuts them into mini-batches, and for each batch
takes the gradient of (loss + L2 penalty) with respect to the parameters and lets SGD step."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from ..backend import asarray, is_array, isdtype, namespace, shape
from ..pytree import tree_flatten
from ..transforms import value_and_grad
from .layers import as_input
from .losses import accuracy, l2_penalty, logistic_loss, mse, softmax_cross_entropy, svm_loss
from .optim import SGD

LOSSES: dict[str, Callable] = {
    "softmax": softmax_cross_entropy,
    "svm": svm_loss,
    "logistic": logistic_loss,
    "mse": mse,
}
CLASSIFICATION = ("softmax", "svm", "logistic")


def fit(model: Callable, params: Any, X: Any, y: Any, *, loss: str | Callable = "softmax", l2: float = 0.0,
        lr: float = 0.1, momentum: float = 0.0, epochs: int = 10, batch_size: int = 32, seed: int = 0,
        validation: tuple[Any, Any] | None = None, progress: bool = True) -> tuple[Any, dict[str, list]]:
    """Train model(params, X) -> outputs on (X, y) by mini-batch SGD; returns (trained params, history).

    loss: "softmax" (cross-entropy, integer labels), "svm" (multiclass hinge), "logistic" (labels in
    {-1, +1}), "mse", or a function loss(outputs, y) -> scalar. l2 adds l2 * sum of squared weights.
    Each epoch visits the examples in an order drawn from numpy.random.default_rng(seed).
    history["loss"][e] is the mean training objective over epoch e, history["batch_loss"] has every
    batch's; for classification losses history["accuracy"] holds the training accuracy after each epoch, and
    with validation=(X_val, y_val) history["val_loss"] and history["val_accuracy"] are filled too.
    progress=True shows a progress bar on stderr."""
    loss_fn = _loss_function(loss)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"fit: {name} must be a positive int, got {value!r}")
    like = _params_array(params)
    X, y = _dataset("", X, y, like)
    if validation is not None:
        validation = _dataset("validation ", *_pair(validation), like)
    n = shape(X)[0]

    def objective(p: Any, xb: Any, yb: Any) -> Any:
        return loss_fn(model(p, xb), yb) + (l2_penalty(p, l2) if l2 else 0.0)

    loss_and_grads = value_and_grad(objective)
    optimizer = SGD(lr, momentum)
    rng = np.random.default_rng(seed)
    history: dict[str, list] = {"loss": [], "batch_loss": []}
    # Batches of nearly equal size, about batch_size each: a tiny leftover batch would make a noisy last step.
    batches_per_epoch = max(1, round(n / batch_size))
    bounds = [n * i // batches_per_epoch for i in range(batches_per_epoch + 1)]
    bar = ProgressBar(epochs * batches_per_epoch, "fit") if progress else None
    summary = ""  # the last finished epoch's numbers, kept on the progress line
    xp = namespace(X)
    for epoch in range(epochs):
        order = asarray(rng.permutation(n), like=X)
        total = 0.0
        for start, stop in zip(bounds[:-1], bounds[1:]):
            batch = order[start:stop]
            value, grads = loss_and_grads(params, xp.take(X, batch, axis=0), xp.take(y, batch, axis=0))
            params = optimizer.step(params, grads)
            value = float(value)
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"fit: the loss became {value} in epoch {epoch + 1}: training diverged. The learning "
                    f"rate lr={lr} is probably too large for this model; try a smaller one."
                )
            history["batch_loss"].append(value)
            total += value * shape(batch)[0]
            if bar:
                bar.update(f"epoch {epoch + 1}/{epochs}  batch loss {value:.4f}{summary}")
        summary = _end_of_epoch(history, total / n, model, params, loss, loss_fn, X, y, validation)
        if bar:
            bar.update(f"epoch {epoch + 1}/{epochs}{summary}", advance=0, force=True)
    if bar:
        bar.close()
    return params, history


def _end_of_epoch(history: dict, mean_loss: float, model: Callable, params: Any, loss: Any, loss_fn: Callable,
                  X: Any, y: Any, validation: tuple | None) -> str:
    """Record the epoch's numbers in history; return them as text for the progress line."""
    entries = {"loss": mean_loss}
    if loss in CLASSIFICATION:
        entries["accuracy"] = accuracy(model(params, X), y)
    if validation is not None:
        outputs = model(params, validation[0])
        entries["val_loss"] = float(loss_fn(outputs, validation[1]))
        if loss in CLASSIFICATION:
            entries["val_accuracy"] = accuracy(outputs, validation[1])
    for key, value in entries.items():
        history.setdefault(key, []).append(value)
    return "  |  " + "  ".join(f"{key} {value:.4f}" for key, value in entries.items())


class ProgressBar:
    """A one-line text progress bar, `name [#####.....] 50% (5/10)  status  12.3s`, redrawn in place with a
    carriage return (works in a terminal and in Jupyter) at most every `interval` seconds."""

    def __init__(self, total: int, name: str = "", width: int = 24, interval: float = 0.1,
                 stream: TextIO | None = None) -> None:
        self.total, self.name, self.width, self.interval = total, name, width, interval
        self.stream = stream if stream is not None else sys.stderr
        self.done, self.status, self.start, self.last_draw = 0, "", time.perf_counter(), 0.0
        self.drawn = ""  # the line on screen, so a shorter one can blank out its tail

    def update(self, status: str = "", advance: int = 1, force: bool = False) -> None:
        self.done += advance
        self.status = status
        now = time.perf_counter()
        if force or now - self.last_draw >= self.interval or self.done == self.total:
            self.last_draw = now
            self._draw(now)

    def close(self) -> None:
        """Draw the final state and end the line."""
        self._draw(time.perf_counter())
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, now: float) -> None:
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        percent = 100 * self.done // max(self.total, 1)
        elapsed = now - self.start
        line = f"{self.name} [{bar}] {percent:3d}% ({self.done}/{self.total})  {self.status}  {elapsed:.1f}s"
        self.stream.write("\r" + line.ljust(len(self.drawn)))
        self.drawn = line
        self.stream.flush()


# ------------------------------------------------------------------------------------------------ checks
def _loss_function(loss: str | Callable) -> Callable:
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"fit: unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a function")
    return LOSSES[loss]


def _params_array(params: Any) -> Any:
    """One parameter array: the data is moved to its library and cast to its dtype."""
    leaves = [leaf for leaf in tree_flatten(params)[0] if is_array(leaf)]
    if not leaves:
        raise ValueError("fit: params hold no arrays; make them with model.init()")
    return leaves[0]


def _pair(validation: Any) -> tuple[Any, Any]:
    """validation=(X_val, y_val), or a ValueError saying so."""
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        got = type(validation).__name__
        if isinstance(validation, (tuple, list)):
            got = f"a {got} of {len(validation)}"
        raise ValueError(f"fit: validation must be a pair (X_val, y_val), got {got}")
    return validation


def _dataset(what: str, X: Any, y: Any, like: Any) -> tuple[Any, Any]:
    """X in the parameters' library and dtype, y as an array of that library (floating targets in the
    parameters' dtype too, integer class labels as they are); one label (row) per example."""
    X = as_input(X, like, "fit")
    y = asarray(y, like=like)
    if isdtype(namespace(y), y.dtype, "real floating"):
        y = namespace(y).astype(y, like.dtype)
    if len(shape(X)) < 2:
        raise ValueError(f"fit: {what}X must have one row per example, (examples, features); got {shape(X)}")
    if shape(X)[0] == 0:
        raise ValueError(f"fit: {what}X has no examples (shape {shape(X)}); pass at least one row")
    if shape(y)[:1] != shape(X)[:1]:
        raise ValueError(
            f"fit: {what}X has {shape(X)[0]} examples but {what}y has "
            f"{shape(y)[0] if shape(y) else 'no axis of'} labels (shape {shape(y)}); pass one label per "
            f"row of X."
        )
    return X, y
