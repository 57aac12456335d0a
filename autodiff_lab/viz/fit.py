"""Drawings that fit a notebook column: the layout is chosen from Graphviz's own measure of the drawing.

A notebook column is about COLUMN_PX = 1,000 CSS pixels wide; an SVG wider than that is shrunk to it, and its
smallest text (the edge labels, LABEL_PT = 9 pt = 12 px) with it. A drawing is

    fitting     when it is at most column_px wide as laid out
    readable    when, shrunk to column_px, its smallest text is still MIN_LABEL_PX = 10 px: at most
                column_px · 12 / 10 = 1,200 px wide

`layout` tries left-to-right, then top-to-bottom, and takes the first that fits (else the narrowest readable
one). When neither is readable it folds the sub-graphs that fold.find_groups names (sigmoids, layers) and
tries again; failing that, the narrowest of all is shrunk to the column. The full-size picture is always one
click away: `Drawing` shows itself in Jupyter as the fitted SVG followed by a "full size" panel and one
"open" panel per folded node.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import graphviz

from ..graph import Graph
from .fold import find_groups
from .fold import fold as fold_graph

COLUMN_PX = 1000
MIN_LABEL_PX = 10.0
LABEL_PT = 9
PX_PER_PT = 96 / 72
DIRECTIONS = ("LR", "TB")
_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


class Drawing(graphviz.Digraph):
    """A graphviz.Digraph that shows itself in Jupyter scaled to its column, with the full-size picture and
    its folded sub-graphs one click away (HTML <details> panels: no script, no network)."""

    column_px: int = COLUMN_PX
    opened: dict[str, graphviz.Digraph]

    def fit_to(self, column_px: int) -> Drawing:
        """Shrink (never enlarge) the picture to column_px wide: Graphviz scales text and all."""
        self.column_px = column_px
        self.graph_attr["size"] = f"{column_px / 96:.4f},1000"
        return self

    def full_size(self) -> graphviz.Digraph:
        """The same drawing, not shrunk."""
        full = graphviz.Digraph(name=self.name, graph_attr={k: v for k, v in self.graph_attr.items() if k != "size"},
                                node_attr=dict(self.node_attr), edge_attr=dict(self.edge_attr), body=list(self.body))
        return full

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict:
        svg = svg_text(self)
        bundle = {"image/svg+xml": svg, "text/html": self.html(svg)}
        return {k: v for k, v in bundle.items() if (not include or k in include) and not (exclude and k in exclude)}

    def html(self, svg: str | None = None) -> str:
        """The fitted picture, then a "full size" panel when it was shrunk, then an "open" panel per folded
        node: an HTML fragment for a notebook or a web page."""
        svg = svg if svg is not None else svg_text(self)
        parts = [f'<div class="autodiff-lab-drawing">{img_tag(svg)}']
        natural = size_px(svg_text(self.full_size()))[0] if "size" in self.graph_attr else 0.0
        shown = size_px(svg)[0]
        if natural > shown + 0.5:
            parts.append(_panel(f"full size ({natural:,.0f} px wide; scroll sideways)", svg_text(self.full_size())))
        for name, sub in getattr(self, "opened", {}).items():
            parts.append(_panel(f"open {name}", svg_text(sub)))
        return "".join(parts) + "</div>"


def img_tag(svg: str, *, shrink: bool = True) -> str:
    """An <img> of the SVG as a data: URI (percent-encoded, so its text stays searchable), at its own size; with
    `shrink`, narrower in a column narrower than the drawing was fitted to (a full-size picture never shrinks)."""
    width, height = size_px(svg)
    source = "data:image/svg+xml;charset=utf-8," + urllib.parse.quote(svg, safe="")
    style = "max-width:100%;height:auto" if shrink else "max-width:none"
    return f'<img src="{source}" width="{width:.0f}" height="{height:.0f}" style="{style}" alt="drawing">'


def shrinkable(svg: str) -> str:
    """Inline SVG text that narrows with its column, as img_tag(shrink=True) does."""
    return svg.replace("<svg width=", '<svg style="max-width:100%;height:auto" width=', 1)


def _panel(summary: str, svg: str) -> str:
    return (f"<details><summary>{html.escape(summary)}</summary>"
            f'<div style="overflow:auto;max-width:100%">{img_tag(svg, shrink=False)}</div></details>')


def svg_text(drawing: graphviz.Digraph) -> str:
    """The drawing as SVG text, laid out by Graphviz's `dot`."""
    try:
        return drawing.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            "Graphviz's `dot` program is not installed, so drawings cannot be rendered. Install the package "
            "'graphviz' (Debian/Ubuntu: apt-get install graphviz, macOS: brew install graphviz, conda: conda "
            "install graphviz), or run `make graphviz`."
        ) from None


def size_px(svg: str) -> tuple[float, float]:
    """(width, height) in CSS pixels of an SVG made by dot (its size is written in points, 96 px = 72 pt)."""
    found = _SIZE.search(svg)
    if not found:
        raise ValueError("not an SVG made by Graphviz's dot: no width and height in points")
    return float(found.group(1)) * PX_PER_PT, float(found.group(2)) * PX_PER_PT


def label_px(natural_width_px: float, column_px: int = COLUMN_PX) -> float:
    """How tall the edge labels are once a drawing natural_width_px wide is shrunk to the column."""
    return LABEL_PT * PX_PER_PT * min(1.0, column_px / natural_width_px)


def layout(graph: Graph, render: Callable[[Graph, str], graphviz.Digraph], *, rankdir: str = "auto",
           fold: str | bool | Mapping[str, Sequence[int | str]] | None = "auto",
           column_px: int = COLUMN_PX) -> tuple[Graph, str]:
    """(graph, rankdir) to draw: `graph` or its folded form, laid out so that it fits column_px (module
    docstring). render(graph, rankdir) is the drawing to measure; fold: "auto", False / None (never), or
    explicit groups {name: node labels or ids}, always folded."""
    directions = DIRECTIONS if rankdir == "auto" else (rankdir,)
    if isinstance(fold, Mapping):
        stages = [lambda: fold_graph(graph, fold)]
    elif fold == "auto":
        stages = [lambda: graph, lambda: _auto_folded(graph)]
    elif fold in (False, None):
        stages = [lambda: graph]
    else:
        raise ValueError(f"fold= takes 'auto', False, or {{name: [node labels or ids]}}; got {fold!r}")
    tried: list[tuple[float, Graph, str]] = []
    for stage in stages:
        g = stage()
        if g is None:
            continue
        widths = [(size_px(svg_text(render(g, d)))[0], g, d) for d in directions]
        tried += widths
        fitting = [w for w in widths if w[0] <= column_px]
        if fitting:
            return fitting[0][1], fitting[0][2]
        readable = [w for w in widths if label_px(w[0], column_px) >= MIN_LABEL_PX]
        if readable:
            best = min(readable, key=lambda w: w[0])
            return best[1], best[2]
    best = min(tried, key=lambda w: w[0])
    return best[1], best[2]


def _auto_folded(graph: Graph) -> Graph | None:
    groups = find_groups(graph)
    return fold_graph(graph, groups) if groups else None
