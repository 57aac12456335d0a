"""What the drawings show: names, values, gradients and the chain rule on the edges, laid out by `dot`."""

import re

import numpy as np
import pytest

from autodiff_lab import Value, graph, viz
from autodiff_lab.viz import examples, text
from autodiff_lab.viz.fit import svg_text


def test_add_mul_drawing_shows_the_slides_numbers(texts):
    shown = texts(viz.draw(examples.add_mul()))
    for word in ("x", "y", "z", "q", "f", "-2", "5", "-4", "3", "-12"):
        assert word in shown
    # local gradients, and downstream = upstream x local on each edge
    for line in ("local 1", "local -4", "local 3", "upstream -4", "upstream 1",
                 "downstream -4 × 1 = -4", "downstream 1 × (-4) = -4", "downstream 1 × 3 = 3"):
        assert line in shown, line
    assert shown.count("local 1") == 2  # both inputs of the add gate


def test_neuron_drawing_shows_values_and_gradients(texts):
    shown = texts(viz.draw(examples.neuron()))
    for number in ("0.731", "0.197", "-0.197", "0.393", "-0.393", "-0.59"):
        assert number in shown, number
    assert "local 0.197" in shown  # sigma(1) (1 - sigma(1)), the sigmoid's local gradient
    assert any("parameter" in t for t in shown) and any("input" in t for t in shown)


def test_ln_sin_drawing(texts):
    shown = texts(viz.draw(examples.ln_sin()))
    assert {"11.652", "5.5", "1.716", "ln", "sin", "local 0.5", "local 0.284"} <= set(shown)


def test_show_switches_parts_off(texts):
    g = examples.add_mul()
    only_values = texts(viz.draw(g, show=("value",)))
    assert "-12" in only_values
    assert not any(t.startswith(("local", "upstream", "downstream", "grad")) for t in only_values)
    local_only = " ".join(texts(viz.draw(g, show=["value", "local"])))
    assert "local -4" in local_only and "upstream" not in local_only
    no_product = texts(viz.draw(g, show=("downstream",)))
    assert "downstream -4" in no_product  # without local and upstream shown, no product is written


def test_unknown_show_option_and_rankdir_are_named():
    with pytest.raises(ValueError, match="unknown show= option 'gradient'.*value, grad"):
        viz.draw(examples.add_mul(), show=("value", "gradient"))
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw(examples.add_mul(), rankdir="sideways")


def test_drawing_before_backward_shows_values_only(texts):
    x, y = Value(2.0, "x"), Value(3.0, "y")
    out = (x * y).tanh()
    shown = texts(viz.draw(out))
    assert "2" in shown and "3" in shown and "local 3" in shown
    assert not any(t.startswith(("grad", "upstream", "downstream")) for t in shown)


def test_kinds_are_told_apart():
    source = viz.draw(examples.neuron()).source
    assert source.count('fillcolor="#dcfce7"') == 3      # parameters w0 w1 w2
    assert source.count('fillcolor="#dbeafe"') == 2      # inputs x0 x1
    assert source.count("peripheries=2") == 1           # the output
    const = viz.draw(graph.trace(lambda x: 2.0 * x, 3.0)).source
    assert "dashed" in const and "constant" in const


def test_array_edges_show_vjp_shapes_and_the_jacobian_never_built(texts):
    shown = texts(viz.draw(examples.two_layer_net(), fold=False))
    assert "VJP: ḡ (4, 5) ↦ (4, 3)" in shown                 # through X @ W1, back to X
    assert "J would be 20×12 = 1.88 KiB; never built" in shown
    assert "float64 (3, 5)" in shown


def test_jacobian_note_for_the_lecture_sizes():
    x = np.empty((64, 4096), dtype=np.float32)
    assert text.jacobian_note(x, x) == "J would be 262144×262144 = 256 GiB; never built"
    assert text.jacobian_note(np.empty(4096), np.empty(4096)) == "J would be 4096×4096 = 128 MiB; never built"


def test_forward_mode_edges_carry_tangents(texts):
    g = graph.forward_trace(lambda a, b: a * b + b, (2.0, 3.0), (1.0, 0.0))
    shown = texts(viz.draw(g))
    assert "tangent 3" in shown          # d(a*b) along a = b = 3, on the edge a -> a*b and on the output
    assert "tangent 0" in shown
    assert not any(t.startswith("grad") for t in shown)


def test_gradient_flow_patterns_are_visible(texts):
    mul = texts(viz.draw(examples.gate("mul")))
    assert "downstream 2 × (-4) = -8" in mul and "downstream 2 × 3 = 6" in mul
    max_ = texts(viz.draw(examples.gate("max")))
    assert "local 1" in max_ and "local 0" in max_ and "downstream 2 × 0 = 0" in max_
    add = texts(viz.draw(examples.gate("add")))
    assert add.count("downstream 2 × 1 = 2") == 2
    copy = texts(viz.draw(examples.gate("copy")))
    assert "downstream 2 × 4 = 8" in copy and "downstream 2 × (-1) = -2" in copy and "6" in copy


@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_renders_through_dot(fmt, magic):
    assert viz.draw(examples.log_ab()).pipe(format=fmt).startswith(magic)


def test_a_graph_shows_itself_in_jupyter():
    bundle = examples.add_mul()._repr_mimebundle_()
    assert "image/svg+xml" in bundle and "-12" in bundle["image/svg+xml"].replace("&#45;", "-")


def test_gradients_accumulated_over_several_backward_calls_are_pointed_out(texts):
    x = Value(3.0, "x")
    L = x * x + x
    L.backward()
    L.backward()
    shown = " ".join(texts(viz.draw(L)))
    assert "14" in shown and "downstream 1 × 3 = 3" in shown   # x.grad is twice the sum of its edges
    assert "gradients accumulated over several backward() calls (x has 14, its edges add up to 7)" in shown


def test_complex_numbers_are_written_as_python_writes_them(texts):
    shown = texts(viz.draw(graph.trace(lambda x: x * x, 1 + 2j)))
    assert {"1+2j", "-3+4j", "2+4j", "downstream 1 × (1+2j) = 1+2j"} <= set(shown)
    assert text.entries(np.array([1 + 2j, 3j, -1 - 0.5j, 2 + 0j])) == "[1+2j, 3j, -1-0.5j, 2]"


def test_labels_are_never_dot_syntax(texts):
    x = Value(0.5, "x\\")
    L = x
    for i in range(50):   # long enough for edges that start at a "⋯ x\" reference
        L = L * 1.5 if i % 2 else L + x
    L.label = "L\\"
    L.backward()
    assert "x\\" in texts(viz.draw(L)) and "⋯ x\\" in texts(viz.draw(L, max_nodes=20))


def test_a_constant_shows_no_gradient():
    """A Value constant (the 1 of e + 1) gets a gradient from backward, but nothing uses it: it is not drawn."""
    x = Value(0.5, "x")
    out = x.exp() + 1.0
    out.backward()
    svg = svg_text(viz.draw(out))
    constant = re.search(r'<title>n\d+</title>\n<path fill="#f3f4f6".*?</g>', svg, re.S)
    assert constant is not None and ">1<" in constant.group(0).replace("1.000", "1")
    assert "grad" not in constant.group(0)
    assert svg.count(">grad<") == 3   # x, exp x and the output
