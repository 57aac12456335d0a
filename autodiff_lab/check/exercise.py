"""The checks a lecture's exercise cells call: each looks at the student's own answer and returns an
ExerciseReport whose first line starts with "✓" (right) or "✗" (wrong), followed by what is wrong in the
words of the grader's feedback (which output, which entry, expected vs got, a diagnosis such as "sign
flipped"). They never raise: an exercise not answered yet (its function raises NotImplementedError, or the
answer is still None or `...`) gives "✗ not answered yet: ...", so Run All goes on.

    print(check_value(dfdx, numerical_grad(f, 2.0), name="df/dx"))          # a number, tuple or array
    print(check_function(my_vjp, reference_fn, [(x1,), (x2,)]))             # a function, on several inputs
    print(check_rule(f, my_rule, (x,), argnum=0, mode="vjp"))              # a VJP / JVP rule, by finite differences
    print(check_gradient((gx, gy), f, (1.0, 2.0)))                          # partial derivatives worked by hand
    print(check_equal(shape, (5, 5), name="the shape"))                     # a count, a shape, a word
    print(check_topological_order(my_order, [root1, root2]))                # each node once, after its inputs
    print(check_choice(answer, ("x0", "x1"), right))                        # one of listed options
    print(check_all("Exercise 1.1", report_a, report_b))                    # several parts, one report

The references are never answers typed into the check: they are finite differences, the engine's own
transformations, or values the check cell computes from first principles.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .finite_differences import numerical_grad
from .report import ATOL, RTOL, CheckReport, compare, exception_words
from .rules import check_jvp, check_vjp

RIGHT, WRONG = "✓", "✗"


@dataclass
class ExerciseReport:
    """What an exercise's check found. `ok`: right; `answered`: False while the exercise is still a template.
    str() (and repr, so a cell can simply end with it) is the text: a "✓ ..." or "✗ ..." line, then details."""

    ok: bool
    title: str
    lines: list[str] = field(default_factory=list)
    answered: bool = True

    def __str__(self) -> str:
        if not self.answered:
            head = f"{WRONG} not answered yet: {self.title}"
        else:
            head = f"{RIGHT if self.ok else WRONG} {self.title}"
        return "\n".join([head] + [f"    {line}" for line in self.lines])

    __repr__ = __str__


def unanswered(value: Any) -> bool:
    """True for what a template leaves in place of an answer: None, `...`, or a tuple, list or dict holding one."""
    if value is None or value is Ellipsis or value is NotImplemented:
        return True
    if isinstance(value, dict):
        return any(unanswered(v) for v in value.values())
    return isinstance(value, (tuple, list)) and any(unanswered(v) for v in value)


def not_answered(what: str) -> ExerciseReport:
    """The report for an exercise still in its template form."""
    return ExerciseReport(False, f"{what} (replace the `...` or the `raise NotImplementedError` with your code, "
                                 f"then run this cell again)", answered=False)


# ------------------------------------------------------------------------------------------ values
def check_value(got: Any, expected: Any, *, name: str = "your answer", rtol: float = RTOL,
                atol: float = ATOL) -> ExerciseReport:
    """got (a number, a tuple of numbers or an array) against expected, entry by entry within rtol/atol
    (the test of numpy.allclose). A tuple or list of several arrays is compared part by part."""
    if unanswered(got):
        return not_answered(name)
    parts = _parts(expected)
    if len(parts) > 1 and isinstance(got, (tuple, list)) and len(got) == len(parts):
        reports = [_compare(e, g, f"part {k + 1} of {name}", rtol, atol) for k, (e, g) in enumerate(zip(parts, got))]
        bad = [r for r in reports if not r.ok]
        if not bad:
            return ExerciseReport(True, f"{name} is right")
        return ExerciseReport(False, f"{name} is wrong", [line for r in bad for line in [r.title, *r.lines]])
    return _compare(expected, got, name, rtol, atol)


def _parts(expected: Any) -> list:
    """A tuple of arrays of different shapes is several answers; anything else that numpy can read is one."""
    if isinstance(expected, (tuple, list)):
        try:
            np.asarray(expected, dtype=np.float64)
        except (TypeError, ValueError):
            return list(expected)
    return [expected]


def _compare(expected: Any, got: Any, name: str, rtol: float, atol: float) -> ExerciseReport:
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return ExerciseReport(False, f"{name} is a {type(got).__name__}, not a number or an array of numbers")
    report = compare(expected, got_array, what=name, name=name, rtol=rtol, atol=atol, check_dtype=False)
    return _from_check(report, name)


def _from_check(report: CheckReport, name: str) -> ExerciseReport:
    """A CheckReport (from compare, check_vjp, check_jvp) in an exercise's words."""
    if report.ok:
        return ExerciseReport(True, f"{name} is right", [text for label, text in report.rows() if label == "checked"])
    if report.error and "NotImplementedError" in report.error:
        return not_answered(name)
    lines = []
    for label, text in report.rows():
        if label == "shape" and report.got_shape in (None, report.expected_shape) and not report.hint:
            continue  # the shape is right: saying so is noise
        if label in ("worst entry", "wrong") and report.entries == 1:
            text = text.replace("index (): ", "") if label == "worst entry" else None
        if label == "diagnosis" and report.entries == 1 and not re.search(r"sign flipped|is (1/)?\d+ times", text):
            continue  # one number off by 1.14 "times" says nothing that expected vs got does not
        if text:
            lines.append(f"{label}: {text}")
    return ExerciseReport(False, f"{name} is wrong", lines)


# --------------------------------------------------------------------------------------- functions
def check_function(fn: Any, reference: Callable | Sequence, inputs: Iterable[tuple], *, name: str | None = None,
                   rtol: float = RTOL, atol: float = ATOL) -> ExerciseReport:
    """Call the student's fn(*args) for each argument tuple in `inputs` and compare the result with
    reference(*args) (a function) or with the matching entry of `reference` (a list, one per input set).
    Each call gets its own copy of the arguments. Results may be numbers, arrays, or tuples of them."""
    label = name or getattr(fn, "__name__", "your function")
    if unanswered(fn):
        return not_answered(label)
    if not callable(fn):
        return ExerciseReport(False, f"{label} should be a function, but it is a {type(fn).__name__}")
    inputs = [tuple(args) for args in inputs]
    for k, args in enumerate(inputs):
        where = f"input set {k + 1} of {len(inputs)}: {_show(args)}"
        got, stop = _answer(fn, copy.deepcopy(args), label, where, "its result")
        if stop is not None:
            return stop
        try:
            expected = reference(*copy.deepcopy(args)) if callable(reference) else reference[k]
        except NotImplementedError:  # the reference runs code of an earlier exercise not answered yet
            return not_answered(f"{label} (it needs the exercises before it)")
        report = check_value(got, expected, name=f"the result of {label}", rtol=rtol, atol=atol)
        if not report.ok:
            return ExerciseReport(False, f"{label} is wrong on {where}", report.lines or [report.title])
    return ExerciseReport(True, f"{label} is right on {len(inputs)} input set{'s' * (len(inputs) != 1)}")


def check_rule(f: Callable, rule: Any, args: tuple, argnum: int = 0, *, mode: str = "vjp",
               name: str | None = None, **options: Any) -> ExerciseReport:
    """A VJP rule rule(g, ans, *args) (mode "vjp") or JVP rule rule(t, ans, *args) (mode "jvp") for argument
    `argnum` of f, checked against finite differences of f with check_vjp / check_jvp (random cotangents or
    tangents, every entry of the Jacobian, the rule checker's diagnosis). options go to the checker."""
    label = name or f"the {mode.upper()} rule for argument {argnum}"
    if unanswered(rule):
        return not_answered(label)
    if mode not in ("vjp", "jvp"):
        raise ValueError(f"check_rule: mode must be 'vjp' or 'jvp', not {mode!r}")
    checker = check_vjp if mode == "vjp" else check_jvp
    return _from_check(checker(f, rule, args, argnum, **options), label)


def check_gradient(got: Any, f: Callable, args: tuple, *, argnums: Sequence[int] | None = None,
                   name: str = "your gradient", rtol: float = RTOL, atol: float = ATOL) -> ExerciseReport:
    """Partial derivatives worked out by hand, got = (df/d args[i] for i in argnums), against finite
    differences of f (Richardson extrapolation). A single argnum may be given as a one-entry sequence, and
    got is then one number or array. Pass a looser rtol for numbers the exercise asks to round."""
    if unanswered(got):
        return not_answered(name)
    args = tuple(args)
    argnums = list(range(len(args))) if argnums is None else list(argnums)

    def partial(i: int) -> Any:
        return numerical_grad(lambda t: f(*(t if k == i else a for k, a in enumerate(args))), args[i],
                              method="richardson")

    expected = [partial(i) for i in argnums]
    if len(argnums) == 1:
        return check_value(got, expected[0], name=name, rtol=rtol, atol=atol)
    if not isinstance(got, (tuple, list)) or len(got) != len(argnums):
        return ExerciseReport(False, f"{name} should be {len(argnums)} partial derivatives, one per argument "
                                     f"{tuple(argnums)}, in that order; got {_show(got)}")
    return check_value(tuple(got), tuple(expected), name=name, rtol=rtol, atol=atol)


def check_equal(got: Any, expected: Any, *, name: str = "your answer") -> ExerciseReport:
    """got == expected exactly, for answers that are counts, shapes or words rather than measurements (a list
    counts as the tuple it holds, so [5, 5] answers the shape (5, 5))."""
    if unanswered(got):
        return not_answered(name)
    normal = tuple(got) if isinstance(got, list) else got
    try:
        same = bool(normal == expected)
    except Exception:  # noqa: BLE001  (an answer numpy cannot compare is simply not equal)
        same = False
    if same:
        return ExerciseReport(True, f"{name} is right")
    return ExerciseReport(False, f"{name} is wrong", [f"expected {expected!r}, got {got!r}"])


# ------------------------------------------------------------------------------------------- graphs
def check_topological_order(order_fn: Any, roots: Sequence[Any], *, parents: Callable[[Any], Sequence] | None = None,
                            name: str | None = None) -> ExerciseReport:
    """order_fn(root) must list every node that root depends on (root included), each exactly once, every node
    after all of its parents, root last. Checked on each graph in `roots`; `parents(node)` gives a node's
    inputs (default: its .parents). Nodes are compared by identity."""
    label = name or getattr(order_fn, "__name__", "your function")
    if unanswered(order_fn):
        return not_answered(label)
    parents = parents or (lambda node: node.parents)
    for k, root in enumerate(roots):
        where = f"graph {k + 1} of {len(roots)} (output {_show(root)})"
        order, stop = _answer(order_fn, (root,), label, where, "the list")
        if stop is not None:
            return stop
        problem = _order_problem(list(order) if isinstance(order, (list, tuple)) else order, root, parents)
        if problem:
            return ExerciseReport(False, f"{label} is wrong on {where}", [problem])
    return ExerciseReport(True, f"{label} is right on {len(roots)} graph{'s' * (len(roots) != 1)}")


def _order_problem(order: Any, root: Any, parents: Callable) -> str | None:
    if not isinstance(order, list):
        return f"it returned a {type(order).__name__}; return a list of nodes"
    reachable, stack = {}, [root]
    while stack:
        node = stack.pop()
        if id(node) not in reachable:
            reachable[id(node)] = node
            stack.extend(parents(node))
    seen: dict[int, int] = {}
    for i, node in enumerate(order):
        if id(node) in seen:
            return (f"{_show(node)} is listed twice (positions {seen[id(node)]} and {i}): a node used by two others "
                    f"must still appear once -- remember which nodes you have visited")
        if id(node) not in reachable:
            return f"{_show(node)} at position {i} is not part of the graph"
        seen[id(node)] = i
    missing = [node for key, node in reachable.items() if key not in seen]
    if missing:
        return f"{len(missing)} node(s) of the graph are missing, e.g. {_show(missing[0])}"
    for node in order:
        for parent in parents(node):
            if seen[id(parent)] > seen[id(node)]:
                return (f"{_show(node)} (position {seen[id(node)]}) comes before its input {_show(parent)} (position "
                        f"{seen[id(parent)]}): every node must come after the nodes it was computed from")
    if order[-1] is not root:
        return f"the output must come last, but the last node is {_show(order[-1])}"
    return None


# -------------------------------------------------------------------------------- choices and parts
def check_choice(answer: Any, options: Sequence, right: Any, *, name: str = "your choice",
                 why: str | None = None) -> ExerciseReport:
    """answer must be one of `options`; right (computed by the check cell) is the one that is. `why` is a
    hint printed when the choice is wrong (it must not give the answer away)."""
    if unanswered(answer):
        return not_answered(name)
    if answer not in options:
        return ExerciseReport(False, f"{name}: {answer!r} is not one of the options {tuple(options)}")
    if answer != right:
        return ExerciseReport(False, f"{name}: {answer!r} is not the right one", [f"hint: {why}"] if why else [])
    return ExerciseReport(True, f"{name}: {answer!r} is right")


def check_all(title: str, *reports: ExerciseReport) -> ExerciseReport:
    """Several parts of one exercise as one report: right when every part is; not answered while any part
    is not; otherwise each part's report, indented."""
    if any(not r.answered for r in reports):
        waiting = [r.title.split(" (replace")[0] for r in reports if not r.answered]
        return not_answered(f"{title}: {', '.join(waiting)}")
    lines = [line for r in reports for line in str(r).splitlines()]
    ok = all(r.ok for r in reports)
    return ExerciseReport(ok, f"{title}: {'all parts right' if ok else 'some parts are wrong'}", lines)


def _show(value: Any, limit: int = 120) -> str:
    """A short description of an input: numbers as they are, arrays by their shape."""
    text = _brief(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _brief(value: Any) -> str:
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"array of shape {value.shape}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_brief(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_brief(v) for v in value) + "]"
    return repr(value)


def _answer(fn: Callable, args: tuple, label: str, where: str, result: str) -> tuple[Any, ExerciseReport | None]:
    """(what the student's fn returns on args, None), or (None, the report that ends the check): not answered
    yet (NotImplementedError, or None or ... returned), or what it raised."""
    try:
        got = fn(*args)
    except NotImplementedError:
        return None, not_answered(label)
    except Exception as err:  # noqa: BLE001  (the student's error becomes the report)
        return None, ExerciseReport(False, f"{label} raised {exception_words(err)}", [where])
    if got is None or got is Ellipsis:
        return None, not_answered(f"{label} returned {got!r} (did it forget to `return` {result}?)")
    return got, None
