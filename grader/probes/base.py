"""`Probe`, the base of every kind of check: its options, inputs and texts, the harvest items it asks for, and
how it judges what came back; with the helpers that reject a return value of the wrong structure (`_Malformed`,
`_pair`, `_like`)."""

from __future__ import annotations

import copy
import inspect
import zlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..sandbox import functions
from ..student_text import Vouched, clip, describe_returned, identifiers, student_error, student_report, vouched
from .check import Check, _jsonable
from .finite_differences import as_array
from .inputs import HiddenTestError, make_input, to_spec

RTOL, ATOL = 1e-5, 1e-7


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
        """The inputs the specs draw under this probe's seed: drawn once per seed, a fresh copy each call (a
        caller may change what it gets)."""
        drawn = getattr(self, "_drawn", None)
        if drawn is None or drawn[0] != self.seed:
            rng = self.rng()
            drawn = self._drawn = (self.seed, [make_input(spec, rng) for spec in self.args])
        return copy.deepcopy(drawn[1])

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
        """Harvest items (sandbox/harvest.py: data, never code) and the arrays they refer to."""
        arrays: dict[str, np.ndarray] = {}
        return [{"key": "out", "fn": self.student, **self.item(self._values(), arrays)}], arrays

    def item(self, values: list, arrays: dict) -> dict:
        """The harvest op and its arguments, e.g. {"op": "call", "args": [...], "kwargs": {...}}."""
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

    def args_spec(self, values: list, arrays: dict) -> list:
        return [to_spec(v, arrays, f"{self.seed}.{i}") for i, v in enumerate(values)]

    def kwargs_spec(self) -> dict:
        return {k: to_spec(v, {}, k) for k, v in self.kwargs.items()}


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
