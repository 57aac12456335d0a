"""Value: reverse-mode autodiff on single numbers, small enough to read in one go.

Each Value remembers its parents and, for each parent, the local derivative d(self)/d(parent), computed in
the forward pass right next to the value. backward() then needs only one rule, the chain rule:

    parent.grad += local derivative * child.grad      (downstream = local x upstream)

    a, b = Value(2.0, "a"), Value(-3.0, "b")
    L = (a * b + a).tanh()
    L.backward()                       # a.grad, b.grad now hold dL/da, dL/db
"""

from __future__ import annotations

import math

from .tracing import cycle_collector_paused


class Value:
    """A scalar in a computation graph: data, grad (dL/d self after backward), and the local derivative
    to each parent, so that a drawing can show local, upstream and downstream gradient on every edge."""

    __slots__ = ("data", "grad", "label", "op", "parents", "local_grads")

    def __init__(self, data: float, label: str = "", op: str = "", parents: tuple = (), local_grads: tuple = ()):
        self.data = data
        self.grad = 0.0
        self.label = label
        self.op = op
        self.parents = parents
        self.local_grads = local_grads

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    # --- operations: each returns its result with the local derivative for every parent ---------------
    def __add__(self, other: Value | float) -> Value:
        other = _value(other)
        return Value(self.data + other.data, "", "+", (self, other), (1.0, 1.0))

    def __mul__(self, other: Value | float) -> Value:
        other = _value(other)
        return Value(self.data * other.data, "", "*", (self, other), (other.data, self.data))

    def __sub__(self, other: Value | float) -> Value:
        other = _value(other)
        return Value(self.data - other.data, "", "-", (self, other), (1.0, -1.0))

    def __truediv__(self, other: Value | float) -> Value:
        other = _value(other)
        a, b = self.data, other.data
        return Value(a / b, "", "/", (self, other), (1.0 / b, -a / (b * b)))

    def __pow__(self, n: float) -> Value:
        if isinstance(n, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be a number. "
                            "For x ** y with y a Value, write (y * x.log()).exp().")
        return Value(self.data**n, "", f"**{n:g}", (self,), (n * self.data ** (n - 1),))

    def __neg__(self) -> Value:
        return Value(-self.data, "", "neg", (self,), (-1.0,))

    def exp(self) -> Value:
        e = math.exp(self.data)
        return Value(e, "", "exp", (self,), (e,))

    def log(self) -> Value:
        return Value(math.log(self.data), "", "log", (self,), (1.0 / self.data,))

    def sin(self) -> Value:
        return Value(math.sin(self.data), "", "sin", (self,), (math.cos(self.data),))

    def cos(self) -> Value:
        return Value(math.cos(self.data), "", "cos", (self,), (-math.sin(self.data),))

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, "", "tanh", (self,), (1.0 - t * t,))

    def sigmoid(self) -> Value:
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return Value(s, "", "sigmoid", (self,), (s * (1.0 - s),))

    def relu(self) -> Value:
        """max(x, 0); the subgradient used at 0 is 0."""
        x = self.data
        return Value(x if x > 0 else 0.0, "", "relu", (self,), (1.0 if x > 0 else 0.0,))

    def __radd__(self, other: float) -> Value:
        return self + other

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rsub__(self, other: float) -> Value:
        return _value(other) - self

    def __rtruediv__(self, other: float) -> Value:
        return _value(other) / self

    # --- the backward pass ------------------------------------------------------------------------------
    def backward(self) -> None:
        """Fill .grad = d self / d v for every Value v this one depends on.

        Nodes are visited in reverse topological order (every child before its parents), found without
        recursion, so graphs of any depth work. Like PyTorch, the leaves (Values with no parents, such as
        weights) *accumulate*: calling backward twice adds the gradients twice unless you reset them first
        (v.grad = 0.0 or self.zero_grad()). The inner nodes hold the gradient of the latest pass."""
        with cycle_collector_paused():  # the walk allocates; the graph has no cycles to collect
            order = self.topological_order()
            for v in order:
                if v.parents:
                    v.grad = 0.0
            self.grad += 1.0
            for v in reversed(order):
                g = v.grad
                for parent, local in zip(v.parents, v.local_grads):
                    parent.grad += local * g

    def topological_order(self) -> list[Value]:
        """Every Value this one depends on, parents before children (iterative depth-first search: a Value
        is pushed once to visit its parents, then again to be placed once they are all placed)."""
        order: list[Value] = []
        seen: set[Value] = set()
        stack = [(self, False)]
        while stack:
            v, parents_placed = stack.pop()
            if parents_placed:
                order.append(v)
            elif v not in seen:
                seen.add(v)
                stack.append((v, True))
                for parent in v.parents:
                    if parent not in seen:
                        stack.append((parent, False))
        return order

    def zero_grad(self) -> None:
        """Set .grad = 0 on this Value and everything it depends on."""
        for v in self.topological_order():
            v.grad = 0.0


def _value(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x)
