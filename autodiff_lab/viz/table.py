"""Trace tables: a computation as a Wengert list, with its three traces side by side.

    primal trace    v₋₁ = x1 = 2,  v₁ = ln v₋₁ = 0.693, ...                      the forward pass
    tangent trace   v̇₁ = ∂v₁/∂v₋₁ v̇₋₁ = 0.5 × 1 = 0.5, ...                    forward mode (one direction)
    adjoint trace   v̄₋₁ = v̄₋₁ + v̄₁ ∂v₁/∂v₋₁ = 5 + 1 × 0.5 = 5.5, ...           reverse mode (all inputs)

    viz.trace_table(lambda x1, x2: anp.log(x1) + x1 * x2 - anp.sin(x2), 2.0, 5.0)

The inputs are numbered v₋ₙ₊₁ … v₀ and the operations v₁, v₂, … in the order they ran.
"""

from __future__ import annotations

import html
import itertools
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .. import numpy as anp
from ..graph import Graph, _build, as_graph
from ..pytree import tree_flatten, tree_unflatten
from ..scalar import Value
from . import text

DOT, BAR = "\u0307", "\u0304"  # combining dot (tangent) and bar (adjoint) above the first letter
OUTPUT_NAMES = ("y", "f", "out")


@dataclass
class Row:
    """One line of a trace: `name = expression = value`."""

    name: str
    expression: str
    value: Any

    @property
    def value_text(self) -> str:
        return text.short(self.value)


class TraceTable:
    """The primal, tangent and adjoint traces of a recorded computation (tangent and adjoint only where the
    graph has them). `.value`, `.tangent_out`, `.gradients` hold the results."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._v = text.wengert_names(graph)
        self._leaves = [n.id for n in graph.nodes if not graph.edges_into(n.id) and n.kind != "const"]
        self.primal = self._primal()
        self.tangent = self._tangent() if graph.has_tangents else []
        self.adjoint = self._adjoint() if graph.has_grads else []

    @property
    def value(self) -> Any:
        return self.graph.nodes[self.graph.outputs[0]].value

    @property
    def tangent_out(self) -> Any:
        return self.graph.nodes[self.graph.outputs[0]].tangent

    @property
    def gradients(self) -> dict[str, Any]:
        """{input name: dL/d input}."""
        return {self._name(i): self.graph.nodes[i].grad for i in self._leaves}

    def _name(self, i: int) -> str:
        return self.graph.nodes[i].label or self._v[i]

    def _outputs(self) -> list[tuple[str, int]]:
        """(name, node id) per output: a labelled operation's label, else y (y₁, y₂, ... for several), or the
        first of OUTPUT_NAMES that names no node when y does."""
        g, outs = self.graph, self.graph.outputs
        free = next(name for name in _output_names() if name not in {n.label for n in g.nodes})
        named = []
        for k, o in enumerate(outs):
            if g.nodes[o].label and g.edges_into(o):  # an operation with a name, as in a Value graph
                named.append((g.nodes[o].label, o))
            else:
                named.append((free if len(outs) == 1 else free + text.subscript(k + 1), o))
        return named

    def _primal(self) -> list[Row]:
        g, v = self.graph, self._v
        rows = [Row(v[i], self._name(i), g.nodes[i].value) for i in self._leaves]
        rows += [Row(v[n.id], text.expression(g, n, v), n.value) for n in g.nodes if g.edges_into(n.id)]
        return rows + [Row(y, v[o], g.nodes[o].value) for y, o in self._outputs()]

    def _tangent(self) -> list[Row]:
        g, v = self.graph, self._v
        rows = [Row(_mark(v[i], DOT), _mark(self._name(i), DOT), g.nodes[i].tangent) for i in self._leaves]
        for node in g.nodes:
            terms, numbers = [], []
            for k in g.edges_into(node.id):
                e = g.edges[k]
                if e.tangent is None:
                    continue
                parent_dot = _mark(v[e.parent], DOT)
                terms.append(f"∂{v[node.id]}/∂{v[e.parent]} {parent_dot}")
                numbers.append(_product(e.local, g.nodes[e.parent].tangent, f"JVP({parent_dot})"))
            if terms:
                expr = " + ".join(terms) + " = " + " + ".join(numbers)
                rows.append(Row(_mark(v[node.id], DOT), expr, node.tangent))
        return rows + [Row(_mark(y, DOT), _mark(v[o], DOT), g.nodes[o].tangent) for y, o in self._outputs()]

    def _adjoint(self) -> list[Row]:
        """In the order of the backward pass: seed, then each node's edges, newest node first."""
        g, v = self.graph, self._v
        totals: dict[int, Any] = {}
        rows = []
        for y, o in self._outputs():
            totals[o] = g.seed(o)
            rows.append(Row(_mark(v[o], BAR), _mark(y, BAR), totals[o]))
        for node_id in reversed(range(len(g.nodes))):
            for k in g.edges_into(node_id):
                e = g.edges[k]
                if e.downstream is None or g.nodes[e.parent].kind == "const":
                    continue
                bar_p, bar_c = _mark(v[e.parent], BAR), _mark(v[node_id], BAR)
                share = f"{bar_c} ∂{v[node_id]}/∂{v[e.parent]}"
                number = _product(e.upstream, e.local, f"VJP({bar_c})")
                if e.parent in totals:
                    expr = f"{bar_p} + {share} = {text.short(totals[e.parent])} + {number}"
                    totals[e.parent] = totals[e.parent] + e.downstream
                else:
                    expr = f"{share} = {number}"
                    totals[e.parent] = e.downstream
                rows.append(Row(bar_p, expr, totals[e.parent]))
        return rows + [Row(_mark(self._name(i), BAR), _mark(v[i], BAR), g.nodes[i].grad)
                       for i in self._leaves]

    # ------------------------------------------------------------------------------------------ output
    def sections(self) -> list[tuple[str, list[Row]]]:
        named = [("Forward primal trace", self.primal), ("Forward tangent trace", self.tangent),
                 ("Reverse adjoint trace", self.adjoint)]
        return [(title, rows) for title, rows in named if rows]

    def __str__(self) -> str:
        blocks = []
        for title, rows in self.sections():
            width = max(_width(r.name) for r in rows)
            expr_width = max(_width(r.expression) for r in rows)
            lines = [title] + [f"  {_pad(r.name, width)} = {_pad(r.expression, expr_width)} = {r.value_text}"
                               for r in rows]
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks + [f"Note: {note}" for note in self.graph.notes])

    def _repr_html_(self) -> str:
        tables = []
        for title, rows in self.sections():
            body = "".join(
                f"<tr><td>{_esc(r.name)}</td><td>=</td><td style='text-align:left'>{_esc(r.expression)}</td>"
                f"<td>=</td><td style='text-align:right'><b>{_esc(r.value_text)}</b></td></tr>"
                for r in rows
            )
            tables.append(
                f"<table style='border-collapse:collapse;margin:0 1.5em 1em 0;font-family:monospace'>"
                f"<caption style='font-weight:bold;text-align:left'>{_esc(title)}</caption>{body}</table>"
            )
        notes = "".join(f"<p><b>Note:</b> {_esc(note)}</p>" for note in self.graph.notes)
        return "<div style='display:flex;flex-wrap:wrap;align-items:flex-start'>" + "".join(tables) + "</div>" + notes

    def __repr__(self) -> str:
        return str(self)


def trace_table(f: Callable | Graph | Value, *args: Any, tangents: Sequence | None = None,
                names: Sequence[str] | None = None, params: Sequence[str] = ()) -> TraceTable:
    """The Wengert list of f(*args) with its primal, tangent and adjoint traces.

    tangents: the direction of the tangent trace, one per argument (default: 1 for the first argument, 0 for
    the others, so the tangent trace computes d f / d first argument). A Graph or a Value can be passed
    instead of f and args: their own gradients and tangents are shown."""
    if isinstance(f, (Graph, Value)):
        if args:
            raise TypeError("trace_table(graph) takes no further arguments: they were given when the graph "
                            "was recorded")
        return TraceTable(as_graph(f))
    if tangents is None:
        tangents = _first_direction(args)
    elif not isinstance(tangents, (tuple, list)) or len(tangents) != len(args):
        raise ValueError(f"tangents= needs one tangent per argument ({len(args)}), got {tangents!r}")
    return TraceTable(_build(f, args, names, params, "trace_table", tangents=tuple(tangents), backward=True))


def _first_direction(args: tuple) -> tuple:
    """1 (ones) for the first input leaf, 0 for every other."""
    leaves, treedef = tree_flatten(args)
    tangents = [anp.ones_like(x) if i == 0 else anp.zeros_like(x) for i, x in enumerate(leaves)]
    return tuple(tree_unflatten(treedef, tangents))


def _output_names() -> Iterator[str]:
    """Names for a function's output: y, f, out, then out2, out3, ..."""
    yield from OUTPUT_NAMES
    yield from (f"out{k}" for k in itertools.count(2))


def _mark(name: str, accent: str) -> str:
    """x1 -> ẋ1 or x̄1: the accent goes on the first letter."""
    return unicodedata.normalize("NFC", name[:1] + accent + name[1:])


def _product(first: Any, second: Any, otherwise: str) -> str:
    """`a × b` when both are numbers; otherwise the rule's name (a Jacobian is never written out).
    For the tangent trace the factors are (local, tangent); for the adjoint trace (upstream, local)."""
    if first is None or second is None or not (text.is_number(first) and text.is_number(second)):
        return otherwise
    return text.product(first, second)


def _width(s: str) -> int:
    """Columns taken on screen: combining accents (the dot of v̇, the bar of v̄) take none."""
    return sum(not unicodedata.combining(c) for c in s)


def _pad(s: str, width: int) -> str:
    return s + " " * (width - _width(s))


def _esc(s: str) -> str:
    return html.escape(s, quote=False)
