"""The kinds of check a hidden test names (`grade.<kind>`): reverse mode (value_and_grad, value_graph, vjp,
no_jacobian), forward mode (jvp, dual, jacobian), and answers (exact, accuracy). `KINDS` maps each name to its
class."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from typing import Any

import numpy as np

from ..graph_backward import BadGraph, leaf_gradients
from ..sandbox import functions
from ..student_text import clip, describe_returned, error_types, student_error, vouched, word_text
from .base import Probe, _like, _Malformed, _pair
from .check import Check
from .finite_differences import as_array, fd_vjp, substitute
from .inputs import to_spec


class ValueAndGrad(Probe):
    """The student's function returns (value, gradient) by hand-written backprop; `wrt`: the argument (or
    tuple of arguments) the gradient is taken with respect to."""

    kind = "value_and_grad"

    def __init__(self, student: str, ref: str, *, wrt: int | tuple = 0, **kw: Any) -> None:
        self.wrt = wrt
        super().__init__(student, ref, **kw)

    def item(self, values, arrays):
        return {"op": "call", "args": self.args_spec(values, arrays), "kwargs": self.kwargs_spec()}

    def argnums(self) -> tuple:
        return (self.wrt,) if isinstance(self.wrt, int) else tuple(self.wrt)

    def expected(self):
        values = self._values()
        value = float(self.reference(*values, **self.kwargs))
        return value, [fd_vjp(self.reference, values, i, 1.0, self.kwargs) for i in self.argnums()]

    def verdicts(self, expected, got):
        value, grads = _pair(got, "(value, gradient)")
        checks = [self.compare(expected[0], value, "value")]
        grads = [grads] if isinstance(self.wrt, int) else _like(grads, expected[1], "the gradients")
        for i, exp, g in zip(self.argnums(), expected[1], grads):
            checks += self.compare_tree(exp, g, i)
        return checks

    def compare_tree(self, expected: Any, got: Any, i: int) -> list[Check]:
        if isinstance(expected, dict):
            got = _like(got, expected, f"the gradient for {self.arg_name(i)}")
            return [self.compare(expected[k], got[k], "gradient", i, f"gradient for {k}") for k in expected]
        return [self.compare(expected, got, "gradient", i)]


class ValueGraph(Probe):
    """The student's code builds a graph of scalar `Value`s; backward() must give every input's gradient.
    `wrt`: the arguments whose gradients are checked (default: all)."""

    kind = "value_graph"
    what = "gradient"

    def __init__(self, student: str, ref: str, *, wrt: tuple | None = None, **kw: Any) -> None:
        self.wrt = wrt
        super().__init__(student, ref, **kw)

    def item(self, values, arrays):
        return {"op": "value_graph", "args": self.args_spec(values, arrays)}

    def argnums(self) -> tuple:
        return tuple(range(len(self.args))) if self.wrt is None else tuple(self.wrt)

    def expected(self):
        values = self._values()
        return float(self.reference(*values)), [fd_vjp(self.reference, values, i, 1.0, {}) for i in self.argnums()]

    def verdicts(self, expected, got):
        value, graph = _pair(got, "(value, graph)")
        checks = [self.compare(expected[0], value, "value of the output")]
        try:
            grads = leaf_gradients(graph, len(self.args))
        except BadGraph as err:
            raise _Malformed(f"a graph the grader cannot read ({err})") from None
        for i, exp in zip(self.argnums(), expected[1]):
            checks.append(self.compare(exp, grads[i], "gradient after backward()", i))
        return checks


class VJP(Probe):
    """The student's primitive, differentiated by the engine's reverse mode (their defvjp rules), against
    finite differences of the reference: the output, then one VJP per argument."""

    kind = "vjp"
    what = "VJP"

    def cotangent(self) -> np.ndarray:
        out = as_array(self.reference(*self._values(), **self.kwargs))
        return np.random.default_rng(self.seed + 1).normal(size=out.shape)

    def item(self, values, arrays):
        return {"op": "vjp", "args": self.args_spec(values, arrays), "kwargs": self.kwargs_spec(),
                "cotangent": to_spec(self.cotangent(), arrays, f"{self.seed}.g")}

    def expected(self):
        values, g = self._values(), self.cotangent()
        out = as_array(self.reference(*values, **self.kwargs))
        return out, [fd_vjp(self.reference, values, i, g, self.kwargs) for i in range(len(values))]

    def verdicts(self, expected, got):
        out, cotangents = _pair(got, "(output, cotangents)")
        checks = [self.compare(expected[0], out, "output")]
        cotangents = _like(cotangents, expected[1], "the cotangents")
        for i, (exp, ct) in enumerate(zip(expected[1], cotangents)):
            checks.append(self.compare(exp, ct, "VJP", i))
        return checks


class NoJacobian(VJP):
    """A VJP on inputs so large that a rule building the Jacobian runs out of memory or time. Judged by one
    finite difference along a random direction u per argument: <VJP, u> = g . (f(x + hu) - f(x - hu)) / 2h."""

    kind = "no_jacobian"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.time_limit = self.time_limit or 10.0
        self.rtol, self.atol = max(self.rtol, 1e-4), max(self.atol, 1e-6)

    def expected(self):
        values, g = self._values(), self.cotangent()
        rng = np.random.default_rng(self.seed + 2)
        directional = []
        for i, x in enumerate(values):
            u = rng.normal(size=np.shape(x))
            h = 1e-5
            plus = np.sum(g * as_array(self.reference(*substitute(values, i, x + h * u), **self.kwargs)))
            minus = np.sum(g * as_array(self.reference(*substitute(values, i, x - h * u), **self.kwargs)))
            directional.append((u, (plus - minus) / (2 * h)))
        return directional

    def verdicts(self, expected, got):
        _, cotangents = _pair(got, "(output, cotangents)")
        cotangents = _like(cotangents, expected, "the cotangents")
        checks = []
        for i, ((u, exp), ct) in enumerate(zip(expected, cotangents)):
            ct = np.asarray(ct, dtype=float)
            if ct.shape != u.shape:
                checks.append(self.compare(np.zeros(u.shape), ct, "VJP on a large input", i))
                continue
            checks.append(self.compare(exp, float(np.sum(ct * u)), "VJP on a large input (along a random "
                                       "direction)", i))
        return checks

    def judge(self, expected, harvested, seconds=0.0):
        checks = super().judge(expected, harvested, seconds)
        entry = harvested.get("out", {})
        if isinstance(entry, dict) and "error" in entry:
            kinds = error_types(entry["error"])   # a rule's error inside the harvest's: numpy's _ArrayMemoryError
            hint = ("it ran out of memory: a VJP rule must never build the Jacobian"
                    if any("MemoryError" in k for k in kinds) else
                    f"it did not finish within {self.time_limit:g} s: a VJP rule must cost about as much as "
                    "the function itself" if "KeyboardInterrupt" in kinds else
                    f"it raised {student_error(entry['error'], self.vouched(expected))}")
            return [Check(False, self.describe(), f"{self.student_label} on a large input: {hint}",
                          {"error": clip(entry["error"])})]
        return checks


class JVP(Probe):
    """The student's primitive, pushed forward by the engine's forward mode (their defjvp rules): for each
    argument, a tangent along a random direction, against a central finite difference."""

    kind = "jvp"
    what = "JVP"

    def tangents(self) -> list:
        rng = np.random.default_rng(self.seed + 1)
        return [rng.normal(size=np.shape(v)) for v in self._values()]

    def inputs(self):
        values, tangents, arrays = self._values(), self.tangents(), {}
        args = self.args_spec(values, arrays)
        items = [{"key": f"arg{i}", "op": "jvp", "fn": self.student, "args": args, "kwargs": self.kwargs_spec(),
                  "argnum": i, "tangent": to_spec(t, arrays, f"{self.seed}.t{i}")} for i, t in enumerate(tangents)]
        return items, arrays

    def expected(self):
        values, tangents, h = self._values(), self.tangents(), 1e-6
        out = as_array(self.reference(*values, **self.kwargs))
        fd = []
        for i, (x, t) in enumerate(zip(values, tangents)):
            plus = as_array(self.reference(*substitute(values, i, x + h * t), **self.kwargs))
            minus = as_array(self.reference(*substitute(values, i, x - h * t), **self.kwargs))
            fd.append((plus - minus) / (2 * h))
        return out, fd

    def judge(self, expected, harvested, seconds=0.0):
        out, fds = expected
        return [c for i, fd in enumerate(fds) for c in self.judge_entry((out, fd, i), harvested.get(f"arg{i}"))]

    def verdicts(self, expected, got):
        out, fd, i = expected
        got_out, tangent = _pair(got, "(output, tangent)")
        checks = [self.compare(out, got_out, "output")] if i == 0 else []
        return checks + [self.compare(fd, tangent, "JVP", i)]


class DualNumbers(Probe):
    """The student's dual-number class: `expr` (over the reference's argument names and the student's
    functions) evaluated on duals seeded with each unit tangent in turn: value and partial derivatives."""

    kind = "dual"
    what = "derivative"

    def __init__(self, student: str, ref: str, *, expr: str, **kw: Any) -> None:
        self.expr = expr
        super().__init__(student, ref, **kw)

    def item(self, values, arrays):
        params = ", ".join(inspect.signature(self.reference).parameters)
        return {"op": "dual", "expr": f"lambda {params}: {self.expr}", "point": [float(v) for v in values]}

    def expected(self):
        values = self._values()
        return float(self.reference(*values)), [fd_vjp(self.reference, values, i, 1.0, {}) for i in range(len(values))]

    def verdicts(self, expected, got):
        if not isinstance(got, list) or len(got) != len(expected[1]):
            raise _Malformed(got=got, expected=f"a list of {len(expected[1])} (primal, tangent) pairs")
        checks = []
        for i, (pair, exp) in enumerate(zip(got, expected[1])):
            primal, tangent = _pair(pair, "(primal, tangent)")
            if i == 0:
                checks.append(self.compare(expected[0], primal, f"primal of {self.expr}"))
            checks.append(self.compare(exp, tangent, f"tangent of {self.expr}", i))
        return checks

    @property
    def student_label(self) -> str:
        return f"{self.student} in {self.expr}"


class Jacobian(Probe):
    """The student's Jacobian builder called on a reference function and a point, against the finite
    difference Jacobian (out.size rows, x.size columns)."""

    kind = "jacobian"
    what = "Jacobian"

    def item(self, values, arrays):
        return {"op": "call", "args": [{"$ref": self.ref}, *self.args_spec(values, arrays)]}

    def expected(self):
        (x,) = self._values()
        out = as_array(self.reference(x))
        rows = [fd_vjp(self.reference, [x], 0, e.reshape(out.shape), {}) for e in np.eye(out.size)]
        return np.array(rows).reshape(out.shape + np.shape(x))

    def verdicts(self, expected, got):
        return [self.compare(expected, got, f"Jacobian of {self.ref}")]


class Exact(Probe):
    """A number or a word that must come back exactly (costs, counts, the cheaper mode)."""

    kind = "exact"
    what = "answer"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rtol, self.atol = 0.0, 1e-9

    def item(self, values, arrays):
        return {"op": "call", "args": self.args_spec(values, arrays)}

    def _values(self) -> list:
        return list(self.args)      # literal arguments: sizes, lists of dimensions, words

    def expected(self):
        return self.reference(*self._values())

    def verdicts(self, expected, got):
        label = f"{self.student}({', '.join(map(repr, self._values()))})"
        if isinstance(expected, str):
            ok = isinstance(got, str) and got == expected
            word = word_text(got, self.words() | {expected})
            text = "correct" if ok else f"returned {word}, expected {expected!r}"
            return [Check(ok, label, f"{label}: {text}", None if ok else {"returned": clip(repr(got))})]
        return [self.compare(expected, got, "answer", title=label)]

    def words(self) -> set[str]:
        """The words the exercise accepts: the string constants of the reference function's code."""
        tree = ast.parse(textwrap.dedent(inspect.getsource(self.reference)))
        docstrings = {ast.get_docstring(node) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        return {node.value for node in ast.walk(tree)
                if isinstance(node, ast.Constant) and isinstance(node.value, str)} - docstrings

    def describe(self) -> str:
        return f"{self.student}({', '.join(map(repr, self._values()))})"


class Accuracy(Probe):
    """Trained parameters {W1, b1, W2, b2} (a variable of the notebook), scored on the shipped digits' test
    split by the grader's own forward pass."""

    kind = "accuracy"
    what = "accuracy"

    def __init__(self, student: str, ref: str = "two_layer_scores", *, at_least: float, **kw: Any) -> None:
        self.at_least = at_least
        super().__init__(student, ref, **kw)

    def item(self, values, arrays):
        return {"op": "read"}

    def expected(self):
        return self.at_least

    def verdicts(self, expected, got):
        names = ("W1", "b1", "W2", "b2")
        if not isinstance(got, dict) or not set(names) <= set(got):
            raise _Malformed(got=got, expected="a dict with W1, b1, W2, b2")
        try:
            accuracy = functions.test_accuracy({k: np.asarray(got[k], dtype=float) for k in names})
        except (ValueError, TypeError) as err:
            need = str(err).partition("; got ")[0]     # the shapes the network needs, in the grader's words
            if not need.startswith("they must have shapes"):    # numpy's words: they could quote the values
                need = "they must be arrays of numbers"
            v = vouched(specs=[int(n) for n in re.findall(r"\d+", need)], names=names)
            got_text = ", ".join(f"{k}: {describe_returned(got[k], v)}" for k in names)
            return [Check(False, "test accuracy", f"the trained parameters do not fit the network: {need}; got "
                          f"{got_text}", {"error": clip(err)})]
        ok = bool(np.isfinite(accuracy) and accuracy >= expected)
        text = f"test accuracy {accuracy:.3f} ({'at least' if ok else 'below'} the required {expected:.2f})"
        return [Check(ok, "test accuracy", text, {"accuracy": accuracy, "required": expected})]

    def describe(self) -> str:
        return f"the trained network {self.student}"


KINDS: dict[str, type[Probe]] = {cls.kind: cls for cls in
                                 (ValueAndGrad, ValueGraph, VJP, NoJacobian, JVP, DualNumbers, Jacobian, Exact,
                                  Accuracy)}
