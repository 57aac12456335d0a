"""Small datasets that ship inside the package (nothing is downloaded). See README.md here for sources,
licences and how each file was made."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import numpy as np

from ..backend import asarray


def load_digits() -> tuple[Any, Any, Any, Any]:
    """The UCI 8x8 handwritten digits (1797 images, 10 classes) as (X_train, y_train, X_test, y_test).

    X: float64 of shape (examples, 64), the 8x8 pixels row by row, each a count 0..16 divided by 16 so it
    lies in [0, 1]; y: int64 labels 0..9. The split is fixed (stored in the file): 1347 training and 450 test
    images, a quarter of each class held out. Arrays are on the default backend (numpy unless set_backend
    chose another). Reshape a row to (8, 8) to see the image."""
    with np.load(files(__package__) / "digits.npz", allow_pickle=False) as data:
        images, labels, test_index = data["images"], data["labels"], data["test_index"]
    X = images.reshape(len(images), 64).astype(np.float64) / 16.0
    y = labels.astype(np.int64)
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test_index] = True
    return tuple(asarray(a) for a in (X[~is_test], y[~is_test], X[is_test], y[is_test]))
