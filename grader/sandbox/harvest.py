"""In the sandbox: call the student's functions on the grader's inputs and turn what they return into plain
arrays (a JSON skeleton plus an npz of numeric arrays; never pickle).

A harvest item is data, never code: {"key", "op", "fn", ...}. `fn` names a function of the notebook (or is
the text of a lambda over its names, which the grader wrote); the arguments are specs that refer to the
grader's arrays (see `from_spec`). The ops:

    call         fn(*args, **kwargs)                                   (value and gradient, Jacobian, exact)
    read         the notebook's variable fn                              (trained parameters)
    vjp          primitive fn: its output, and each argument's VJP rule called directly on the cotangent
    jvp          primitive fn: its output, and argument `argnum`'s JVP rule called on the tangent
    value_graph  fn on scalar Values made here; the graph it built, shipped as arrays (the judge runs backward)
    dual         class fn: `expr` evaluated on its dual numbers seeded with each unit tangent

Nothing of the engine stands between the student's functions and what is shipped: rules are read from the
primitive's own table and called here, the Value graph is read through the slots captured before any student
code ran, and the backward pass of a Value graph runs in the grader's process. `Capture` holds what this
module needs, taken before the notebook's first cell. This module imports only numpy and the engine, so it
also runs in a plain nbgrader kernel (probes.grade).
"""

import io
import os
import types

import numpy as np

import autodiff_lab
from autodiff_lab import Primitive, Value

try:   # the reference functions, for the specs {"$ref": name}
    from . import functions
except ImportError:   # in the sandbox this file and functions.py sit side by side, outside any package
    import functions

MAX_ARRAY_BYTES = 64 * 2**20
MAX_TEXT = 1000
MAX_NODES = 20_000        # nodes of a shipped Value graph


class NotPlain(TypeError):
    """The student's function returned something that is not numbers."""


class Capture:
    """The engine's classes and the slots of Value, taken before any student code runs: later changes to
    the engine's classes or modules do not reach the harvest."""

    def __init__(self, engine_files: tuple[str, ...] = ()) -> None:
        self.Primitive, self.Value = Primitive, Value
        self.slots = {name: Value.__dict__[name] for name in ("data", "grad", "label", "op", "a", "da", "b", "db")}
        self.new = object.__new__
        self.instance_dict = object.__getattribute__
        self.engine_files = (os.path.join(os.path.dirname(autodiff_lab.__file__), ""), *engine_files)
        self.notes: list[dict] = []      # rules the engine wrote, found among a primitive's (engine notes)

    def check_rule(self, rule, primitive: str) -> None:
        """Note a rule that is the engine's own (its code lives in the engine or is the guard's wrapper of a
        built-in rule) rather than one the notebook wrote."""
        code = rule.__code__ if isinstance(rule, types.FunctionType) else None
        if code is not None and code.co_filename.startswith(self.engine_files):
            self.notes.append({"fn": f"built-in rule of {primitive}", "cell": "", "line": 0})


def load_arrays(data: bytes) -> dict:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def save_arrays(file, arrays: dict) -> None:
    np.savez(file, **arrays)


def to_plain(value, arrays: dict, prefix: str):
    """The skeleton of `value`: lists, dicts with string keys, strings, None, and {"$array": name} for each
    number or array (stored in `arrays`)."""
    if value is None or isinstance(value, str):
        return value if value is None else value[:MAX_TEXT]
    if isinstance(value, (list, tuple)):
        return [to_plain(v, arrays, f"{prefix}.{i}") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k)[:MAX_TEXT]: to_plain(v, arrays, f"{prefix}.{k}") for k, v in value.items()}
    data = getattr(value, "value", value)          # an engine tracer: the array inside
    array = np.array(data)
    if array.dtype.kind not in "biufc":
        raise NotPlain(f"returned {type(value).__name__}, not a number or an array of numbers")
    if array.nbytes > MAX_ARRAY_BYTES:
        raise NotPlain(f"returned an array of {array.nbytes} bytes, more than the grader accepts")
    name = f"a{len(arrays)}"
    arrays[name] = np.array(array, order="C")
    return {"$array": name}


def from_spec(spec, inputs: dict):
    """A value from its spec: {"$array": name} (a fresh copy of the grader's array, so a function that writes
    into its inputs changes nothing for the next call), {"$tuple": [...]}, {"$dict": {...}}, {"$ref": name} (a
    reference function), lists and plain numbers, words and None as they are."""
    if isinstance(spec, list):
        return [from_spec(s, inputs) for s in spec]
    if isinstance(spec, dict):
        if "$array" in spec:
            return inputs[spec["$array"]].copy()
        if "$tuple" in spec:
            return tuple(from_spec(s, inputs) for s in spec["$tuple"])
        if "$dict" in spec:
            return {k: from_spec(s, inputs) for k, s in spec["$dict"].items()}
        if "$ref" in spec:
            return getattr(functions, spec["$ref"])
    return spec


def collect(namespace: dict, items: list, inputs: dict, capture: Capture | None = None,
            compile_text=None, max_bytes: int | None = None) -> tuple[dict, dict]:
    """Run each item; {key: {"value": skeleton} or {"error": "Type: message"}}, and the arrays.
    `compile_text(text, namespace)` turns the grader's lambda text into a function (default: eval).
    `max_bytes`: what the request's checks expect back, at most (an item past it is an error of its own)."""
    capture = capture or Capture()
    compile_text = compile_text or _eval_text
    results, arrays = {}, {}
    for item in items:
        try:
            fn = _function(item["fn"], namespace, compile_text)
            value = OPS[item["op"]](capture, fn, item, inputs, namespace, compile_text)
            results[item["key"]] = {"value": _within(value, arrays, item["key"], max_bytes)}
        except BaseException as err:  # student code may raise anything; an interrupt ends only this item
            results[item["key"]] = {"error": describe_error(err)}
    return results, arrays


def _within(value, arrays: dict, key: str, max_bytes: int | None):
    """to_plain(value), refused (and its arrays dropped) when the request's arrays would pass max_bytes."""
    before = set(arrays)
    try:
        skeleton = to_plain(value, arrays, key)
        total = sum(a.nbytes for a in arrays.values())
        if max_bytes is not None and total > max_bytes:
            raise NotPlain(f"returned {sum(arrays[n].nbytes for n in set(arrays) - before)} bytes of numbers, "
                           f"more than this check expects ({max_bytes})")
    except BaseException:
        for name in set(arrays) - before:
            del arrays[name]
        raise
    return skeleton


def describe_error(err: BaseException) -> str:
    """"Type: message"; an exception whose message itself raises (its __str__ is student code) is named alone."""
    try:
        message = str(err)[:MAX_TEXT]
    except BaseException:  # noqa: BLE001
        message = ""
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


def _eval_text(text: str, namespace: dict):
    return eval(compile(text, "<grader>", "eval"), namespace)  # noqa: S307  (the grader's own lambda text)


def _function(fn: str, namespace: dict, compile_text):
    if fn.isidentifier():
        if fn not in namespace:
            raise NameError(f"name '{fn}' is not defined")
        return namespace[fn]
    return compile_text(fn, namespace)


# ---- the ops --------------------------------------------------------------------------------------------
def _args(item: dict, inputs: dict) -> tuple[list, dict]:
    return ([from_spec(a, inputs) for a in item.get("args", [])],
            {k: from_spec(v, inputs) for k, v in item.get("kwargs", {}).items()})


def op_call(capture, fn, item, inputs, namespace, compile_text):
    args, kwargs = _args(item, inputs)
    return fn(*args, **kwargs)


def op_read(capture, fn, item, inputs, namespace, compile_text):
    return fn


def _primitive(capture: Capture, fn, item: dict) -> dict:
    """The primitive's own attributes (its instance dict): no method of the engine's class is called."""
    if type(fn) is not capture.Primitive:
        raise TypeError(f"{item['fn']} is no longer the primitive the notebook defined")
    return capture.instance_dict(fn, "__dict__")


def op_vjp(capture, fn, item, inputs, namespace, compile_text):
    """(output, [each argument's VJP rule at the cotangent]), the rules called as rule(g, ans, *args, **kwargs)."""
    table = _primitive(capture, fn, item)
    args, kwargs = _args(item, inputs)
    ans = table["impl"](*args, **kwargs)
    cotangents = []
    for i in range(len(args)):
        rule = table["vjps"].get(i)
        if rule is None:
            raise TypeError(f"{item['fn']} has no VJP rule for argument {i}: give it one with defvjp")
        capture.check_rule(rule, item["fn"])
        fresh, kw = _args(item, inputs)
        cotangents.append(_rule_call(rule, "VJP", i, from_spec(item["cotangent"], inputs), np.copy(ans), fresh, kw))
    return ans, cotangents


def op_jvp(capture, fn, item, inputs, namespace, compile_text):
    """(output, argument argnum's JVP rule at the tangent), called as rule(t, ans, *args, **kwargs)."""
    table = _primitive(capture, fn, item)
    args, kwargs = _args(item, inputs)
    ans = table["impl"](*args, **kwargs)
    i = item["argnum"]
    rule = table["jvps"].get(i)
    if rule is None:
        raise TypeError(f"{item['fn']} has no JVP rule for argument {i}: give it one with defjvp")
    capture.check_rule(rule, item["fn"])
    fresh, kw = _args(item, inputs)
    return ans, _rule_call(rule, "JVP", i, from_spec(item["tangent"], inputs), np.copy(ans), fresh, kw)


class RuleFailed(Exception):
    """A student's rule raised: the message names the rule and the argument."""


def _rule_call(rule, kind: str, i: int, g, ans, args: list, kwargs: dict):
    try:
        return rule(g, ans, *args, **kwargs) if kwargs else rule(g, ans, *args)
    except KeyboardInterrupt:
        raise
    except Exception as err:  # noqa: BLE001
        raise RuleFailed(f"the {kind} rule for argument {i} raised {describe_error(err)}") from None


def op_value_graph(capture, fn, item, inputs, namespace, compile_text):
    """fn on Values made from the arguments (a list argument becomes a list of Values); returns the graph
    it built: [output data, {"data", "parents", "local", "leaves"}], nodes parents first. The leaves are
    the indices of the arguments' Values (-1 for one the output does not depend on)."""
    args, _ = _args(item, inputs)
    leaves = [[_leaf(capture, x) for x in a] if np.ndim(a) else _leaf(capture, a) for a in args]
    out = fn(*leaves)
    if type(out) is not capture.Value:
        raise TypeError(f"returned {type(out).__name__}, not a Value")
    order = _topological(capture, out)
    index = {id(v): i for i, v in enumerate(order)}
    get = {name: capture.slots[name].__get__ for name in ("data", "a", "da", "b", "db")}
    data, parents, local = [], [], []
    for v in order:
        data.append(float(get["data"](v)))
        pair, grads = [-1, -1], [0.0, 0.0]
        for k, (p, d) in enumerate((("a", "da"), ("b", "db"))):
            parent = get[p](v)
            if parent is not None:
                pair[k], grads[k] = index[id(parent)], float(get[d](v))
        parents.append(pair)
        local.append(grads)
    where = lambda leaf: index.get(id(leaf), -1)  # noqa: E731
    spots = [[where(x) for x in leaf] if isinstance(leaf, list) else where(leaf) for leaf in leaves]
    graph = {"data": np.array(data), "parents": np.array(parents, dtype=np.int64).reshape(-1, 2),
             "local": np.array(local).reshape(-1, 2), "leaves": spots}
    return [data[-1], graph]


def _leaf(capture: Capture, x) -> object:
    v = capture.new(capture.Value)
    for name, value in (("data", float(x)), ("grad", 0.0), ("label", ""), ("op", ""), ("a", None), ("da", 0.0),
                        ("b", None), ("db", 0.0)):
        capture.slots[name].__set__(v, value)
    return v


def _topological(capture: Capture, out) -> list:
    """Every Value `out` depends on, parents before children, read through the captured slots."""
    get_a, get_b = capture.slots["a"].__get__, capture.slots["b"].__get__
    order, seen, stack = [], set(), [(out, False)]
    while stack:
        v, placed = stack.pop()
        if placed:
            order.append(v)
            continue
        if id(v) in seen:
            continue
        if type(v) is not capture.Value:
            raise TypeError(f"the graph holds a {type(v).__name__} where a Value belongs")
        seen.add(id(v))
        if len(seen) > MAX_NODES:
            raise ValueError(f"the graph has more than {MAX_NODES} nodes")
        stack.append((v, True))
        for parent in (get_b(v), get_a(v)):
            if parent is not None and id(parent) not in seen:
                stack.append((parent, False))
    return order


def op_dual(capture, fn, item, inputs, namespace, compile_text):
    """For each input i: `expr` on the student's dual numbers seeded with tangent e_i, as (primal, tangent)."""
    expression = compile_text(item["expr"], namespace)
    point = [float(x) for x in item["point"]]
    out = []
    for i in range(len(point)):
        duals = [fn(x, 1.0 if j == i else 0.0) for j, x in enumerate(point)]
        result = expression(*duals)
        out.append([result.primal, result.tangent])
    return out


OPS = {"call": op_call, "read": op_read, "vjp": op_vjp, "jvp": op_jvp, "value_graph": op_value_graph,
       "dual": op_dual}
