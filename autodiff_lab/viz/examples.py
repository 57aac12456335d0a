"""The worked examples of the lectures, as graphs ready to draw (each after its backward pass).

    neuron()          σ(w0·x0 + w1·x1 + w2) at w = (2, -3, -3), x = (-1, -2): value 0.731,
                      dw = (-0.197, -0.393, 0.197), dx = (0.393, -0.590)           (scalar Values)
    add_mul()         (x + y)·z at (-2, 5, -4): value -12, gradient (-4, -4, 3)       (scalar Values)
    ln_sin()          ln x1 + x1·x2 − sin x2 at (2, 5): value 11.652, gradient (5.5, 1.716)
    log_ab()          log(a·b) at (2, 3): value 1.791, gradient (0.5, 0.333)
    two_layer_net()   mean((relu(X W1 + b1) W2 + b2 − Y)²), on arrays
    gate(kind)        the four gradient-flow patterns: "add" distributes, "mul" swaps, "max" routes,
                      "copy" adds (a value used twice collects both gradients)

    autodiff-lab draw neuron -o neuron.svg
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import numpy as anp
from ..graph import Graph, from_value, trace
from ..scalar import Value


def neuron(w0: float = 2.0, x0: float = -1.0, w1: float = -3.0, x1: float = -2.0, w2: float = -3.0, *,
           backward: bool = True) -> Graph:
    """A sigmoid neuron σ(w0·x0 + w1·x1 + w2) built from Values; the weights are parameters."""
    w0v, x0v, w1v, x1v, w2v = (Value(w0, "w0"), Value(x0, "x0"), Value(w1, "w1"), Value(x1, "x1"),
                               Value(w2, "w2"))
    s0, s1 = w0v * x0v, w1v * x1v
    s2 = s0 + s1
    s3 = s2 + w2v
    out = s3.sigmoid()
    for v, name in ((s0, "s0"), (s1, "s1"), (s2, "s2"), (s3, "s3"), (out, "L")):
        v.label = name
    if backward:
        out.backward()
    return _titled(from_value(out, params=("w0", "w1", "w2")), "a sigmoid neuron: L = σ(w0·x0 + w1·x1 + w2)")


def add_mul(x: float = -2.0, y: float = 5.0, z: float = -4.0, *, backward: bool = True) -> Graph:
    """f = (x + y)·z built from Values, with q = x + y named as on the slides."""
    xv, yv, zv = Value(x, "x"), Value(y, "y"), Value(z, "z")
    q = xv + yv
    q.label = "q"
    f = q * zv
    f.label = "f"
    if backward:
        f.backward()
    return _titled(from_value(f), "f = (x + y)·z")


def ln_sin_f(x1, x2):
    """ln x1 + x1·x2 − sin x2, computed in the lecture's order: v1 = ln x1, v2 = x1·x2, v3 = sin x2,
    v4 = v1 + v2, v5 = v4 − v3."""
    v1, v2, v3 = anp.log(x1), x1 * x2, anp.sin(x2)
    return v1 + v2 - v3


def ln_sin(x1: float = 2.0, x2: float = 5.0, *, backward: bool = True) -> Graph:
    """f(x1, x2) = ln x1 + x1·x2 − sin x2, traced by the array engine (the Wengert-list example)."""
    return _titled(trace(ln_sin_f, x1, x2, backward=backward), "f = ln x1 + x1·x2 − sin x2")


def log_ab(a: float = 2.0, b: float = 3.0, *, backward: bool = True) -> Graph:
    """f(a, b) = log(a·b), traced by the array engine."""
    def f(a, b):
        return anp.log(a * b)

    return _titled(trace(f, a, b, backward=backward), "f = log(a·b)")


def two_layer_net(n: int = 4, d_in: int = 3, d_hidden: int = 5, d_out: int = 2, *, seed: int = 0,
                  backward: bool = True) -> Graph:
    """A two-layer ReLU net with squared error on a batch of n, traced on arrays: the edges show each VJP's
    shapes and the size of the Jacobian it never builds. n=64, d_in=d_hidden=4096 gives the lecture's
    sizes."""
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, d_in)), rng.normal(size=(n, d_out))
    W1, b1 = rng.normal(size=(d_in, d_hidden)) / np.sqrt(d_in), np.zeros(d_hidden)
    W2, b2 = rng.normal(size=(d_hidden, d_out)) / np.sqrt(d_hidden), np.zeros(d_out)

    def loss(X, Y, W1, b1, W2, b2):
        hidden = anp.relu(X @ W1 + b1)
        return anp.mean((hidden @ W2 + b2 - Y) ** 2)

    graph = trace(loss, X, Y, W1, b1, W2, b2, params=("W1", "b1", "W2", "b2"), backward=backward)
    return _titled(graph, "two-layer net: mean((relu(X W1 + b1) W2 + b2 − Y)²)")


# The gradient-flow patterns: an upstream gradient of 2 arrives at each gate, so that what the gate does
# to it shows (with 1 a passed-through gradient and a local derivative look alike).
GATES: dict[str, tuple[Callable, tuple[float, ...], str]] = {
    "add": (lambda x, y: x + y, (3.0, -1.0), "add gate distributes: each input gets the upstream 2"),
    "mul": (lambda x, y: x * y, (3.0, -4.0), "mul gate swaps: x gets 2·y, y gets 2·x"),
    "max": (lambda x, y: anp.maximum(x, y), (4.0, -1.0),
            "max gate routes: all to the larger input, 0 to the other"),
    "copy": (lambda x, a, b: x * a + x * b, (2.0, 4.0, -1.0),
             "copy adds: x is used twice, its gradient is the sum"),
}


def gate(kind: str, *, upstream: float = 2.0) -> Graph:
    """One gradient-flow pattern ("add", "mul", "max", "copy") with `upstream` fed into its output."""
    if kind not in GATES:
        raise ValueError(f"unknown gate {kind!r}; choose one of {', '.join(GATES)}")
    f, args, title = GATES[kind]
    return _titled(trace(f, *args, seed=upstream), title)


def _titled(graph: Graph, title: str) -> Graph:
    graph.title = title
    return graph


EXAMPLES: dict[str, tuple[Callable[[], Graph], str]] = {
    "neuron": (neuron, "sigmoid neuron σ(w0·x0 + w1·x1 + w2) at w=(2,-3,-3), x=(-1,-2)"),
    "add-mul": (add_mul, "(x + y)·z at (-2, 5, -4)"),
    "ln-sin": (ln_sin, "ln x1 + x1·x2 − sin x2 at (2, 5)"),
    "log-ab": (log_ab, "log(a·b) at (2, 3)"),
    "two-layer": (two_layer_net, "two-layer ReLU net with squared error, on arrays"),
    **{f"{kind}-gate": (lambda kind=kind: gate(kind), GATES[kind][2]) for kind in GATES},
}
