"""Fixtures for the nn tests: a central-difference gradient to check the engine's gradients against."""

import numpy as np
import pytest

from autodiff_lab.pytree import tree_flatten, tree_unflatten


def central_difference(f, x, h=1e-6):
    """d f / d x by (f(x + h e_i) - f(x - h e_i)) / 2h for every entry i of the float64 array x."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (float(f(up)) - float(f(down))) / (2 * h)
    return g


def central_difference_tree(f, tree, h=1e-6):
    """central_difference for every leaf of a pytree of float64 arrays: a pytree of gradients."""
    leaves, treedef = tree_flatten(tree)
    grads = []
    for k, leaf in enumerate(leaves):
        def f_of_leaf(value, k=k):
            return f(tree_unflatten(treedef, leaves[:k] + [value] + leaves[k + 1:]))
        grads.append(central_difference(f_of_leaf, leaf, h))
    return tree_unflatten(treedef, grads)


@pytest.fixture
def numerical_grad():
    return central_difference


@pytest.fixture
def numerical_grad_tree():
    return central_difference_tree


@pytest.fixture
def rng():
    return np.random.default_rng(0)
