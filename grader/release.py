"""Release: the student notebooks in assignments/ are generated from the sources in solutions/ by nbgrader's
generate_assignment, driven in-process.

    python -m grader.release            (make assignments) regenerate assignments/ from solutions/
    python -m grader.release --check    exit 1 and name the notebooks that differ (what the test runs)
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from traitlets.config import Config

from .config import REPO, load_config


def assignment_ids(source: Path = REPO / "solutions") -> list[str]:
    """The assignments: the folders of solutions/ that hold a notebook."""
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def tools_on_path() -> None:
    """nbgrader runs the `alembic` command when it creates a gradebook: make sure our environment's scripts
    folder is on PATH even when Python was started by its full path (as make does)."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def nbgrader_api(root: Path, config: Config, *, source: Path, release: Path, db: Path):
    """An NbGraderAPI on course folder `root`, with the given source and release folders and gradebook."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = Config(config)
    cfg.CourseDirectory.root = str(root)
    cfg.CourseDirectory.source_directory = str(source)
    cfg.CourseDirectory.release_directory = str(release)
    cfg.CourseDirectory.db_url = f"sqlite:///{db}"
    cfg.NbGraderAPI.log_level = logging.WARNING
    tools_on_path()
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def generate(assignment: str, release: Path, db: Path, config: Config | None = None,
             source: Path = REPO / "solutions") -> Path:
    """Generate the student version of `assignment` into release/<assignment>; record it in gradebook `db`."""
    api = nbgrader_api(release.parent, config or load_config(), source=source, release=release, db=db)
    with contextlib.redirect_stdout(sys.stderr):
        result = api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader could not generate {assignment}:\n{result.get('error') or result.get('log')}")
    for junk in (release / assignment).rglob(".ipynb_checkpoints"):
        shutil.rmtree(junk)
    return release / assignment


def drifted(assignment: str, config: Config | None = None, released: Path = REPO / "assignments") -> list[str]:
    """The files of assignments/<assignment> that differ from what nbgrader generates from the source now."""
    with tempfile.TemporaryDirectory(prefix="autodiff-lab-release-") as tmp:
        fresh = generate(assignment, Path(tmp) / "release", Path(tmp) / "gradebook.db", config)
        return differences(fresh, released / assignment)


def differences(a: Path, b: Path) -> list[str]:
    names = {p.relative_to(a) for p in a.rglob("*") if p.is_file()} | \
            {p.relative_to(b) for p in b.rglob("*") if p.is_file()} if b.is_dir() else {Path(".")}
    return sorted(str(n) for n in names if not (a / n).is_file() or not (b / n).is_file()
                  or not filecmp.cmp(a / n, b / n, shallow=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.release", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    parser.add_argument("assignments", nargs="*", help="default: every assignment in solutions/")
    args = parser.parse_args(argv)
    config = load_config()
    stale = 0
    for assignment in args.assignments or assignment_ids():
        if args.check:
            diff = drifted(assignment, config)
            stale += bool(diff)
            print(f"{assignment}: " + (f"out of date ({', '.join(diff)}); run `make assignments`" if diff else "ok"))
            continue
        with tempfile.TemporaryDirectory(prefix="autodiff-lab-release-") as tmp:
            fresh = generate(assignment, Path(tmp) / "release", Path(tmp) / "gradebook.db", config)
            target = REPO / "assignments" / assignment
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(fresh, target)
        print(f"{assignment}: released to {target.relative_to(REPO)}/")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
