"""A Sphinx math renderer that writes MathML at build time (latex2mathml): the site's math needs no script and
no network, a browser draws it itself. Formulas latex2mathml cannot read are shown as LaTeX in <code
class="math-error"> and reported as build warnings."""

from __future__ import annotations

import html
from typing import Any

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.util import logging

logger = logging.getLogger(__name__)


def mathml(latex: str, display: str, node: nodes.Node) -> str:
    """MathML for one formula, or the LaTeX in <code class="math-error"> (with a warning) when it cannot be read."""
    try:
        return convert(latex.strip(), display=display)
    except Exception as err:  # noqa: BLE001  (latex2mathml raises plain errors on what it cannot read)
        logger.warning("cannot convert $%s$ to MathML (%s: %s)", latex, type(err).__name__, err, location=node)
        return f'<code class="math-error">{html.escape(latex)}</code>'


def visit_math(self: Any, node: nodes.Node) -> None:
    self.body.append(mathml(node.astext(), "inline", node))
    raise nodes.SkipNode


def visit_displaymath(self: Any, node: nodes.Node) -> None:
    latex = node.astext()
    if not node.get("nowrap") and "\\begin" not in latex and "\\\\" in latex:
        latex = "\\begin{aligned}" + latex + "\\end{aligned}"
    self.body.append(f'<div class="math-display">{mathml(latex, "block", node)}</div>')
    raise nodes.SkipNode


def setup(app: Any) -> dict:
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_displaymath, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
