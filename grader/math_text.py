"""The instructor's headings on a feedback page: $...$ as MathML and `...` as code, rendered when the page is
written, so the page needs no script and no network (a browser draws MathML itself).

    title_html("Part 1 (1 point): the graph of $(x + y)\\,z$")   ->  '... the graph of <math ...>...</math>'

Only the instructor writes these headings (they come from the source notebook); a student's text never passes
through here. LaTeX that latex2mathml cannot read is shown as written, in <code>.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

_PIECES = re.compile(r"\$([^$]+)\$|`([^`]+)`")


def title_html(title: str) -> str:
    """`title` as HTML: escaped, with $math$ as inline MathML and `code` as <code>."""
    out, at = [], 0
    for m in _PIECES.finditer(title):
        out.append(html.escape(title[at:m.start()]))
        latex, code = m.group(1), m.group(2)
        if latex is not None:
            out.append(math_html(latex))
        else:
            out.append(f"<code>{html.escape(code)}</code>")
        at = m.end()
    out.append(html.escape(title[at:]))
    return "".join(out)


def math_html(latex: str) -> str:
    """Inline MathML for one LaTeX formula, or the formula itself in <code> when it cannot be converted."""
    try:
        return convert(latex.strip())
    except Exception:  # noqa: BLE001  (latex2mathml raises its own errors and plain ones on what it cannot read)
        return f"<code>{html.escape(latex)}</code>"

