"""Backprop step by step: frame count and order, what each frame shows, the exported files."""

import re

import pytest

from autodiff_lab import Value, graph, viz
from autodiff_lab.viz import examples
from autodiff_lab.viz.frames import views


def test_steps_follow_the_forward_then_the_reverse_topological_order():
    g = examples.ln_sin()
    steps = viz.steps(g)
    forward = [s for s in steps if s.phase == "forward"]
    backward = [s for s in steps if s.phase == "backward"]
    assert [s.node for s in forward] == list(range(len(g.nodes)))       # one frame per node, in order
    assert backward[0].edge is None and backward[0].node == g.outputs[0]  # the seed
    passes = backward[1:]
    assert sorted(s.edge for s in passes) == list(range(len(g.edges)))  # every edge once
    assert [s.node for s in passes] == sorted((s.node for s in passes), reverse=True)
    assert all(g.edges[s.edge].child == s.node for s in passes)
    assert len(steps) == len(g.nodes) + 1 + len(g.edges)


def test_frames_match_the_steps():
    g = examples.add_mul()
    assert len(viz.frames(g)) == len(viz.steps(g)) == 5 + 1 + 4


def test_before_backward_there_are_forward_frames_only():
    x, y = Value(2.0, "x"), Value(3.0, "y")
    out = x * y + x
    assert [s.phase for s in viz.steps(out)] == ["forward"] * 4


def test_forward_frames_reveal_values_node_by_node(texts):
    frames = viz.frames(examples.add_mul())
    first = texts(frames[0])
    assert "forward 1/5: x = -2" in first and "-12" not in first and first.count("?") == 4
    last_forward = texts(frames[4])
    assert "forward 5/5: f = q × z = -12" in last_forward and "?" not in last_forward


def test_backward_frames_accumulate_gradients_and_highlight_the_edge(texts):
    g = examples.add_mul()
    frames = viz.frames(g)
    seed = texts(frames[5])
    assert "backward: seed the output, ∂L/∂f = 1" in seed
    to_z = frames[7]
    assert "backward: ∂L/∂z += upstream × local = 1 × 3 = 3" in texts(to_z)
    assert re.search(r"n3 -> n4 \[[^\]]*penwidth=2\.5", to_z.source)     # the current edge, z -> f
    assert texts(frames[-1]).count("?") == 0
    assert "grad" in " ".join(texts(frames[-1]))


def test_a_value_used_twice_collects_its_gradient_over_two_frames(texts):
    frames = viz.frames(examples.gate("copy"))
    captions = [t for f in frames for t in texts(f) if t.startswith("backward: ∂L/∂x")]
    assert captions == ["backward: ∂L/∂x += upstream × local = 2 × (-1) = -2",
                        "backward: ∂L/∂x += upstream × local = 2 × 4 = 8"]


def test_save_frames_as_a_folder_of_svgs(tmp_path):
    out = viz.save_frames(examples.add_mul(), tmp_path / "frames")
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"frame_{i:03d}.svg" for i in range(10)]
    assert all(f.read_text().lstrip().startswith("<?xml") for f in files)


def test_save_frames_as_one_self_contained_html_page(tmp_path):
    page = viz.save_frames(examples.neuron(), tmp_path / "steps.html").read_text()
    n = len(viz.steps(examples.neuron()))
    assert page.count("<svg") == n and page.count('class="frame"') == n
    assert "<script>" in page and "getElementById('next')" in page
    assert not re.search(r"<(script|img|link|iframe)[^>]*(src|href)=", page)   # nothing fetched
    assert set(re.findall(r"https?://[^\"' ]+", page)) <= {"http://www.w3.org/2000/svg",
                                                          "http://www.w3.org/1999/xlink"}
    assert "<!DOCTYPE svg" not in page


def test_bad_requests_are_refused_with_a_reason(tmp_path):
    big = graph.trace(lambda x: sum_of_sines(x, 100), 0.5)
    with pytest.raises(ValueError, match="201 nodes.*max_nodes"):
        viz.frames(big)
    with pytest.raises(ValueError, match="folder of SVGs.*or one .html page"):
        viz.save_frames(examples.add_mul(), tmp_path / "frames.png")


def sum_of_sines(x, n):
    from autodiff_lab import numpy as anp

    for _ in range(n):
        x = anp.sin(x) + x
    return x


def two_outputs(x):
    from autodiff_lab import numpy as anp

    y = anp.sin(x)
    return y, y * 2.0  # the first output feeds the second


def test_an_output_that_feeds_another_is_seeded_with_its_own_seed():
    g = graph.trace(two_outputs, 1.0)
    backward = [s.caption for s in viz.steps(g) if s.phase == "backward"]
    assert backward[:3] == ["backward: seed the output, ∂L/∂v₁ = 1", "backward: seed the output, ∂L/∂v₂ = 1",
                            "backward: ∂L/∂v₁ += upstream × local = 1 × 2 = 2"]
    assert float(views(g)[-1].grads[1]) == 3.0 == float(g.nodes[1].grad)   # 1 + 2, as viz.draw shows
    identity = graph.trace(lambda x: (x, x * 3.0), 2.0)
    assert "backward: seed the output, ∂L/∂x = 1" in [s.caption for s in viz.steps(identity)]
    assert float(views(identity)[-1].grads[0]) == 4.0


def test_backward_frames_give_constants_no_gradient_row(texts):
    last = texts(viz.frames(graph.trace(lambda x: x * 2.0, 3.0))[-1])
    assert "?" not in last and last.count("grad") == 2   # x and the output; the constant 2 has none


def test_a_constant_gets_no_backward_step_and_its_edge_no_gradient():
    """Lecture 1's d = e + 1: the constant 1's gradient is computed by Value but used by nothing."""
    from autodiff_lab.viz.frames import steps

    x = Value(2.0, "x")
    e = x.exp()
    e.label = "e"
    d = e + 1
    d.label = "d"
    loss = 1 / d
    loss.label = "L"
    loss.backward()
    captions = [s.caption for s in steps(loss) if s.phase == "backward"]
    assert not any("∂L/∂1 " in c for c in captions), captions
    assert [c.split("∂L/∂")[1].split(" ")[0] for c in captions[1:]] == ["d", "e", "x"]
    svg = viz.draw(loss).pipe(format="svg").decode()
    downstream = re.findall(r">downstream [^∂<]*<", svg)       # edge labels (the legend's line names ∂L/∂parent)
    assert len(downstream) == 3, downstream                   # x -> e -> d -> L; not the two edges from a 1
