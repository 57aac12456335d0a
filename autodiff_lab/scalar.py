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
    to each parent, so that a drawing can show local, upstream and downstream gradient on every edge.

    A Value has at most two parents, kept in two slots (a, da) and (b, db) rather than in tuples: one object
    per node instead of three keeps Python's cycle collector, which now and then scans every live object,
    from dominating the time spent on a large graph. `parents` and `local_grads` give them as tuples."""

    __slots__ = ("data", "grad", "label", "op", "a", "da", "b", "db")

    def __init__(self, data: float, label: str = "", op: str = "", parents: tuple = (), local_grads: tuple = ()):
        if len(parents) > 2 or len(parents) != len(local_grads):
            raise ValueError("a Value has at most two parents, and one local gradient for each of them")
        self.data = data
        self.grad = 0.0
        self.label = label
        self.op = op
        self.a, self.da = (parents[0], local_grads[0]) if parents else (None, 0.0)
        self.b, self.db = (parents[1], local_grads[1]) if len(parents) == 2 else (None, 0.0)

    @property
    def parents(self) -> tuple[Value, ...]:
        return (self.a, self.b) if self.b is not None else (self.a,) if self.a is not None else ()

    @property
    def local_grads(self) -> tuple[float, ...]:
        return (self.da, self.db) if self.b is not None else (self.da,) if self.a is not None else ()

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    # --- operations: each returns its result with the local derivative for every parent ---------------
    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data + other.data, "+", self, 1.0, other, 1.0)

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data * other.data, "*", self, other.data, other, self.data)

    __radd__ = __add__
    __rmul__ = __mul__

    def __sub__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data - other.data, "-", self, 1.0, other, -1.0)

    def __truediv__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        a, b = self.data, other.data
        return _node(a / b, "/", self, 1.0 / b, other, -a / (b * b))

    def __pow__(self, n: float) -> Value:
        """x ** n for a number n, with local derivative n x^(n-1). At x = 0 that formula divides by 0 when
        n < 1: the derivative is 0 for n = 0 (x ** 0 is the constant 1) and math.inf for 0 < n < 1 (the curve
        stands vertical there, as sqrt does). For n < 0, 0 ** n itself does not exist: ZeroDivisionError. A
        negative x to a fractional n would be complex: ValueError."""
        if isinstance(n, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be a number. "
                            "For x ** y with y a Value, write (y * x.log()).exp().")
        x = self.data
        if x < 0 and not float(n).is_integer():
            raise ValueError(f"({x:g}) ** {n:g} is not a real number (a negative base to a fractional power); "
                             f"Value computes with real numbers only.")
        y = x**n
        if n == 0:
            slope = 0.0
        elif x == 0 and n < 1:
            slope = math.inf
        else:
            slope = n * x ** (n - 1)
        return _node(y, f"**{n:g}", self, slope)

    def __neg__(self) -> Value:
        return _node(-self.data, "neg", self, -1.0)

    def exp(self) -> Value:
        e = math.exp(self.data)
        return _node(e, "exp", self, e)

    def log(self) -> Value:
        return _node(math.log(self.data), "log", self, 1.0 / self.data)

    def sin(self) -> Value:
        return _node(math.sin(self.data), "sin", self, math.cos(self.data))

    def cos(self) -> Value:
        return _node(math.cos(self.data), "cos", self, -math.sin(self.data))

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return _node(t, "tanh", self, 1.0 - t * t)

    def sigmoid(self) -> Value:
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return _node(s, "sigmoid", self, s * (1.0 - s))

    def relu(self) -> Value:
        """max(x, 0); the subgradient used at 0 is 0."""
        x = self.data
        return _node(x if x > 0 else 0.0, "relu", self, 1.0 if x > 0 else 0.0)

    def __rsub__(self, other: float) -> Value:
        return Value(other) - self

    def __rtruediv__(self, other: float) -> Value:
        return Value(other) / self

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
                if v.a is not None:
                    v.grad = 0.0
            self.grad += 1.0
            for v in reversed(order):
                if v.a is not None:
                    v.a.grad += v.da * v.grad
                    if v.b is not None:
                        v.b.grad += v.db * v.grad

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
                for parent in (v.b, v.a):  # a is popped first: parents are placed in argument order
                    if parent is not None and parent not in seen:
                        stack.append((parent, False))
        return order

    def zero_grad(self) -> None:
        """Set .grad = 0 on this Value and everything it depends on."""
        for v in self.topological_order():
            v.grad = 0.0



def _node(data: float, op: str, a: Value, da: float, b: Value | None = None, db: float = 0.0) -> Value:
    """What the operations above return: Value(data, op=op, parents=(a, b), local_grads=(da, db)), with one
    parent when b is None. Its slots are filled in directly, without Value()'s checks and tuples: a graph has
    a node per operation, and an operation then takes about a third less time."""
    v = _new_value(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v.op = op
    v.a = a
    v.da = da
    v.b = b
    v.db = db
    return v


_new_value = object.__new__
