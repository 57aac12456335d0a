"""The StepThrough widget, driven without a browser."""

import re

import pytest

from autodiff_lab import graph, viz
from autodiff_lab.viz import examples
from autodiff_lab.viz.fit import shrinkable


@pytest.fixture
def stepper():
    return viz.StepThrough(examples.add_mul())


def test_starts_at_the_first_frame(stepper):
    assert len(stepper) == 10 and stepper.index == 0
    assert stepper.caption == "forward 1/5: x = -2"
    assert stepper._prev.disabled and not stepper._next.disabled


def test_next_and_prev_move_and_stop_at_the_ends(stepper):
    first_svg = stepper.svg
    assert stepper.next() == 1 and stepper.index == 1
    assert stepper.svg != first_svg and stepper._picture.value == shrinkable(stepper.svg)
    assert stepper.prev() == 0 and stepper.prev() == 0
    stepper.index = 9
    assert stepper.next() == 9 and stepper._next.disabled
    assert stepper.caption == "backward: ∂L/∂y += upstream × local = -4 × 1 = -4"


def test_the_slider_and_buttons_drive_the_same_state(stepper):
    stepper._slider.value = 7   # the slider counts from 1, like the "7/10" label
    assert stepper.index == 6 and "1 × (-4) = -4" in stepper._caption.value
    assert stepper._caption.value.startswith(f"<b>{stepper._slider.value}/{len(stepper)}</b>")
    assert (stepper._slider.min, stepper._slider.max) == (1, len(stepper))
    stepper._next.click()
    assert stepper.index == 7
    stepper._prev.click()
    assert stepper.index == 6


def test_bad_index_and_bad_options(stepper):
    with pytest.raises(IndexError, match="10 frames"):
        stepper.index = 10
    with pytest.raises(ValueError, match="unknown show= option"):
        viz.StepThrough(examples.add_mul(), show=("values",))


def test_an_output_that_feeds_another_is_seeded_with_its_own_seed():
    stepper = viz.StepThrough(graph.trace(lambda x: (x, x * 3.0), 2.0))
    stepper.index = 3   # after the forward frames of x, 3 and x × 3: the first seed
    assert stepper.caption == "backward: seed the output, ∂L/∂x = 1"   # not x's total, 1 + 3


def test_a_page_without_a_widget_manager_gets_every_frame_as_static_html(stepper):
    """The course web site has no kernel: the widget's bundle carries its frames as HTML beside the live view."""
    stepper.index = 4
    bundle = stepper._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    page = bundle["text/html"]
    assert page.count('class="frame"') == len(stepper) == 10
    assert page.count("<img ") == 10 and 'max="10"' in page and not re.search(r'(src|href)="(https?:)?//', page)
    assert "<b>7/10</b> backward: ∂L/∂q += upstream × local = 1 × (-4) = -4" in page
    assert stepper.index == 4   # showing the frames left the widget where it was
