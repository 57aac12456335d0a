"""Expressions typed by a user, e.g. "log(a*b)", turned into a function of their variables, safely.

The text is parsed with Python's `ast` and only a whitelist is accepted: numbers, variable names, + - * / **,
unary minus and plus, and calls of the functions in FUNCTIONS. Nothing is ever passed to eval: the function
walks the parsed tree itself, calling anp functions, so the engine can trace it.

    expr = parse("log(a*b)")
    expr.variables          # ('a', 'b'), in order of first appearance
    expr(2.0, 3.0)          # 1.791...
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

from .. import numpy as anp

FUNCTIONS: dict[str, tuple[Callable, int]] = {  # name: (function, number of arguments)
    "exp": (anp.exp, 1), "log": (anp.log, 1), "ln": (anp.log, 1), "sin": (anp.sin, 1), "cos": (anp.cos, 1),
    "tanh": (anp.tanh, 1), "sigmoid": (anp.sigmoid, 1), "relu": (anp.relu, 1), "sqrt": (anp.sqrt, 1),
    "abs": (anp.abs, 1), "max": (anp.maximum, 2),
}
OPERATORS = {ast.Add: anp.add, ast.Sub: anp.subtract, ast.Mult: anp.multiply, ast.Div: anp.divide,
             ast.Pow: anp.power}
MAX_LENGTH = 500


class ExpressionError(ValueError):
    """The text is not an expression this module accepts; the message says what is wrong."""


class Expression:
    """A parsed expression: call it with one value per variable, in the order of `variables`."""

    def __init__(self, source: str, tree: ast.expr, variables: tuple[str, ...]) -> None:
        self.source = source
        self.tree = tree
        self.variables = variables

    def __call__(self, *values: Any) -> Any:
        if len(values) != len(self.variables):
            raise TypeError(f"{self.source!r} takes {len(self.variables)} values "
                            f"({', '.join(self.variables)}), got {len(values)}")
        return _evaluate(self.tree, dict(zip(self.variables, values, strict=True)))

    def __repr__(self) -> str:
        return f"Expression({self.source!r}, variables={self.variables})"


def parse(source: str) -> Expression:
    """Check `source` against the whitelist and return it as an Expression; ExpressionError otherwise."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("the expression is empty; write one such as \"log(a*b)\"")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(source)} characters long; at most {MAX_LENGTH} "
                              f"are accepted")
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except SyntaxError as err:
        where = f" at character {err.offset}" if err.offset else ""
        raise ExpressionError(f"{source!r} is not a valid expression{where}: {err.msg}") from None
    variables: list[str] = []
    _check(tree, source, variables)
    return Expression(source, tree, tuple(variables))


def _check(node: ast.AST, source: str, variables: list[str]) -> None:
    """Accept only whitelisted nodes; collect the variable names in order of first appearance."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"{ast.unparse(node)} is not a number; only numbers, variables, + - * / ** "
                                  f"and the functions {', '.join(FUNCTIONS)} are allowed")
        if not math.isfinite(_float(node.value)):
            digits = ast.unparse(node)
            raise ExpressionError(f"the number {digits[:20]}{'…' if len(digits) > 20 else ''} is too large: "
                                  f"numbers are computed as floats, which end near 1.8e308")
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} is a function: call it, as in {node.id}(x)")
        if node.id not in variables:
            variables.append(node.id)
    elif isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        _check(node.left, source, variables)
        _check(node.right, source, variables)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check(node.operand, source, variables)
    elif isinstance(node, ast.Call):
        _check_call(node, source, variables)
    else:
        raise ExpressionError(
            f"{ast.unparse(node)!r} is not allowed in an expression: use numbers, variable names, "
            f"+ - * / **, unary minus and the functions {', '.join(FUNCTIONS)}"
        )


def _check_call(node: ast.Call, source: str, variables: list[str]) -> None:
    if not isinstance(node.func, ast.Name):
        raise ExpressionError(f"{ast.unparse(node.func)!r} cannot be called; call one of "
                              f"{', '.join(FUNCTIONS)}")
    name = node.func.id
    if name not in FUNCTIONS:
        raise ExpressionError(f"unknown function {name!r}; the functions are {', '.join(FUNCTIONS)}")
    if node.keywords:
        raise ExpressionError(f"{name}() takes no keyword arguments")
    arity = FUNCTIONS[name][1]
    if len(node.args) != arity:
        plural = "s" if arity > 1 else ""
        raise ExpressionError(f"{name}() takes {arity} argument{plural}, got {len(node.args)}")
    for arg in node.args:
        _check(arg, source, variables)


def _float(number: int | float) -> float:
    """The number as a float; inf for an integer too large for one (float() would raise)."""
    try:
        return float(number)
    except OverflowError:
        return math.inf


def _evaluate(node: ast.expr, env: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.BinOp):
        return OPERATORS[type(node.op)](_evaluate(node.left, env), _evaluate(node.right, env))
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, env)
        return anp.negative(operand) if isinstance(node.op, ast.USub) else operand
    function = FUNCTIONS[node.func.id][0]
    return function(*(_evaluate(arg, env) for arg in node.args))
