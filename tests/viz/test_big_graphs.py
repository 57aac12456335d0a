"""Graphs of thousands of nodes are summarized, so they still render (quickly)."""

import re

import autodiff_lab.numpy as anp
from autodiff_lab import Value, graph, viz
from autodiff_lab.viz.frames import svg


def chain(x, n):
    for _ in range(n):
        x = anp.sin(x) + x
    return x


def test_a_5000_node_trace_shows_its_last_nodes_and_a_summary(texts):
    g = graph.trace(lambda x: chain(x, 2500), 0.5)
    assert len(g.nodes) == 5001
    drawing = viz.draw(g, max_nodes=100)
    shown = texts(drawing)
    assert "… 4901 earlier nodes" in shown
    assert "(sin ×2450, add ×2450, input ×1)" in shown
    assert "showing the last 100 of 5001 nodes (max_nodes=100)" in shown
    assert len(re.findall(r"^\tn\d+ \[", drawing.source, flags=re.M)) == 100


def test_a_value_used_by_thousands_of_nodes_still_renders():
    # every `+ x` reuses x: drawn as edges, these would reach far back and stall Graphviz's layout
    x = Value(0.5, "x")
    y = x
    for _ in range(2500):
        y = y.tanh() + x
    y.backward()
    picture = svg(viz.draw(y))
    assert "⋯ x" in picture and "earlier nodes" in picture
    assert picture.count('class="node"') > 150
