"""Fixtures for the course tests: run every lecture notebook once per session, in parallel, and read back the
values of its variables.

Each notebook runs from a fresh kernel with nbclient, as a student's "Run All" would. After its last cell,
one extra cell (added to the in-memory copy only) prints the notebook's global variables that can be written
as JSON (numbers, strings, booleans, and lists, tuples, dicts and numpy arrays of them), so the tests check
the numbers the notebook computed, not text it displayed."""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

COURSE = Path(__file__).resolve().parents[2] / "course"
MARKER = "<<course-variables>>"
FIGURES = "<<figure-audit>>"
CELL_TIMEOUT_S = 300

_REPORT_CELL = f"""
import json as _json

def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {{str(k): _plain(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and getattr(value, "size", 0) <= 100_000:   # numpy arrays and scalars
        return value.tolist()
    raise TypeError(type(value))

_found = {{}}
for _name, _value in list(globals().items()):
    if not _name.startswith("_") and _name not in ("In", "Out"):   # skip IPython's input/output history
        try:
            _found[_name] = _json.loads(_json.dumps(_plain(_value)))
        except Exception:
            pass
print({MARKER!r} + _json.dumps(_found))
print({FIGURES!r} + _json.dumps(globals().get("_figure_audit", [])))
"""

# Set up before the first cell: every figure the notebook displays is inspected as it is drawn (the labels of
# each axes that plots data; which tick labels of an axis overlap on the rendered figure).
_FIGURE_AUDIT_CELL = """
from matplotlib.backend_bases import FigureCanvasBase as _Canvas

_figure_audit, _print_figure = [], _Canvas.print_figure


def _overlapping_tick_labels(axis, renderer):
    labels = [tick.label1 for tick in axis._update_ticks() if tick.label1.get_visible() and tick.label1.get_text()]
    boxes = [label.get_window_extent(renderer) for label in labels]
    return [(labels[i].get_text(), labels[j].get_text()) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
            if min(boxes[i].x1, boxes[j].x1) - max(boxes[i].x0, boxes[j].x0) > 1
            and min(boxes[i].y1, boxes[j].y1) - max(boxes[i].y0, boxes[j].y0) > 1]


def _audited_print_figure(self, *args, **kwargs):
    figure = self.figure
    figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()
    for ax in figure.axes:
        shown = getattr(ax, "_axis3don", ax.axison)          # a 3-d axes keeps its own flag
        if shown and (ax.lines or ax.collections or ax.patches or ax.images):
            _figure_audit.append({"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
                                  "zlabel": ax.get_zlabel() if hasattr(ax, "get_zlabel") else None,
                                  "overlaps": _overlapping_tick_labels(ax.xaxis, renderer)
                                  + _overlapping_tick_labels(ax.yaxis, renderer)})
    return _print_figure(self, *args, **kwargs)


_Canvas.print_figure = _audited_print_figure
"""


def lecture_paths() -> list[Path]:
    """The lecture notebooks in order (index.ipynb excluded)."""
    return sorted(COURSE.glob("[0-9][0-9]*_*.ipynb"))


@dataclass
class Execution:
    """What running one notebook produced: its variables or the error that stopped it, and its run time."""

    name: str
    values: dict = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    notebook: nbformat.NotebookNode | None = None   # as run (without the variables cell): the site is built from it
    figures: list = field(default_factory=list)      # per axes of every displayed figure: title, labels, overlaps

    def __getitem__(self, variable: str):
        if self.error:
            raise AssertionError(f"{self.name} did not run to the end:\n{self.error}")
        if variable not in self.values:
            raise AssertionError(f"{self.name} defines no variable {variable!r}; the test expects it")
        return self.values[variable]


def execute(path: Path) -> Execution:
    """Run a notebook top to bottom in a fresh kernel (working directory course/); read back its variables."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(_FIGURE_AUDIT_CELL))
    nb.cells.append(nbformat.v4.new_code_cell(_REPORT_CELL))
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(COURSE)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        return Execution(path.stem, error=_tail(str(err)), seconds=time.perf_counter() - start)
    except Exception as err:  # a kernel that died or a cell that timed out: blame this notebook only
        return Execution(path.stem, error=f"{type(err).__name__}: {err}", seconds=time.perf_counter() - start)
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    values = json.loads(printed.split(MARKER, 1)[1].split(FIGURES, 1)[0]) if MARKER in printed else {}
    figures = json.loads(printed.split(FIGURES, 1)[1]) if FIGURES in printed else []
    nb.cells.pop()
    nb.cells.pop(0)
    return Execution(path.stem, values=values, seconds=time.perf_counter() - start, notebook=nb, figures=figures)


def _tail(message: str, limit: int = 5000) -> str:
    """The end of a traceback, without the terminal colour codes IPython puts in it."""
    message = re.sub(r"\x1b\[[0-9;]*m", "", message)
    return message if len(message) <= limit else "...\n" + message[-limit:]


@pytest.fixture(scope="session")
def course_runs() -> dict[str, Execution]:
    """{notebook stem: Execution} for every lecture, run in parallel, one kernel per notebook.

    The kernels run on numpy whatever AUTODIFF_LAB_BACKEND says: lecture 10 switches backends itself, and runs
    its GPU cell only where cupy finds a device."""
    paths = lecture_paths()
    saved = os.environ.pop("AUTODIFF_LAB_BACKEND", None)
    try:
        with ThreadPoolExecutor(max_workers=min(len(paths), max(2, os.cpu_count() or 2))) as pool:
            runs = list(pool.map(execute, paths))
    finally:
        if saved is not None:
            os.environ["AUTODIFF_LAB_BACKEND"] = saved
    return {run.name: run for run in runs}
