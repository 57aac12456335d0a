"""Primitives: functions the engine knows how to differentiate.

A primitive is an implementation on plain arrays plus, for each argument, a VJP rule and a JVP rule:

    VJP rule  rule(g, ans, *args, **kwargs) -> gradient for that argument (same shape as the argument)
              g: upstream gradient dL/d(ans), the shape of ans
    JVP rule  rule(t, ans, *args, **kwargs) -> that argument's contribution to the output tangent
              t: the argument's tangent, its shape; the result has the shape of ans

    @primitive
    def cube(x):
        return x * x * x

    defvjp(cube, lambda g, ans, x: g * 3 * x**2)
    defjvp(cube, lambda t, ans, x: t * 3 * x**2)

Rules are written with operators and `autodiff_lab.numpy` functions, so they can be differentiated again.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from .backend import shape
from .tracing import Tracer


class RuleError(ValueError):
    """A VJP or JVP rule returned something unusable (wrong shape) or raised."""


class Primitive:
    """A differentiable function: `impl` on plain arrays plus one VJP and one JVP rule per argument."""

    def __init__(self, impl: Callable, name: str | None = None) -> None:
        self.impl = impl
        self.name = name or impl.__name__
        self.vjps: dict[int, Callable] = {}
        self.jvps: dict[int, Callable] = {}
        self.any_arg_vjp: Callable | None = None  # rule(argnum, g, ans, *args) for variadic primitives
        self.any_arg_jvp: Callable | None = None
        functools.update_wrapper(self, impl)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """On plain arrays, run impl. On traced values, unwrap the tracers of the highest level among them,
        run on the values inside, and let that level's tracer wrap the answer (record it, or push a tangent)."""
        if kwargs:  # a traced value passed by keyword is moved in among the positional arguments
            for value in kwargs.values():
                if isinstance(value, Tracer):
                    args, kwargs = self._as_positional(args, kwargs)
                    break
        top = None
        for arg in args:
            if isinstance(arg, Tracer) and (top is None or arg.level > top.level):
                top = arg
        if top is None:
            return self.impl(*args, **kwargs) if kwargs else self.impl(*args)
        level, inner, argnums, tracers, nested = top.level, list(args), [], [], False
        for i, arg in enumerate(args):
            if isinstance(arg, Tracer):
                if arg.level == level:
                    argnums.append(i)
                    tracers.append(arg)
                    inner[i] = arg = arg.value
                nested = nested or isinstance(arg, Tracer)
        if nested:
            ans = self(*inner, **kwargs)
        else:
            ans = self.impl(*inner, **kwargs) if kwargs else self.impl(*inner)
        return top.wrap(self, ans, inner, kwargs, argnums, tracers)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def _as_positional(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """(args, kwargs) with the keyword arguments that name positional parameters moved in among them, so that a
        traced value passed by keyword (multiply(x, y=y)) is traced like any argument."""
        try:
            bound = inspect.signature(self.impl).bind(*args, **kwargs)
        except TypeError as err:
            raise TypeError(f"{self.name}: {err}") from None
        traced = [name for name, value in bound.kwargs.items() if isinstance(value, Tracer)]
        if traced:
            raise TypeError(
                f"{self.name} cannot differentiate through its keyword-only argument(s) {', '.join(traced)}; "
                f"pass an array there, not a traced value."
            )
        return bound.args, bound.kwargs

    def apply_vjp_rule(self, argnum: int, g: Any, ans: Any, args: list, kwargs: dict) -> Any:
        """The gradient for argument `argnum`, checked to have that argument's shape."""
        rule = self.vjps.get(argnum) or self._rule("VJP", argnum)
        try:
            out = rule(g, ans, *args, **kwargs) if kwargs else rule(g, ans, *args)
        except Exception as err:
            raise self._rule_failed("VJP", argnum, err) from err
        try:
            fits = out.shape == args[argnum].shape
        except AttributeError:  # a Python number has no .shape
            fits = shape(out) == shape(args[argnum])
        if not fits:
            self._shape_error("VJP", argnum, out, args[argnum])
        return out

    def apply_jvp_rule(self, argnum: int, t: Any, ans: Any, args: list, kwargs: dict) -> Any:
        """Argument `argnum`'s contribution to the output tangent, checked to have the output's shape."""
        rule = self.jvps.get(argnum) or self._rule("JVP", argnum)
        try:
            out = rule(t, ans, *args, **kwargs)
        except Exception as err:
            raise self._rule_failed("JVP", argnum, err) from err
        if getattr(out, "shape", ()) != getattr(ans, "shape", ()):
            self._shape_error("JVP", argnum, out, ans)
        return out

    def _rule_failed(self, kind: str, argnum: int, err: Exception) -> Exception:
        if isinstance(err, RuleError):
            return err
        return RuleError(
            f"the {kind} rule of {self.name} for argument {argnum} ({self.arg_name(argnum)}) raised "
            f"{type(err).__name__}: {err}"
        )

    def _rule(self, kind: str, argnum: int) -> Callable:
        any_arg = self.any_arg_vjp if kind == "VJP" else self.any_arg_jvp
        if any_arg is not None:
            return functools.partial(any_arg, argnum)
        definer = "defvjp" if kind == "VJP" else "defjvp"
        raise RuleError(
            f"{self.name} has no {kind} rule for argument {argnum} ({self.arg_name(argnum)}), so it cannot be "
            f"differentiated with respect to it. Give it one: {definer}({self.name}, ...) takes one rule per "
            f"argument, or pass a constant there."
        )

    def arg_name(self, argnum: int) -> str:
        params = [
            p for p in inspect.signature(self.impl).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
        if argnum < len(params) and params[argnum].kind != params[argnum].VAR_POSITIONAL:
            return params[argnum].name
        return f"arrays[{argnum}]" if params and params[-1].kind == params[-1].VAR_POSITIONAL else "?"

    def _shape_error(self, kind: str, argnum: int, got: Any, expected_like: Any) -> None:
        got_shape, want = shape(got), shape(expected_like)
        what = "argument" if kind == "VJP" else "output"
        hint = ""
        if kind == "VJP" and (
            len(got_shape) > len(want) or any(w == 1 and g != 1 for w, g in zip(want[::-1], got_shape[::-1]))
        ):
            hint = " Did you undo broadcasting (sum the gradient over the axes that were broadcast)?"
        elif got_shape == want[::-1]:
            hint = " It is the transpose of the expected shape: did you swap the factors of a matrix product?"
        raise RuleError(
            f"the {kind} rule of {self.name} for argument {argnum} ({self.arg_name(argnum)}) returned shape "
            f"{got_shape}, but the {what} has shape {want}. A {kind} rule returns "
            + ("a gradient with its argument's shape." if kind == "VJP" else "a tangent with the output's shape.")
            + hint
        )


def primitive(fn: Callable) -> Primitive:
    """Decorator: make `fn` (which works on plain arrays) a primitive; give it rules with defvjp / defjvp."""
    return Primitive(fn)


def _as_primitive(fn: Any, definer: str) -> Primitive:
    if not isinstance(fn, Primitive):
        raise TypeError(
            f"{definer} needs a primitive, got {fn!r}. Decorate the function with @primitive first."
        )
    return fn


def defvjp(fn: Primitive, *rules: Callable | None) -> None:
    """Give `fn` one VJP rule per argument, in order: rule(g, ans, *args) -> gradient of that argument.
    Pass None for an argument that is never differentiated (an integer index, a shape)."""
    fn = _as_primitive(fn, "defvjp")
    fn.vjps = {i: rule for i, rule in enumerate(rules) if rule is not None}


def defjvp(fn: Primitive, *rules: Callable | None) -> None:
    """Give `fn` one JVP rule per argument, in order: rule(t, ans, *args) -> contribution to the output tangent."""
    fn = _as_primitive(fn, "defjvp")
    fn.jvps = {i: rule for i, rule in enumerate(rules) if rule is not None}


def defvjp_any_arg(fn: Primitive, rule: Callable) -> None:
    """One VJP rule for every argument of a variadic primitive, called as rule(argnum, g, ans, *args)."""
    _as_primitive(fn, "defvjp_any_arg").any_arg_vjp = rule


def defjvp_any_arg(fn: Primitive, rule: Callable) -> None:
    """One JVP rule for every argument of a variadic primitive, called as rule(argnum, t, ans, *args)."""
    _as_primitive(fn, "defjvp_any_arg").any_arg_jvp = rule
