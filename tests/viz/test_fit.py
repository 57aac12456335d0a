"""Drawings fit a 1,000-pixel notebook column with their edge labels readable (issue 20, part 6).

The graphs are built as the lectures build them (lecture 1's written-out sigmoid neuron and its logistic loss,
lecture 2's logistic regression, lecture 5's Wengert graph and its neuron, lecture 9's two-layer network): before
the layout was chosen by its measure they came out 1,150 to 5,500 px wide. Each test measures the SVG that Jupyter
shows: its width in CSS pixels, and the edge labels' height after the drawing is scaled to that width."""

from __future__ import annotations

import math
import re
import urllib.parse

import numpy as np
import pytest

from autodiff_lab import Value, graph, viz
from autodiff_lab import numpy as anp
from autodiff_lab.viz import fit, fold
from autodiff_lab.viz.fit import size_px, svg_text

COLUMN = 1000
READABLE_PX = 10.0


def named(v: Value, label: str) -> Value:
    v.label = label
    return v


def lecture1_neuron() -> Value:
    """Lecture 1: σ(w0·x0 + w1·x1 + w2) with the sigmoid written out as 1 / (1 + exp(−s3))."""
    w0, x0, w1, x1, w2 = Value(2.0, "w0"), Value(-1.0, "x0"), Value(-3.0, "w1"), Value(-2.0, "x1"), Value(-3.0, "w2")
    s3 = named(named(named(w0 * x0, "s0") + named(w1 * x1, "s1"), "s2") + w2, "s3")
    p = named(named(named(named(-s3, "n").exp(), "e") + 1.0, "d") ** -1, "p")
    p.backward()
    return p


def lecture1_logistic_loss() -> Value:
    x1, x2, y = Value(2.0, "x1"), Value(1.0, "x2"), Value(1.0, "y")
    w1, w2 = Value(-1.0, "w1"), Value(1.0, "w2")
    q = named(named(w1 * x1, "z1") + named(w2 * x2, "z2"), "q")
    L = named(-named(named(y * q, "v").sigmoid(), "p").log(), "L")
    L.backward()
    return L


def lecture2_logistic_regression() -> graph.Graph:
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal([-1.5, -1.0], 1.0, (50, 2)), rng.normal([1.5, 1.0], 1.0, (50, 2))])
    labels = np.concatenate([-np.ones(50), np.ones(50)])
    features = np.column_stack([points, np.ones(len(points))])

    def loss(w):
        return anp.mean(anp.logaddexp(0.0, -labels * (features @ w)))

    return graph.trace(loss, np.zeros(3), names=["w"])


def wengert(x1, x2):
    v1, v2, v3 = anp.log(x1), x1 * x2, anp.sin(x2)
    return v1 + v2 - v3


def lecture5_neuron_loss(w, b, x=1.5, t=1.0):
    z = w * x + b
    y = 1.0 / (1.0 + anp.exp(-z))
    return (y - t) ** 2 / 2.0


def lecture9_network() -> graph.Graph:
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(8, 5)), rng.normal(size=(8, 3))
    params = {"W1": rng.normal(size=(5, 4)), "b1": rng.normal(size=4), "W2": rng.normal(size=(4, 3)),
              "b2": rng.normal(size=3)}

    def two_layer_loss(p):
        H = anp.tanh(X @ p["W1"] + p["b1"])
        return 0.5 * anp.sum((H @ p["W2"] + p["b2"] - T) ** 2)

    return graph.trace(lambda W1, b1, W2, b2: two_layer_loss({"W1": W1, "b1": b1, "W2": W2, "b2": b2}),
                       *params.values(), names=list(params))


LECTURE_GRAPHS = {
    "lecture 1: sigmoid neuron written out": lecture1_neuron,
    "lecture 1: logistic loss": lecture1_logistic_loss,
    "lecture 2: logistic regression": lecture2_logistic_regression,
    "lecture 5: Wengert graph": lambda: graph.trace(wengert, 2.0, 5.0, names=["x1", "x2"]),
    "lecture 5: neuron loss": lambda: graph.trace(lecture5_neuron_loss, 0.4, -0.3, names=["w", "b"]),
    "lecture 9: two-layer network": lecture9_network,
    "examples.two_layer_net": viz.examples.two_layer_net,
}


def smallest_edge_label_px(svg: str) -> float:
    """The height in CSS px of the smallest text on an edge, as shown: font size x the SVG's own scaling."""
    width_pt = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    view_width = float(re.search(r'viewBox="[\d.-]+ [\d.-]+ ([\d.]+)', svg).group(1))
    scale = re.search(r'transform="scale\(([\d.]+)', svg)
    px_per_unit = width_pt / view_width * (float(scale.group(1)) if scale else 1.0) * fit.PX_PER_PT
    sizes = [float(s) for edge in re.findall(r'<g id="edge\d+" class="edge">(.*?)</g>', svg, re.S)
             for s in re.findall(r'font-size="([\d.]+)"', edge)]
    assert sizes, "the drawing has no edge labels to measure"
    return min(sizes) * px_per_unit


@pytest.mark.parametrize("name", LECTURE_GRAPHS)
def test_lecture_drawings_fit_the_column_with_readable_edge_labels(name):
    drawing = viz.draw(LECTURE_GRAPHS[name]())
    svg = svg_text(drawing)
    width, _ = size_px(svg)
    assert width <= COLUMN, f"{name}: {width:.0f} px wide"
    assert smallest_edge_label_px(svg) >= READABLE_PX, f"{name}: edge labels {smallest_edge_label_px(svg):.1f} px"


def test_without_fitting_the_same_graphs_are_too_wide():
    """The measure the tests above rely on does see the problem: laid out left to right and not folded, every
    one of these graphs is wider than the column (1,150 to 5,500 px)."""
    for name, build in LECTURE_GRAPHS.items():
        width = size_px(svg_text(viz.draw(build(), rankdir="LR", fold=False).full_size()))[0]
        assert width > COLUMN, f"{name}: only {width:.0f} px"


def test_a_drawing_that_fits_is_not_scaled_and_keeps_left_to_right():
    drawing = viz.draw(viz.examples.add_mul())
    assert "rankdir=LR" in drawing.source
    assert size_px(svg_text(drawing)) == size_px(svg_text(drawing.full_size()))
    assert "full size" not in drawing._repr_mimebundle_()["text/html"]


def _images(page: str) -> list[str]:
    """The SVGs of the data: URIs of an HTML fragment."""
    return [urllib.parse.unquote(src) for src in re.findall(r'src="data:image/svg\+xml;charset=utf-8,([^"]+)"', page)]


def test_the_full_size_picture_is_one_click_away_when_a_drawing_is_shrunk():
    drawing = viz.draw(lecture1_neuron())
    bundle = drawing._repr_mimebundle_()
    shown, full = _images(bundle["text/html"])
    assert "<details><summary>full size (" in bundle["text/html"]
    assert size_px(shown)[0] <= COLUMN < size_px(full)[0]
    assert shown == bundle["image/svg+xml"]


def test_lecture9_network_folds_its_layers_which_open_to_show_their_weights():
    drawing = viz.draw(lecture9_network())
    assert list(drawing.opened) == ["layer 1", "layer 2"]
    page = drawing._repr_mimebundle_()["text/html"]
    assert "<summary>open layer 1</summary>" in page and "<summary>open layer 2</summary>" in page
    main, *opened = _images(page)
    assert "layer 1" in main and "⊞ folds W1, b1: @ + tanh" in main and "W1" not in main.replace("W1, b1", "")
    layer1 = opened[0]
    for word in ("W1", "b1", "tanh", "grad"):
        assert word in layer1, word


def test_a_folded_sigmoid_carries_the_chain_rule_through_it():
    """Folding n, e, d, p of lecture 1's neuron into σ: the edge from s3 carries dp/ds3 = σ(1)(1 − σ(1)) as its
    local derivative, p's gradient upstream, and s3's gradient downstream."""
    p = lecture1_neuron()
    g = graph.from_value(p)
    folded = fold.fold(g, {"σ": ["n", "e", "d", "p"]})
    sigma_node = next(n for n in folded.nodes if n.op == "σ")
    assert sigma_node.label == "p" and sigma_node.value == p.data and sigma_node.inner is not None
    (edge,) = [folded.edges[k] for k in folded.edges_into(sigma_node.id)]
    s = 1 / (1 + math.exp(-1.0))
    assert edge.local == pytest.approx(s * (1 - s), rel=1e-12)
    assert edge.upstream == 1.0 and edge.downstream == pytest.approx(s * (1 - s), rel=1e-12)
    assert [n.op for n in sigma_node.inner.nodes if n.op] == ["neg", "exp", "+", "**-1"]
    assert len(folded.nodes) == len(g.nodes) - 4   # n, e, d and the constant 1 went into σ (p stands for it)


def test_sigmoids_written_out_are_found_in_traced_and_value_graphs():
    traced = graph.trace(lecture5_neuron_loss, 0.4, -0.3, names=["w", "b"])
    assert list(fold.find_groups(traced)) == ["σ"]
    assert list(fold.find_groups(graph.from_value(lecture1_neuron()))) == ["σ"]
    assert fold.find_groups(graph.trace(wengert, 2.0, 5.0)) == {}


def test_explicit_fold_errors_say_what_is_wrong():
    g = graph.from_value(lecture1_neuron())
    with pytest.raises(ValueError, match="names 'sigma'.*labels are"):
        viz.draw(g, fold={"σ": ["n", "sigma"]})
    with pytest.raises(ValueError, match="exactly one node used outside it"):
        viz.draw(g, fold={"two exits": ["s0", "s1"]})
    with pytest.raises(ValueError, match="fold= takes"):
        viz.draw(g, fold="yes")


def test_step_frames_fit_the_column_and_keep_one_layout():
    stepper = viz.StepThrough(lecture1_neuron())
    widths = set()
    for i in (0, len(stepper) // 2, len(stepper) - 1):
        stepper.index = i
        widths.add(round(size_px(stepper.svg)[0]))
        if i:  # the first frame has no numbers on its edges yet
            assert smallest_edge_label_px(stepper.svg) >= READABLE_PX
    assert max(widths) <= COLUMN
    assert stepper._options["rankdir"] == "TB"   # chosen once, on the fullest frame: left to right is 2,700 px


def test_graph_shows_itself_drawn_once_viz_is_imported():
    bundle = viz.examples.add_mul()._repr_mimebundle_()
    assert "-12" in bundle["image/svg+xml"] and "<img" in bundle["text/html"]
