"""The neutral Graph: nodes, edges and the numbers of the chain rule, from Values and from traces."""

import numpy as np
import pytest

import autodiff_lab.numpy as anp
from autodiff_lab import Dual, Value, grad, graph, viz
from autodiff_lab.viz import examples


def by_label(g, label):
    (node,) = [n for n in g.nodes if n.label == label]
    return node


def test_value_graph_has_the_slides_numbers_for_add_mul():
    g = examples.add_mul()
    assert [by_label(g, v).grad for v in "xyzqf"] == [-4.0, -4.0, 3.0, -4.0, 1.0]
    assert by_label(g, "f").value == -12.0 and by_label(g, "f").kind == "output"
    locals_ = {(g.nodes[e.parent].label, g.nodes[e.child].label): e.local for e in g.edges}
    assert locals_ == {("x", "q"): 1.0, ("y", "q"): 1.0, ("q", "f"): -4.0, ("z", "f"): 3.0}
    for e in g.edges:
        assert e.downstream == e.upstream * e.local
        assert e.upstream == g.nodes[e.child].grad


def test_nodes_are_in_topological_order_and_edges_point_forward():
    for g in (examples.neuron(), examples.ln_sin(), examples.two_layer_net()):
        assert [n.id for n in g.nodes] == list(range(len(g.nodes)))
        assert all(e.parent < e.child for e in g.edges)


def test_value_graph_before_backward_has_values_only():
    g = examples.add_mul(backward=False)
    assert not g.has_grads
    assert all(n.grad is None for n in g.nodes) and all(e.upstream is None for e in g.edges)
    assert [e.local for e in g.edges] == [1.0, 1.0, -4.0, 3.0]


def test_kinds_input_param_const_output():
    kinds = {n.label: n.kind for n in examples.neuron().nodes}
    assert kinds["w0"] == kinds["w2"] == "param" and kinds["x0"] == "input"
    assert kinds["s2"] == "op" and kinds["L"] == "output"
    g = graph.trace(lambda x: 2.0 * x, 3.0)
    assert [n.kind for n in g.nodes] == ["input", "const", "output"]
    assert g.nodes[1].value == 2.0


def test_trace_of_ln_sin_matches_the_lecture():
    g = examples.ln_sin()
    out = g.nodes[g.outputs[0]]
    assert float(out.value) == pytest.approx(11.652, abs=1e-3)
    assert float(by_label(g, "x1").grad) == pytest.approx(5.5)
    assert float(by_label(g, "x2").grad) == pytest.approx(1.716, abs=1e-3)


@pytest.mark.parametrize("build", [examples.neuron, examples.add_mul, examples.ln_sin, examples.log_ab,
                                   examples.two_layer_net, lambda: examples.gate("copy")])
def test_a_nodes_gradient_is_the_sum_of_its_edges_downstream_shares(build):
    g = build()
    for node in g.nodes:
        shares = [e.downstream for e in g.edges if e.parent == node.id and e.downstream is not None]
        if shares and node.kind != "const":
            np.testing.assert_allclose(sum(shares), node.grad, rtol=1e-12)


def test_traced_gradients_agree_with_grad():
    g = examples.two_layer_net()
    names = ["X", "Y", "W1", "b1", "W2", "b2"]
    leaves = [by_label(g, n) for n in names]

    def loss(X, Y, W1, b1, W2, b2):
        return anp.mean((anp.relu(X @ W1 + b1) @ W2 + b2 - Y) ** 2)

    expected = grad(loss, argnums=tuple(range(6)))(*(n.value for n in leaves))
    for node, want in zip(leaves, expected, strict=True):
        np.testing.assert_allclose(node.grad, want)


def test_array_edges_keep_local_only_where_the_jacobian_is_one_row():
    g = examples.two_layer_net()
    mean_node = g.nodes[g.outputs[0]]
    (into_mean,) = [g.edges[k] for k in g.edges_into(mean_node.id)]
    np.testing.assert_allclose(into_mean.local, np.full((4, 2), 1 / 8))  # d mean / d x = 1/n everywhere
    matmul_edges = [e for e in g.edges if g.nodes[e.child].op == "matmul"]
    assert matmul_edges and all(e.local is None and e.downstream is not None for e in matmul_edges)


def test_forward_trace_pushes_tangents():
    def fn(x1, x2):
        return anp.log(x1) + x1 * x2 - anp.sin(x2)

    g = graph.forward_trace(fn, (2.0, 5.0), (1.0, 0.0))
    assert not g.has_grads and g.has_tangents
    assert float(g.nodes[g.outputs[0]].tangent) == pytest.approx(5.5)
    g2 = graph.forward_trace(fn, (2.0, 5.0), (0.0, 1.0))
    assert float(g2.nodes[g2.outputs[0]].tangent) == pytest.approx(1.716, abs=1e-3)
    for node in g.nodes:
        parts = [e.tangent for e in g.edges if e.child == node.id and e.tangent is not None]
        if parts:
            assert float(sum(parts)) == pytest.approx(float(node.tangent))


def test_names_come_from_the_signature_or_names_and_nest_for_containers():
    g = graph.trace(lambda params, x: anp.sum(params["W"] @ x + params["b"]),
                    {"W": np.ones((2, 3)), "b": np.zeros(2)}, np.ones(3), params=("params",))
    labels = [n.label for n in g.nodes if n.kind in ("input", "param")]
    assert labels == ["params['W']", "params['b']", "x"]
    assert by_label(g, "params['W']").kind == "param" and by_label(g, "x").kind == "input"
    g = graph.trace(lambda a, b: a * b, 2.0, 3.0, names=("u", "v"))
    assert [n.label for n in g.nodes[:2]] == ["u", "v"]


@pytest.mark.parametrize("kind, inputs, grads", [
    ("add", ("x", "y"), (2.0, 2.0)),    # distributes
    ("mul", ("x", "y"), (-8.0, 6.0)),   # swaps: x gets 2*y, y gets 2*x
    ("max", ("x", "y"), (2.0, 0.0)),    # routes to the larger
    ("copy", ("x", "a", "b"), (6.0, 4.0, 4.0)),  # x used twice: 2*4 + 2*(-1)
])
def test_gradient_flow_patterns(kind, inputs, grads):
    g = examples.gate(kind)
    assert [float(by_label(g, name).grad) for name in inputs] == list(grads)
    if kind == "copy":
        x = by_label(g, "x")
        assert sorted(float(e.downstream) for e in g.edges if e.parent == x.id) == [-2.0, 8.0]


def test_seed_sets_the_upstream_gradient_of_the_output():
    g = graph.trace(lambda x: x * x, 3.0, seed=2.0)
    assert float(g.nodes[0].grad) == 12.0


def test_bad_inputs_get_clear_messages():
    with pytest.raises(TypeError, match="from_value"):
        graph.trace(lambda v: v, Value(1.0))
    with pytest.raises(TypeError, match="floating-point"):
        graph.trace(lambda x: x * 2, 3)
    with pytest.raises(ValueError, match="does not depend on its inputs"):
        graph.trace(lambda x: 3.0, 1.0)
    with pytest.raises(ValueError, match="one name per argument"):
        graph.trace(lambda a, b: a * b, 1.0, 2.0, names=("a",))
    with pytest.raises(ValueError, match="shape"):
        graph.forward_trace(lambda x: x, (np.ones(3),), (np.ones(2),))
    with pytest.raises(TypeError, match="forward_trace"):
        viz.draw(Dual(1.0, 1.0))
    with pytest.raises(TypeError, match=r"graph\.trace\(f, \*args\)"):
        viz.draw(lambda x: x)
    with pytest.raises(TypeError, match="cannot draw a ndarray"):
        viz.draw(np.ones(3))
    with pytest.raises(TypeError, match="needs a Value"):
        graph.from_value(2.0)


def test_each_output_keeps_the_seed_it_was_given():
    def two_outputs(x):
        y = anp.sin(x)
        return y, y * 2.0

    g = graph.trace(two_outputs, 1.0)
    first, second = g.outputs
    assert [float(g.seed(o)) for o in g.outputs] == [1.0, 1.0]
    assert float(g.nodes[first].grad) == 3.0 and float(g.nodes[second].grad) == 1.0   # 1 + 1 × 2 for the first
    value_graph = examples.add_mul()
    assert value_graph.seed(value_graph.outputs[0]) == 1.0   # a Value graph: its one output's gradient


def test_a_trace_inside_a_transformation_must_not_close_over_its_traced_values():
    with pytest.raises(TypeError, match=r"enclosing transformation.*pass that value to f as an argument"):
        grad(lambda x: graph.trace(lambda y: x * y, 2.0).nodes[-1].value)(3.0)
    inside = grad(lambda x: float(graph.trace(lambda y: y * 2.0, 2.0).nodes[0].grad) * x)(3.0)
    assert inside == 2.0   # a trace of its own numbers is fine anywhere
