"""`autodiff-lab course init DIR`: a student's working copy of the lectures and the assignments.

    autodiff-lab course init my-course        lay out my-course/course/ (the lectures) and my-course/assignments/
    autodiff-lab course init my-course        again, after upgrading autodiff-lab: bring in what is new or updated

The material comes from the installed edition (autodiff_lab/course_material, copied in when the wheel is built:
setup.py) or, in the course repository, from its course/ and assignments/ folders. The working copy records the
SHA-256 of every file it laid out (DIR/.autodiff-lab-course.json), so a later run tells a file the student
changed from the shipped version it came from. It never overwrites a student's work:

    missing                          copied (new, or restored if the student deleted it)
    the shipped version, unchanged   replaced by the newer version
    changed by the student           kept; a newer version lands beside it as "NAME (updated DATE).ipynb"
    a file it never laid out         treated as the student's (kept; a different shipped version goes beside it)
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

FOLDERS = ("course", "assignments")      # the shipped material, under the same names as in the repository
STATE = ".autodiff-lab-course.json"     # in the working copy: what was laid out, by hash
START = "course/index.ipynb"
NOT_SHIPPED = {("course", "site")}      # how the course web site is built (make site): not course material


class MaterialMissing(Exception):
    """Neither an installed edition's material nor a repository's course/ and assignments/ were found."""


def material_root() -> Path:
    """The folder that holds course/ and assignments/: the installed edition's, else the repository's."""
    package = Path(__file__).resolve().parent
    for root in (package / "course_material", package.parent):
        if all((root / folder).is_dir() for folder in FOLDERS):
            return root
    raise MaterialMissing(f"no lectures or assignments were found next to {package} (expected "
                          f"{package / 'course_material'}): reinstall autodiff-lab")


def shipped_files(root: Path) -> dict[str, Path]:
    """The material by path relative to the working copy ("course/01_....ipynb"), hidden files, caches and the
    web site's build files left out. setup.py copies the same selection into the wheel."""
    files = {}
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root)
            if (path.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in rel.parts)
                    and rel.parts[:2] not in NOT_SHIPPED):
                files[rel.as_posix()] = path
    return files


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Report:
    """What a run did, file by file (paths relative to the working copy)."""

    target: Path
    fresh: bool                                            # no working copy was recorded there before
    new: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)      # laid out before, deleted since
    updated: list[str] = field(default_factory=list)       # the shipped version, unchanged: replaced
    beside: list[tuple[str, str]] = field(default_factory=list)   # (the student's file, where the new one went)
    kept: list[str] = field(default_factory=list)          # changed by the student, nothing newer shipped
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)       # no longer shipped; left as they are
    failed: list[tuple[str, str]] = field(default_factory=list)   # (path, why)

    @property
    def written(self) -> int:
        return len(self.new) + len(self.restored) + len(self.updated) + len(self.beside)


def init_working_copy(target: Path | str, source: Path | None = None, today: datetime.date | None = None) -> Report:
    """Lay out or update the working copy in `target` from the material in `source` (default: material_root())."""
    target = Path(target).resolve()
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} exists and is not a folder: choose another DIR")
    source = material_root() if source is None else Path(source)
    shipped = shipped_files(source)
    if not shipped:
        raise MaterialMissing(f"{source} holds no lectures or assignments: reinstall autodiff-lab")
    state = _read_state(target)
    report = Report(target, fresh=not state["files"])
    date = (today or datetime.date.today()).isoformat()
    target.mkdir(parents=True, exist_ok=True)

    for rel, src in shipped.items():
        dest = target / rel
        new_hash = sha256(src)
        laid_out = state["files"].get(rel)               # the hash of the version this copy came from
        try:
            if not dest.exists():
                _copy(src, dest)
                (report.restored if laid_out else report.new).append(rel)
                state["files"][rel] = new_hash
                state["offered"].pop(rel, None)
                continue
            current = sha256(dest) if dest.is_file() else None
            if current == new_hash:
                report.unchanged.append(rel)
                state["files"][rel] = new_hash
                state["offered"].pop(rel, None)
            elif current is not None and current == laid_out:
                _copy(src, dest)
                report.updated.append(rel)
                state["files"][rel] = new_hash
                state["offered"].pop(rel, None)
            elif laid_out == new_hash or state["offered"].get(rel, {}).get("sha256") == new_hash:
                report.kept.append(rel)                 # the student's; nothing newer to offer (or offered before)
            else:
                other = _beside(dest, new_hash, date)
                if not other.exists():
                    _copy(src, other)
                name = other.relative_to(target).as_posix()
                report.beside.append((rel, name))
                state["offered"][rel] = {"sha256": new_hash, "as": name}
        except OSError as err:
            report.failed.append((rel, err.strerror or str(err)))

    for rel in sorted(set(state["files"]) - set(shipped)):
        report.retired.append(rel)
        del state["files"][rel]
        state["offered"].pop(rel, None)
    state["edition"] = _version()
    _write_state(target, state)
    return report


def _beside(dest: Path, new_hash: str, date: str) -> Path:
    """Where a newer version of the student's `dest` goes: "NAME (updated DATE).ext", numbered if that name is
    taken by something else."""
    for n in range(1, 1000):
        label = f"updated {date}" if n == 1 else f"updated {date}, {n}"
        other = dest.with_name(f"{dest.stem} ({label}){dest.suffix}")
        if not other.exists() or (other.is_file() and sha256(other) == new_hash):
            return other
    raise OSError(f"too many updated copies of {dest.name}")


def _copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    tmp.write_bytes(src.read_bytes())
    os.replace(tmp, dest)


def _read_state(target: Path) -> dict:
    try:
        state = json.loads((target / STATE).read_text())
        files, offered = state.get("files"), state.get("offered", {})
        if isinstance(files, dict) and isinstance(offered, dict):
            return {"files": {k: v for k, v in files.items() if isinstance(v, str)},
                    "offered": {k: v for k, v in offered.items() if isinstance(v, dict)}}
    except (OSError, ValueError, AttributeError):
        pass                                            # no record (or a broken one): every file counts as theirs
    return {"files": {}, "offered": {}}


def _write_state(target: Path, state: dict) -> None:
    tmp = target / f"{STATE}.part"
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, target / STATE)


def _version() -> str:
    from . import __version__

    return __version__


# ---- the command -------------------------------------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "course", help="your own working copy of the lectures and assignments",
        description="The course's lectures and assignments, in a folder of your own.")
    actions = parser.add_subparsers(dest="course_command", required=True, metavar="{init}")
    init = actions.add_parser(
        "init", help="lay out (or bring up to date) a working copy of the lectures and assignments in DIR",
        description="Copy the lectures (DIR/course/) and the assignments (DIR/assignments/) of this "
                    "autodiff-lab into DIR. Run it again after upgrading autodiff-lab: it brings in new and "
                    "updated material and never overwrites your work. A notebook you changed stays as it is; "
                    "when a newer version of it is shipped, that one is put beside yours as "
                    "\"NAME (updated DATE).ipynb\". A file you deleted comes back.",
        epilog=f"DIR/{STATE} records what was laid out; leave it there.")
    init.add_argument("dir", metavar="DIR", help="the folder for your working copy (created if missing)")
    init.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    report = lay_out(args.dir, "autodiff-lab course init")
    if report is None:
        return 2
    print(describe(report))
    return 1 if report.failed else 0


def lay_out(target: str, command: str) -> Report | None:
    """init_working_copy for a command line: its report, or None after one line on stderr saying what is wrong."""
    try:
        return init_working_copy(target)
    except (MaterialMissing, NotADirectoryError) as err:
        print(f"{command}: error: {err}", file=sys.stderr)
    except OSError as err:
        print(f"{command}: error: cannot write to {target}: {err.strerror or err}", file=sys.stderr)
    return None


def describe(report: Report, how_to_open: bool = True) -> str:
    """What a run did, in words, for the student (and, for a new copy, how to open it)."""
    where, version = report.target, _version()
    lines = []
    if report.fresh and not (report.updated or report.beside or report.kept or report.unchanged):
        lectures = [rel for rel in report.new if rel.startswith("course/") and rel.endswith(".ipynb")
                    and rel != START]
        assignments = sorted({rel.split("/")[1] for rel in report.new
                              if rel.startswith("assignments/") and rel.endswith(".ipynb")})
        lines.append(f"Laid out the course of autodiff-lab {version} in {where} ({len(report.new)} files):")
        lines.append(f"  course/       {len(lectures)} lectures; start with {START}")
        lines.append(f"  assignments/  {len(assignments)} assignments: {', '.join(assignments)}")
    elif report.written or report.retired or report.failed:
        lines.append(f"Brought the course in {where} up to autodiff-lab {version}:")
        lines += [f"  new       {rel}" for rel in report.new]
        lines += [f"  restored  {rel} (it was missing)" for rel in report.restored]
        lines += [f"  updated   {rel} (you had not changed it)" for rel in report.updated]
        for rel, other in report.beside:
            lines.append(f"  beside    {rel} is yours (you changed it), so it stays as it is; the new version "
                         f"is in {other}")
        lines += [f"  retired   {rel} is no longer part of the course (left as it is)" for rel in report.retired]
        lines += [f"  FAILED    {rel}: {why}" for rel, why in report.failed]
    else:
        lines.append(f"The course in {where} is up to date with autodiff-lab {version}.")
    if report.failed:
        lines.append("The files marked FAILED could not be written: check that the folder is yours and has room, "
                     "then run this command again.")
    if report.kept:
        lines.append(f"Your changes to {len(report.kept)} file(s) are kept as they are.")
    if not report.fresh or report.kept or report.beside:
        lines.append("Nothing of yours was overwritten.")
    if report.fresh and how_to_open:
        lines.append(f"Open it with:  autodiff-lab lab {where}")
        lines.append("Run this command again after upgrading autodiff-lab: it brings in new and updated "
                     "material and never overwrites your work.")
    return "\n".join(lines)
