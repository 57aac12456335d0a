"""jacrev / jacfwd of functions whose outputs are tuples, dicts, lists and namedtuples, nested: as in JAX, the
result has the output's structure, and in place of each output leaf its Jacobian, of shape leaf.shape +
x.shape (for a pytree of arguments, the arguments' structure holding one Jacobian per input leaf)."""

from collections import namedtuple

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_lab as ad
import autodiff_lab.numpy as anp
from autodiff_lab import hessian, jacfwd, jacrev, jvp, tree_flatten, tree_map
from autodiff_lab.check import numerical_jacobian

Pair = namedtuple("Pair", "first second")

# leaf functions of x (a vector of 3): output leaves of several shapes, one a constant
LEAVES = {
    "sin": lambda x: anp.sin(x),
    "norm": lambda x: anp.sum(x * x),
    "outer": lambda x: anp.reshape(x, (3, 1)) * anp.reshape(x, (1, 3)),
    "first": lambda x: x[0] * anp.exp(x[1:]),
    "constant": lambda x: np.ones(2),
}

# a nested structure of leaf names: tuples, lists, dicts and namedtuples of them
structures = st.recursive(
    st.sampled_from(sorted(LEAVES)),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(tuple),
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(st.sampled_from("abc"), inner, min_size=1, max_size=3),
        st.tuples(inner, inner).map(lambda p: Pair(*p)),
    ),
    max_leaves=6,
)


def build(structure, x):
    """The output of the structure's f at x: the same structure, each leaf name replaced by its value."""
    return tree_map(lambda name: LEAVES[name](x), structure)


@settings(max_examples=60, deadline=None)
@given(structure=structures, seed=st.integers(0, 2**16))
def test_jacobians_of_any_nested_output_have_its_structure_and_finite_difference_values(structure, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, 3)
    names, out_def = tree_flatten(structure)
    for jac in (jacrev, jacfwd):
        J = jac(lambda x: build(structure, x))(x)
        leaves, treedef = tree_flatten(J)
        assert treedef == out_def
        for name, J_leaf in zip(names, leaves):
            expected = numerical_jacobian(lambda v, name=name: np.asarray(ad.to_numpy(LEAVES[name](v))), x)
            assert J_leaf.shape == np.shape(expected) and np.allclose(J_leaf, expected, rtol=1e-7, atol=1e-9)


def test_a_namedtuple_output_gives_a_namedtuple_of_jacobians(arr, close):
    x = arr([0.3, -0.4, 0.5])
    for jac in (jacrev, jacfwd):
        J = jac(lambda x: Pair(anp.sum(x) * x, {"n": anp.sum(x * x)}))(x)
        assert isinstance(J, Pair) and J.first.shape == (3, 3) and J.second["n"].shape == (3,)
        assert close(J.first, 0.4 * np.eye(3) + np.outer([0.3, -0.4, 0.5], np.ones(3)))
        assert close(J.second["n"], [0.6, -0.8, 1.0])


def test_none_and_python_number_leaves_of_the_output(arr, close):
    x = arr([1.0, 2.0])
    for jac in (jacrev, jacfwd):
        J = jac(lambda x: {"y": 2 * x, "nothing": None, "one": 1.0})(x)
        assert J["nothing"] is None and close(J["one"], [0.0, 0.0]) and close(J["y"], 2 * np.eye(2))


def test_dict_outputs_and_dict_arguments_nest_output_outside_argument(arr, close):
    params = {"w": arr([[1.0, 2.0], [3.0, 4.0]]), "b": arr([0.5, -0.5])}
    x = arr([1.0, -1.0])

    def f(p):
        z = p["w"] @ x + p["b"]
        return {"z": z, "loss": anp.sum(z * z)}

    for jac in (jacrev, jacfwd):
        J = jac(f)(params)
        assert J["z"]["w"].shape == (2, 2, 2) and J["z"]["b"].shape == (2, 2) and J["loss"]["w"].shape == (2, 2)
        z = np.array([1.0 - 2.0 + 0.5, 3.0 - 4.0 - 0.5])
        assert close(J["loss"]["b"], 2 * z) and close(J["loss"]["w"], 2 * np.outer(z, [1.0, -1.0]))
        assert close(J["z"]["b"], np.eye(2))


def test_nested_jacobians_of_tuple_outputs(arr, close):
    # jacfwd(jacrev(f)) of an output pair: each leaf's second derivative, shape leaf.shape + x.shape + x.shape
    x = arr([0.2, 0.7])
    f = lambda x: (anp.sum(anp.sin(x)), anp.sum(x**3))  # noqa: E731
    H = jacfwd(jacrev(f))(x)
    assert isinstance(H, tuple) and H[0].shape == (2, 2)
    assert close(H[0], np.diag(-np.sin([0.2, 0.7]))) and close(H[1], np.diag(6 * np.array([0.2, 0.7])))
    assert close(jacrev(jacfwd(f))(x), H)
    assert close(H[1], hessian(lambda x: f(x)[1])(x))
    # jvp of a jacrev with a dict output: the directional derivative of each leaf's Jacobian
    _, dJ = jvp(jacrev(lambda x: {"s": anp.sin(x)}), (x,), (arr([1.0, 0.0]),))
    assert close(dJ["s"], np.diag([-np.sin(0.2), 0.0]))
