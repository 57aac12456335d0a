"""checkpoint(f): the same values and derivatives as f, to any order, while the tape keeps only f's inputs and
output; the backward pass recomputes f once per call."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_lab as ad
import autodiff_lab.numpy as anp
from autodiff_lab import checkpoint, grad, jacfwd, jacrev, jvp, vjp
from autodiff_lab.check import check_grads, numerical_grad
from autodiff_lab.tape_memory import tape_memory


def layers(h, *weights):
    for w in weights:
        h = anp.tanh(h @ w)
    return h


def network(x, weights, block=None):
    """sum(h_n^2) of a tanh network; with `block`, every `block` layers are one checkpoint."""
    step = len(weights) if block is None else block
    run = layers if block is None else checkpoint(layers)
    h = x
    for start in range(0, len(weights), step):
        h = run(h, *weights[start:start + step])
    return anp.sum(h * h)


def weights_of(n, width=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(n)]


def test_checkpointed_network_has_the_gradients_of_the_stored_one(arr, close):
    x, ws = arr(np.linspace(-1, 1, 12).reshape(3, 4)), [arr(w) for w in weights_of(6)]
    stored = grad(network, argnums=(0, 1))(x, ws)
    for block in (1, 2, 3, 6):
        assert close(grad(lambda x, ws, b=block: network(x, ws, b), argnums=(0, 1))(x, ws), stored)
    assert close(network(x, ws, 2), network(x, ws))


def test_checkpoint_derivatives_match_finite_differences_to_second_order(arr):
    f = checkpoint(lambda x, w: anp.sin(x * w) * anp.exp(-x))
    report = check_grads(f, (arr([0.3, -0.7, 1.1]), arr([0.5, 2.0, -1.5])), order=2)
    assert report.ok, report


def test_grad_of_grad_and_jvp_of_grad_through_a_checkpoint(arr, close):
    f = checkpoint(lambda x: anp.sin(x) * x ** 3)
    x = arr(0.8)
    d1 = lambda x: np.cos(x) * x**3 + 3 * np.sin(x) * x**2  # noqa: E731
    d2 = -np.sin(0.8) * 0.8**3 + 6 * np.cos(0.8) * 0.8**2 + 6 * np.sin(0.8) * 0.8
    assert close(grad(f)(x), d1(0.8))
    assert close(grad(grad(f))(x), d2)
    assert close(jvp(grad(f), (x,), (arr(1.0),))[1], d2)
    v = arr([0.8])
    assert close(jacfwd(jacrev(lambda v: f(v) * v))(v), jacfwd(jacrev(lambda v: anp.sin(v) * v**4))(v))


def test_the_tape_keeps_only_the_block_inputs_and_outputs(arr):
    x, ws = arr(np.ones((5, 4))), [arr(w) for w in weights_of(8)]
    stored, blocks = tape_memory(network, x, ws), tape_memory(lambda x, ws: network(x, ws, 2), x, ws)
    # stored: 9 inputs, then matmul and tanh per layer, then h * h and the sum; checkpointed: one step per block
    assert stored.steps == 9 + 2 * 8 + 2 and blocks.steps == 9 + 4 + 2
    assert stored.bytes == (2 * 8 + 1) * 5 * 4 * 8 + 8 and blocks.bytes == (4 + 1) * 5 * 4 * 8 + 8


def test_f_is_recomputed_once_per_call_in_the_backward_pass_whatever_the_number_of_arguments(arr):
    calls = []

    def f(a, b, c):
        calls.append(1)
        return a * b + c

    g = checkpoint(f)
    _, pullback = vjp(lambda a, b, c: anp.sum(g(a, b, c) * 2.0), arr([1.0, 2.0]), arr([3.0, 4.0]), arr([5.0, 6.0]))
    assert len(calls) == 1  # the forward pass
    ga, gb, gc = pullback(arr(1.0))
    assert len(calls) == 2 and np.allclose(ad.to_numpy(ga), [6.0, 8.0]) and np.allclose(ad.to_numpy(gc), [2.0, 2.0])
    pullback(arr(1.0))
    assert len(calls) == 3  # called again, it recomputes again


def test_constant_and_integer_arguments_pass_through(arr, close):
    f = checkpoint(lambda x, n, scale: anp.sum(x[:n] ** 2) * scale)
    x = arr([1.0, 2.0, 3.0])
    assert close(grad(f)(x, 2, 0.5), [1.0, 2.0, 0.0])
    assert close(grad(f, argnums=2)(x, 2, 0.5), 5.0)


def test_checkpoint_outside_any_transformation_is_f():
    f = checkpoint(lambda x: x * 2 + 1)
    assert f(3.0) == 7.0 and f.name == "checkpoint(<lambda>)"


def test_bad_uses_say_what_to_do(arr):
    with pytest.raises(TypeError, match="checkpoint takes a function"):
        checkpoint(3.0)
    pair = checkpoint(lambda x: (x, x))
    with pytest.raises(TypeError, match="return one array.*tuple"):
        grad(lambda x: pair(x)[0])(arr(1.0))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 6), block=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_any_cut_into_blocks_gives_the_finite_difference_gradient(n, block, seed):
    ws = weights_of(n, width=3, seed=seed)
    x = np.random.default_rng(seed + 1).standard_normal((2, 3))
    g = grad(lambda x: network(x, ws, block))(x)
    assert np.allclose(g, numerical_grad(lambda x: network(x, ws), x), rtol=1e-6, atol=1e-8)
    assert tape_memory(lambda x: network(x, ws, block), x).steps == 1 + 2 * n + 2 - sum(
        2 * len(ws[s:s + block]) - 1 for s in range(0, n, block))


def test_a_checkpoint_in_a_traced_graph_gets_its_gradients(arr, close):
    # graph.trace asks a step's rule for each edge again after the backward pass: the checkpoint recomputes
    from autodiff_lab import graph

    ws = [arr(w) for w in weights_of(4, width=2)]
    x = arr([[0.5, -1.0]])
    traced = graph.trace(lambda x: network(x, ws, 2), x)
    assert [n.op for n in traced.nodes].count("checkpoint(layers)") == 2
    assert close(traced.nodes[0].grad, grad(lambda x: network(x, ws))(x))


def test_a_differentiated_value_read_from_outside_f_is_refused_with_the_fix(arr, close):
    W, x = arr([[0.5, -0.2], [0.3, 0.8]]), arr([[1.0, 2.0]])

    def loss_reading_w(w):
        return anp.sum(checkpoint(lambda h: anp.tanh(h @ w))(x))  # w, being differentiated, read from outside

    with pytest.raises(TypeError, match=r"not given as an argument.*checkpoint\(lambda h, W: h @ W\)\(h, W\)"):
        grad(loss_reading_w)(W)
    # passed in, it is differentiated; read from outside as a constant, it is fine
    passed = checkpoint(lambda h, w: anp.tanh(h @ w))
    assert close(grad(lambda w: anp.sum(passed(x, w)))(W), grad(lambda w: anp.sum(anp.tanh(x @ w)))(W))
    constant_w = checkpoint(lambda h: anp.tanh(h @ W))
    assert close(grad(lambda x: anp.sum(constant_w(x)))(x), grad(lambda x: anp.sum(anp.tanh(x @ W)))(x))
