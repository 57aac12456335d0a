"""Drawings of computational graphs: `import autodiff_lab.viz as viz`.

    draw(obj)                       graphviz drawing of a Value or a Graph (graph.trace / forward_trace)
    frames(obj), StepThrough(obj)   backprop step by step: a list of drawings, a JupyterLab widget
    save_frames(obj, path)          those frames as SVG files or one self-contained HTML page
    trace_table(f, *args)           the Wengert list with primal, tangent and adjoint traces
    plot_jacobian_sparsity(J)       which entries of a Jacobian are nonzero (matplotlib)
    plot_fd_error(f, x, exact)      finite-difference error against the step size h (matplotlib)
    examples                        the lectures' worked examples as graphs (neuron, add_mul, ln_sin, ...)

Everything here reads the one neutral Graph of autodiff_lab/graph.py.
"""

from typing import Any

from .. import graph as _graph
from . import examples
from .draw import SHOW, draw
from .frames import frames, save_frames, steps
from .plots import plot_fd_error, plot_jacobian_gallery, plot_jacobian_sparsity
from .table import trace_table

__all__ = [
    "SHOW", "StepThrough", "draw", "examples", "frames", "plot_fd_error", "plot_jacobian_gallery",
    "plot_jacobian_sparsity", "save_frames", "steps", "trace_table",
]


def _display(graph: _graph.Graph, include: Any = None, exclude: Any = None) -> dict:
    """How a Graph shows itself in Jupyter once viz is imported: drawn (graph.py knows nothing of drawing)."""
    return draw(graph)._repr_mimebundle_(include, exclude)


_graph.set_display(_display)


def __getattr__(name: str) -> Any:
    # The widget needs ipywidgets (installed with the course extras); import it only when asked for.
    if name == "StepThrough":
        try:
            from .stepper import StepThrough
        except ImportError as err:
            raise ImportError(f"viz.StepThrough needs ipywidgets ({err}); install the course extras: "
                              f"pip install -e '.[course]' (or `make install`)") from None
        return StepThrough
    raise AttributeError(f"module 'autodiff_lab.viz' has no attribute {name!r}")
