"""`make site`: the course as a static web site in _site/html (open _site/html/index.html; no server, no network).

    python course/site/build.py [--jobs N] [--out DIR]

1. runs every notebook of course/ from a fresh kernel, N at a time (nbclient, as the course tests do), the
   working directory course/ as in JupyterLab;
2. lays out a Sphinx source tree: the executed lectures in course/, the released assignments (not run: they are
   the students' to fill in) in assignments/<id>/, so that the lectures' relative links keep working, and an
   index page listing both;
3. builds it with Sphinx + MyST-NB (course/site/conf.py): drawings as the lectures show them, plots as PNG files,
   math as MathML written at build time (course/site/mathml.py).

tests/course/test_site.py builds the site from the notebooks the course tests already ran (`build_site`), so CI
runs each lecture once.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
COURSE, ASSIGNMENTS, CONF = REPO / "course", REPO / "assignments", REPO / "course" / "site"
OUT = REPO / "_site"
CELL_TIMEOUT_S = 300
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def course_notebooks() -> list[Path]:
    """The course index first, then every other notebook of course/ by name."""
    found = sorted(p for p in COURSE.glob("*.ipynb") if p.name != "index.ipynb")
    return ([COURSE / "index.ipynb"] if (COURSE / "index.ipynb").exists() else []) + found


def execute(path: Path) -> nbformat.NotebookNode:
    """`path` run top to bottom in a fresh kernel; a cell that fails stops the build with the notebook's name."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(COURSE)}})
    try:
        client.execute()
    except CellExecutionError as err:
        raise SystemExit(f"course/site/build.py: {path.name} failed, so the site was not built:\n{err}") from None
    return nb


def execute_all(paths: list[Path], jobs: int) -> dict[str, nbformat.NotebookNode]:
    """{stem: executed notebook}, `jobs` kernels at a time, on numpy whatever AUTODIFF_LAB_BACKEND says (lecture 10
    switches backends itself), as the course tests run them."""
    saved = os.environ.pop("AUTODIFF_LAB_BACKEND", None)
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return dict(zip((p.stem for p in paths), pool.map(execute, paths), strict=True))
    finally:
        if saved is not None:
            os.environ["AUTODIFF_LAB_BACKEND"] = saved


def for_the_web(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without what needs a live kernel: widget views (their static HTML stays) and widget state."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and len(data) > 1:
                del data[WIDGET_VIEW]
    return nb


def title_of(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def stage(executed: dict[str, nbformat.NotebookNode], src: Path) -> None:
    """The Sphinx source tree in `src` (see the module docstring)."""
    shutil.rmtree(src, ignore_errors=True)
    (src / "course").mkdir(parents=True)
    for stem, nb in executed.items():
        nbformat.write(for_the_web(nb), src / "course" / f"{stem}.ipynb")
    for name in ("figures",):  # what the lectures load from beside them
        if (COURSE / name).is_dir():
            shutil.copytree(COURSE / name, src / "course" / name)
    assignments = sorted(ASSIGNMENTS.glob("*/*.ipynb"))
    for path in assignments:
        target = src / "assignments" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    lectures = [f"course/{stem}" for stem in executed]
    handouts = [f"assignments/{p.parent.name}/{p.stem}" for p in assignments]
    index = ["# autodiff_lab: automatic differentiation, a course", "",
             "The lectures, run top to bottom, with their drawings and plots; and the graded assignments as "
             "released to students (download them, or run `autodiff-lab course init`, to work on them).", "",
             "```{toctree}", ":caption: Lectures", ":maxdepth: 1", "", *lectures, "```", "",
             "```{toctree}", ":caption: Assignments", ":maxdepth: 1", "", *handouts, "```", ""]
    (src / "index.md").write_text("\n".join(index), encoding="utf-8")


def build_site(executed: dict[str, nbformat.NotebookNode], out: Path = OUT) -> Path:
    """Stage `executed` ({stem: executed notebook} of course/) and build the HTML site; returns its index.html."""
    from sphinx.cmd.build import build_main

    src, html = out / "src", out / "html"
    stage(executed, src)
    status = build_main(["-b", "html", "-q", "-c", str(CONF), "-d", str(out / "doctrees"), str(src), str(html)])
    if status:
        raise SystemExit(f"course/site/build.py: Sphinx failed (exit {status}); its messages are above")
    return html / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2),
                        help="notebooks run at once (default: the number of CPUs, at least 2)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT.relative_to(REPO)})")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    executed = execute_all(course_notebooks(), args.jobs)
    ran = time.perf_counter() - start
    index = build_site(executed, args.out)
    print(f"ran {len(executed)} notebooks in {ran:.0f} s ({args.jobs} at a time), built the site in "
          f"{time.perf_counter() - start - ran:.0f} s: open {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
