"""The scalar engine: every operation's value and local derivatives, backward, accumulation, deep graphs."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodiff_lab import Value

UNARY = {
    "exp": (math.exp, math.exp),
    "log": (math.log, lambda x: 1 / x),
    "sin": (math.sin, math.cos),
    "cos": (math.cos, lambda x: -math.sin(x)),
    "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    "sigmoid": (lambda x: 1 / (1 + math.exp(-x)), lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2),
    "relu": (lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0),
}


@pytest.mark.parametrize("name", UNARY)
@given(x=st.floats(0.1, 5.0))
def test_unary_value_and_local_gradient(name, x):
    f, df = UNARY[name]
    y = getattr(Value(x), name)()
    assert math.isclose(y.data, f(x), rel_tol=1e-12)
    assert math.isclose(y.local_grads[0], df(x), rel_tol=1e-9, abs_tol=1e-12)
    y.backward()
    assert y.op == name and math.isclose(y.parents[0].grad, df(x), rel_tol=1e-9, abs_tol=1e-12)


@given(a=st.floats(-5, 5), b=st.floats(0.5, 5))
def test_binary_operators_with_numbers_on_either_side(a, b):
    x, y = Value(a), Value(b)
    cases = [
        (x + y, a + b, (1, 1)), (x - y, a - b, (1, -1)), (x * y, a * b, (b, a)),
        (x / y, a / b, (1 / b, -a / b**2)), (x + 2, a + 2, (1, 1)), (2 + x, a + 2, (1, 1)),
        (3 - x, 3 - a, (1, -1)), (x * 3, 3 * a, (3, a)), (3 * x, 3 * a, (3, a)), (1 / y, 1 / b, (1 / b, -1 / b**2)),
    ]
    for out, value, local in cases:
        assert math.isclose(out.data, value, rel_tol=1e-12, abs_tol=1e-12)
        assert all(math.isclose(g, d, rel_tol=1e-12, abs_tol=1e-12) for g, d in zip(out.local_grads, local))
    assert math.isclose((-x).data, -a) and (-x).local_grads == (-1.0,)
    assert math.isclose((y**3).local_grads[0], 3 * b**2) and (y**3).op == "**3"


def test_backward_matches_finite_differences_on_a_neuron():
    def neuron(w0, x0, w1, x1, b):
        return (w0 * x0 + w1 * x1 + b).sigmoid()

    args = [2.0, -1.0, -3.0, -2.0, -3.0]
    vals = [Value(a) for a in args]
    out = neuron(*vals)
    out.backward()
    for i in range(len(args)):
        h = 1e-6
        up = list(args)
        dn = list(args)
        up[i] += h
        dn[i] -= h
        numeric = (neuron(*map(Value, up)).data - neuron(*map(Value, dn)).data) / (2 * h)
        assert math.isclose(vals[i].grad, numeric, rel_tol=1e-6, abs_tol=1e-9)
    assert round(vals[0].grad, 2) == -0.2 and round(vals[1].grad, 2) == 0.39  # the slides' neuron


def test_a_value_used_twice_adds_its_gradients():
    a = Value(3.0)
    b = a * a + a
    b.backward()
    assert a.grad == 2 * 3.0 + 1


def test_backward_twice_accumulates_in_leaves_only():
    a, b = Value(2.0), Value(-1.0)
    c = a * b
    d = c.tanh()
    d.backward()
    first = (a.grad, b.grad, c.grad)
    d.backward()
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])
    assert c.grad == first[2]  # inner nodes hold the latest pass
    d.zero_grad()
    assert a.grad == b.grad == c.grad == d.grad == 0.0


def test_deep_chain_of_100k_nodes_has_no_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0 and len(y.topological_order()) == 4 * 100_000 + 1  # x, and per step 2 constants + 2 ops


def test_topological_order_puts_parents_first():
    a, b = Value(1.0, "a"), Value(2.0, "b")
    c = a * b
    d = c + a
    order = d.topological_order()
    position = {id(v): i for i, v in enumerate(order)}
    for v in order:
        assert all(position[id(p)] < position[id(v)] for p in v.parents)


def test_power_needs_a_number_exponent():
    with pytest.raises(TypeError, match="exponent must be a number"):
        Value(2.0) ** Value(3.0)


def test_repr_shows_label_data_and_grad():
    assert repr(Value(2.0, "a")) == "Value(a=2, grad=0)"


@pytest.mark.parametrize("n, value, slope", [(0, 1.0, 0.0), (0.5, 0.0, math.inf), (1, 0.0, 1.0), (2, 0.0, 0.0),
                                             (2.5, 0.0, 0.0)])
def test_power_at_zero_has_its_value_and_slope(n, value, slope):
    """0 ** n exists for n >= 0; n x^(n-1) would divide by 0 there when n < 1."""
    y = Value(0.0) ** n
    assert y.data == value and y.local_grads == (slope,)



def test_a_negative_base_to_a_fractional_power_is_an_error_not_a_complex_value():
    with pytest.raises(ValueError, match=r"\(-1\) \*\* 0.5 is not a real number"):
        Value(-1.0) ** 0.5
    assert (Value(-2.0) ** 3).data == -8.0 and (Value(-2.0) ** 2.0).local_grads == (-4.0,)
