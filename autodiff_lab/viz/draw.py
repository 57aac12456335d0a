"""Draw a Graph with graphviz: values (and gradients, tangents) on the nodes, the chain rule on the edges.

    L.backward(); viz.draw(L)                                 a scalar Value graph
    viz.draw(graph.trace(f, W, x))                            an array computation, after its backward pass
    viz.draw(g, show=("value", "local"))                      only some of the numbers

Every picture is `render(graph, view)`: the View says what is known so far (which values, which gradients,
which edges the backward pass has crossed) and what to highlight, so the step-by-step frames are the same
drawing as the finished one.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import graphviz

from ..graph import Graph, Node, as_graph
from . import text
from .fit import COLUMN_PX, Drawing, layout

SHOW = ("value", "grad", "tangent", "local", "upstream", "downstream")
RANKDIRS = ("LR", "TB", "RL", "BT")

KIND_NAMES = {"input": "input", "param": "parameter", "const": "constant", "op": "operation",
              "output": "output"}
KIND_STYLE = {
    "input": {"fillcolor": "#dbeafe", "color": "#2563eb"},
    "param": {"fillcolor": "#dcfce7", "color": "#16a34a"},
    "const": {"fillcolor": "#f3f4f6", "color": "#9ca3af", "style": "rounded,filled,dashed"},
    "op": {"fillcolor": "#ffffff", "color": "#4b5563"},
    "output": {"fillcolor": "#fef3c7", "color": "#d97706", "peripheries": "2"},
}
FOLDED_STYLE = {"fillcolor": "#ede9fe", "color": "#7c3aed", "style": "rounded,filled,bold"}
COLORS = {"value": "#111827", "grad": "#b91c1c", "tangent": "#047857", "local": "#1d4ed8",
          "upstream": "#b45309", "downstream": "#b91c1c", "note": "#6b7280", "current": "#dc2626",
          "pending": "#9ca3af"}
MEANING = {"local": "local ∂child/∂parent", "upstream": "upstream ∂L/∂child",
           "downstream": "downstream ∂L/∂parent = upstream × local", "tangent": "tangent (forward mode)"}
PENDING = "?"
SMALL = 40      # drawings up to this many nodes draw every edge in full
LONG_EDGE = 12  # in bigger ones, an edge spanning more nodes (in topological order) starts at a reference


@dataclass
class View:
    """What one picture shows. None means "everything the graph has"."""

    known: set[int] | None = None          # nodes whose value (and tangent) has been computed
    grads: dict[int, Any] | None = None    # node -> its gradient so far
    crossed: set[int] | None = None        # edges the backward pass has crossed
    current_node: int | None = None
    current_edge: int | None = None
    caption: str = ""
    phase: str | None = None               # "forward" or "backward" while stepping: "?" marks what is not
                                           # computed yet, so every frame keeps the same layout


def draw(obj: Any, *, show: Sequence[str] = SHOW, rankdir: str = "auto", params: Sequence[str] = (),
         max_nodes: int = 150, legend: bool = True, title: str | bool | None = None,
         fold: str | bool | Mapping[str, Sequence[int | str]] | None = "auto", width: int = COLUMN_PX) -> Drawing:
    """A drawing (a graphviz.Digraph) of a Value or a Graph (from graph.trace / graph.forward_trace /
    graph.from_value) that fits a column `width` pixels wide.

    show: which numbers to write, any of SHOW (a graph writes only what it has: no gradients before
    backward). Above `max_nodes` nodes only the last max_nodes are drawn, the rest summarized in one box.
    params: for a Value, the labels of the leaves to draw as parameters. title: a caption under the drawing
    (title=True: the graph's own title). rankdir: "auto" picks left-to-right or top-to-bottom by the drawing's
    measured width (fit.py), or one of LR, TB, RL, BT. fold: "auto" folds sigmoids and layers into one node
    each when nothing else fits; {name: [node labels or ids]} folds those always; False never. A folded node
    opens below the drawing in Jupyter, where the full-size picture is one click away too."""
    graph = as_graph(obj, params=params)
    caption = graph.title if title is True else title or ""
    options = {"show": show, "max_nodes": max_nodes, "legend": legend}
    check_options(show, rankdir, max_nodes)
    chosen, direction = layout(graph, lambda g, d: render(g, View(caption=caption), rankdir=d, **options),
                               rankdir=rankdir, fold=fold, column_px=width)
    drawing = render(chosen, View(caption=caption), rankdir=direction, **options).fit_to(width)
    drawing.opened = {}
    for node in chosen.nodes:
        if node.inner is not None:
            inner, inner_direction = layout(node.inner, lambda g, d: render(g, View(), rankdir=d, **options),
                                            fold=False, column_px=width)
            drawing.opened[node.op] = render(inner, View(caption=inner.title), rankdir=inner_direction,
                                             **options).fit_to(width)
    return drawing


def check_show(show: Iterable[str] | str) -> frozenset:
    """The show= options as a set, or a ValueError naming the unknown one and the valid ones."""
    chosen = (show,) if isinstance(show, str) else tuple(show)
    for option in chosen:
        if option not in SHOW:
            raise ValueError(f"unknown show= option {option!r}; choose any of {', '.join(SHOW)}")
    return frozenset(chosen)


def check_options(show: Iterable[str] | str, rankdir: str, max_nodes: int) -> None:
    """A ValueError naming a bad show=, rankdir= or max_nodes= and what it may be."""
    check_show(show)
    if rankdir not in RANKDIRS and rankdir != "auto":
        raise ValueError(f"unknown rankdir {rankdir!r}; choose 'auto' or one of {', '.join(RANKDIRS)}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")


def render(graph: Graph, view: View, *, show: Sequence[str] = SHOW, rankdir: str = "LR", max_nodes: int = 150,
           legend: bool = True) -> Drawing:
    """The drawing of `graph` as `view` sees it, laid out in the direction rankdir (not "auto": see draw)."""
    shown = check_show(show)
    check_options(show, rankdir, max_nodes)
    if rankdir == "auto":
        raise ValueError("render needs a direction (LR, TB, RL or BT); draw(..., rankdir='auto') chooses one")
    names = text.display_names(graph)
    dot = Drawing(name="computation")  # not the title, which may hold what DOT cannot take in a name
    drawn = _drawn_nodes(graph, max_nodes)
    roomy = len(drawn) <= SMALL
    # ordering="in": a node's inputs stay in argument order, so w1 is drawn above x1 in w1 * x1
    dot.attr(rankdir=rankdir, fontname="Helvetica", nodesep="0.5" if roomy else "0.3",
             ranksep="0.6" if roomy else "0.45", ordering="in", bgcolor="white")
    dot.attr("node", shape="box", style="rounded,filled", fontname="Helvetica", fontsize="11",
             margin="0.1,0.05")
    dot.attr("edge", fontname="Helvetica", fontsize="9", arrowsize="0.7", color="#6b7280")
    notes = list(graph.notes)
    if len(drawn) < len(graph.nodes):
        _summary_node(dot, graph, drawn)
        notes.append(f"showing the last {len(drawn)} of {len(graph.nodes)} nodes (max_nodes={max_nodes})")
    for node_id in sorted(drawn):
        _node(dot, graph, graph.nodes[node_id], names, view, shown)
    # Graphviz lays out long edges slowly (minutes, or a crash, for a value used by a hundred far-away nodes).
    # In a big drawing an edge from a hidden or a far-away parent starts at a small reference to that parent.
    far = len(graph.nodes) if roomy else LONG_EDGE
    referenced = False
    for k, edge in enumerate(graph.edges):
        if edge.child not in drawn:
            continue
        tail = f"n{edge.parent}"
        if edge.parent not in drawn or edge.child - edge.parent > far:
            tail, referenced = f"ref{k}", True
            dot.node(tail, label=graphviz.escape(f"⋯ {names[edge.parent]}"), shape="plaintext", style="",
                     fontsize="9", fontcolor=COLORS["note"])
        _edge(dot, graph, k, view, shown, tail)
    if referenced:
        notes.append("⋯ name: an edge from a node drawn far away (or not drawn)")
    if legend or view.caption or notes:
        dot.attr(label=_legend(graph, view, shown, notes, legend), labelloc="b", labeljust="l", fontsize="10")
    return dot


# ----------------------------------------------------------------------------------------------- nodes
def _node(dot: graphviz.Digraph, graph: Graph, node: Node, names: list[str], view: View,
          shown: frozenset) -> None:
    known = view.known is None or node.id in view.known
    rows = [_title(node, names)]
    if node.kind != "const" and "value" in shown:
        rows += _number_rows("value", node.value if known else None, view.phase, COLORS["value"])
    if "tangent" in shown and graph.has_tangents and node.kind != "const":
        rows += _number_rows("tangent", node.tangent if known else None, view.phase, COLORS["tangent"])
    if node.inner is not None:
        folds = _esc(_folds(node.inner))
        rows.append(f'<TR><TD><FONT POINT-SIZE="9" COLOR="{COLORS["note"]}">{folds}</FONT></TD></TR>')
    # a constant's gradient is computed (a Value leaf gets one) but never used: it is not drawn
    if "grad" in shown and node.grad is not None and node.kind != "const" and view.phase != "forward":
        grad = node.grad if view.grads is None else view.grads.get(node.id)
        rows += _number_rows("grad", grad, view.phase, COLORS["grad"])
    attrs = dict(KIND_STYLE[node.kind])
    if node.inner is not None:
        attrs.update(FOLDED_STYLE)
    if not known:
        attrs.update(fillcolor="#ffffff", color=COLORS["pending"], fontcolor=COLORS["pending"])
    if node.id == view.current_node:
        attrs.update(color=COLORS["current"], penwidth="3")
    label = '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"
    dot.node(f"n{node.id}", label=label, **attrs)


def _title(node: Node, names: list[str]) -> str:
    """The node's name in bold, with the operation that made it."""
    op = text.op_text(node.op)
    if node.kind == "const":
        head = f"<B>{_esc(names[node.id])}</B>"
    elif node.label and op:
        head = f'<B>{_esc(node.label)}</B> <FONT COLOR="{COLORS["note"]}">= {_esc(op)}</FONT>'
    elif op:
        head = f'<FONT POINT-SIZE="14"><B>{_esc(op)}</B></FONT>'
    else:
        head = f"<B>{_esc(names[node.id])}</B>"
    return f"<TR><TD>{head}</TD></TR>"


def _folds(inner: Graph) -> str:
    """What a folded node holds (fold.inner_graph writes it as the sub-graph's first note)."""
    return inner.notes[0] if inner.notes else "⊞ folded"


def _number_rows(word: str, value: Any, phase: str | None, color: str) -> list[str]:
    if value is None and phase is None:
        return []
    if value is None:
        lines = [PENDING]
    elif word == "value" or text.is_number(value):
        lines = text.value_lines(value)
    else:  # a gradient or tangent has the value's shape and dtype: its entries say enough
        lines = [text.entries(value)]
    key = f'<FONT POINT-SIZE="9" COLOR="{COLORS["note"]}">{word}</FONT> '
    rows = [f'<TR><TD>{key}<FONT COLOR="{color}">{_esc(lines[0])}</FONT></TD></TR>']
    rows += [f'<TR><TD><FONT COLOR="{color}" POINT-SIZE="9">{_esc(line)}</FONT></TD></TR>'
             for line in lines[1:]]
    return rows


def _drawn_nodes(graph: Graph, max_nodes: int) -> set[int]:
    return set(range(max(0, len(graph.nodes) - max_nodes), len(graph.nodes)))


def _summary_node(dot: graphviz.Digraph, graph: Graph, drawn: set[int]) -> None:
    hidden = [i for i in range(len(graph.nodes)) if i not in drawn]
    counts = graph.op_counts(hidden).most_common(4)
    made_of = ", ".join(f"{op} ×{n}" for op, n in counts)
    more = ", …" if len(graph.op_counts(hidden)) > 4 else ""
    dot.node("hidden", label=f"… {len(hidden)} earlier nodes\n({made_of}{more})", shape="box",
             style="rounded,dashed", color=COLORS["pending"], fontcolor=COLORS["note"])


# ----------------------------------------------------------------------------------------------- edges
def _edge(dot: graphviz.Digraph, graph: Graph, k: int, view: View, shown: frozenset, tail: str) -> None:
    edge = graph.edges[k]
    child, parent = graph.nodes[edge.child], graph.nodes[edge.parent]
    child_known = view.known is None or edge.child in view.known
    crossed = view.crossed is None or k in view.crossed
    lines: list[tuple[str, str]] = []
    if "local" in shown and child_known:
        lines += _local_lines(edge, child, parent)
    if "tangent" in shown and edge.tangent is not None and child_known:
        lines.append((f"tangent {text.short(edge.tangent)}", COLORS["tangent"]))
    if edge.downstream is not None and parent.kind != "const" and (crossed or view.phase == "backward"):
        lines += _gradient_lines(edge, shown, crossed)      # a constant's gradient is never used: not drawn
    attrs = {}
    if parent.kind == "const" and edge.downstream is None and edge.local is None:
        attrs.update(style="dashed", color=COLORS["pending"])
    if k == view.current_edge:
        attrs.update(color=COLORS["current"], penwidth="2.5", fontcolor=COLORS["current"])
    elif view.crossed is not None and crossed:
        attrs.update(color="#111827", penwidth="1.5")
    if lines:
        rows = "".join(f'<TR><TD><FONT COLOR="{c}">{_esc(s)}</FONT></TD></TR>' for s, c in lines)
        attrs["label"] = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>>'
    dot.edge(tail, f"n{edge.child}", **attrs)


def _local_lines(edge: Any, child: Node, parent: Node) -> list[tuple[str, str]]:
    if edge.local is not None:
        return [(f"local {text.short(edge.local)}", COLORS["local"])]
    if parent.kind == "const" or edge.downstream is None and edge.tangent is None:
        return []
    return [(text.vjp_shapes(child.value, parent.value), COLORS["local"]),
            (text.jacobian_note(child.value, parent.value), COLORS["note"])]


def _gradient_lines(edge: Any, shown: frozenset, crossed: bool) -> list[tuple[str, str]]:
    lines = []
    if "upstream" in shown:
        lines.append((f"upstream {text.short(edge.upstream) if crossed else PENDING}", COLORS["upstream"]))
    if "downstream" in shown:
        if not crossed:
            down = PENDING
        elif {"local", "upstream"} <= shown and edge.local is not None and all(
                text.is_number(x) for x in (edge.local, edge.upstream, edge.downstream)):
            down = f"{text.product(edge.upstream, edge.local)} = {text.number(edge.downstream)}"
        else:
            down = text.short(edge.downstream)
        lines.append((f"downstream {down}", COLORS["downstream"]))
    return lines


# ---------------------------------------------------------------------------------------------- legend
def _legend(graph: Graph, view: View, shown: frozenset, notes: list[str], legend: bool) -> str:
    rows = []
    if view.caption:
        caption = f'<FONT POINT-SIZE="12"><B>{_esc(view.caption)}</B></FONT>'
        rows.append(f'<TR><TD ALIGN="LEFT">{caption}</TD></TR>')
    for note in notes:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT COLOR="{COLORS["note"]}">{_esc(note)}</FONT></TD></TR>')
    if legend:
        kinds = [k for k in KIND_STYLE if any(n.kind == k for n in graph.nodes)]
        swatches = "    ".join(
            f'<FONT COLOR="{KIND_STYLE[k]["color"]}">{"□" if k == "const" else "■"}</FONT> {KIND_NAMES[k]}'
            for k in kinds
        )
        if any(n.inner is not None for n in graph.nodes):
            swatches += f'    <FONT COLOR="{FOLDED_STYLE["color"]}">■</FONT> folded (open it under the drawing)'
        rows.append(f'<TR><TD ALIGN="LEFT">nodes: {swatches}</TD></TR>')
        meanings = [f'<FONT COLOR="{COLORS[k]}">{_esc(MEANING[k])}</FONT>' for k in MEANING
                    if k in shown and _graph_has(graph, k)]
        if meanings:
            rows.append(f'<TR><TD ALIGN="LEFT">edges: {"   ·   ".join(meanings)}</TD></TR>')
    return '<<TABLE BORDER="0" CELLSPACING="2">' + "".join(rows) + "</TABLE>>"


def _graph_has(graph: Graph, what: str) -> bool:
    if what == "tangent":
        return graph.has_tangents
    if what == "local":
        return bool(graph.edges)
    return graph.has_grads


def _esc(s: str) -> str:
    return html.escape(str(s), quote=False)
