"""Workload 6: the course's requirement that a two-layer network learns the shipped 8x8 digits to more than
90 % test accuracy in under a minute on two cores. Trains with nn.fit exactly as a notebook would."""

from __future__ import annotations

import time

HIDDEN = 64
EPOCHS = 10


def train() -> dict:
    """Train MLP([64, 64, 10]) with SGD + momentum; return seconds, test accuracy and the sizes."""
    from autodiff_lab import nn
    from autodiff_lab.data import load_digits

    X_train, y_train, X_test, y_test = load_digits()
    model = nn.MLP([64, HIDDEN, 10], seed=0)
    start = time.perf_counter()
    params, history = nn.fit(model, model.init(), X_train, y_train, lr=0.1, momentum=0.9, epochs=EPOCHS,
                             batch_size=32, progress=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "accuracy": nn.accuracy(model(params, X_test), y_test),
            "train_accuracy": history["accuracy"][-1], "n_train": len(y_train), "n_test": len(y_test),
            "steps": len(history["batch_loss"])}
