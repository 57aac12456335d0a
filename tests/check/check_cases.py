"""Every anp primitive, with a hypothesis strategy that draws valid arguments for it: shapes (broadcasting
included), axes, indices, and inputs from the domain where finite differences are reliable
(autodiff_lab.check.random_inputs). Shared by test_engine_primitives.py and test_correct_rules.py."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

import autodiff_lab.numpy as anp
from autodiff_lab.check import random_inputs
from autodiff_lab.numpy import shapes as shape_functions

# the primitives the engine's issue lists (getitem is x[idx]), and astype and untake (getitem's VJP)
PRIMITIVES = (
    "add subtract multiply divide negative power exp log sin cos tanh sigmoid relu abs sqrt maximum where "
    "logaddexp matmul dot sum mean max reshape transpose broadcast_to expand_dims squeeze concatenate stack "
    "getitem untake logsumexp softmax log_softmax astype"
).split()


@dataclass
class Call:
    """primitive(*args, **kwargs); `diff` lists the positions of the arguments that are differentiated."""

    primitive: Any
    args: tuple
    kwargs: dict = field(default_factory=dict)
    diff: tuple = (0,)

    def function(self):
        """A function of the differentiated arguments only (for check_grads)."""

        def f(*xs):
            args = list(self.args)
            for i, x in zip(self.diff, xs):
                args[i] = x
            return self.primitive(*args, **self.kwargs)

        return f

    def diff_args(self) -> tuple:
        return tuple(self.args[i] for i in self.diff)

    def vjp_rule(self, argnum: int):
        return self._rule("vjps", "any_arg_vjp", argnum)

    def jvp_rule(self, argnum: int):
        return self._rule("jvps", "any_arg_jvp", argnum)

    def _rule(self, table: str, any_arg: str, argnum: int):
        rule = getattr(self.primitive, table).get(argnum)
        return rule or functools.partial(getattr(self.primitive, any_arg), argnum)


seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def _array(draw, shape, domain="real"):
    return random_inputs(shape, domain, draw(seeds))


def _two_broadcastable(draw):
    shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
    return draw(shapes).input_shapes


def _axis(draw, ndim):
    """None, one axis (possibly negative) or a tuple of distinct axes."""
    if ndim == 0:
        return None
    return draw(st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
    ))


def binary(primitive, domains=("real", "real")):
    @st.composite
    def draw(draw):
        sx, sy = _two_broadcastable(draw)
        dx, dy = draw(st.permutations(domains)) if primitive is anp.maximum else domains
        return Call(primitive, (_array(draw, sx, dx), _array(draw, sy, dy)), diff=(0, 1))

    return draw()


def unary(primitive, domain="real"):
    def call(shape, seed):
        return Call(primitive, (random_inputs(shape, domain, seed),))

    return st.builds(call, shapes, seeds)


@st.composite
def where_call(draw):
    sc, sx, sy = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3)).input_shapes
    condition = np.asarray(draw(hnp.arrays(np.bool_, sc)))
    return Call(anp.where, (condition, _array(draw, sx), _array(draw, sy)), diff=(1, 2))


@st.composite
def matmul_call(draw, primitive=anp.matmul):
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(st.sampled_from([(), (2,)])) if primitive is anp.matmul else ()
    left = draw(st.sampled_from([(k,), batch + (n, k)]))
    right = draw(st.sampled_from([(k,), (k, m), batch + (k, m)]))
    if primitive is anp.dot and draw(st.booleans()):
        left = ()  # a scalar times an array
    return Call(primitive, (_array(draw, left), _array(draw, right)), diff=(0, 1))


@st.composite
def reduction(draw, primitive, domain="real"):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    kwargs = {"axis": _axis(draw, len(shape)), "keepdims": draw(st.booleans())}
    return Call(primitive, (_array(draw, shape, domain),), kwargs)


@st.composite
def softmax_like(draw, primitive):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    kwargs = {"axis": axis, "keepdims": draw(st.booleans())} if primitive is anp.logsumexp else {"axis": axis}
    return Call(primitive, (_array(draw, shape),), kwargs)


@st.composite
def reshape_call(draw):
    shape = draw(shapes)
    target = draw(st.permutations(shape).map(tuple)) + (1,) if draw(st.booleans()) else (-1,)
    return Call(anp.reshape, (_array(draw, shape), target))


@st.composite
def transpose_call(draw):
    shape = draw(shapes)
    axes = draw(st.one_of(st.none(), st.permutations(range(len(shape))).map(tuple)))
    return Call(anp.transpose, (_array(draw, shape), axes))


@st.composite
def broadcast_to_call(draw):
    shape = draw(shapes)
    target = draw(hnp.broadcastable_shapes(shape, max_dims=4, max_side=3).map(
        lambda s: np.broadcast_shapes(s, shape)))
    return Call(anp.broadcast_to, (_array(draw, shape), target))


@st.composite
def expand_dims_call(draw):
    shape = draw(shapes)
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return Call(anp.expand_dims, (_array(draw, shape), axis))


@st.composite
def squeeze_call(draw):
    shape = draw(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=4).map(tuple))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = draw(st.one_of(st.none(), st.lists(st.sampled_from(ones), unique=True, min_size=1).map(tuple)
                          if ones else st.none()))
    return Call(anp.squeeze, (_array(draw, shape), axis))


@st.composite
def join_call(draw, primitive):
    """concatenate / stack of 1 to 3 arrays along an axis (the variadic primitive behind them)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(shape), len(shape) - 1)) if primitive is anp.concatenate else \
        draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = []
    for _ in range(count):
        s = list(shape)
        if primitive is anp.concatenate:
            s[axis] = draw(st.integers(1, 3))
        arrays.append(_array(draw, tuple(s)))
    inner = shape_functions._concatenate if primitive is anp.concatenate else shape_functions._stack
    return Call(inner, tuple(arrays), {"axis": axis}, diff=tuple(range(count)))


@st.composite
def getitem_call(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    kind = draw(st.sampled_from(["basic", "integers", "mask"]))
    if kind == "basic":
        index = draw(hnp.basic_indices(shape, allow_newaxis=False, allow_ellipsis=True))
    elif kind == "integers":  # repeated indices must add up in the VJP
        index = np.asarray(draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=5)))
    else:
        index = np.asarray(draw(hnp.arrays(np.bool_, shape)))
    return Call(anp.getitem, (_array(draw, shape), index))


@st.composite
def untake_call(draw):
    """untake(v, index, shape): v scattered (repeated indices adding up) into zeros of `shape` at `index`."""
    x, index = draw(getitem_call()).args
    return Call(anp.untake, (_array(draw, np.shape(x[index])), index, x.shape))


@st.composite
def astype_call(draw):
    """A cast to float64 (the finite differences run in float64, so a narrower cast would only add rounding)."""
    return Call(anp.astype, (_array(draw, draw(shapes)), np.float64))


CASES = {
    "add": binary(anp.add),
    "subtract": binary(anp.subtract),
    "multiply": binary(anp.multiply),
    "divide": binary(anp.divide, ("real", "away_from_zero")),
    "negative": unary(anp.negative),
    "power": binary(anp.power, ("positive", "real")),
    "exp": unary(anp.exp),
    "log": unary(anp.log, "positive"),
    "sin": unary(anp.sin),
    "cos": unary(anp.cos),
    "tanh": unary(anp.tanh),
    "sigmoid": unary(anp.sigmoid),
    "relu": unary(anp.relu, "away_from_zero"),
    "abs": unary(anp.abs, "away_from_zero"),
    "sqrt": unary(anp.sqrt, "positive"),
    "maximum": binary(anp.maximum, ("away_from_zero", "near_zero")),  # kink at x = y: keep them apart
    "where": where_call(),
    "logaddexp": binary(anp.logaddexp),
    "matmul": matmul_call(),
    "dot": matmul_call(anp.dot),
    "sum": reduction(anp.sum),
    "mean": reduction(anp.mean),
    "max": reduction(anp.max, "distinct"),  # no ties
    "reshape": reshape_call(),
    "transpose": transpose_call(),
    "broadcast_to": broadcast_to_call(),
    "expand_dims": expand_dims_call(),
    "squeeze": squeeze_call(),
    "concatenate": join_call(anp.concatenate),
    "stack": join_call(anp.stack),
    "getitem": getitem_call(),
    "untake": untake_call(),
    "astype": astype_call(),
    "logsumexp": softmax_like(anp.logsumexp),
    "softmax": softmax_like(anp.softmax),
    "log_softmax": softmax_like(anp.log_softmax),
}
