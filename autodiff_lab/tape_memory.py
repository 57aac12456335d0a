"""What a recording keeps: the number of steps on the tape and the bytes of the arrays they hold.

Reverse mode's memory is its tape (tracing.py): each Box holds its value and the arguments its VJP rule will
need, and the backward pass cannot start until the whole forward pass is recorded. tape_memory runs f the way
vjp does and counts, without timing or sampling, so the count is the same on every run:

    steps   Boxes on the tape (f's inputs included)
    bytes   sum of nbytes over the distinct arrays that f computed and the tape holds (the values of its Boxes,
            f's inputs left out: they exist before and after)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .pytree import tree_flatten, tree_unflatten
from .tracing import Box, new_level, raw, tape_of


class TapeMemory(NamedTuple):
    steps: int
    bytes: int


def tape_memory(f: Callable, *args: Any) -> TapeMemory:
    """(steps, bytes) of the tape that reverse mode records for f(*args), as vjp(f, *args) would record it."""
    leaves, treedef = tree_flatten(args)
    with new_level() as level:
        f(*tree_unflatten(treedef, [Box(x, level) for x in leaves]))
        tape = list(tape_of(level))
    held: dict[int, Any] = {}
    for box in tape:
        x = raw(box.value)
        if box.primitive is not None and hasattr(x, "nbytes"):  # arrays, and numpy's scalars
            held[id(x)] = x
    return TapeMemory(len(tape), sum(x.nbytes for x in held.values()))
