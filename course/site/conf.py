"""Sphinx configuration of the course web site (`make site`, course/site/build.py): the executed lectures and the
released assignments, rendered by MyST-NB, math as MathML (course/site/mathml.py), nothing loaded from the network."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

project = "autodiff_lab: automatic differentiation, a course"
author = "the autodiff_lab authors"
extensions = ["myst_nb", "mathml"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
nb_execution_mode = "off"          # course/site/build.py runs the notebooks (in parallel) before Sphinx reads them
nb_ipywidgets_js = {}              # no widget manager from a CDN: widgets show their static HTML instead
html_math_renderer = "mathml"
html_theme = "alabaster"
html_theme_options = {"font_family": "system-ui, sans-serif", "head_font_family": "system-ui, sans-serif",
                      "code_font_family": "monospace", "page_width": "1240px", "body_max_width": "none"}
html_copy_source = False
html_show_sourcelink = False
html_show_sphinx = False
html_static_path = ["static"]
html_css_files = ["course.css"]
exclude_patterns = ["**/.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]
