"""nn.affine, the primitive behind Linear: its three VJP rules are the gradients of a layer, for batches of
any shape, to second order, in both modes, on numpy and on array-api-strict."""

import array_api_strict as xps
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_lab import grad, graph, nn
from autodiff_lab.check import check_grads, check_jvp, check_vjp, random_inputs

BATCHES = [(), (1,), (4,), (2, 3)]


@st.composite
def affine_args(draw):
    """(x, W, b) with x of shape batch + (n_in,): a single example, a batch, or a batch of batches."""
    batch = draw(st.sampled_from(BATCHES))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    return tuple(random_inputs(s, "real", seed + i) for i, s in enumerate([batch + (n_in,), (n_in, n_out), (n_out,)]))


@settings(max_examples=25)
@given(args=affine_args())
def test_derivatives_match_finite_differences_to_second_order(args):
    report = check_grads(nn.affine, args, modes=("fwd", "rev"), order=2)
    assert report.ok, str(report)


@settings(max_examples=10)
@given(args=affine_args())
def test_each_rule_passes_the_rule_checker(args):
    for argnum in range(3):
        for checker, rules in ((check_vjp, nn.affine.vjps), (check_jvp, nn.affine.jvps)):
            report = checker(nn.affine, rules[argnum], args, argnum)
            assert report.ok, str(report)


@settings(max_examples=5)
@given(args=affine_args())
def test_first_derivatives_on_array_api_strict(args):
    report = check_grads(nn.affine, tuple(xps.asarray(a) for a in args), modes=("fwd", "rev"), order=1)
    assert report.ok, str(report)


def test_rules_are_the_gradients_of_a_layer(rng):
    x, W, b, g = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(5, 2))
    ans = x @ W + b
    dx, dW, db = (nn.affine.vjps[i](g, ans, x, W, b) for i in range(3))
    np.testing.assert_allclose(dx, g @ W.T)
    np.testing.assert_allclose(dW, x.T @ g)
    np.testing.assert_allclose(db, g.sum(axis=0))


def test_a_linear_layer_records_one_node(rng):
    layer = nn.Linear(3, 2)
    traced = graph.trace(lambda W, b: layer({"W": W, "b": b}, rng.normal(size=(4, 3))), *layer.init().values())
    assert [node.op for node in traced.nodes if node.op] == ["affine"]


def test_float32_stays_float32(rng):
    x, W, b = (rng.normal(size=s).astype(np.float32) for s in [(4, 3), (3, 2), (2,)])
    grads = grad(lambda W, b: nn.affine(x, W, b).sum(), argnums=(0, 1))(W, b)
    assert [g.dtype for g in grads] == [np.float32, np.float32]


@pytest.mark.parametrize("shapes", [[(4, 3), (2, 3), (3,)], [(4, 3), (3, 2), (3,)], [(4, 2), (3, 2), (2,)],
                                    [(4, 3), (3,), (1,)]])
def test_mismatched_shapes_are_named(shapes, rng):
    x, W, b = (rng.normal(size=s) for s in shapes)
    with pytest.raises(ValueError, match=r"needs x \(\.\.\., n_in\), W \(n_in, n_out\) and b \(n_out,\); got x"):
        nn.affine(x, W, b)


@pytest.mark.parametrize("dtypes", [("float32", "float32", "float32"), ("float32", "float32", "float64"),
                                    ("float64", "float32", "float32"), ("float32", "float64", "float32")])
def test_the_bias_added_in_place_gives_numpys_result_and_dtype(dtypes, rng):
    """affine adds b into the fresh product x @ W when their dtypes agree; otherwise b may promote the
    result, exactly as in x @ W + b, and the inputs are never written."""
    x, W, b = (rng.normal(size=s).astype(d) for s, d in zip([(4, 3), (3, 2), (2,)], dtypes))
    copies = [a.copy() for a in (x, W, b)]
    y, expected = nn.affine(x, W, b), x @ W + b
    assert y.dtype == expected.dtype
    np.testing.assert_array_equal(y, expected)
    for a, before in zip((x, W, b), copies):
        np.testing.assert_array_equal(a, before)
