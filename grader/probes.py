"""Hidden tests as data: each is harvested in the sandbox and judged outside it.

In a source notebook, the hidden part of a test cell is a list of calls on `grade`:

    ### BEGIN HIDDEN TESTS
    from grader.probes import grade
    grade.vjp(my_multiply, "multiply", args=[(3, 1), (1, 4)])
    ### END HIDDEN TESTS

The grader never executes these lines: `parse_hidden` reads them as data. Each call names a kind of check, the
student's function (a bare name, or the text of a lambda over the student's names), a reference function of
grader/sandbox/functions.py, and the inputs, all literals. Grading splits every check in two:

    harvest   in the sandbox, the student's function runs on the grader's inputs; only what it returns comes
              back, as plain arrays (`items`: expressions evaluated by sandbox/harvest.py)
    judge     here, where no student code runs: the expected values (finite differences of the reference,
              or exact values) are compared with what came back by autodiff_lab.check.compare

Run in a notebook instead (plain nbgrader, or an instructor running the source notebook), `grade.<kind>(...)`
does both steps in the kernel and raises AssertionError with the same report.

Input specs, in `args`: a float (that number), a shape tuple (standard normal entries; () gives a float), or
{"normal": shape, "scale": s, "shift": m}, {"uniform": shape, "low": a, "high": b}, {"labels": n, "classes": c},
{"array": nested list}, {"list": [specs]}, {"dict": {name: spec}}.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import re
import textwrap
import zlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .sandbox import functions
from .sandbox import harvest as harvest_module
from .student_text import (
    MAX_CHECK,
    Vouched,
    clip,
    describe_returned,
    error_types,
    identifiers,
    student_error,
    student_report,
    vouched,
    word_text,
)

BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
RTOL, ATOL = 1e-5, 1e-7


class HiddenTestError(ValueError):
    """A hidden test that the grader cannot read: an instructor's mistake in a source notebook."""


@dataclass
class Check:
    """One verdict: what was checked, whether it passed, the text a student may read, and the checker's full
    report (numbers included) for the instructor: it stays in the grader's results, never in feedback."""

    ok: bool
    title: str
    text: str
    report: dict | None = None

    def __post_init__(self) -> None:
        """Plain JSON whatever the probe passed: only a real True passes (an array from `==` does not), and
        the texts are short strings, so one result cannot stop the class's results from being written."""
        self.ok = isinstance(self.ok, (bool, np.bool_)) and bool(self.ok)
        self.title, self.text = clip(self.title, MAX_CHECK), clip(self.text, MAX_CHECK)
        self.report = _jsonable(self.report)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------------------- inputs
def make_input(spec: Any, rng: np.random.Generator) -> Any:
    """The value an input spec stands for (see the module docstring)."""
    if isinstance(spec, bool) or spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, (int, float)):
        return float(spec)
    if isinstance(spec, (tuple, list)) and all(isinstance(n, int) for n in spec):
        return _shaped(rng.normal(size=tuple(spec)))
    if isinstance(spec, dict) and len(spec) >= 1:
        kind = next(iter(spec))
        if kind == "normal":
            return _shaped(spec.get("shift", 0.0) + spec.get("scale", 1.0) * rng.normal(size=tuple(spec["normal"])))
        if kind == "uniform":
            return _shaped(rng.uniform(spec.get("low", 0.0), spec.get("high", 1.0), size=tuple(spec["uniform"])))
        if kind == "labels":
            return rng.integers(0, spec["classes"], size=spec["labels"])
        if kind == "array":
            return np.array(spec["array"], dtype=float)
        if kind == "list":
            return [make_input(s, rng) for s in spec["list"]]
        if kind == "dict":
            return {k: make_input(s, rng) for k, s in spec["dict"].items()}
    raise HiddenTestError(f"cannot read the input spec {spec!r}")


def _shaped(a: np.ndarray) -> Any:
    return float(a) if a.ndim == 0 else a


def to_code(value: Any, inputs: dict, key: str) -> str:
    """Python source for `value` in the sandbox: arrays go into `inputs` and are referred to by name."""
    if isinstance(value, np.ndarray):
        inputs[key] = value
        return f"__inputs__[{key!r}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {to_code(v, inputs, f'{key}.{k}')}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_code(v, inputs, f"{key}.{i}") for i, v in enumerate(value)) + "]"
    if isinstance(value, tuple):
        return "(" + "".join(to_code(v, inputs, f"{key}.{i}") + ", " for i, v in enumerate(value)) + ")"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return repr(value)
    raise HiddenTestError(f"cannot send {type(value).__name__} to the sandbox")


# ------------------------------------------------------------------------------------------ finite differences
def as_array(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def substitute(args: list, i: int, xi: Any) -> list:
    return args[:i] + [xi] + args[i + 1:]


def fd_vjp(f, args: list, i: int, cotangent: Any, kwargs: dict) -> Any:
    """Finite-difference d/d args[i] of sum(cotangent * f(*args)), in args[i]'s structure (a float, an array,
    a list of floats, or a dict of arrays)."""
    from autodiff_lab.check import numerical_grad

    g = as_array(cotangent)
    x = args[i]
    if isinstance(x, dict):
        return {k: fd_vjp(lambda xk, k=k: f(*substitute(args, i, {**x, k: xk}), **kwargs), [v], 0, g, {})
                for k, v in x.items()}
    scalar_in = isinstance(x, float)
    listed = isinstance(x, list)
    xs = as_array(x)

    def objective(xi):
        xi = float(xi) if scalar_in else (list(xi) if listed else xi)
        return float(np.sum(g * as_array(f(*substitute(args, i, xi), **kwargs))))

    grad = np.asarray(numerical_grad(objective, xs))
    return float(grad) if scalar_in else grad


# ---------------------------------------------------------------------------------------------- the probes
@dataclass
class Probe:
    """One hidden check. `student`: the name of the student's function (or a lambda over their names);
    `ref`: a function of grader/sandbox/functions.py; `args`/`kwargs`: input specs and literal options."""

    student: str
    ref: str = ""
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    seed: int | None = None
    rtol: float = RTOL
    atol: float = ATOL
    time_limit: float | None = None     # its own harvest request with this wall-clock limit
    kind: ClassVar[str] = ""
    what: ClassVar[str] = "gradient"

    def __post_init__(self) -> None:
        if self.ref and self.ref not in functions.names():
            raise HiddenTestError(f"{self.kind}: unknown reference function {self.ref!r}; it must be one of "
                                  f"grader/sandbox/functions.py: {', '.join(functions.names())}")
        if self.seed is None:
            self.seed = zlib.crc32(repr((self.kind, self.student, self.ref, self.args, self.kwargs)).encode())

    # -- shared helpers
    @property
    def reference(self):
        return getattr(functions, self.ref)

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def _values(self) -> list:
        rng = self.rng()
        return [make_input(spec, rng) for spec in self.args]

    def arg_name(self, i: int) -> str:
        try:
            params = list(inspect.signature(self.reference).parameters)
            return f"argument {i} ({params[i]})"
        except (TypeError, ValueError, IndexError):
            return f"argument {i}"

    def describe(self) -> str:
        """Which check: the function and its inputs (their shapes; scalars to four digits) and options, so a
        student can tell the input sets of a function apart."""
        shapes = [_describe_value(v) for v in self._values()]
        options = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        text = f"{self.student_label} on inputs {', '.join(shapes)}" if shapes else self.student_label
        return f"{text} with {options}" if options else text

    def vouched(self, expected: Any = ()) -> Vouched:
        """What this check's texts may show of what the student's code sent (student_text.Vouched): the
        numbers of its input specs and options, the shapes of `expected`, the names of its hidden test and
        reference."""
        names = identifiers(f"{self.student} {self.ref} {getattr(self, 'expr', '')}")
        if self.ref:
            names |= set(inspect.signature(self.reference).parameters)
        return vouched([self.args, self.kwargs], expected, names)

    @property
    def student_label(self) -> str:
        return self.student if self.student.isidentifier() else "your code"

    @property
    def code(self) -> str:
        """The student's function as an expression: a name, or a lambda in parentheses."""
        return self.student if self.student.isidentifier() else f"({self.student})"

    def compare(self, expected: Any, got: Any, what: str, argnum: int | None = None, title: str = "") -> Check:
        from autodiff_lab.check import compare

        label = title or f"{self.describe()}: " + (f"{what} for {self.arg_name(argnum)}" if argnum is not None
                                                   else what)
        expected = as_array(expected)
        report = compare(expected, got, what=what, name=self.student_label, argnum=argnum,
                         rtol=self.rtol, atol=self.atol, kind=self.kind, check_dtype=False)
        return Check(bool(report.ok), label, student_report(report, self.vouched(expected)),
                     _jsonable(report.to_dict()))

    # -- the interface the pipeline uses
    def inputs(self) -> tuple[list[dict], dict[str, np.ndarray]]:
        """Harvest items (expressions) and the arrays they refer to."""
        arrays: dict[str, np.ndarray] = {}
        return [{"key": "out", "expr": self.expression(self._values(), arrays)}], arrays

    def expression(self, values: list, arrays: dict) -> str:
        raise NotImplementedError

    def expected(self) -> Any:
        raise NotImplementedError

    def judge(self, expected: Any, harvested: dict, seconds: float = 0.0) -> list[Check]:
        """Verdicts from the untrusted harvest {key: {"value": ...} | {"error": ...}} (arrays rebuilt)."""
        return self.judge_entry(expected, harvested.get("out"))

    def judge_entry(self, expected: Any, entry: Any) -> list[Check]:
        if not isinstance(entry, dict) or ("value" not in entry and "error" not in entry):
            return [Check(False, self.describe(), "no answer came back (the notebook stopped before this "
                                                  "part, or the answer is missing)")]
        if "error" in entry:   # the instructor's results keep the message; the student reads what is vouched
            error = student_error(entry["error"], self.vouched(expected))
            return [Check(False, self.describe(), f"{self.student_label} raised {error}",
                          {"error": clip(entry["error"])})]
        try:
            return self.verdicts(expected, entry["value"])
        except _Malformed as err:
            returned = err.student_text(self.vouched(expected))
            return [Check(False, self.describe(), f"{self.student_label} returned {returned}",
                          {"returned": err.instructor_text()})]

    def verdicts(self, expected: Any, got: Any) -> list[Check]:
        raise NotImplementedError

    def args_code(self, values: list, arrays: dict) -> str:
        return ", ".join(to_code(v, arrays, f"{self.seed}.{i}") for i, v in enumerate(values))

    def kwargs_code(self) -> str:
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in self.kwargs.items()) + "}"


class _Malformed(Exception):
    """What came back does not have the structure the exercise asks for. `text`: the grader's own words; or
    `expected`, what the exercise asks for, and `got`, what came back instead (described to the student only
    as the grader can vouch for it; `what` names the part, "the cotangents")."""

    def __init__(self, text: str = "", *, got: Any = None, expected: str = "", what: str = "") -> None:
        super().__init__(text or expected)
        self.text, self.got, self.expected, self.what = text, got, expected, what

    def student_text(self, v: Vouched) -> str:
        if self.text:
            return self.text
        return f"{self.what + ' as ' if self.what else ''}{describe_returned(self.got, v)}; expected {self.expected}"

    def instructor_text(self) -> str:
        return self.text or clip(f"{self.what + ' as ' if self.what else ''}{_describe_value(self.got)}")


def _describe_value(v: Any) -> str:
    """An input as a check's title shows it, or what came back as the instructor's results show it (keys and
    class names included: never to a student, see student_text.describe_returned)."""
    if isinstance(v, np.ndarray):
        return f"an array of shape {v.shape}" if v.dtype.kind == "f" else f"labels of shape {v.shape}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_describe_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return f"a list of {len(v)}"
    if isinstance(v, float):
        return f"{v:.4g}"
    return type(v).__name__


def _jsonable(d: Any) -> Any:
    if isinstance(d, dict):
        return {str(k): _jsonable(v) for k, v in d.items()}
    if isinstance(d, (list, tuple)):
        return [_jsonable(v) for v in d]
    if isinstance(d, np.generic):
        return d.item()
    if isinstance(d, np.ndarray):
        return d.tolist()
    return d


def _pair(got: Any, what: str) -> tuple[Any, Any]:
    if not (isinstance(got, list) and len(got) == 2):
        raise _Malformed(got=got, expected=f"a pair {what}")
    return got[0], got[1]


def _like(got: Any, expected: Any, what: str) -> Any:
    """`got` checked to have `expected`'s structure (dict keys, list length)."""
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            raise _Malformed(got=got, what=what, expected=f"a dict with keys {', '.join(sorted(expected))}")
    elif isinstance(expected, list) and not (isinstance(got, list) and len(got) == len(expected)):
        raise _Malformed(got=got, what=what, expected=f"a list of {len(expected)}")
    return got


class ValueAndGrad(Probe):
    """The student's function returns (value, gradient) by hand-written backprop; `wrt`: the argument (or
    tuple of arguments) the gradient is taken with respect to."""

    kind = "value_and_grad"

    def __init__(self, student: str, ref: str, *, wrt: int | tuple = 0, **kw: Any) -> None:
        self.wrt = wrt
        super().__init__(student, ref, **kw)

    def expression(self, values, arrays):
        return f"__harvest__.call({self.code}, {self.args_code(values, arrays)}, **{self.kwargs_code()})"

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

    def expression(self, values, arrays):
        return f"__harvest__.value_grads({self.code}, {self.args_code(values, arrays)})"

    def argnums(self) -> tuple:
        return tuple(range(len(self.args))) if self.wrt is None else tuple(self.wrt)

    def expected(self):
        values = self._values()
        return float(self.reference(*values)), [fd_vjp(self.reference, values, i, 1.0, {}) for i in self.argnums()]

    def verdicts(self, expected, got):
        value, grads = _pair(got, "(value, gradients)")
        checks = [self.compare(expected[0], value, "value of the output")]
        if not isinstance(grads, list) or len(grads) != len(self.args):
            raise _Malformed("no gradient for some inputs")
        for i, exp in zip(self.argnums(), expected[1]):
            got = grads[i]
            if isinstance(got, list) and all(isinstance(v, (int, float)) for v in got):
                got = np.array(got, dtype=float)    # the grads of a list of Values, one per entry
            checks.append(self.compare(exp, got, "gradient after backward()", i))
        return checks


class VJP(Probe):
    """The student's primitive, differentiated by the engine's reverse mode (their defvjp rules), against
    finite differences of the reference: the output, then one VJP per argument."""

    kind = "vjp"
    what = "VJP"

    def cotangent(self) -> np.ndarray:
        out = as_array(self.reference(*self._values(), **self.kwargs))
        return np.random.default_rng(self.seed + 1).normal(size=out.shape)

    def expression(self, values, arrays):
        g = to_code(self.cotangent(), arrays, f"{self.seed}.g")
        return (f"__harvest__.engine_vjp({self.code}, [{self.args_code(values, arrays)}], {g}, "
                f"{self.kwargs_code()})")

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
        args = self.args_code(values, arrays)
        items = []
        for i in range(len(values)):
            ts = [t if j == i else np.zeros_like(t) for j, t in enumerate(tangents)]
            ts_code = ", ".join(to_code(t, arrays, f"{self.seed}.t{i}.{j}") for j, t in enumerate(ts))
            items.append({"key": f"arg{i}", "expr": f"__harvest__.engine_jvp({self.code}, [{args}], "
                                                    f"[{ts_code}], {self.kwargs_code()})"})
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

    def expression(self, values, arrays):
        params = ", ".join(inspect.signature(self.reference).parameters)
        point = self.args_code(values, arrays)
        return f"__harvest__.dual_partials({self.code}, lambda {params}: {self.expr}, [{point}])"

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

    def expression(self, values, arrays):
        return f"__harvest__.call({self.code}, __harvest__.functions.{self.ref}, {self.args_code(values, arrays)})"

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

    def expression(self, values, arrays):
        return f"__harvest__.call({self.code}, {self.args_code(values, arrays)})"

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

    def expression(self, values, arrays):
        return self.student

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


# ------------------------------------------------------------------------------------------- reading them
def hidden_region(source: str) -> str:
    """The lines between the hidden-test markers (all such regions of a cell)."""
    lines, inside = [], False
    for line in source.splitlines():
        if BEGIN_HIDDEN in line:
            inside = True
        elif END_HIDDEN in line:
            inside = False
        elif inside:
            lines.append(line)
    return "\n".join(lines)


def parse_hidden(source: str, where: str = "") -> list[Probe]:
    """The probes of a test cell's hidden part, read as data: nothing in it is executed."""
    code = hidden_region(source)
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        raise HiddenTestError(f"{where}: the hidden tests are not valid Python: {err}") from None
    probes = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name) and call.func.value.id == "grade"
                and call.func.attr in KINDS):
            raise HiddenTestError(f"{where}: line {stmt.lineno} of the hidden tests is not a call "
                                  f"grade.<kind>(...) with kind in {', '.join(KINDS)}")
        args = [_literal(a, where) for a in call.args]
        kwargs = {k.arg: _literal(k.value, where) for k in call.keywords}
        try:
            probes.append(KINDS[call.func.attr](*args, **kwargs))
        except TypeError as err:
            raise HiddenTestError(f"{where}: grade.{call.func.attr}(...): {err}") from None
    return probes


def salted(probes: list[Probe], salt: str) -> list[Probe]:
    """The probes with their random inputs, cotangents and tangents drawn anew under `salt` (a term, say):
    each seed becomes a hash of the salt and the seed, so last term's inputs are of no use to this term's
    class, and one salt always draws the same inputs. Literal inputs (numbers, arrays) stay as written; an
    empty salt changes nothing."""
    if not salt:
        return probes
    drawn = []
    for probe in probes:
        probe = copy.copy(probe)
        probe.seed = zlib.crc32(f"{salt}\0{probe.seed}".encode())
        drawn.append(probe)
    return drawn


def _literal(node: ast.AST, where: str) -> Any:
    if isinstance(node, ast.Name):
        return node.id                 # the student's function, by name
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise HiddenTestError(f"{where}: hidden tests take only names and literals, not "
                              f"{ast.unparse(node)!r}") from None


# --------------------------------------------------------------------------------- in a kernel: both steps
class _Grade:
    """`grade.<kind>(...)` in a notebook: harvest and judge right there (plain nbgrader, or an instructor
    running the source notebook). A failing check raises AssertionError with the reports."""

    def __getattr__(self, kind: str):
        if kind not in KINDS:
            raise AttributeError(f"grade has no check {kind!r}; kinds: {', '.join(KINDS)}")

        def run(student: Any, *args: Any, **kwargs: Any) -> None:
            caller = inspect.currentframe().f_back
            namespace = {**caller.f_globals, **caller.f_locals}
            name = student if isinstance(student, str) else _name_of(student, namespace)
            probe = KINDS[kind](name, *args, **kwargs)
            items, arrays = probe.inputs()
            results, out_arrays = harvest_module.collect(namespace, items, arrays)
            harvested = {k: rebuild(v, out_arrays) for k, v in results.items()}
            failed = [c for c in probe.judge(probe.expected(), harvested) if not c.ok]
            if failed:
                raise AssertionError("\n".join(f"{c.title}: {c.text}" for c in failed))

        return run


def _name_of(obj: Any, namespace: dict) -> str:
    for name, value in namespace.items():
        if value is obj and not name.startswith("_"):
            return name
    raise NameError(f"grade: {obj!r} is not a name in the notebook")


def rebuild(entry: Any, arrays: dict) -> Any:
    """A harvest entry with {"$array": name} replaced by the arrays."""
    if isinstance(entry, dict):
        if set(entry) == {"$array"}:
            a = arrays.get(entry["$array"])
            return a if a is None or a.ndim else a.item()
        return {k: rebuild(v, arrays) for k, v in entry.items()}
    if isinstance(entry, list):
        return [rebuild(v, arrays) for v in entry]
    return entry


grade = _Grade()
