"""Fixtures for the drawing tests: matplotlib without a display, and the text a drawing shows."""

import html
import re

import matplotlib
import pytest

matplotlib.use("Agg")


def svg_texts(svg: str) -> list[str]:
    """The text elements of an SVG made by dot, unescaped (dot writes '-' as '&#45;')."""
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


@pytest.fixture
def texts():
    """texts(digraph) -> the strings Graphviz draws, after laying the drawing out with `dot`."""
    from autodiff_lab.viz.frames import svg

    return lambda drawing: svg_texts(svg(drawing))
