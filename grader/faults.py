"""Faults a grading run ends cleanly on, whatever happens around it:

    two runs on one course folder    one_run_at_a_time: the second waits for the first (an flock on
                                     <out>/.autodiff-lab.lock, held for the whole run) and says so
    a full disk under the course     DiskFull: one line that says where and how much to free
    a run that stops half way        forget_changed: before a changed submission is graded again, its old
                                     result, pages and the class reports go, so that no stale score outlives
                                     a run that fails or is killed; a full disk drops every report of the
                                     assignment (drop_reports). The next complete run writes them all again.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import shutil
import sys
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".autodiff-lab.lock"
MiB = 2**20
FULL = (errno.ENOSPC, errno.EDQUOT)
REPORTS = ("grades.csv", "grades.csv.tmp", "summary.html", "summary.png")


class DiskFull(RuntimeError):
    """The disk holding the course folder filled up during a run."""


def is_disk_full(err: BaseException | None) -> bool:
    """Whether `err`, or an error it arose from, is a full disk (an OSError, or SQLite's "disk is full")."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in FULL or "disk is full" in str(err):
            return True
        err = err.__cause__ or err.__context__
    return False


@contextmanager
def run_lock(out: Path):
    """Hold <out>/.autodiff-lab.lock: a second run on the same course folder waits here, saying for whom. The
    lock dies with its process, so a killed run never blocks the next. A course folder this run had to make is
    removed again if the run leaves nothing else in it (a run refused at once creates nothing)."""
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK_NAME
    fd = _locked(lock)
    try:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        except OSError:   # a full disk: the lock holds all the same
            pass
        yield
    except BaseException:
        if made and [p.name for p in out.iterdir()] == [LOCK_NAME]:
            lock.unlink(missing_ok=True)
            out.rmdir()
        raise
    finally:
        os.close(fd)


def _locked(lock: Path) -> int:
    """A descriptor of `lock` holding its flock, waiting (and saying so) while another run holds it; one whose
    file was removed meanwhile (by a run that made the folder and failed) is taken again from its new file."""
    said = False
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not said:
                holder = os.pread(fd, 20, 0).decode("ascii", "replace").strip()
                who = f" (process {holder})" if holder.isdigit() else ""
                print(f"{lock.parent} is being graded by another run{who}: waiting for it to finish (Ctrl-C to "
                      "stop)...", file=sys.stderr, flush=True)
                said = True
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def one_run_at_a_time(grade: Callable) -> Callable:
    """grade_class(assignment_id, submissions, out, ...) under the course folder's lock, a full disk turned into
    DiskFull (having dropped the reports the run could not bring up to date)."""

    @functools.wraps(grade)
    def run(assignment_id: str, submissions, out, *args, **kwargs):
        out = Path(out).resolve()
        with run_lock(out):
            try:
                return grade(assignment_id, submissions, out, *args, **kwargs)
            except Exception as err:
                if not is_disk_full(err):
                    raise
                drop_reports(out, assignment_id)
                raise DiskFull(disk_full_message(out)) from err

    return run


def disk_full_message(out: Path) -> str:
    """One line: which disk, how much is free, how much to free (what the course folder's outputs may need
    again: the gradebook twice over, a MiB per result, and some room), and what happens to the rest."""
    usage = shutil.disk_usage(out)
    db = out / "gradebook.db"
    need = 32 * MiB + 2 * (db.stat().st_size if db.exists() else 0) + MiB * len(list(out.glob("*/results/*.json")))
    return (f"the disk holding {out} is full ({usage.free // MiB} MiB free): free at least {-(-need // MiB)} MiB on "
            f"it (old gradebook backups in {out / 'backups'}, other course folders, anything else on that disk), "
            "then run the same command again; the results written so far are kept, and grades.csv, the summary "
            "and the feedback pages are written when a run completes")


def forget_changed(out: Path, assignment: str, students: Iterable[str]) -> None:
    """Before these students are graded (again): drop their old result, log, feedback and formgrader pages,
    and the class reports, which a run that stops before its end would otherwise leave with their old score."""
    students = list(students)
    folder = out / assignment
    for student in students:
        for path in (folder / "results" / f"{student}.json", folder / "logs" / f"{student}.txt"):
            path.unlink(missing_ok=True)
        for kind in ("feedback", "autograded"):
            shutil.rmtree(out / kind / student / assignment, ignore_errors=True)
    if students:
        for name in REPORTS:
            (folder / name).unlink(missing_ok=True)


def drop_reports(out: Path, assignment: str) -> None:
    """Every report of the assignment that a complete run writes again: a run stopped by a full disk may not
    know yet whose submission changed, so none of them may stay."""
    if not assignment or "/" in assignment or assignment.startswith("."):
        return
    for name in REPORTS:
        (out / assignment / name).unlink(missing_ok=True)
    for kind in ("feedback", "autograded"):
        for path in (out / kind).glob(f"*/{assignment}"):
            shutil.rmtree(path, ignore_errors=True)
