"""What of a student's own text may reach the student: only what the grader can vouch for.

The student's code sees the hidden inputs, so anything it controls that is copied into its feedback is a
channel for them: not only digits, but an exception's message or class name, a returned word, dict keys, a
class name, the shape of a returned array (np.zeros((537,)) spells 537). Every text a student reads about
what their code did is built here, by these rules:

    exceptions  the type when it is a class the grader knows (Python's, numpy's, the engine's), else "an
                exception of a class defined in your code"; the message only when it is one the engine, numpy
                or Python writes (MESSAGES) with every hole vouched for, else a sentence saying it is not shown
    holes       a shape or a number when each one is a number of the check (a dimension or size of its inputs
                or expected values, an argument position, 0 or 1); a name when the hidden test, its reference,
                the engine or the released notebook uses it; a type or dtype the grader knows; else '…'
    values      described, never quoted: "an array of shape (3, 4)", "a dict with keys W1, b1", "a number";
                a word only when it is one the exercise accepts
    reports     autodiff_lab.check's report with the worst entry's index and sizes of errors to two digits,
                never a value computed from the hidden inputs

What the student's code wrote stays, unabridged up to a cap, in the instructor's results (Check.report).
"""

from __future__ import annotations

import builtins
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from autodiff_lab.check import CheckReport

MAX_QUOTE = 1000           # characters of a student's text that the instructor's results keep
MAX_ERROR = 400            # characters of an exception as a student reads it: room for the engine's shape hints
MAX_CHECK = 4 * MAX_QUOTE  # characters of a whole verdict
MAX_DIMS = 32              # a longer shape is never shown, even of vouched dimensions
HIDDEN = "…"
OWN_CLASS = "an exception of a class defined in your code"
NOT_SHOWN = ("its message is not shown, since it could carry the hidden inputs: run the self-check in your "
             "notebook to read it")


def clip(text: Any, limit: int = MAX_QUOTE) -> str:
    """`text` as a string of at most `limit` characters, saying how many were cut, that UTF-8 can encode (a
    lone surrogate from the kernel's JSON becomes '?'): student text is copied into results, feedback pages
    and notebooks, and must neither bloat nor break them."""
    text = str(text)
    cut = len(text) - limit
    text = text[:limit].encode("utf-8", "replace").decode("utf-8")
    return f"{text}… ({cut} characters cut)" if cut > 0 else text


# ----------------------------------------------------------------------------------------- what is vouched
@dataclass(frozen=True)
class Vouched:
    """The numbers and names the grader can vouch for in one check's texts (see the module docstring)."""

    numbers: frozenset = frozenset({0, 1})
    names: frozenset = frozenset()

    def __or__(self, other: Vouched) -> Vouched:
        return Vouched(self.numbers | other.numbers, self.names | other.names)

    def number(self, n: int) -> bool:
        return n in self.numbers

    def shape(self, dims: tuple) -> bool:
        return len(dims) <= MAX_DIMS and all(d in self.numbers for d in dims)

    def name(self, name: str) -> bool:
        return all(part in self.names or part in engine_names() for part in name.split("."))


NOTHING = Vouched()     # what a text with no check behind it vouches for: 0 and 1, the engine's names


def vouched(specs: Any = (), values: Any = (), names: Any = ()) -> Vouched:
    """What a check vouches for: every integer in its input specs and options (shapes, sizes, axes, labels),
    the shapes, sizes and lengths of its inputs and expected values (not their entries), the keys of both,
    and `names` (its hidden test's and its reference's identifiers)."""
    numbers, found = {0, 1}, set(names)

    def walk(v: Any, literal: bool) -> None:
        if isinstance(v, np.ndarray):
            numbers.update(v.shape)
            numbers.add(v.size)
        elif isinstance(v, dict):
            found.update(str(k) for k in v)
            for x in v.values():
                walk(x, literal)
        elif isinstance(v, (list, tuple)):
            numbers.add(len(v))
            for x in v:
                walk(x, literal)
        elif literal and isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            numbers.add(abs(int(v)))

    walk(specs, True)
    walk(values, False)
    return Vouched(frozenset(numbers), frozenset(found))


def identifiers(text: str) -> set[str]:
    """The words of a text an instructor wrote (a hidden test, the released notebook): names it may vouch for."""
    return set(re.findall(r"[A-Za-z_]\w*", text))


@functools.cache
def engine_names() -> frozenset:
    """Names any check vouches for: the engine's public functions and primitives, Python's built-ins."""
    import autodiff_lab
    import autodiff_lab.numpy as anp

    names = {n for module in (autodiff_lab, anp) for n in dir(module) if not n.startswith("_")}
    names |= {v.name for v in vars(anp).values() if isinstance(getattr(v, "name", None), str)}
    return frozenset(names | set(dir(builtins)) | {"self", "numpy", "np", "anp"})


@functools.cache
def known_types() -> frozenset:
    """Class names the grader knows, exceptions included: Python's, numpy's, the engine's and the harvest's.
    A student's own class may have any name (X3_1415), so only these are ever shown."""
    import autodiff_lab
    import autodiff_lab.check.finite_differences
    import autodiff_lab.primitive
    import autodiff_lab.pytree
    import autodiff_lab.scalar
    import autodiff_lab.tracing

    from .sandbox import harvest

    try:
        from numpy._core import _exceptions as numpy_internal
    except ImportError:  # numpy 1
        from numpy.core import _exceptions as numpy_internal
    modules = (builtins, np, np.exceptions, np.linalg, numpy_internal, autodiff_lab, autodiff_lab.primitive,
               autodiff_lab.pytree, autodiff_lab.scalar, autodiff_lab.tracing, autodiff_lab.check.finite_differences,
               harvest)
    names = {n for m in modules for n, v in vars(m).items() if isinstance(v, type)}
    return frozenset(names | {"NoneType", "function", "builtin_function_or_method", "method", "generator",
                              "module", "ProtocolError"})


@functools.cache
def known_dtypes() -> frozenset:
    return frozenset(str(np.dtype(c)) for c in np.typecodes["All"] if c not in "VSUMmO")


def known_type(name: str) -> bool:
    *modules, last = name.split(".")
    return last in known_types() and all(m in ("numpy", "builtins", "autodiff_lab") for m in modules)


# ----------------------------------------------------------------------------------- messages with holes
_SHAPE = r"\(\d*(?:, ?\d+)*,?\)"
_NAME = r"[A-Za-z_][\w.]{0,79}"


def _shape(text: str, v: Vouched, _depth: int) -> str:
    dims = tuple(int(d) for d in re.findall(r"\d+", text))
    return text if v.shape(dims) else f"({HIDDEN})"


def _name(text: str, v: Vouched, _depth: int) -> str:
    return text if v.name(text) else HIDDEN


def _arg(text: str, v: Vouched, depth: int) -> str:
    if text == "?":
        return text
    if text.startswith("arrays["):
        return text if v.number(int(text[7:-1])) else f"arrays[{HIDDEN}]"
    return _name(text, v, depth)


HOLES = {   # kind: (pattern, rendering of what filled it)
    "shape": (_SHAPE, _shape),
    "shapes": (rf"{_SHAPE}(?: {_SHAPE})*", lambda t, v, d: re.sub(_SHAPE, lambda m: _shape(m[0], v, d), t)),
    "int": (r"\d{1,20}", lambda t, v, d: t if v.number(int(t)) else HIDDEN),
    "size": (r"\d{1,20}\.?\d{0,20}", lambda t, v, d: f"{float(t):.2g}"),
    "name": (_NAME, _name),
    "arg": (rf"{_NAME}|arrays\[\d{{1,20}}\]|\?", _arg),
    "names": (rf"'{_NAME}'(?:(?:, |,? and )'{_NAME}')*",
              lambda t, v, d: re.sub(r"'([^']*)'", lambda m: f"'{_name(m[1], v, d)}'", t)),
    "type": (_NAME, lambda t, v, d: t if known_type(t) or v.name(t) else HIDDEN),
    "dtype": (r"[\w<>|=]{1,30}", lambda t, v, d: t if t in known_dtypes() else HIDDEN),
    "op": (r"[-+*/@%&|^<>=!~]{1,3}|\*\* or pow\(\)|divmod\(\)", lambda t, v, d: t),
    "error": (r".+", lambda t, v, d: student_error(t, v, d + 1)),
}

MESSAGES = (   # what the engine, numpy and Python write, {hole} or {one|other} (literal alternatives)
    # autodiff_lab/primitive.py
    "the {VJP|JVP} rule of {name} for argument {int} ({arg}) raised {error}",
    "the {VJP|JVP} rule of {name} for argument {int} ({arg}) returned shape {shape}, but the {argument|output} has "
    "shape {shape}. A {VJP|JVP} rule returns {a gradient with its argument's shape.|a tangent with the output's "
    "shape.}{| Did you undo broadcasting (sum the gradient over the axes that were broadcast)?| It is the transpose "
    "of the expected shape: did you swap the factors of a matrix product?}",
    "{name} has no {VJP|JVP} rule for argument {int} ({arg}), so it cannot be differentiated with respect to it. "
    "Give it one: {defvjp|defjvp}({name}, ...) takes one rule per argument, or pass a constant there.",
    # autodiff_lab/tracing.py, transforms.py, scalar.py
    "a traced value was used after its transformation had returned (was it kept in a global or a list outside "
    "f?). Return what you need from f instead.",
    "a Dual's tangent must have its primal's shape: primal {shape}, tangent {shape}",
    "a tangent has shape {shape} but its primal has shape {shape}; they must match",
    "the cotangent passed to vjp_fn has shape {shape}, but f's output has shape {shape}; a cotangent has the "
    "shape of the output",
    "Value ** Value is not supported: the exponent must be a number. For x ** y with y a Value, write "
    "(y * x.log()).exp().",
    # grader/sandbox/harvest.py, grader/runner.py
    "the {VJP|JVP} rule for argument {int} raised {error}",
    "{name} has no {VJP|JVP} rule for argument {int}: give it one with {defvjp|defjvp}",
    "{name} is no longer the primitive the notebook defined",
    "returned {type}, not a Value",
    "the graph holds a {type} where a Value belongs",
    "the graph has more than {int} nodes",
    "returned {type}, not a number or an array of numbers",
    "sent back something the grader cannot read",
    "returned an array of {int} bytes, more than the grader accepts",
    "returned {int} bytes of numbers, more than this check expects ({int})",
    # numpy
    "operands could not be broadcast together with shapes {shapes}",
    "matmul: Input operand {int} has a mismatch in its core dimension {int}, with gufunc signature "
    "(n?,k),(k,m?)->(n?,m?) (size {int} is different from {int})",
    "shapes {shape} and {shape} not aligned: {int} (dim {int}) != {int} (dim {int})",
    "cannot reshape array of size {int} into shape {shape}",
    "axis {int} is out of bounds for array of dimension {int}",
    "index {int} is out of bounds for axis {int} with size {int}",
    "too many indices for array: array is {int}-dimensional, but {int} were indexed",
    "Unable to allocate {size} {KiB|MiB|GiB|TiB|PiB|EiB} for an array with shape {shape} and data type {dtype}",
    # Python
    "division by zero", "float division by zero", "integer division or modulo by zero", "math domain error",
    "unsupported operand type(s) for {op}: '{type}' and '{type}'",
    "bad operand type for unary {op}: '{type}'",
    "'{type}' object has no attribute '{name}'",
    "'{type}' object is not {callable|subscriptable|iterable}",
    "name '{name}' is not defined",
    "{name}() takes {int} positional argument{s|} but {int} {were|was} given",
    "{name}() missing {int} required positional argument{s|}: {names}",
    "'{name}'",     # KeyError
)


@functools.cache
def _compiled() -> list[tuple[re.Pattern, list[str]]]:
    compiled = []
    for template in MESSAGES:
        pattern, kinds = [], []
        for i, piece in enumerate(re.split(r"\{([^{}]*)\}", template)):
            if i % 2 == 0:
                pattern.append(re.escape(piece))
            elif piece in HOLES:
                pattern.append(f"(?P<g{len(kinds)}>{HOLES[piece][0]})")
                kinds.append(piece)
            else:
                pattern.append("(?:" + "|".join(map(re.escape, piece.split("|"))) + ")")
        compiled.append((re.compile("".join(pattern)), kinds))
    return compiled


def vouched_message(message: str, v: Vouched, depth: int = 0) -> str | None:
    """`message` with every hole rendered as the grader vouches for it, if it is one of MESSAGES; else None."""
    if depth > 4:
        return None
    for pattern, kinds in _compiled():
        m = pattern.fullmatch(message)
        if m:
            out = message
            for i in reversed(range(len(kinds))):
                start, end = m.span(f"g{i}")
                out = out[:start] + HOLES[kinds[i]][1](m[f"g{i}"], v, depth) + out[end:]
            return out
    return None


def student_error(error: Any, v: Vouched = NOTHING, depth: int = 0) -> str:
    """An exception raised by student code ("Type: message", as the harvest sends it) as a student may read
    it: the type if the grader knows the class, the first line of the message if the grader can vouch for it
    (vouched_message), and otherwise a sentence that says it is not shown and where to read it."""
    first = (str(error)[:MAX_QUOTE].strip().splitlines() or [""])[0]
    kind, _, message = first.partition(":")
    kind, message = kind.strip(), message.strip()
    if not message and vouched_message(kind, v, depth) is not None:
        return clip(kind, MAX_ERROR)        # the grader's own words (a harvest it could not read)
    shown = kind if known_type(kind) else OWN_CLASS
    if not message:
        text = f"{shown} (with an empty message)" if shown == kind else f"{shown}, with an empty message"
    else:
        rendered = vouched_message(message, v, depth)
        text = f"{shown}: {rendered}" if rendered is not None else f"{shown} ({NOT_SHOWN})"
    return clip(text, MAX_ERROR)


def error_types(error: Any) -> set[str]:
    """The exception types named in an error as sent ("RuleError: ... raised MemoryError: ..."): to choose
    among the grader's own hints, never shown."""
    first = (str(error)[:MAX_QUOTE].strip().splitlines() or [""])[0]
    return {first.partition(":")[0].strip(), *re.findall(r" raised (\w+)", first)}


# ------------------------------------------------------------------------------------------ returned values
def shape_text(shape: tuple, v: Vouched) -> str:
    """'(3, 4)', or 'another shape (2 dimensions)' when a dimension is not vouched for."""
    shape = tuple(shape)
    if v.shape(shape):
        return str(shape)
    return f"another shape ({len(shape)} dimension{'s' if len(shape) != 1 else ''})"


def describe_returned(value: Any, v: Vouched) -> str:
    """What student code returned, described by its kind and vouched sizes: never its entries, its keys or
    its class name unless vouched for."""
    if isinstance(value, np.ndarray):
        what = {"f": "an array", "i": "an array of integers", "u": "an array of integers", "b": "an array of bools",
                "c": "an array of complex numbers"}.get(value.dtype.kind, "an array of other values")
        shape = shape_text(value.shape, v)
        return f"{what} of {'shape ' if shape.startswith('(') else ''}{shape}"
    if isinstance(value, dict):
        keys = [str(k) for k in value]
        if keys and all(v.name(k) for k in keys):
            return f"a dict with keys {', '.join(sorted(keys))}"
        return "a dict with other keys" if keys else "an empty dict"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}" if v.number(len(value)) else "a list of another length"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float, np.number)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return f"an object of {type(value).__name__}" if known_type(type(value).__name__) else \
        "an object of a class defined in your code"


def word_text(got: Any, words: set[str]) -> str:
    """A returned word, quoted only when it is one the exercise accepts."""
    if isinstance(got, str):
        return repr(got) if got in words else "a different word"
    return describe_returned(got, NOTHING)


# ----------------------------------------------------------------------------------------- checker reports
def student_report(report: CheckReport, v: Vouched = NOTHING) -> str:
    """autodiff_lab.check's report as a student may read it (str(report) is the instructor's): the shapes
    the grader vouches for, the worst entry's index and sizes of errors to two digits, but no value computed
    from the hidden inputs. Neither the expected entry nor the returned one is shown: a function that returns
    its hidden input would read it there, and a NaN put at an index of its choice would read the expected
    entry at that index."""
    rows = []
    for label, text in report.rows():
        if label in _REDACTED_ROWS:
            text = _REDACTED_ROWS[label](report, v)
        elif label not in _GRADERS_ROWS:
            continue
        rows.append((label, text))
    width = max((len(label) for label, _ in rows), default=0)
    return "\n".join([report.title] + [f"  {label:<{width}}  {text}" for label, text in rows])


def _worst_entry(report: CheckReport, _v: Vouched) -> str:
    where = f"index {report.worst_index}"
    if report.expected_value is None or report.got_value is None:
        return where
    off = abs(report.got_value - report.expected_value)
    return f"{where}, off by {_rough(off)}" if np.isfinite(off) else where


def _rough(x: float | None) -> str:
    """Two significant digits, written as two (0.70, 1.0, 2.5, 12, 1.4e+02): how large an error is, never enough
    to rebuild a value to the tolerance. Zero, infinity and NaN are written as such."""
    if x is None:
        return "-"
    if x == 0 or not np.isfinite(x):
        return f"{x:g}"
    text = f"{x:#.2g}"
    return text.replace(".e", "e").rstrip(".")


def _shape_row(report: CheckReport, v: Vouched) -> str:
    text = f"expected {report.expected_shape}"
    if report.got_shape is not None and report.got_shape != report.expected_shape:
        text += f", got {shape_text(report.got_shape, v)}"
    return text


def _dtype_row(report: CheckReport, _v: Vouched) -> str:
    got = report.got_dtype if report.got_dtype in known_dtypes() else "another dtype"
    return f"expected {report.expected_dtype}, got {got}"


def _error_row(report: CheckReport, _v: Vouched) -> str:
    """compare()'s error (written here, in the grader): only the type or dtype it names can be the student's."""
    text, what = report.error, report.what
    typed = re.fullmatch(rf"the {re.escape(what)} is a (\S+), not an array\. (.*)", text, re.S)
    if typed and not known_type(typed[1]):
        return f"the {what} is an object of a class defined in your code, not an array. {typed[2]}"
    dtyped = re.fullmatch(rf"the {re.escape(what)} has dtype (\S+)(, .*|: .*)", text, re.S)
    if dtyped and dtyped[1] not in known_dtypes():
        return f"the {what} has another dtype{dtyped[2]}"
    if typed or dtyped or text.startswith((f"the {what} is None", f"the {what} contains NaN or infinity (")):
        return text
    return f"the {what} could not be compared"


def _diagnosis_row(report: CheckReport, _v: Vouched) -> str:
    """The diagnosis, with a constant factor (which the student's code chose) to two digits."""
    def rough(m: re.Match) -> str:
        inverse, number = m[1] or "", float(m[2])
        text = f"your result is about {inverse}{_rough(number)} times the right one"
        factor = 1 / number if inverse else number
        if _rough(number) == "1.0" and factor != 1:   # two digits say 1.0: say which way it is off, no more
            text += f" (slightly too {'large' if factor > 1 else 'small'})"
        return text

    return re.sub(r"your result is (1/)?([\d.e+-]+) times(?: \([^)]*\))? the right one", rough, report.diagnosis)


_REDACTED_ROWS = {   # the rows of CheckReport.rows() that can hold what the student's code chose, by label
    "error": _error_row,
    "shape": _shape_row,
    "dtype": _dtype_row,
    "difference": lambda r, v: (f"max abs {_rough(r.max_abs_error)}, max rel {_rough(r.max_rel_error)} "
                                f"(allowed: rtol {r.rtol:g}, atol {r.atol:g})"),
    "worst entry": _worst_entry,
    "diagnosis": _diagnosis_row,
}
_GRADERS_ROWS = {"hint", "wrong"}   # written from the expected shape, or a count of entries: shown as they are
