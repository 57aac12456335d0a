"""Checkpointing: recompute instead of store.

Reverse mode keeps every intermediate value of the forward pass until the backward pass has used it, so a
chain of n layers holds n layers' values at the end of the forward pass. `checkpoint(f)` records a call of f
as ONE step, like a primitive: the tape keeps f's inputs and its output, and the values computed inside f are
dropped as soon as f returns. When the backward pass reaches that step, it runs f again on the kept inputs,
this time recorded, and pulls the gradient through the fresh record (transforms.vjp):

    memory  f's inputs and output        instead of every value f computes
    time    one more forward pass of f   (during the backward pass)

A chain of n layers cut into blocks of k, each block checkpointed, holds n/k block inputs plus, while one block
is recomputed, its k values: about 2 sqrt(n) for k = sqrt(n), instead of n.

    block = checkpoint(lambda h, W: anp.tanh(h @ W))    # JAX: jax.checkpoint; PyTorch: torch.utils.checkpoint

f takes arrays (positional, or keyword arguments that are not traced) and returns one array. What is
differentiated must come in as an argument (W above): a value f reads from outside is not kept, so it could not
be recomputed. Its derivatives are f's own, to any order: the recomputation is traced like any computation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .backend import is_array
from .primitive import Primitive
from .tracing import Tracer
from .transforms import _is_floating, jvp, vjp


class Checkpointed(Primitive):
    """f as a primitive whose implementation is f itself, run on plain arrays (nothing inside is recorded), and
    whose rules differentiate a fresh run of f: VJP rule(g, ans, *args) = the vjp of f at args, applied to g."""

    def __init__(self, f: Callable) -> None:
        @functools.wraps(f)  # f's name, docstring and signature (error messages name f's arguments)
        def impl(*args: Any, **kwargs: Any) -> Any:
            out = f(*args, **kwargs)
            if isinstance(out, Tracer):  # impl runs on plain arrays: a tracer came in through a closure
                raise TypeError(
                    f"{self.name} computed with a traced value it was not given as an argument: f reads a value "
                    f"being differentiated from outside (like W in lambda h: h @ W). checkpoint can only recompute "
                    f"from f's arguments: pass it in, checkpoint(lambda h, W: h @ W)(h, W)."
                )
            if not (is_array(out) or isinstance(out, (int, float, complex))):
                raise TypeError(
                    f"checkpoint needs f to return one array, but {self.name} returned a {type(out).__name__}; "
                    f"checkpoint each output's function on its own, or stack the outputs into one array."
                )
            return out

        super().__init__(impl, name=f"checkpoint({getattr(f, '__name__', 'f')})")
        self.f = f
        self.any_arg_vjp = self._vjp_rule
        self.any_arg_jvp = self._jvp_rule
        # the gradients of the last recomputation not yet handed out: (g, args, {argnum: gradient}). The backward
        # pass asks for one argument at a time, and a single recomputation answers them all.
        self._pending: tuple | None = None

    def _vjp_rule(self, argnum: int, g: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
        pending = self._pending
        if (pending is None or pending[0] is not g or any(a is not b for a, b in zip(pending[1], args))
                or argnum not in pending[2]):  # asked twice for the same argument (graph.trace does): recompute
            positions = [i for i, a in enumerate(args) if _is_floating(a)]

            def f_of_floats(*floats: Any) -> Any:
                full = list(args)
                for i, x in zip(positions, floats):
                    full[i] = x
                return self.f(*full, **kwargs)

            _, pullback = vjp(f_of_floats, *(args[i] for i in positions))  # the recomputation, recorded
            pending = self._pending = (g, args, dict(zip(positions, pullback(g, retain_graph=False))))
        gradients = pending[2]
        gradient = gradients.pop(argnum)
        if not gradients:
            self._pending = None
        return gradient

    def _jvp_rule(self, argnum: int, t: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
        """Forward mode stores nothing, so there is nothing to save: the JVP of f along argument argnum."""

        def f_of_one(x: Any) -> Any:
            return self.f(*args[:argnum], x, *args[argnum + 1:], **kwargs)

        return jvp(f_of_one, (args[argnum],), (t,))[1]


def checkpoint(f: Callable) -> Checkpointed:
    """f, differentiated by recomputing: reverse mode stores f's inputs and output only, and runs f again in
    the backward pass. Same values and derivatives as f."""
    if not callable(f):
        raise TypeError(f"checkpoint takes a function, got {type(f).__name__}: write checkpoint(f), then call it")
    return Checkpointed(f)
