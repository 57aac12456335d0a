"""The transformations, named as in JAX: grad, value_and_grad, vjp, jvp, jacrev, jacfwd, hessian, hvp.

Reverse mode (vjp) runs f on Boxes, which record the graph of the computation, then walks that graph backwards
from the output, calling each primitive's VJP rule: the gradient flowing into a box is passed through the
box's local derivative to its parents, without ever building a Jacobian. Forward mode (jvp) runs f on Duals, which
carry tangents forward. Arguments may be arrays, numbers, or nested lists / tuples / dicts of them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from itertools import repeat
from numbers import Number
from typing import Any

from . import numpy as anp
from .backend import get_backend, is_array, isdtype, namespace, shape
from .numpy.elementwise import astype_like
from .pytree import describe, tree_flatten, tree_unflatten
from .tracing import Box, Dual, Tracer, cycle_collector_paused, new_level, raw, tape_of


# ----------------------------------------------------------------------------------------------- reverse mode
def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """(f(*primals), vjp_fn), where vjp_fn(v) = v^T J: a tuple with one cotangent per primal, each shaped like
    that primal. v has the shape (and structure) of f's output. With has_aux, f returns (output, aux) and vjp
    returns (output, vjp_fn, aux). vjp_fn may be called many times; vjp_fn(v, retain_graph=False) frees the
    recorded arrays as it goes (see backward_pass), after which it cannot be called again."""
    return _vjp(f, primals, "vjp", range(len(primals)), has_aux)


def _vjp(f: Callable, primals: tuple, transform: str, positions: Sequence[int], has_aux: bool = False) -> tuple:
    leaves, treedef = tree_flatten(primals)
    _check_differentiable(primals, transform, positions, leaves)
    with new_level() as level:
        inputs = [Box(x, level) for x in _ieee(leaves)]
        out = f(*tree_unflatten(treedef, inputs))
        recorded = tape_of(level)
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"{transform} with has_aux=True needs f to return a pair (output, auxiliary data)")
        out, aux = out
    out_leaves, out_def = tree_flatten(out)
    ours = [isinstance(o, Box) and o.level == level for o in out_leaves]
    out_values = [o.value if mine else o for o, mine in zip(out_leaves, ours)]

    freed = False

    def vjp_fn(cotangent: Any, *, retain_graph: bool = True) -> tuple:
        nonlocal freed
        if freed:
            raise RuntimeError(
                "this vjp_fn was already called with retain_graph=False, which frees the recorded graph; call "
                "vjp again, or pass retain_graph=True to every call but the last"
            )
        ct_leaves, ct_def = tree_flatten(cotangent)
        if ct_def != out_def:
            raise ValueError(
                f"the cotangent passed to vjp_fn has structure {describe(ct_def)}, but f returned "
                f"{describe(out_def)}; pass one array per output, shaped like it"
            )
        for i, (value, ct) in enumerate(zip(out_values, ct_leaves)):
            if shape(ct) != shape(value):
                raise ValueError(
                    f"the cotangent passed to vjp_fn has shape {shape(ct)}, but f's output has shape "
                    f"{shape(value)}; a cotangent has the shape of the output"
                )
            like = raw(value)
            if not hasattr(ct, "dtype") and hasattr(like, "dtype"):  # a Python number: rules expect an array
                ct_leaves[i] = namespace(like).asarray(ct, dtype=like.dtype)
        seeds = [(o, ct) for o, ct, mine in zip(out_leaves, ct_leaves, ours) if mine]
        freed = not retain_graph
        with cycle_collector_paused():
            cotangents = backward_pass(seeds, recorded, free_graph=freed)
        grads = [astype_like(cotangents[x], x.value) if x in cotangents else anp.zeros_like(x.value)
                 for x in inputs]
        return tree_unflatten(treedef, grads)

    result = (tree_unflatten(out_def, out_values), vjp_fn)
    if has_aux:
        aux_leaves, aux_def = tree_flatten(aux)
        unboxed = [a.value if isinstance(a, Box) and a.level == level else a for a in aux_leaves]
        result += (tree_unflatten(aux_def, unboxed),)
    return result


def backward_pass(seeds: list[tuple[Box, Any]], tape: list[Box], keep_all: bool = False,
                  free_graph: bool = False) -> dict[Box, Any]:
    """Reverse accumulation: {box: dL/d(box's value)} for the boxes on the tape that the seeds depend on.

    The tape is read from the end, newest box first. A box's children were all made after it, so when its
    turn comes every child has added its share and the box's gradient is complete; its VJP rules then hand a
    share to each parent (parent gradient += VJP(box gradient)). Boxes that received no gradient (the seeds
    do not depend on them) are skipped. Only the inputs' entries are kept unless keep_all.

    After its turn a box's value and arguments are never needed again, so with free_graph (PyTorch's
    retain_graph=False, which grad uses) the box lets go of them: the forward pass's arrays are freed while
    the backward pass allocates the gradients, and the peak memory of a training step falls."""
    cotangents: dict[Box, Any] = {}
    for box, g in seeds:
        cotangents[box] = cotangents[box] + g if box in cotangents else g
    take = cotangents.get if keep_all else cotangents.pop
    for box in reversed(tape):
        if not box.parents:
            continue  # an input: its gradient stays in `cotangents`
        g = take(box, None)
        if g is None:
            continue
        primitive, ans, args, kwargs = box.primitive, box.value, box.args, box.kwargs
        for argnum, parent in zip(box.argnums, box.parents):
            parent_g = primitive.apply_vjp_rule(argnum, g, ans, args, kwargs)
            before = cotangents.get(parent)
            cotangents[parent] = parent_g if before is None else before + parent_g
        if free_graph:
            box.value = box.args = box.kwargs = None
    return cotangents


def value_and_grad(f: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """A function returning (f(*args), gradient of f with respect to args[argnums]).

    f must return a scalar; with has_aux=True it returns (scalar, aux) and the value is that pair. With a
    tuple argnums the gradient is a tuple, one entry per chosen argument."""

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        positions = _positions(argnums, len(args), "grad")

        def f_of_chosen(*chosen: Any) -> Any:
            return f(*_substitute(args, positions, chosen), **kwargs)

        with cycle_collector_paused():  # for the whole round trip, and the graph is freed before it resumes
            value, f_vjp, *aux = _vjp(f_of_chosen, tuple(map(args.__getitem__, positions)), "grad", positions, has_aux)
            r = raw(value)
            if shape(r) != () or not (is_array(r) or isinstance(r, Number)):
                what = f"shape {shape(r)}" if is_array(r) else f"a {type(value).__name__}"
                raise TypeError(
                    f"grad needs f to return a scalar, but it returned {what}. Reduce the output to one number "
                    f"(e.g. anp.sum or anp.mean), or use jacrev / vjp to differentiate a non-scalar output."
                )
            grads = f_vjp(anp.ones_like(value), retain_graph=False)
            del f_vjp
        grads = grads[0] if isinstance(argnums, int) else grads
        return ((value, aux[0]) if has_aux else value), grads

    return value_and_grad_f


def grad(f: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The gradient of scalar-valued f with respect to args[argnums], in the structure of those arguments.
    With has_aux=True, f returns (scalar, aux) and grad returns (gradient, aux)."""
    value_and_grad_f = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, grads = value_and_grad_f(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return grad_f


# ----------------------------------------------------------------------------------------------- forward mode
def jvp(f: Callable, primals: Sequence, tangents: Sequence) -> tuple[Any, Any]:
    """(f(*primals), J @ tangents): the output and its tangent (directional derivative along `tangents`)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp takes primals and tangents as tuples: jvp(f, (x,), (t,))")
    primals, tangents = tuple(primals), tuple(tangents)
    _check_differentiable(primals, "jvp", range(len(primals)))
    p_leaves, p_def = tree_flatten(primals)
    t_leaves, t_def = tree_flatten(tangents)
    if p_def != t_def:
        raise ValueError(f"tangents have structure {describe(t_def)}, primals {describe(p_def)}; they must match")
    for p, t in zip(p_leaves, t_leaves):
        if shape(p) != shape(t):
            raise ValueError(f"a tangent has shape {shape(t)} but its primal has shape {shape(p)}; they must match")
    with new_level() as level:
        out = f(*tree_unflatten(p_def, [Dual(p, t, level) for p, t in zip(_ieee(p_leaves), _ieee(t_leaves))]))
    out_leaves, out_def = tree_flatten(out)
    ours = [isinstance(o, Dual) and o.level == level for o in out_leaves]
    primals_out = [o.value if mine else o for o, mine in zip(out_leaves, ours)]
    tangents_out = [o.tangent if mine else anp.zeros_like(o) for o, mine in zip(out_leaves, ours)]
    return tree_unflatten(out_def, primals_out), tree_unflatten(out_def, tangents_out)


# ------------------------------------------------------------------------------------ Jacobians and Hessians
def jacrev(f: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Jacobian J[i..., j...] = d out[i...] / d x[j...] by reverse mode: one vjp per output element,
    so it is cheap when the output is small. Shape: out.shape + x.shape.

    Outputs and arguments may be pytrees, as in JAX: the result has f's output structure, and in place of
    each output leaf the structure of the chosen arguments, holding that leaf's Jacobian with each input leaf."""

    def jacrev_f(*args: Any) -> Any:
        positions = _positions(argnums, len(args), "jacrev")
        chosen = tuple(args[i] for i in positions)
        out, f_vjp = _vjp(lambda *c: f(*_substitute(args, positions, c)), chosen, "jacrev", positions)
        out_leaves, out_def = tree_flatten(out)
        zeros = [anp.zeros_like(o) for o in out_leaves]
        per_output = []
        for k, o in enumerate(out_leaves):
            rows = [tree_flatten(f_vjp(tree_unflatten(out_def, zeros[:k] + [e] + zeros[k + 1:])))[0]
                    for e in _basis(o)]
            per_output.append(_jacobians(rows, 0, [o], chosen, argnums)[0])
        return tree_unflatten(out_def, per_output)

    return jacrev_f


def jacfwd(f: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Jacobian by forward mode: one jvp per input element, so it is cheap when the input is small.
    Same shape and structure as jacrev."""

    def jacfwd_f(*args: Any) -> Any:
        positions = _positions(argnums, len(args), "jacfwd")
        chosen = tuple(args[i] for i in positions)
        in_leaves, in_def = tree_flatten(chosen)
        zeros = [anp.zeros_like(x) for x in in_leaves]
        columns, out = [], None
        for j, x in enumerate(in_leaves):
            for e in _basis(x):
                tangents = tree_unflatten(in_def, zeros[:j] + [e] + zeros[j + 1:])
                out, column = jvp(lambda *c: f(*_substitute(args, positions, c)), chosen, tangents)
                columns.append(tree_flatten(column)[0])
        if out is None:  # every input is empty: no column, but the output still gives the shapes
            out = f(*args)
        out_leaves, out_def = tree_flatten(out)
        return tree_unflatten(out_def, _jacobians(columns, -1, out_leaves, chosen, argnums))

    return jacfwd_f


def _jacobians(parts: list[list], axis: int, out_leaves: list, chosen: tuple, argnums: Any) -> list:
    """For each output leaf, its Jacobians with the chosen arguments, in their structure.

    parts: one list of leaves per basis vector: rows of the Jacobian (axis 0: the input leaves, from a vjp)
    or columns (axis -1: the output leaves, from a jvp). Input leaf j's block of the columns is the run of
    parts that belong to its basis vectors."""
    in_leaves, in_def = tree_flatten(chosen)
    sizes = [math.prod(shape(x)) for x in in_leaves]
    result = []
    for k, o in enumerate(out_leaves):
        blocks, start = [], 0
        for j, x in enumerate(in_leaves):
            if axis == 0:
                block = [row[j] for row in parts]
            else:
                block = [column[k] for column in parts[start:start + sizes[j]]]
                start += sizes[j]
            blocks.append(_assemble(block, axis, shape(o), shape(x), o))
        jac = tree_unflatten(in_def, blocks)
        result.append(jac[0] if isinstance(argnums, int) else jac)
    return result


def hessian(f: Callable, argnums: int = 0) -> Callable:
    """The matrix of second derivatives of scalar f, jacfwd(jacrev(f)): shape x.shape + x.shape."""
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f: Callable, primals: Sequence, tangents: Sequence) -> tuple:
    """The Hessian of scalar f times tangents, without forming the Hessian (forward-over-reverse: the JVP of
    the gradient). Returns one array per primal."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("hvp takes primals and tangents as tuples: hvp(f, (x,), (v,))")
    return jvp(grad(f, argnums=tuple(range(len(primals)))), tuple(primals), tuple(tangents))[1]


# ------------------------------------------------------------------------------------------------ helpers
def _basis(x: Any) -> list:
    """The standard basis e_0, e_1, ... of x's space, each shaped like x."""
    r = raw(x)
    xp = namespace(r)
    size = math.prod(shape(r))
    eye = xp.eye(size, dtype=r.dtype if is_array(r) else None)
    return [xp.reshape(eye[i, :], shape(r)) for i in range(size)]


def _assemble(parts: list, axis: int, out_shape: tuple, in_shape: tuple, like: Any) -> Any:
    """Stack rows (axis 0) or columns (axis -1) of a Jacobian and shape it out_shape + in_shape."""
    if not parts:  # an empty input or output: no row or column, only the shape (and like's dtype)
        return namespace(raw(like)).zeros(out_shape + in_shape, dtype=getattr(raw(like), "dtype", None))
    flat = [anp.reshape(p, (-1,)) for p in parts]
    return anp.reshape(anp.stack(flat, axis=axis), out_shape + in_shape)


def _ieee(leaves: list) -> list:
    """The leaves, with Python floats (and complex numbers) made the default backend's float64 scalars, which
    follow IEEE arithmetic as arrays do: 1 / 0 is inf and 0 ** -0.5 is inf, where Python's floats raise
    ZeroDivisionError."""
    if _PYTHON_FLOATS.isdisjoint(map(type, leaves)):
        return leaves
    xp = get_backend()
    return [xp.asarray(x)[()] if type(x) in _PYTHON_FLOATS else x for x in leaves]


_PYTHON_FLOATS = {float, complex}


def _positions(argnums: int | tuple[int, ...], nargs: int, transform: str) -> tuple[int, ...]:
    if type(argnums) is int and 0 <= argnums < nargs:  # the common case, answered without a loop
        return (argnums,)
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in positions:
        if not isinstance(i, int) or not -nargs <= i < nargs:
            raise ValueError(
                f"{transform}: argnums={argnums!r} asks for argument {i}, but the function was called with "
                f"{nargs} positional argument{'s' if nargs != 1 else ''} (valid: 0 to {nargs - 1})."
            )
    positions = tuple(i % nargs for i in positions)
    if len(set(positions)) < len(positions):
        raise ValueError(f"{transform}: argnums={argnums!r} names an argument twice; name each one once.")
    return positions


def _substitute(args: tuple, positions: tuple[int, ...], chosen: tuple) -> list:
    args = list(args)
    for i, c in zip(positions, chosen):
        args[i] = c
    return args


def _check_differentiable(primals: tuple, transform: str, positions: Sequence[int], leaves: list | None = None) -> None:
    """Integers and booleans have no derivative: say so, and how to fix it, before tracing."""
    leaves = tree_flatten(primals)[0] if leaves is None else leaves
    kinds = zip(map(type, leaves), map(getattr, leaves, repeat("dtype"), repeat(None)))  # (type, dtype) pairs
    if _floating_kinds.issuperset(kinds) or all(map(_is_floating, leaves)):
        return
    for position, primal in zip(positions, primals):
        for leaf in tree_flatten(primal)[0]:
            if _is_floating(leaf):
                continue
            r = raw(leaf)
            if isinstance(r, (bool, int)):
                kind = f"the Python {type(r).__name__} {r!r}"
            elif is_array(r):
                kind = f"an array of dtype {r.dtype}"
            else:
                raise TypeError(
                    f"{transform}: argument {position} holds a {type(r).__name__}, which cannot be "
                    f"differentiated; pass arrays, floats, or lists / tuples / dicts of them."
                )
            raise TypeError(
                f"{transform}: argument {position} is {kind}, but only floating-point inputs can be "
                f"differentiated. Pass a float instead (2.0 rather than 2, or x.astype(float))."
            )


def _is_floating(x: Any) -> bool:
    r = raw(x)
    floating = isinstance(r, (float, complex)) or (  # numpy's float64 scalars too
        is_array(r) and isdtype(namespace(r), r.dtype, ("real floating", "complex floating"))
    )
    if floating and not isinstance(x, Tracer):  # a tracer's type does not tell what it holds
        _floating_kinds.add((type(x), getattr(x, "dtype", None)))
    return floating


_floating_kinds: set[tuple] = set()  # (type, dtype) of the inputs found floating so far: every input is asked
