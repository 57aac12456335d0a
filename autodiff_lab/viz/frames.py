"""Backprop step by step: the forward pass node by node, then the backward pass in reverse topological order.

    steps(g)            what each frame does: ("forward", node) or ("backward", node, edge) with a caption
    frames(g)           one graphviz drawing per step, the current node and edge highlighted
    save_frames(g, p)   a folder of SVGs, or one self-contained HTML page with a stepper (no network)

The backward frames follow `backward_pass` in transforms.py: the output is seeded with its gradient, then each
node, newest first, passes its gradient to each parent through one edge (downstream = upstream x local); a
parent used twice collects a share from each edge, so its gradient grows frame by frame.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz

from ..graph import Graph, as_graph
from . import text
from .draw import SHOW, View, check_options, render
from .fit import COLUMN_PX, layout
from .fit import svg_text as svg


@dataclass(frozen=True)
class Step:
    """One frame: the pass it belongs to, the current node, the current edge (index into graph.edges)."""

    phase: str
    node: int
    edge: int | None
    caption: str


def steps(obj: Graph | Any, *, params: Sequence[str] = ()) -> list[Step]:
    """Forward: one step per node, in topological order. Backward (when the graph has gradients): a seed step
    per output, then one step per edge into a node that is not a constant (a constant's gradient is never used),
    the nodes in reverse topological order, each node's edges in argument order. obj: a Graph or a Value."""
    graph = as_graph(obj, params=params)
    names = text.display_names(graph)
    n = len(graph.nodes)
    out = [Step("forward", node.id, None, f"forward {node.id + 1}/{n}: {_computed(graph, node.id, names)}")
           for node in graph.nodes]
    if not graph.has_grads:
        return out
    for o in graph.outputs:
        out.append(Step("backward", o, None,
                        f"backward: seed the output, ∂L/∂{names[o]} = {text.short(graph.seed(o))}"))
    for node_id in reversed(range(n)):
        for k in graph.edges_into(node_id):
            if graph.edges[k].downstream is not None and graph.nodes[graph.edges[k].parent].kind != "const":
                out.append(Step("backward", node_id, k, "backward: " + _passed(graph, k, names)))
    return out


def _computed(graph: Graph, node_id: int, names: list[str]) -> str:
    node = graph.nodes[node_id]
    if node.kind == "const":
        return f"the constant {names[node_id]}"
    what = f"{names[node_id]} = " + (f"{text.expression(graph, node, names)} = " if node.op else "")
    tangent = f"   (tangent {text.short(node.tangent)})" if node.tangent is not None else ""
    return what + text.short(node.value) + tangent


def _passed(graph: Graph, k: int, names: list[str]) -> str:
    edge = graph.edges[k]
    parent, child = names[edge.parent], names[edge.child]
    if edge.local is not None and all(map(text.is_number, (edge.local, edge.upstream, edge.downstream))):
        how = f"{text.product(edge.upstream, edge.local)} = {text.number(edge.downstream)}"
    else:
        op = graph.nodes[edge.child].op
        how = f"VJP of {op} applied to ∂L/∂{child} = {text.short(edge.downstream)}"
    return f"∂L/∂{parent} += upstream × local = {how}"


def views(graph: Graph) -> list[View]:
    """What each step's picture shows: the values computed so far, the gradients accumulated so far."""
    out, grads, crossed = [], {}, set()
    for step in steps(graph):
        if step.phase == "forward":
            out.append(View(known=set(range(step.node + 1)), grads={}, crossed=set(), current_node=step.node,
                            caption=step.caption, phase="forward"))
            continue
        if step.edge is None:
            grads[step.node] = graph.seed(step.node)
        else:
            edge = graph.edges[step.edge]
            grads[edge.parent] = (edge.downstream if edge.parent not in grads
                                  else grads[edge.parent] + edge.downstream)
            crossed.add(step.edge)
        out.append(View(grads=dict(grads), crossed=set(crossed), current_node=step.node,
                        current_edge=step.edge, caption=step.caption, phase="backward"))
    return out


def frames(obj: Any, *, show: Sequence[str] = SHOW, rankdir: str = "auto", params: Sequence[str] = (),
           max_nodes: int = 60, width: int = COLUMN_PX) -> list[graphviz.Digraph]:
    """One drawing per step (see `steps`), each fitting a column `width` px wide, all laid out alike (the
    direction chosen once, on the last frame: see fit.py). Refuses graphs above max_nodes nodes: step through a
    smaller computation, or draw the big one whole with viz.draw."""
    graph = steppable(obj, params, max_nodes)
    all_views = views(graph)
    direction = direction_for(graph, all_views[-1], show=show, rankdir=rankdir, max_nodes=max_nodes, width=width)
    return [render(graph, view, show=show, rankdir=direction, max_nodes=max_nodes).fit_to(width)
            for view in all_views]


def direction_for(graph: Graph, view: View, *, show: Sequence[str], rankdir: str, max_nodes: int,
                  width: int = COLUMN_PX) -> str:
    """rankdir itself, or for "auto" the direction that fits `width` best with `view` drawn (every frame of a
    stepper uses the one chosen for its fullest frame, so nothing moves from frame to frame)."""
    check_options(show, rankdir, max_nodes)
    if rankdir != "auto":
        return rankdir
    _, direction = layout(graph, lambda g, d: render(g, view, show=show, rankdir=d, max_nodes=max_nodes),
                          fold=False, column_px=width)
    return direction


def steppable(obj: Any, params: Sequence[str], max_nodes: int) -> Graph:
    graph = as_graph(obj, params=params)
    if len(graph.nodes) > max_nodes:
        raise ValueError(
            f"this graph has {len(graph.nodes)} nodes, which would make {len(steps(graph))} frames; stepping "
            f"through it is only useful for small graphs. Step through a smaller computation, pass a larger "
            f"max_nodes= (now {max_nodes}), or draw it whole with viz.draw."
        )
    return graph


def save_frames(obj: Any, path: str | Path, *, show: Sequence[str] = SHOW, rankdir: str = "auto",
                params: Sequence[str] = (), max_nodes: int = 60, progress: bool = True) -> Path:
    """Write the frames as SVG files frame_000.svg, ... into the folder `path`, or, when path ends in .html,
    as one self-contained page (SVGs inlined, a small script to step; nothing loaded from the network).
    Returns the path written."""
    path = frames_path(path)
    graph = steppable(obj, params, max_nodes)
    all_views = views(graph)
    direction = direction_for(graph, all_views[-1], show=show, rankdir=rankdir, max_nodes=max_nodes)
    pictures = []
    for i, view in enumerate(all_views):
        if progress and len(all_views) > 20:
            print(f"\rrendering frame {i + 1}/{len(all_views)}", end="", file=sys.stderr, flush=True)
        pictures.append(svg(render(graph, view, show=show, rankdir=direction, max_nodes=max_nodes)))
    if progress and len(all_views) > 20:
        print(file=sys.stderr)
    if path.suffix:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_page(graph.title, pictures, [v.caption for v in all_views]), encoding="utf-8")
        return path
    path.mkdir(parents=True, exist_ok=True)
    for i, picture in enumerate(pictures):
        (path / f"frame_{i:03d}.svg").write_text(picture, encoding="utf-8")
    return path


def frames_path(path: str | Path) -> Path:
    """`path` as a Path, if it names a folder (no suffix) or an .html page: what save_frames can write."""
    path = Path(path)
    if path.suffix and path.suffix.lower() != ".html":
        raise ValueError(f"frames are saved as a folder of SVGs (give a folder name) or one .html page; "
                         f"got {str(path)!r}")
    return path


def inline_svg(picture: str) -> str:
    """SVG text without its XML prolog and DOCTYPE, ready to sit inside an HTML page."""
    return picture[picture.index("<svg"):]


_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #111827; }
#controls { display: flex; gap: 0.6em; align-items: center; margin-bottom: 0.8em; }
#controls input { flex: 1; max-width: 40em; }
.frame { display: none; }
.frame.current { display: block; }
"""

_SCRIPT = """
const frames = document.querySelectorAll('.frame');
const slider = document.getElementById('slider');
const counter = document.getElementById('counter');
function show(i) {
  i = Math.max(0, Math.min(frames.length - 1, i));
  frames.forEach((f, k) => f.classList.toggle('current', k === i));
  slider.value = i;
  counter.textContent = (i + 1) + ' / ' + frames.length;
}
document.getElementById('prev').onclick = () => show(Number(slider.value) - 1);
document.getElementById('next').onclick = () => show(Number(slider.value) + 1);
slider.oninput = () => show(Number(slider.value));
document.addEventListener('keydown', e => {
  if (e.key === 'ArrowLeft') show(Number(slider.value) - 1);
  if (e.key === 'ArrowRight') show(Number(slider.value) + 1);
});
show(0);
"""


def _page(title: str, pictures: list[str], captions: list[str]) -> str:
    frames_html = "\n".join(
        f'<div class="frame" data-caption="{html.escape(c)}">{inline_svg(p)}</div>'
        for p, c in zip(pictures, captions, strict=True)
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Backprop step by step: {html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n"
        f"<h2>Backprop step by step: {html.escape(title)}</h2>\n"
        f'<div id="controls"><button id="prev">&#9664; prev</button>'
        f'<input id="slider" type="range" min="0" max="{len(pictures) - 1}" value="0">'
        f'<button id="next">next &#9654;</button><span id="counter"></span></div>\n'
        f"{frames_html}\n<p>Keys: &#8592; and &#8594; step back and forth.</p>\n"
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )
