"""Typed expressions are parsed with a whitelist, never evaluated as Python."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodiff_lab.viz.expression import ExpressionError, parse


def test_variables_in_order_of_appearance_and_values():
    expr = parse("log(a*b) + max(b, -c) ** 2 / sqrt(a)")
    assert expr.variables == ("a", "b", "c")
    a, b, c = 2.0, 3.0, 1.0
    assert float(expr(a, b, c)) == pytest.approx(math.log(a * b) + max(b, -c) ** 2 / math.sqrt(a))
    assert float(parse("-x + +y")(1.0, 5.0)) == 4.0
    assert float(parse("sigmoid(0) + relu(-2) + tanh(0) + abs(-1) + ln(1)")()) == 1.5


@pytest.mark.parametrize("text, message", [
    ("__import__('os')", "unknown function '__import__'"),
    ("__import__('os').system('true')", "cannot be called"),
    ("a.real", "not allowed"),
    ("a[0]", "not allowed"),
    ("lambda: 1", "not allowed"),
    ("a if b else c", "not allowed"),
    ("'text'", "is not a number"),
    ("True", "is not a number"),
    ("2j", "is not a number"),
    ("foo(x)", "unknown function 'foo'"),
    ("exp", "exp is a function: call it"),
    ("exp(x, y)", "takes 1 argument, got 2"),
    ("max(x)", "takes 2 arguments, got 1"),
    ("exp(x=1)", "no keyword arguments"),
    ("(lambda: 1)()", "cannot be called"),
    ("a +", "not a valid expression"),
    ("a < b", "not allowed"),
    ("a % b", "not allowed"),
    ("", "empty"),
    ("x+" * 300 + "x", "at most 500"),
    ("1" * 400 + " * a", "the number 1111.*… is too large"),   # float() of it would overflow
    ("1e999 * a", "is too large"),
])
def test_anything_else_is_refused_with_a_reason(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text)


@given(st.text(alphabet="abxy019.()+-*/ _'[]:,=<>lambdaexpimportos", max_size=40))
def test_any_text_is_parsed_or_refused_never_run(text):
    try:
        expr = parse(text)
    except ExpressionError:
        return
    assert all(name.isidentifier() for name in expr.variables)
