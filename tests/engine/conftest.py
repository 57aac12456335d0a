"""Engine tests build their arrays with `arr(...)` on the default backend, so the same tests run on numpy
(default) or on cupy: AUTODIFF_LAB_BACKEND=cupy make test."""

import numpy as np
import pytest

import autodiff_lab as ad


@pytest.fixture
def arr():
    def make(values, dtype="float64"):
        return ad.asarray(np.asarray(values, dtype=dtype))

    return make


@pytest.fixture
def close():
    """close(a, b): results from any backend (trees of arrays) agree, by numpy's allclose."""

    def compare(a, b, rtol=1e-7, atol=1e-9):
        la, _ = ad.tree_flatten(a)
        lb, _ = ad.tree_flatten(b)
        if len(la) == 1 and len(lb) != 1:  # an array compared with a (nested) list of numbers
            lb = [np.asarray(b)]
        assert len(la) == len(lb)
        return all(np.allclose(ad.to_numpy(x), ad.to_numpy(y), rtol=rtol, atol=atol) for x, y in zip(la, lb))

    return compare
