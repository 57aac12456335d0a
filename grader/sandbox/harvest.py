"""In the sandbox: call the student's functions on the grader's inputs and turn what they return into plain
arrays (a JSON skeleton plus an npz of numeric arrays; never pickle).

Each harvest item is {"key": ..., "expr": ...}: a Python expression the grader wrote, evaluated in the
notebook's namespace with `__inputs__` (the grader's arrays) and `__harvest__` (this module) defined. The
helpers below are what such expressions call. They compute nothing that is graded here; they only collect.
This module imports only numpy and the engine, so it also runs in a plain nbgrader kernel.
"""

import io
import sys

import numpy as np

try:   # the grader's expressions reach the reference functions as __harvest__.functions
    from . import functions  # noqa: F401
except ImportError:   # in the sandbox this file and functions.py sit side by side, outside any package
    import functions  # noqa: F401

MAX_ARRAY_BYTES = 64 * 2**20
MAX_TEXT = 1000


class NotPlain(TypeError):
    """The student's function returned something that is not numbers."""


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


def collect(namespace: dict, items: list, inputs: dict) -> tuple[dict, dict]:
    """Evaluate each item; {key: {"value": skeleton} or {"error": "Type: message"}}, and the arrays."""
    results, arrays = {}, {}
    for item in items:
        namespace["__inputs__"] = inputs
        namespace["__harvest__"] = sys.modules[__name__]
        try:
            value = eval(item["expr"], namespace)  # noqa: S307  (the grader's expression, in the sandbox)
            results[item["key"]] = {"value": to_plain(value, arrays, item["key"])}
        except BaseException as err:  # student code may raise anything, including KeyboardInterrupt
            message = str(err)[:MAX_TEXT]
            results[item["key"]] = {"error": f"{type(err).__name__}: {message}" if message else type(err).__name__}
    return results, arrays


# ---- helpers the grader's expressions call ---------------------------------------------------------------
def call(fn, *args, **kwargs):
    """fn(*args, **kwargs) with fresh copies of the arrays, so a function that writes into its inputs cannot
    change the next item's inputs."""
    copy = lambda a: a.copy() if isinstance(a, np.ndarray) else a  # noqa: E731
    return fn(*[copy(a) for a in args], **{k: copy(v) for k, v in kwargs.items()})


def engine_vjp(fn, args, cotangent, kwargs=None):
    """(output, cotangents) of fn at args through the engine's reverse mode, so the student's rules run the
    way defvjp plugged them in."""
    from autodiff_lab import vjp

    kwargs = kwargs or {}
    out, f_vjp = vjp(lambda *a: fn(*a, **kwargs), *[np.array(a) for a in args])
    return out, f_vjp(np.array(cotangent))


def engine_jvp(fn, args, tangents, kwargs=None):
    """(output, tangent) of fn at args through the engine's forward mode (the student's defjvp rules)."""
    from autodiff_lab import jvp

    kwargs = kwargs or {}
    return jvp(lambda *a: fn(*a, **kwargs), tuple(np.array(a) for a in args), tuple(np.array(t) for t in tangents))


def value_grads(fn, *args):
    """Run fn on scalar Values made from args, call backward() on the result, and return
    (result's data, [each argument's grad]). Arguments that are lists become lists of Values."""
    from autodiff_lab import Value

    wrap = lambda a: [Value(float(x)) for x in a] if np.ndim(a) else Value(float(a))  # noqa: E731
    leaves = [wrap(a) for a in args]
    out = fn(*leaves)
    out.backward()
    grads = [[v.grad for v in leaf] if isinstance(leaf, list) else leaf.grad for leaf in leaves]
    return out.data, grads


def dual_partials(cls, fn, point):
    """For each input i: fn evaluated on the student's dual numbers seeded with tangent e_i, as
    (primal, tangent) of the result."""
    out = []
    for i in range(len(point)):
        duals = [cls(float(x), 1.0 if j == i else 0.0) for j, x in enumerate(point)]
        result = fn(*duals)
        out.append([result.primal, result.tangent])
    return out
