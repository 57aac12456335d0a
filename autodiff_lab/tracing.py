"""How a call on traced values is recorded.

Each transformation (grad, vjp, jvp, ...) opens a new *level* and wraps its inputs in tracers of that level:

- a `Box` (reverse mode) records which primitive made it from which inputs, so the backward pass can walk
  the computation in reverse;
- a `Dual` (forward mode) carries a tangent, pushed forward through each primitive's JVP rules as it runs.

When a primitive sees tracers among its arguments, the highest level among them handles the call: the
primitive unwraps that level's tracers, runs on what is inside (calling itself again if lower-level tracers
remain there), and the tracer wraps the answer (primitive.py, Primitive.__call__). Because a tracer's value
can itself be a tracer of a lower level, transformations nest: grad(grad(f)), jvp(grad(f)), jacfwd(jacrev(f)).
"""

from __future__ import annotations

import gc
import itertools
from typing import Any

from .backend import shape

_fresh_levels = itertools.count(1)
_active_levels: list[int] = [0]
_tapes: dict[int, list] = {}  # level -> its tape


class new_level:  # noqa: N801 (used like a function: `with new_level() as level:`)
    """Open a transformation's level: larger than every level opened before, so inner ones rank higher.
    The level comes with an empty tape on which its Boxes are written (`tape_of(level)`), and Python's
    cycle collector pauses while it is open (see cycle_collector_paused)."""

    def __enter__(self) -> int:
        self.level = next(_fresh_levels)
        _active_levels.append(self.level)
        _tapes[self.level] = []
        self.collector = cycle_collector_paused()
        self.collector.__enter__()
        return self.level

    def __exit__(self, *exc_info: Any) -> None:
        self.collector.__exit__()
        _active_levels.remove(self.level)
        del _tapes[self.level]


def tape_of(level: int) -> list:
    """The Boxes made at an open level, oldest first (keep the list: the level forgets it when it closes)."""
    return _tapes[level]


class cycle_collector_paused:  # noqa: N801 (used like a function: `with cycle_collector_paused():`)
    """Pause Python's cycle collector while a graph is built or walked. A recorded graph has no reference
    cycles (a Box points only to its parents), so the collector would find nothing in it, yet it would scan
    the thousands of new Boxes again and again: pausing it makes tracing about a fifth faster. (micrograd's
    Values do form cycles, through their backward closures, and most of its time goes to this collector.)"""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc_info: Any) -> None:
        if self.was_enabled:
            gc.enable()


class Tracer:
    """A value being traced at some level. Operators, `.shape`, `.T` and the array methods are added in
    autodiff_lab/numpy/tracer_methods.py, so traced values behave like arrays."""

    __slots__ = ("value", "level")

    def wrap(self, primitive: Any, ans: Any, inner: list, kwargs: dict, argnums: list[int], tracers: list) -> Tracer:
        """Wrap `ans = primitive(*inner, **kwargs)` as a tracer of this level. `tracers` are the arguments that
        were tracers of this level, at positions `argnums` (unwrapped in `inner`)."""
        raise NotImplementedError


def raw(x: Any) -> Any:
    """The plain array inside any number of tracers."""
    while isinstance(x, Tracer):
        x = x.value
    return x


class Box(Tracer):
    """Reverse mode: a value that remembers how it was made, like the scalar Value but for arrays.

    A Box records one primitive call, `value = primitive(*args, **kwargs)`; `parents` are the Boxes of the
    arguments that were traced at this level, at positions `argnums`. An input of the transformation has no
    primitive and no parents. Every Box is written on its level's tape as it is made, after its parents, so
    the tape (a "Wengert list") is a topological order of the graph: the backward pass reads it from the end."""

    __slots__ = ("primitive", "args", "kwargs", "argnums", "parents")

    def __init__(self, value: Any, level: float, primitive: Any = None, args: list = (), kwargs: dict = None,
                 argnums: list = (), parents: list = ()) -> None:
        self.value = value
        self.level = level
        self.primitive = primitive
        self.args = args
        self.kwargs = kwargs
        self.argnums = argnums
        self.parents = parents
        recording = _tapes.get(level)
        if recording is None:
            raise RuntimeError(
                "a traced value was used after its transformation had returned (was it kept in a global or a "
                "list outside f?). Return what you need from f instead."
            )
        recording.append(self)

    def wrap(self, primitive: Any, ans: Any, inner: list, kwargs: dict, argnums: list[int], tracers: list) -> Box:
        """Record the call: a new Box whose parents are the traced arguments."""
        return Box(ans, self.level, primitive, inner, kwargs, argnums, tracers)

    def __repr__(self) -> str:
        made_by = self.primitive.name if self.primitive else "input"
        return f"Box({self.value!r}, {made_by}, level={self.level})"


class Dual(Tracer):
    """Forward mode: a primal value and its tangent (directional derivative), both of the primal's shape.

    `Dual(2.0, 1.0)` is x = 2 seeded with dx = 1; anp functions and operators on Duals return Duals:
    `(anp.sin(x) * x).tangent` is d/dx [x sin x] at 2. Duals you build share one level, just above any
    transformation running when they are made."""

    __slots__ = ("tangent",)

    def __init__(self, primal: Any, tangent: Any, level: float | None = None) -> None:
        if shape(primal) != shape(tangent):
            raise ValueError(
                f"a Dual's tangent must have its primal's shape: primal {shape(primal)}, tangent {shape(tangent)}"
            )
        self.value = primal
        self.tangent = tangent
        self.level = _active_levels[-1] + 0.5 if level is None else level

    @property
    def primal(self) -> Any:
        return self.value

    def wrap(self, primitive: Any, ans: Any, inner: list, kwargs: dict, argnums: list[int], tracers: list) -> Dual:
        """Push the tangent forward: the output tangent is the sum of each traced argument's JVP rule."""
        tangent = None
        for i, dual in zip(argnums, tracers):
            part = primitive.apply_jvp_rule(i, dual.tangent, ans, inner, kwargs)
            tangent = part if tangent is None else tangent + part
        return Dual(ans, tangent, self.level)

    def __repr__(self) -> str:
        return f"Dual(primal={_plain(self.value)!r}, tangent={_plain(self.tangent)!r})"


def _plain(x: Any) -> Any:
    """A scalar as a Python number (1.5, not numpy 2's np.float64(1.5)); arrays as they are."""
    return x.item() if getattr(x, "ndim", None) == 0 and hasattr(x, "item") else x
