"""`autodiff-lab lab [DIR]`: JupyterLab for a student, on the student's own working copy of the course.

    autodiff-lab lab                 lay out (or bring up to date) ./my-course, then open JupyterLab on it
    autodiff-lab lab DIR --no-browser --port 8890      any further option goes to JupyterLab

JupyterLab serves DIR and nothing above it, so the notebooks a student saves are the student's copies, never
the shipped ones (in the course repository, `make lab` uses the git-ignored my-course/). It runs with the
settings in autodiff_lab/jupyter_config (first on JUPYTER_CONFIG_PATH): nbgrader's assignment list and Validate
button, not the instructor's formgrader, Create Assignment or course list, and no news pop-up.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from .course_init import START, describe, lay_out

CONFIG_DIR = Path(__file__).resolve().parent / "jupyter_config"
DEFAULT_DIR = "my-course"
NEEDED = {"jupyterlab": "JupyterLab", "nbgrader": "nbgrader"}


def student_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment JupyterLab runs in: the student settings first on JUPYTER_CONFIG_PATH, ahead of the
    installed packages' own (in a virtual environment even ~/.jupyter comes after those). Where they are on the
    path already (a hub sets it, with an instructor's settings ahead of them), the path is left as it is."""
    env = dict(os.environ if environ is None else environ)
    paths = [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    if str(CONFIG_DIR) not in paths:
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(CONFIG_DIR), *paths])
    return env


def lab_command(folder: Path, extra: list[str]) -> list[str]:
    """The JupyterLab command line: served from `folder`, opening the course index."""
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}",
            f"--LabApp.default_url=/lab/tree/{START}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        argv.append("--allow-root")
    return argv + extra


def missing_packages() -> list[str]:
    return [name for module, name in NEEDED.items() if importlib.util.find_spec(module) is None]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lab", help="open JupyterLab on your working copy of the course (laid out or updated first)",
        description="Lay out (or bring up to date) your working copy of the lectures and assignments in DIR, as "
                    "`autodiff-lab course init DIR` does, then open JupyterLab on it. Options after DIR go to "
                    "JupyterLab (--no-browser, --port 8890, ...).")
    parser.add_argument("dir", metavar="DIR", nargs="?", default=DEFAULT_DIR,
                        help=f"your working copy (default ./{DEFAULT_DIR}; created if missing)")
    parser.set_defaults(run=run, passes_unknown=True)


def run(args: argparse.Namespace) -> int:
    missing = missing_packages()
    if missing:
        print(f"autodiff-lab lab: error: {' and '.join(missing)} not installed here: "
              f"pip install 'autodiff-lab[course]' (or conda env create -f environment.yml)", file=sys.stderr)
        return 2
    report = lay_out(args.dir, "autodiff-lab lab")
    if report is None:
        return 2
    if report.fresh or report.written or report.failed:
        print(describe(report, how_to_open=False))
    folder = report.target
    print(f"JupyterLab on {folder} (your copies: save freely). Stop it with Ctrl-C.", flush=True)
    try:
        return subprocess.call(lab_command(folder, list(args.unknown)), env=student_environment())
    except KeyboardInterrupt:
        return 0
