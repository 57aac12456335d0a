"""Trace tables: the Wengert list with primal, tangent and adjoint traces, as in the lectures."""

import numpy as np
import pytest

import autodiff_lab.numpy as anp
from autodiff_lab import Value, viz
from autodiff_lab.viz import examples

ln_sin = examples.ln_sin_f  # in the lecture's order: ln, ×, sin, +, −


def rows(section):
    return [(r.name, r.expression, r.value_text) for r in section]


def test_ln_sin_table_reproduces_the_lecture():
    table = viz.trace_table(ln_sin, 2.0, 5.0)
    assert float(table.value) == pytest.approx(11.652, abs=1e-3)
    assert float(table.tangent_out) == pytest.approx(5.5)
    assert {k: round(float(v), 3) for k, v in table.gradients.items()} == {"x1": 5.5, "x2": 1.716}
    assert rows(table.primal) == [
        ("v₋₁", "x1", "2"), ("v₀", "x2", "5"), ("v₁", "ln v₋₁", "0.693"), ("v₂", "v₋₁ × v₀", "10"),
        ("v₃", "sin v₀", "-0.959"), ("v₄", "v₁ + v₂", "10.693"), ("v₅", "v₄ − v₃", "11.652"),
        ("y", "v₅", "11.652"),
    ]
    tangent = rows(table.tangent)
    assert tangent[2] == ("v̇₁", "∂v₁/∂v₋₁ v̇₋₁ = 0.5 × 1", "0.5")
    assert tangent[-1] == ("ẏ", "v̇₅", "5.5")
    adjoint = rows(table.adjoint)
    assert adjoint[0] == ("v̄₅", "ȳ", "1")
    assert [name for name, _, _ in adjoint[1:9]] == ["v̄₄", "v̄₃", "v̄₁", "v̄₂", "v̄₀", "v̄₋₁", "v̄₀", "v̄₋₁"]
    assert adjoint[7] == ("v̄₀", "v̄₀ + v̄₂ ∂v₂/∂v₀ = -0.284 + 1 × 2", "1.716")
    assert adjoint[8] == ("v̄₋₁", "v̄₋₁ + v̄₁ ∂v₁/∂v₋₁ = 5 + 1 × 0.5", "5.5")
    assert adjoint[-2:] == [("x̄1", "v̄₋₁", "5.5"), ("x̄2", "v̄₀", "1.716")]


def test_tangents_choose_the_direction():
    table = viz.trace_table(ln_sin, 2.0, 5.0, tangents=(0.0, 1.0))
    assert float(table.tangent_out) == pytest.approx(1.716, abs=1e-3)
    with pytest.raises(ValueError, match="one tangent per argument"):
        viz.trace_table(ln_sin, 2.0, 5.0, tangents=(1.0,))


def test_log_ab_table():
    table = viz.trace_table(lambda a, b: anp.log(a * b), 2.0, 3.0)
    assert float(table.value) == pytest.approx(1.791, abs=1e-3)
    assert [round(float(g), 3) for g in table.gradients.values()] == [0.5, 0.333]


def test_text_and_html_forms():
    table = viz.trace_table(ln_sin, 2.0, 5.0)
    plain = str(table)
    assert plain.startswith("Forward primal trace") and "Reverse adjoint trace" in plain
    assert "v₅  = v₄ − v₃" in plain and "= 11.652" in plain
    page = table._repr_html_()
    assert page.count("<table") == 3 and "Forward tangent trace" in page and "1.716" in page


def test_table_of_a_value_graph_and_of_arrays():
    table = viz.trace_table(examples.add_mul())
    assert not table.tangent and [r.value_text for r in table.adjoint[-3:]] == ["-4", "-4", "3"]
    arrays = viz.trace_table(lambda W, x: anp.sum(anp.tanh(W @ x)), np.ones((2, 3)), np.arange(3.0))
    assert ("v₁", "v₋₁ @ v₀", "(2,) [3, 3]") in rows(arrays.primal)
    assert any("VJP(v̄₁)" in r.expression for r in arrays.adjoint)   # a Jacobian is never written out
    with pytest.raises(TypeError, match="no further arguments"):
        viz.trace_table(examples.add_mul(), 1.0)


def test_an_output_that_feeds_another_is_seeded_with_its_own_seed():
    def two_outputs(x):
        y = anp.sin(x)
        return y, y * 2.0

    adjoint = rows(viz.trace_table(two_outputs, 1.0).adjoint)
    assert adjoint[:3] == [("v̄₁", "ȳ₁", "1"), ("v̄₂", "ȳ₂", "1"), ("v̄₁", "v̄₁ + v̄₂ ∂v₂/∂v₁ = 1 + 1 × 2", "3")]
    identity = viz.trace_table(lambda x: (x, x * 3.0), 2.0)
    assert rows(identity.primal)[-2:] == [("y₁", "v₀", "2"), ("y₂", "v₁", "6")]   # not "x = v₀"
    assert rows(identity.adjoint) == [("v̄₀", "ȳ₁", "1"), ("v̄₁", "ȳ₂", "1"),
                                      ("v̄₀", "v̄₀ + v̄₁ ∂v₁/∂v₀ = 1 + 1 × 3", "4"), ("x̄", "v̄₀", "4")]


@pytest.mark.parametrize("f, output", [
    (lambda x, y: x * y, "f"),                   # an input is called y
    (lambda y, f: y * f, "out"),
    (lambda y, f, out: y * f * out, "out2"),
], ids=["input y", "inputs y f", "inputs y f out"])
def test_the_output_is_never_named_like_an_input(f, output):
    table = viz.trace_table(f, *[2.0] * f.__code__.co_argcount)
    assert table.primal[-1].name == output


def test_gradients_accumulated_over_several_backward_calls_are_pointed_out():
    x = Value(3.0, "x")
    L = x * x + x
    L.label = "L"
    L.backward()
    assert "accumulated" not in str(viz.trace_table(L))
    L.backward()
    table = viz.trace_table(L)
    assert table.adjoint[-1].value_text == "14"   # x.grad, after two passes of 7
    note = "gradients accumulated over several backward() calls (x has 14, its edges add up to 7)"
    assert note in str(table) and "L.zero_grad()" in str(table) and note in table._repr_html_()
