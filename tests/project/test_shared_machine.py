"""Issue 18, part 3: the course on one shared machine, through nbgrader's exchange, with real Unix accounts.

An instructor and two students, each a Unix user of their own; a real exchange folder. The instructor releases
a2_vjp from the course folder with nbgrader's own command (no config copied by hand); each student fetches it,
works (one right, one with a broadcasting bug) and submits; the instructor collects, grades with `autodiff-lab
grade` and releases feedback; each student fetches their own feedback and cannot read the other's. The steps are
the instructor's guide's (grader/README.md, "A course on a shared machine"). Needs root to make the accounts (CI
runs as root); skipped elsewhere with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autodiff_lab.lab import CONFIG_DIR

sys.path.insert(0, str(Path(__file__).parent))
from unix_accounts import Accounts, unavailable  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "grader" / "sample" / "submitted"
A = "a2_vjp"
COURSE_FILES = ["nbgrader_config.py", "grader/nbgrader_config.py", "assignments", "solutions"]

why_not = unavailable()
pytestmark = pytest.mark.skipif(why_not is not None, reason=f"shared-machine test: {why_not}")


@pytest.fixture(scope="module")
def term():
    """One term of the course, run through; yields what each step left behind."""
    base = Path(tempfile.mkdtemp(prefix="adl-shared-", dir="/tmp"))
    base.chmod(0o755)
    accounts = Accounts(base, needed=[Path(sys.prefix), Path(sys.base_prefix), REPO])
    try:
        yield run_the_term(base, accounts)
    finally:
        accounts.close()
        shutil.rmtree(base, ignore_errors=True)


class Step:
    def __init__(self, accounts: Accounts, env: dict) -> None:
        self.accounts, self.env, self.log = accounts, env, []

    def __call__(self, user: str, *argv: str, cwd: Path | None = None, ok: bool = True) -> str:
        start = time.monotonic()
        done = self.accounts.run(user, list(argv), cwd=cwd, env=self.env)
        text = done.stdout + done.stderr
        self.log.append((user, argv, done.returncode, round(time.monotonic() - start, 1)))
        if ok:
            assert done.returncode == 0, f"{user}: {' '.join(argv)} exited {done.returncode}:\n{text[-3000:]}"
        return text


def run_the_term(base: Path, accounts: Accounts) -> dict:
    instructor, right, wrong = accounts.add("i"), accounts.add("r"), accounts.add("w")
    exchange = base / "exchange"
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o777)
    # the machine's one site setting (on a real machine, /etc/jupyter/nbgrader_config.py or nbgrader's default)
    site = base / "site"
    site.mkdir()
    (site / "nbgrader_config.py").write_text(f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n")
    env = {"JUPYTER_CONFIG_PATH": os.pathsep.join([str(CONFIG_DIR), str(site)])}
    step = Step(accounts, env)
    bin_ = Path(sys.executable).parent

    # the instructor's course folder: their copy of the course repository, in their own (0700) home
    course = accounts.home(instructor) / "autodiff_lab"
    for rel in COURSE_FILES:
        src, dest = REPO / rel, course / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest)
    subprocess.run(["chown", "-R", f"{instructor}:{instructor}", str(course)], check=True)
    handout = base / "handout"                        # what each student will type in, readable by them
    handout.mkdir()
    for who in ("ada", "ben"):
        shutil.copy(SAMPLE / who / A / f"{A}.ipynb", handout / f"{who}.ipynb")
    handout.chmod(0o755)

    step(instructor, str(bin_ / "nbgrader"), "release_assignment", A, cwd=course)
    for student, answers in ((right, "ada"), (wrong, "ben")):
        step(student, str(bin_ / "nbgrader"), "fetch_assignment", A)
        step(student, "cp", str(handout / f"{answers}.ipynb"), f"{A}/{A}.ipynb")
        step(student, str(bin_ / "nbgrader"), "submit", A)
    inbound = exchange / "autodiff_lab" / "inbound"
    peek_inbound = step(wrong, "ls", str(inbound), ok=False)

    step(instructor, str(bin_ / "nbgrader"), "collect", A, cwd=course)
    # --out only because this test's grader is imported from the checkout, not from the instructor's copy
    graded = step(instructor, str(bin_ / "autodiff-lab"), "grade", A, "--out", "grader/out", "--quiet", cwd=course)
    step(instructor, str(bin_ / "nbgrader"), "release_feedback", A, cwd=course)
    for student in (right, wrong):
        step(student, str(bin_ / "nbgrader"), "fetch_feedback", A)

    pages = {s: sorted(accounts.home(s).glob(f"{A}/feedback/*/{A}.html")) for s in (right, wrong)}
    other_page = pages[right][0] if pages[right] else accounts.home(right) / A
    return {
        "users": (instructor, right, wrong), "course": course, "exchange": exchange, "pages": pages,
        "graded": graded, "peek_inbound": peek_inbound, "step": step,
        "peek_feedback_dir": step(wrong, "ls", str(exchange / "autodiff_lab" / "feedback"), ok=False),
        "read_other_page": step(wrong, "cat", str(other_page), ok=False),
        "read_other_home": step(wrong, "ls", str(accounts.home(right)), ok=False),
        "read_course": step(right, "ls", str(course), ok=False),
        "grades": (course / "grader" / "out" / A / "grades.csv").read_text(),
    }


def score(page: Path) -> tuple[float, float]:
    found = re.search(r"Score: <b>([\d.]+) / ([\d.]+)</b>", page.read_text())
    assert found, f"no score on {page}"
    return float(found.group(1)), float(found.group(2))


def test_nbgrader_commands_run_in_the_course_folder_without_copying_config(term):
    released = term["exchange"] / "autodiff_lab" / "outbound" / A / f"{A}.ipynb"
    assert released.read_bytes() == (REPO / "assignments" / A / f"{A}.ipynb").read_bytes()
    collected = sorted(p.parent.parent.name for p in (term["course"] / "grader/out/submitted").glob(f"*/{A}/{A}.ipynb"))
    assert collected == sorted(term["users"][1:])


def test_the_grader_grades_what_was_collected_one_right_one_wrong(term):
    _, right, wrong = term["users"]
    assert "entries: 2 found" in term["graded"]
    rows = {line.split(",")[0]: line for line in term["grades"].splitlines()[1:]}
    assert set(rows) == {right, wrong}
    assert ",ok," in rows[right] and ",ok," in rows[wrong]


def test_each_student_fetches_their_own_feedback_with_their_own_score(term):
    _, right, wrong = term["users"]
    assert len(term["pages"][right]) == 1 and len(term["pages"][wrong]) == 1
    got, most = score(term["pages"][right][0])
    assert got == most > 0
    got, most = score(term["pages"][wrong][0])
    assert got < most
    # graded as the instructor, an ordinary user: the sandbox is a user namespace, not rlimits alone
    assert "in a sandbox (userns)" in term["pages"][wrong][0].read_text()
    assert "did you undo broadcasting" in term["pages"][wrong][0].read_text().lower()


def test_the_whole_cycle_is_logged(term):
    steps = [" ".join(Path(a).name if i == 0 else a for i, a in enumerate(argv)) for _, argv, _, _ in term["step"].log]
    print("\n".join(f"{user:>12} {secs:6.1f} s  rc {rc}  {line}" for (user, _, rc, secs), line
                    in zip(term["step"].log, steps)))
    assert [s.split()[1] for s in steps if s.startswith("nbgrader")] == [
        "release_assignment", "fetch_assignment", "submit", "fetch_assignment", "submit", "collect",
        "release_feedback", "fetch_feedback", "fetch_feedback"]


def test_a_student_cannot_read_the_other_students_work_or_feedback(term):
    for peek in ("peek_inbound", "peek_feedback_dir", "read_other_page", "read_other_home", "read_course"):
        assert "Permission denied" in term[peek], f"{peek}: {term[peek][:300]}"
