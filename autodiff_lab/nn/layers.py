"""Layers as pure functions of their parameters: a layer object only knows its sizes; its parameters are a
plain dict of arrays made by `.init()`, so `grad(loss)(params)` differentiates them like any pytree.

    layer = Linear(64, 10)
    params = layer.init()          # {"W": (64, 10), "b": (10,)}
    y = layer(params, x)           # x @ W + b, shape (batch, 10)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import numpy as anp
from ..backend import asarray, get_backend, is_array, namespace, shape
from ..tracing import Tracer, raw
from .affine import affine

ACTIVATIONS = {"relu": anp.relu, "tanh": anp.tanh, "sigmoid": anp.sigmoid}

# The spread of the initial weights, times 1/sqrt(n_in): keeps the variance of the activations about constant
# from layer to layer (He et al. 2015 for ReLU, which zeroes half of its inputs; LeCun for tanh and sigmoid).
INIT_GAIN = {"relu": math.sqrt(2.0), "tanh": 1.0, "sigmoid": 1.0, None: 1.0}


_LINEAR_PARAMS = frozenset({"W", "b"})  # the keys of a layer's params


class Linear:
    """The affine layer y = x W + b: x (batch, n_in), W (n_in, n_out), b (n_out,), y (batch, n_out).

    Weights start as normal(0, gain / sqrt(n_in)) drawn from numpy.random.default_rng(seed), biases at 0."""

    def __init__(self, n_in: int, n_out: int, *, seed: int | Sequence[int] = 0, dtype: str = "float64",
                 gain: float = 1.0) -> None:
        for name, n in (("n_in", n_in), ("n_out", n_out)):
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Linear: {name} must be a positive int, got {n!r}")
        self.n_in, self.n_out, self.seed, self.gain = n_in, n_out, seed, gain
        self.dtype = float_dtype(dtype)

    def __repr__(self) -> str:
        return f"Linear({self.n_in} -> {self.n_out})"

    def init(self) -> dict[str, Any]:
        """New parameters {"W": (n_in, n_out), "b": (n_out,)}: default backend, this layer's dtype."""
        rng = np.random.default_rng(self.seed)
        W = rng.normal(0.0, self.gain / math.sqrt(self.n_in), size=(self.n_in, self.n_out))
        return {"W": asarray(W, dtype=self.dtype), "b": asarray(np.zeros(self.n_out), dtype=self.dtype)}

    def __call__(self, params: dict[str, Any], x: Any) -> Any:
        """x @ W + b, computed by the primitive `affine` (affine.py). A plain input array is cast to the
        parameters' dtype and moved to their library (so float64 numpy data can feed a float32 network on the
        GPU); a traced one must already match."""
        if not isinstance(params, dict) or params.keys() != _LINEAR_PARAMS:
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise ValueError(f"{self!r} takes params {{'W': ..., 'b': ...}} as made by .init(), got {got}")
        x = as_input(x, raw(params["W"]), self)
        try:
            return affine(x, params["W"], params["b"])
        except ValueError:
            if shape(x)[-1:] != (self.n_in,):  # say it in the layer's words
                raise ValueError(
                    f"{self!r} expects inputs whose last axis has {self.n_in} features, got shape {shape(x)}. "
                    f"Reshape the batch to (batch, {self.n_in})."
                ) from None
            raise


class MLP:
    """A multilayer perceptron: Linear layers of `sizes` (e.g. [64, 32, 10]) with `activation` between them
    and none after the last, so the model returns logits (scores).

    `.init()` -> list of layer parameter dicts; `model(params, x)` -> logits (batch, sizes[-1]).
    Layer i draws its initial weights from numpy.random.default_rng([seed, i])."""

    def __init__(self, sizes: Sequence[int], activation: str = "relu", *, seed: int = 0,
                 dtype: str = "float64") -> None:
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, e.g. MLP([64, 10]): {sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        self.sizes, self.activation = list(sizes), activation
        self.layers = [
            Linear(n_in, n_out, seed=[seed, i], dtype=dtype, gain=INIT_GAIN[activation])
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        ]

    def __repr__(self) -> str:
        return f"MLP({self.sizes}, activation={self.activation!r})"

    def init(self) -> list[dict[str, Any]]:
        return [layer.init() for layer in self.layers]

    def __call__(self, params: list[dict[str, Any]], x: Any) -> Any:
        if not isinstance(params, (list, tuple)) or len(params) != len(self.layers):
            is_list = isinstance(params, (list, tuple))
            got = f"{len(params)} entries" if is_list else f"a {type(params).__name__}"
            raise ValueError(f"{self!r} takes a list of {len(self.layers)} layer parameter dicts, got {got}")
        act = ACTIVATIONS[self.activation]
        for layer, p in zip(self.layers[:-1], params[:-1]):
            x = act(layer(p, x))
        return self.layers[-1](params[-1], x)


def float_dtype(name: str) -> Any:
    """The default backend's floating dtype called `name` ("float32" or "float64")."""
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {name!r}")
    return getattr(get_backend(), name)


def as_input(x: Any, like: Any, who: Any) -> Any:
    """x as an array of the dtype and library of the array `like` (a parameter): plain arrays and lists are
    converted, traced values must match already."""
    dtype = like.dtype
    if type(x) is type(like) and x.dtype == dtype:  # an array of the same library and dtype: as it is
        return x
    if isinstance(x, Tracer):
        if raw(x).dtype != dtype:
            raise TypeError(
                f"{who!r} got a traced input of dtype {raw(x).dtype}, but its parameters are {dtype}. "
                f"Make both the same dtype."
            )
        return x
    if not is_array(x) or namespace(x) is not namespace(like):
        return asarray(x, dtype=dtype, like=like)
    return x if x.dtype == dtype else namespace(x).astype(x, dtype)
