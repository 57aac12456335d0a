"""How numbers, arrays, operations and variables are written on drawings and in trace tables."""

from __future__ import annotations

import math
from typing import Any

from ..backend import shape, to_numpy
from ..graph import Graph, Node

# Operations written between their arguments; the rest are written as functions, f(a, b).
INFIX = {"add": "+", "+": "+", "subtract": "−", "-": "−", "multiply": "×", "*": "×", "divide": "/", "/": "/",
         "matmul": "@", "power": "^"}
PREFIX = {"negative": "−", "neg": "−"}
RENAMED = {"log": "ln"}
_SUBSCRIPTS = str.maketrans("-0123456789", "₋₀₁₂₃₄₅₆₇₈₉")


def number(x: Any) -> str:
    """A number as the slides write it: three decimals from 1 up (11.652, -12, 5.5), three significant
    digits below (0.197, 0.0452), powers of ten for the very large and the very small; a complex number as
    Python writes it (1+2j, -0.5j)."""
    if isinstance(x, complex) or "complex" in str(getattr(x, "dtype", "")):
        return _complex_number(complex(x))
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == 0:
        return "0"
    size = abs(x)
    if 1 <= size < 1e6:
        text = f"{x:.3f}"
    elif 1e-4 <= size < 1:
        text = f"{x:.3g}"
    else:
        return f"{x:.3g}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _complex_number(z: complex) -> str:
    """z as Python writes it, each part as `number` writes it: 1+2j, -0.5j, and 3 for 3+0j."""
    if z.imag == 0:
        return number(z.real)
    imag = number(z.imag) + "j"
    if z.real == 0:
        return imag
    return number(z.real) + ("" if imag.startswith("-") else "+") + imag


def product(a: Any, b: Any) -> str:
    """a × b, with a negative or complex second factor in brackets: 1 × (-4), 2 × (1+2j)."""
    second = number(b)
    bracket = second.startswith("-") or second.endswith("j")
    return f"{number(a)} × {'(' + second + ')' if bracket else second}"


def is_number(x: Any) -> bool:
    """A Python number or a 0-d array: written as one number."""
    return shape(x) == ()


def size_of(x: Any) -> int:
    n = 1
    for d in shape(x):
        n *= d
    return n


def entries(x: Any, limit: int = 4) -> str:
    """The first few entries of an array: [0.1, 0.2, 0.3, …]; small matrices keep their rows."""
    a = to_numpy(x)
    if a.ndim == 2 and a.size <= 6:
        return "[" + ", ".join(entries(row, limit) for row in a) + "]"
    flat = a.reshape(-1)
    shown = ", ".join(number(v) for v in flat[:limit])
    return f"[{shown}{', …' if flat.size > limit else ''}]"


def dtype_name(x: Any) -> str:
    return str(getattr(x, "dtype", "float"))


def value_lines(x: Any) -> list[str]:
    """A value as lines of text: a number, or an array's dtype and shape, then a few entries."""
    if is_number(x):
        return [number(x)]
    return [f"{dtype_name(x)} {tuple(shape(x))}", entries(x)]


def short(x: Any) -> str:
    """A value on one line: a number, or shape and a few entries."""
    if is_number(x):
        return number(x)
    return f"{tuple(shape(x))} {entries(x, 3)}"


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def jacobian_note(child: Any, parent: Any) -> str:
    """The Jacobian d child / d parent that reverse mode never builds, with its size in memory."""
    m, n = size_of(child), size_of(parent)
    itemsize = getattr(getattr(child, "dtype", None), "itemsize", 8)
    return f"J would be {m}×{n} = {human_bytes(m * n * itemsize)}; never built"


def vjp_shapes(child: Any, parent: Any) -> str:
    return f"VJP: ḡ {tuple(shape(child))} ↦ {tuple(shape(parent))}"


def op_text(op: str) -> str:
    """An operation as drawn in a node: + − × for arithmetic, ln for log, else its name."""
    return INFIX.get(op) or PREFIX.get(op) or RENAMED.get(op, op)


def subscript(k: int) -> str:
    return str(k).translate(_SUBSCRIPTS)


def wengert_names(graph: Graph) -> list[str]:
    """Names of the Wengert list: the n inputs are v₋ₙ₊₁ … v₀, the operations v₁, v₂, …; a constant is
    written as its value."""
    leaves = [n for n in graph.nodes if not graph.edges_into(n.id) and n.kind != "const"]
    first = 1 - len(leaves)
    names, k = [], 0
    leaf_number = {n.id: first + i for i, n in enumerate(leaves)}
    for node in graph.nodes:
        if node.id in leaf_number:
            names.append("v" + subscript(leaf_number[node.id]))
        elif node.kind == "const":
            names.append(short(node.value))
        else:
            k += 1
            names.append("v" + subscript(k))
    return names


def display_names(graph: Graph) -> list[str]:
    """A node's label where it has one, else its Wengert name."""
    return [node.label or w for node, w in zip(graph.nodes, wengert_names(graph), strict=True)]


def expression(graph: Graph, node: Node, names: list[str]) -> str:
    """How `node` is computed from its parents: v₋₁ × v₀, ln v₋₁, sigmoid(s)."""
    args = [names[graph.edges[k].parent] for k in graph.edges_into(node.id)]
    op = node.op
    if op in INFIX and len(args) == 2:
        return f"{args[0]} {INFIX[op]} {args[1]}"
    if op in PREFIX and len(args) == 1:
        return f"{PREFIX[op]}{args[0]}"
    if op.startswith("**") and len(args) == 1:  # the scalar engine's x ** n
        return f"{args[0]}{op}"
    name = RENAMED.get(op, op)
    if len(args) == 1 and name in ("ln", "sin", "cos", "exp"):
        return f"{name} {args[0]}"
    return f"{name}({', '.join(args)})"
