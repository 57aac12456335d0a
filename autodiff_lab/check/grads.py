"""check_grads: are the engine's derivatives of f right? Its forward mode (jvp) and reverse mode (vjp) are
checked against finite differences, argument by argument (derivative_check.py); with order=2 the derivatives
of those derivatives are checked too: the engine's jvp and vjp of x -> vjp(f, x)(v) and of x -> jvp(f, x, u),
for fixed random v and u, against finite differences of those first derivatives.

    check_grads(lambda x, w: anp.tanh(x @ w), (random_inputs((3, 4)), random_inputs((4, 2), seed=1)), order=2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import numpy as anp
from .. import transforms
from ..backend import is_array, namespace, shape
from ..pytree import tree_flatten, tree_unflatten
from ..tracing import raw
from .arguments import as_args, differentiable, name_of
from .derivative_check import MAX_ENTRIES, check_derivative
from .finite_differences import NotNumbersError
from .inputs import random_normal
from .report import ATOL, RTOL, CheckReport, exception_words

MODES = ("fwd", "rev")


def check_grads(f: Callable, args: tuple, modes: Sequence[str] = MODES, order: int = 1, *, rtol: float = RTOL,
                atol: float = ATOL, seed: int = 0, max_entries: int = MAX_ENTRIES) -> CheckReport:
    """Check the engine's derivatives of f at args: "fwd" checks jvp, "rev" checks vjp, for every argument;
    order=2 also checks their derivatives. Every argument is differentiated: arguments may be floats,
    floating-point arrays, or lists / tuples / dicts of them (close over anything else, such as an index:
    check_grads(lambda x: f(x, idx), (x,))). f returns an array, or a list / tuple / dict of arrays.

    The engine runs on the arguments' own array library (numpy, cupy, ...) in float64; the finite
    differences run on numpy. Returns the first failing check's report, or an ok report listing every check
    that ran. The keyword arguments are those of check_vjp."""
    args = as_args(args, "check_grads")
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    if not modes or any(m not in MODES for m in modes):
        raise ValueError(f"check_grads: modes must be a non-empty selection of {MODES}, got {modes!r}")
    if order not in (1, 2):
        raise ValueError(f"check_grads: order must be 1 or 2, got {order!r}")
    originals, treedef = tree_flatten(args)
    labels = _leaf_labels(args)
    try:
        leaves = [differentiable(x, "check_grads", f"argument {label}")
                  for x, label in zip(originals, labels)]
    except TypeError as err:
        raise TypeError(f"{err} check_grads differentiates every argument: close over one that is not "
                        f"differentiated, as in check_grads(lambda x: f(x, idx), (x,)).") from None
    leaves = [Leaf(x, _to_library(original), label) for x, original, label in zip(leaves, originals, labels)]
    name = name_of(f)

    def flat_f(*xs: Any) -> Any:
        return _one_array(f(*tree_unflatten(treedef, list(xs))))

    options = dict(rtol=rtol, atol=atol, seed=seed, max_entries=max_entries)
    reports = _check_first_order(flat_f, leaves, modes, "", name, options)
    if order == 2 and all(r.ok for r in reports):
        rng = np.random.default_rng(seed + 1)
        try:
            out = raw(flat_f(*(leaf.engine for leaf in leaves)))
        except Exception as err:  # noqa: BLE001  (f's error becomes the report)
            return CheckReport(False, kind="grads", name=name,
                               error=f"{name} raised {exception_words(err)}")
        v = _to_library(out)(random_normal(shape(out), rng))
        u = [leaf.move(random_normal(leaf.x.shape, rng)) for leaf in leaves]
        first_derivatives = {
            "rev": lambda *xs: _one_array(list(transforms.vjp(flat_f, *xs)[1](v))),
            "fwd": lambda *xs: transforms.jvp(flat_f, xs, u)[1],
        }
        for inner in modes:
            reports += _check_first_order(first_derivatives[inner], leaves, modes,
                                          f" of {'vjp' if inner == 'rev' else 'jvp'}", name, options)
    return _summary(reports, name, order, modes)


def assert_grads(*args: Any, **kwargs: Any) -> None:
    """check_grads, raising AssertionError with the report's text when a check fails (returns None, so a
    notebook cell ending in it shows no output)."""
    report = check_grads(*args, **kwargs)
    if not report.ok:
        raise AssertionError(str(report))


class Leaf(NamedTuple):
    """One differentiated input: x (float64 numpy, for the finite differences), `move` (numpy -> the
    argument's own array library, where the engine runs), and its label in reports."""

    x: np.ndarray
    move: Callable
    label: int | str

    @property
    def engine(self) -> Any:
        return self.move(self.x)


def _to_library(like: Any) -> Callable:
    """A function moving numpy arrays to the array library of `like` (numpy arrays and numbers: numpy)."""
    if not is_array(like) or isinstance(like, (np.ndarray, np.generic)):
        return lambda a: a
    xp = namespace(like)
    return lambda a: xp.asarray(a)


def _check_first_order(fun: Callable, leaves: list[Leaf], modes: tuple, suffix: str, name: str,
                       options: dict) -> list[CheckReport]:
    """The engine's jvp and / or vjp of fun against finite differences, one report per mode and argument;
    stops at the first failure."""
    reports = []
    engine = [leaf.engine for leaf in leaves]
    for mode in modes:
        kind = ("jvp" if mode == "fwd" else "vjp") + suffix
        try:
            out, vjp_fn = transforms.vjp(fun, *engine) if mode == "rev" else (None, None)
        except Exception as err:  # noqa: BLE001  (the engine's error becomes the report)
            return reports + [CheckReport(False, kind=kind, name=name, error=f"{exception_words(err)}")]
        for i, leaf in enumerate(leaves):
            apply = _engine_vjp(vjp_fn, i, _to_library(out)) if mode == "rev" else _engine_jvp(fun, leaves, i)
            report = check_derivative("vjp" if mode == "rev" else "jvp", apply, _of_one(fun, leaves, i), leaf.x,
                                      kind=kind, name=name, argnum=leaf.label, **options)
            reports.append(report)
            if not report.ok:
                return reports
    return reports


def _engine_vjp(vjp_fn: Callable, i: int, move: Callable) -> Callable:
    """cotangent -> the engine's gradient for argument i."""
    return lambda g: raw(vjp_fn(move(g))[i])


def _engine_jvp(fun: Callable, leaves: list[Leaf], i: int) -> Callable:
    """tangent of argument i -> the engine's output tangent (the other arguments' tangents are zero)."""
    def apply(t: np.ndarray) -> Any:
        tangents = [leaf.move(t if k == i else np.zeros(leaf.x.shape)) for k, leaf in enumerate(leaves)]
        return raw(transforms.jvp(fun, [leaf.engine for leaf in leaves], tangents)[1])

    return apply


def _of_one(fun: Callable, leaves: list[Leaf], i: int) -> Callable:
    """fun as a function of argument i alone (a numpy array), the others held at their values."""
    def f(z: np.ndarray) -> Any:
        return raw(fun(*(leaf.move(z) if k == i else leaf.engine for k, leaf in enumerate(leaves))))

    return f


def _one_array(out: Any) -> Any:
    """f's output as one array: a list / tuple / dict of arrays becomes the concatenation of their entries.
    None is refused: it would count as an output with no entries, whose derivatives are all trivially right."""
    if out is None:
        raise NotNumbersError("check_grads: f returned None; f must return numbers (did you forget `return`?)")
    leaves, _ = tree_flatten(out)
    if len(leaves) == 1:
        return leaves[0]
    return anp.concatenate([anp.reshape(leaf, (-1,)) for leaf in leaves]) if leaves else np.zeros(0)


def _leaf_labels(args: tuple) -> list:
    """Where each leaf of args is: its argument number, or a path such as "0['W']" inside a container."""
    labels = []
    for k, arg in enumerate(args):
        leaves, _ = tree_flatten(arg)
        if len(leaves) == 1 and leaves[0] is arg:
            labels.append(k)
        else:
            labels.extend(f"{k}{path}" for path in _paths(arg))
    return labels


def _paths(tree: Any) -> list[str]:
    if isinstance(tree, dict):
        return [f"[{key!r}]{rest}" for key in tree for rest in _paths(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [f"[{i}]{rest}" for i, child in enumerate(tree) for rest in _paths(child)]
    return [] if tree is None else [""]


def _summary(reports: list[CheckReport], name: str, order: int, modes: tuple) -> CheckReport:
    lines = [f"{r.kind}, argument {r.argnum}: {'ok' if r.ok else 'FAILED'}, max rel error "
             f"{r.max_rel_error if r.max_rel_error is not None else float('nan'):.2g}" for r in reports]
    failed = next((r for r in reports if not r.ok), None)
    if failed is not None and " of " in failed.kind:
        failed.diagnosis = (failed.diagnosis + " " if failed.diagnosis else "") + (
            "This checks a derivative of a derivative: the engine differentiates the VJP / JVP rules "
            "themselves, so they must be written with anp functions and operators on their arguments (no "
            "raw values, no plain numpy).")
    if failed is not None:
        prefix = f"{failed.kind}, argument {failed.argnum}: "
        failed.details = lines[:-1] + [prefix + line for line in failed.details]
        return failed
    worst = max((r.max_rel_error or 0.0 for r in reports), default=0.0)
    return CheckReport(True, kind="grads", what=f"order {order}, modes {', '.join(modes)}", name=name,
                       max_rel_error=worst, rtol=reports[0].rtol if reports else RTOL,
                       atol=reports[0].atol if reports else ATOL, details=lines)
