"""autodiff_lab.check.exercise: the checks lecture exercises call. Each says ✓ for a right answer, ✗ with a
diagnosis for a wrong one, and "✗ not answered yet" for a template, and never raises on a student's answer."""

from __future__ import annotations

import numpy as np
import pytest

from autodiff_lab.check import (
    ExerciseReport,
    check_all,
    check_choice,
    check_equal,
    check_function,
    check_gradient,
    check_rule,
    check_topological_order,
    check_value,
)


def template(*args):
    raise NotImplementedError("your code here")


def first_line(report: ExerciseReport) -> str:
    return str(report).splitlines()[0]


@pytest.mark.parametrize("blank", [None, ..., (1.0, ...), [None, 2.0], {"a": 1.0, "b": ...}])
def test_a_blank_answer_is_not_answered_yet(blank):
    report = check_value(blank, (1.0, 2.0), name="grads")
    assert not report.ok and not report.answered
    assert first_line(report).startswith("✗ not answered yet: grads")


def test_check_value_passes_a_right_answer_and_names_the_wrong_entry():
    assert first_line(check_value((9, 3, 3, 3), (9.0, 3.0, 3.0, 3.0))).startswith("✓")
    wrong = check_value((9, 3, -3, 3), (9.0, 3.0, 3.0, 3.0), name="f and grads")
    text = str(wrong)
    assert text.startswith("✗ f and grads is wrong") and "index (2,)" in text and "expected 3, got -3" in text
    assert "sign" in str(check_value(-np.arange(1.0, 4.0), np.arange(1.0, 4.0)))
    assert "transpose" in str(check_value(np.arange(6.0).reshape(3, 2), np.arange(6.0).reshape(2, 3)))
    assert str(check_value("three", 3.0)).startswith("✗") and "str" in str(check_value("three", 3.0))


def test_check_value_compares_a_tuple_of_arrays_part_by_part():
    expected = (np.ones((2, 3)), np.zeros(4))
    assert check_value((np.ones((2, 3)), np.zeros(4)), expected).ok
    report = check_value((np.ones((2, 3)), np.ones(4)), expected, name="dx, dw")
    assert not report.ok and "part 2 of dx, dw" in str(report)


def test_check_function_runs_every_input_set_and_says_which_one_failed():
    square = lambda x: x**2  # noqa: E731
    inputs = [(1.0,), (2.0,), (np.arange(3.0),)]
    assert check_function(lambda x: x * x, square, inputs, name="sq").ok
    report = check_function(lambda x: x * x if np.ndim(x) == 0 else x, square, inputs, name="sq")
    assert not report.ok and "input set 3 of 3" in str(report)
    assert "2 times" in str(check_function(lambda x: 2 * x, square, [(1.0,)], name="sq"))
    assert check_function(lambda x: 2.0, [2.0], [(5.0,)]).ok   # a list of expected values, one per input set


def test_check_function_turns_every_failure_of_the_student_code_into_a_report():
    assert not check_function(template, abs, [(1.0,)]).answered
    assert not check_function(lambda x: None, abs, [(1.0,)]).answered
    raised = check_function(lambda x: 1 / 0, abs, [(1.0,)], name="f")
    assert raised.answered and str(raised).startswith("✗ f raised ZeroDivisionError")
    assert str(check_function(3.0, abs, [(1.0,)], name="f")).startswith("✗ f should be a function")


def test_check_function_gives_each_call_its_own_copy_of_the_inputs():
    def mutating(x):
        x *= 2
        return x
    x = np.arange(3.0)
    assert not check_function(mutating, lambda x: x, [(x,)]).ok
    assert np.array_equal(x, np.arange(3.0))


def test_check_rule_uses_the_rule_checker_and_its_diagnosis():
    cube, x = (lambda x: x**3), (np.array([0.5, 1.5, -2.0]),)
    assert check_rule(cube, lambda g, ans, x: g * 3 * x**2, x).ok
    assert "1/3 times" in str(check_rule(cube, lambda g, ans, x: g * x**2, x))
    assert "sign flipped" in str(check_rule(cube, lambda g, ans, x: -g * 3 * x**2, x))
    assert check_rule(cube, lambda t, ans, x: t * 3 * x**2, x, mode="jvp").ok
    assert not check_rule(cube, lambda g, ans, x: template(), x).answered
    assert not check_rule(cube, ..., x).answered


def test_check_gradient_uses_finite_differences_of_the_function():
    f = lambda x, y, z: (x + y) * z  # noqa: E731
    assert check_gradient((3.0, 3.0, 3.0), f, (1.0, 2.0, 3.0)).ok
    assert not check_gradient((3.0, 3.0, -3.0), f, (1.0, 2.0, 3.0)).ok
    assert check_gradient(3.0, f, (1.0, 2.0, 3.0), argnums=[2]).ok
    assert "3 partial derivatives" in str(check_gradient((3.0, 3.0), f, (1.0, 2.0, 3.0)))
    assert check_gradient(0.1966, lambda s: 1 / (1 + np.exp(-s)), (1.0,), rtol=1e-3).ok


def test_check_choice_and_check_all():
    assert check_choice("x1", ("x0", "x1"), "x1").ok
    wrong = check_choice("x0", ("x0", "x1"), "x1", why="compare the sizes")
    assert not wrong.ok and "compare the sizes" in str(wrong)
    assert "not one of the options" in str(check_choice("w9", ("x0", "x1"), "x1"))
    both = check_all("Exercise 9.9", check_choice("x1", ("x0", "x1"), "x1"), check_value(1.0, 1.0))
    assert both.ok and str(both).startswith("✓ Exercise 9.9")
    one_wrong = check_all("Exercise 9.9", wrong, check_value(1.0, 1.0))
    assert str(one_wrong).startswith("✗ Exercise 9.9") and "compare the sizes" in str(one_wrong)
    assert not check_all("Exercise 9.9", check_choice(..., ("a",), "a"), check_value(1.0, 1.0)).answered


def test_check_equal_for_counts_shapes_and_words():
    assert check_equal([5, 5], (5, 5), name="shape").ok
    wrong = check_equal((5,), (5, 5), name="shape")
    assert not wrong.ok and "expected (5, 5), got (5,)" in str(wrong)
    assert not check_equal(..., 3).answered
    assert not check_equal(object(), 3).ok


class Node:
    def __init__(self, name, *parents):
        self.name, self.parents = name, parents

    def __repr__(self):
        return self.name


def diamond():
    a = Node("a")
    b, c = Node("b", a), Node("c", a)
    return Node("d", b, c, a)


def post_order(root):
    order, visited = [], set()

    def visit(node):
        if id(node) not in visited:
            visited.add(id(node))
            for parent in node.parents:
                visit(parent)
            order.append(node)
    visit(root)
    return order


def test_check_topological_order_accepts_any_valid_order_and_names_the_fault():
    chain = Node("z", Node("y", Node("x")))
    assert check_topological_order(post_order, [diamond(), chain]).ok

    def no_memory(root):
        return [p for parent in root.parents for p in no_memory(parent)] + [root]
    twice = check_topological_order(no_memory, [chain, diamond()])
    assert "graph 2 of 2" in str(twice) and "listed twice" in str(twice)
    reversed_order = check_topological_order(lambda root: post_order(root)[::-1], [diamond()])
    assert "comes before its input" in str(reversed_order)
    assert "missing" in str(check_topological_order(lambda root: post_order(root)[1:], [diamond()]))
    assert not check_topological_order(template, [diamond()]).answered
    assert "raised" in str(check_topological_order(lambda root: root.nope, [diamond()]))


def test_check_function_waits_for_an_earlier_exercise_its_reference_needs():
    report = check_function(lambda x: x, lambda x: template(), [(1.0,)], name="backward")
    assert not report.answered and "needs the exercises before it" in str(report)


def test_a_failing_input_set_names_arrays_by_their_shape():
    report = check_function(lambda A, x: A @ x, lambda A, x: 2 * (A @ x), [(np.ones((3, 2)), np.ones(2))], name="f")
    assert "input set 1 of 1: (array of shape (3, 2), array of shape (2,))" in str(report)
