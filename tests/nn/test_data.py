"""The digits dataset ships inside the package: shapes, ranges, the fixed stratified split, and packaging."""

import re
from importlib.resources import files
from pathlib import Path

import numpy as np

from autodiff_lab.data import load_digits

ROOT = Path(__file__).resolve().parents[2]


def test_digits_shapes_types_and_ranges():
    X_train, y_train, X_test, y_test = load_digits()
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert y_train.shape == (1347,) and y_test.shape == (450,)
    assert X_train.dtype == X_test.dtype == np.float64
    assert y_train.dtype == y_test.dtype == np.int64
    X = np.concatenate([X_train, X_test])
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.unique(X * 16), np.arange(17))  # 17 levels: counts 0..16 over 16
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))


def test_digits_split_is_stratified_and_disjoint():
    X_train, y_train, X_test, y_test = load_digits()
    counts_train, counts_test = np.bincount(y_train), np.bincount(y_test)
    np.testing.assert_allclose(counts_test / (counts_train + counts_test), 0.25, atol=0.005)
    train_rows = {row.tobytes() for row in X_train}
    assert not any(row.tobytes() in train_rows for row in X_test)


def test_digits_load_the_same_every_time():
    first, second = load_digits(), load_digits()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_digits_file_is_small_plain_and_packaged():
    path = files("autodiff_lab.data") / "digits.npz"
    assert path.stat().st_size < 200_000
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ["images", "labels", "test_index"]
        assert data["images"].shape == (1797, 8, 8)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'autodiff_lab = \["data/\*\.npz", "data/\*\.md"', pyproject)  # the wheel carries the data
    readme = (files("autodiff_lab.data") / "README.md").read_text()
    assert "CC BY 4.0" in readme and "Alpaydin" in readme
