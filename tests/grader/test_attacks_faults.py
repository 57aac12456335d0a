"""One submission must not hurt the others, and faults must end cleanly (issue 17, items 6 and 7): sandboxes of
concurrent runs never share a uid, a reply is refused before it is read when it is larger than its request
allows, a submission that exhausts its sandbox is `resource-limit`, a full disk or a second run on the same
course folder ends in one clear message, the reference solution never outlives its check, and no malformed
notebook crashes the grader."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.sandbox import Isolation, Limits, Sandbox, cgroups, detect_isolation, leases

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "grader" / "sample" / "submitted"
ROOT_NAMESPACES = detect_isolation() is Isolation.NAMESPACES
needs_root_namespaces = pytest.mark.skipif(not ROOT_NAMESPACES, reason="uids per sandbox need root and namespaces")
needs_cgroups = pytest.mark.skipif(not (ROOT_NAMESPACES and cgroups.plan("probe", 1, 1)),
                                   reason="no memory and pids control groups here")
QUICK = Limits(cell_timeout=10, interrupt_grace=1)
THREAD_BOMB = textwrap.dedent("""
    import threading, time
    started = 0
    try:
        while True:
            threading.Thread(target=time.sleep, args=({hold},), daemon=True).start()
            started += 1
    except RuntimeError:
        pass
""")


def child(code: str, **kw) -> subprocess.Popen:
    """A Python process running `code` with the repository importable (a second grader, say)."""
    return subprocess.Popen([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r})\n{code}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.PIPE, text=True, **kw)


def ada_with(tmp_path: Path, assignment: str, grade_id: str, code: str):
    """(the assignment, ada's right submission of it with `code` added to the answer cell `grade_id`)."""
    from grader.assignment import load_assignment
    from grader.collect import from_folder

    nb = json.loads((SAMPLE / "ada" / assignment / f"{assignment}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = "".join(cell["source"]) + "\n" + code
    folder = tmp_path / "ada" / assignment
    folder.mkdir(parents=True)
    (folder / f"{assignment}.ipynb").write_text(json.dumps(nb))
    return load_assignment(assignment), from_folder("ada", folder, f"{assignment}.ipynb", 2**24)


def grade(assignment, sub, limits=QUICK):
    from grader.pipeline import grade_safely

    return grade_safely(sub, assignment, limits=limits, isolation=detect_isolation(), forbidden_modules=[],
                        forbidden_functions=[])


# ---- concurrent runs: a uid per live sandbox on the machine ---------------------------------------------
@needs_root_namespaces
def test_sandboxes_of_two_graders_at_once_get_distinct_uids():
    """Attack: two graders on one machine, both at worker slot 0, as `make test` runs two pytest processes or
    an instructor two courses: their sandboxes must not share a uid (RLIMIT_NPROC counts per uid)."""
    other = child("from grader.sandbox import Sandbox\nwith Sandbox() as box:\n"
                  "    print(box.uid, flush=True)\n    sys.stdin.readline()")
    try:
        theirs = int(other.stdout.readline())
        with Sandbox(QUICK, slot=0) as box:
            mine = box.uid
            cell = box.run(f"import os\nassert os.getuid() == os.geteuid() == {mine}, os.getuid()")
        assert cell.ok, cell.evalue
        assert mine != theirs and {mine, theirs} <= set(range(leases.UID_BASE, leases.UID_BASE + leases.UID_COUNT))
    finally:
        other.communicate("\n", timeout=30)


@needs_root_namespaces
def test_a_thread_bomb_in_another_graders_sandbox_does_not_make_this_one_fail():
    """Attack: a student of another run holds every process and thread its sandbox may have; this run's
    sandbox, on the same worker slot, must still start and start threads of its own (it was `crashed`,
    "sandbox setup failed: EAGAIN", when both ran as uid 61000)."""
    bomb = THREAD_BOMB.format(hold=60)
    other = child("from grader.sandbox import Limits, Sandbox\n"
                  "with Sandbox(Limits(processes=16), slot=0) as box:\n"
                  f"    cell = box.run({bomb!r})\n"
                  "    print(box.uid, cell.ok, flush=True)\n    sys.stdin.readline()")
    try:
        uid, ok = other.stdout.readline().split() or ("", other.stderr.read()[-2000:])
        assert ok == "True", ok
        assert len(leases.processes_of(int(uid))) >= 2     # the bomb holds its threads
        with Sandbox(Limits(processes=16, cell_timeout=10), slot=0) as box:
            cell = box.run("import threading\nts = [threading.Thread(target=len, args=('x',)) for _ in range(5)]\n"
                           "[t.start() for t in ts]\n[t.join() for t in ts]")
        assert cell.ok, cell.evalue
    finally:
        other.communicate("\n", timeout=30)


@needs_root_namespaces
def test_what_a_previous_holder_left_running_as_a_uid_is_killed_before_the_uid_is_leased_again():
    """Attack: a process left running as a sandbox uid (a holder that escaped its cleanup) would count
    against the next holder's process limit and could watch its files; it is killed before the uid is reused."""
    free = leases.lease_uid(500)      # a uid no live sandbox holds now
    uid = free.uid
    free.release()

    def become():
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)

    starter = subprocess.run(["sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!"], preexec_fn=become,
                             capture_output=True, text=True)   # the sleep outlives its parent, as leftovers do
    assert starter.returncode == 0 and starter.stdout.strip().isdigit(), starter.stderr
    leftover = int(starter.stdout)
    try:
        assert leases.processes_of(uid) == {leftover: False}
        with Sandbox(QUICK, slot=uid - leases.UID_BASE) as box:
            assert box.run("x = 1").ok
            # killed at once: gone, or a zombie until the machine's init reaps it (then the next uid is taken,
            # since a zombie still counts against its uid's process limit)
            assert leases.processes_of(uid).get(leftover, True) is True
            assert box.uid != uid or leftover not in leases.processes_of(uid)
    finally:
        try:
            os.kill(leftover, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---- replies: capped by the request, refused before they are read ----------------------------------------
REPLY_SCENARIOS = r"""
import io, json, resource, time, zipfile
import numpy as np
from grader.sandbox import KernelDied, Limits, Sandbox
from grader.sandbox.supervisor import MAX_LINE, load_arrays

CAP = Limits().reply
WRITE = "import os, sys\nfd = int(sys.argv[2])\n"
SCENARIOS = {
    "huge": WRITE + "os.write(fd, b'{\"ok\": true, \"nbytes\": 1099511627776}\\n')\nimport time\ntime.sleep(60)",
    "endless line": WRITE + "while True:\n    os.write(fd, b'[' * 65536)",
    "at the cap": WRITE + f"os.write(fd, b'{{\"ok\": true, \"nbytes\": {CAP}}}\\n')\n"
                          f"for _ in range({CAP} // 2**20):\n    os.write(fd, bytes(2**20))",
    "a line of many objects": WRITE + f"os.write(fd, b'[' + b'[],' * ({MAX_LINE} // 3 - 2) + b'[]]\\n')",
    "more than this request allows": WRITE + "os.write(fd, b'{\"ok\": true, \"nbytes\": 2097152}\\n' + bytes(2097152))",
}
outcome = {}
for name, code in SCENARIOS.items():
    with Sandbox(Limits(cell_timeout=20)) as box:
        if name == "more than this request allows":
            box.max_reply = 2**20
        start = time.monotonic()
        try:
            box.run(code)
            outcome[name] = "answered"
        except KernelDied as err:
            outcome[name] = err.reason
        outcome[name + " seconds"] = time.monotonic() - start
buf = io.BytesIO()   # many small arrays, right at the cap: what the parser keeps stays small
np.savez(buf, **{f"a{i}": np.full(10, i, dtype=float) for i in range(10_000)})
outcome["arrays"] = len(load_arrays(buf.getvalue(), CAP))
outcome["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(outcome))
"""


def test_no_reply_takes_the_grader_past_a_gigabyte():
    """Attack: a kernel that answers with a huge payload, an endless line, a line of a million objects, or
    more than the request allows: each ends the run (refused before the payload is read when its size says
    so), and the grader process that reads them all stays far under 1 GB (peak RSS, measured in it)."""
    run = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r})\n{REPLY_SCENARIOS}"],
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"grader's peak RSS over the reply attacks: {got['max_rss_mib']:.0f} MiB")
    assert "larger than the limit" in got["huge"] and got["huge seconds"] < 5         # refused, never read
    assert "larger than the limit" in got["endless line"]
    assert "larger than the limit" in got["more than this request allows"]
    assert "forged" in got["at the cap"] and "forged" in got["a line of many objects"]   # read, then refused
    assert got["arrays"] == 10_000
    assert got["max_rss_mib"] < 1024


# ---- a submission that exhausts its sandbox ----------------------------------------------------------------
@needs_cgroups
def test_a_thread_bomb_is_graded_resource_limit_with_the_points_it_earned(tmp_path):
    """Attack: a fork (thread) bomb in an answer cell is contained, and the grade says so: `resource-limit`,
    read from the pids group's counter, with what was harvested (ada's right answers) as the points."""
    bomb = THREAD_BOMB.format(hold=1) + "time.sleep(1.5)"
    assignment, sub = ada_with(tmp_path, "a1_backprop", "sigmoid_neuron", bomb)
    result = grade(assignment, sub, Limits(processes=24, cell_timeout=10, interrupt_grace=1))
    assert result.status == "resource-limit", (result.status, result.failure)
    assert "limit of 24 processes" in result.failure["reason"] and "fork bomb" in result.failure["reason"]
    assert result.score == result.max_score == 10


@needs_cgroups
def test_a_memory_hog_is_graded_resource_limit(tmp_path):
    """Attack: a cell that fills the sandbox's memory (files on its tmpfs, then arrays) is killed by the memory
    group's OOM killer: `resource-limit`, "ran out of memory", the parts harvested before it kept."""
    hog = textwrap.dedent("""
        for folder in ("/tmp", "."):
            for i in range(12):
                with open(f"{folder}/fill{i}", "wb") as f:
                    f.write(bytes(15 * 2**20))
        import numpy as np
        blocks = []
        while True:
            blocks.append(np.ones(2**24 // 8))
    """)
    assignment, sub = ada_with(tmp_path, "a1_backprop", "sigmoid_neuron", hog)
    result = grade(assignment, sub, Limits(memory=512 * 2**20, disk=200 * 2**20, cell_timeout=20, interrupt_grace=1))
    assert result.status == "resource-limit", (result.status, result.failure)
    assert "out of memory" in result.failure["reason"] and result.failure["cell"] == "sigmoid_neuron"
    assert result.score == 1                                     # test_add_mul, harvested before it


def test_a_cpu_burner_is_graded_resource_limit(tmp_path):
    """Attack: a cell that burns the notebook's CPU time ends the run: `resource-limit` (CPU time), not `ok`,
    the parts before it kept."""
    burn = "while True:\n    pass"
    assignment, sub = ada_with(tmp_path, "a1_backprop", "sigmoid_neuron", burn)
    result = grade(assignment, sub, Limits(cpu_seconds=3, cell_timeout=30, interrupt_grace=1))
    assert result.status == "resource-limit", (result.status, result.failure)
    assert "CPU time" in result.failure["reason"] and result.score == 1


@needs_cgroups
def test_a_forged_limit_message_does_not_flag_and_a_plain_notebook_stays_ok(tmp_path):
    """Attack: text that says a limit was hit (EAGAIN in the output) is the student's to write, so it decides
    nothing: only the sandbox's own counters do."""
    fake = "print('OSError: [Errno 11] Resource temporarily unavailable: hit the limit of 64 processes')"
    assignment, sub = ada_with(tmp_path, "a1_backprop", "sigmoid_neuron", fake)
    result = grade(assignment, sub)
    assert (result.status, result.failure, result.score) == ("ok", None, 10)


# ---- faults: a full disk, two runs on one course, a killed reference check -----------------------------------
def two_students(tmp_path: Path) -> Path:
    subs = tmp_path / "submitted"
    for student in ("ada", "dee"):
        shutil.copytree(SAMPLE / student / "a1_backprop", subs / student / "a1_backprop")
    return subs


def holds_score(out: Path, student: str, score: str) -> list[str]:
    """The reports under `out` that give `student` the score `score`: grades.csv, the summary, the feedback and
    formgrader pages. (results/ is the resume cache: an entry there holds the fingerprint of the files it
    graded, so it is never taken for another submission.)"""
    folder, found = out / "a1_backprop", []
    rows = folder / "grades.csv"
    row = f"{student},a1_backprop,{score},"
    if rows.exists() and any(line.startswith(row) for line in rows.read_text().splitlines()):
        found.append(str(rows))
    summary = folder / "summary.html"
    if summary.exists() and f">{student}</a></td><td>" in summary.read_text():
        found.append(str(summary))
    found += [str(p) for p in (out / "feedback" / student).rglob("*.html") if f"<b>{score} / 10</b>" in p.read_text()]
    found += [str(p) for p in (out / "autograded" / student).rglob("*.ipynb")]
    return found


def test_a_full_disk_while_saving_results_ends_in_one_line_and_leaves_no_stale_score(tmp_path, monkeypatch,
                                                                                      grade_quickly):
    """Fault: the disk fills while results are written after dee resubmitted: one line that says which disk
    and how much to free, and dee's old score (4) is nowhere: not in grades.csv, results, feedback, or the gradebook."""
    from grader import pipeline
    from grader.faults import DiskFull

    subs, out = two_students(tmp_path), tmp_path / "course"
    grade_quickly("a1_backprop", subs, out)
    assert holds_score(out, "dee", "4")
    shutil.copy(subs / "ada" / "a1_backprop" / "a1_backprop.ipynb", subs / "dee" / "a1_backprop")   # resubmits

    def full(folder, result, key):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline, "save", full)
    with pytest.raises(DiskFull) as err:
        grade_quickly("a1_backprop", subs, out)
    message = str(err.value)
    assert "\n" not in message and str(out) in message and "is full" in message
    assert "free at least" in message and "MiB" in message
    assert holds_score(out, "dee", "4") == [] and not (out / "a1_backprop" / "results" / "dee.json").exists()
    assert automatic_scores(out, "dee") == {None} and automatic_scores(out, "ada") != {None}   # nor the gradebook


def automatic_scores(out: Path, student: str) -> set:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="autodiff_lab") as gb:
        return {g.auto_score for g in gb.find_submission_notebook("a1_backprop", "a1_backprop", student).grades}


def test_a_course_folder_on_a_full_file_system_says_what_to_free(tmp_path, grade_quickly):
    """Fault: --out on a real file system that fills up (a 16 MiB tmpfs) after dee resubmitted: the command's
    one line, exit 1, no traceback, and dee's old score nowhere; once there is room, the rerun grades it."""
    out = tmp_path / "course"
    out.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(out)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        subs = two_students(tmp_path)
        grade_quickly("a1_backprop", subs, out)
        shutil.copy(subs / "ada" / "a1_backprop" / "a1_backprop.ipynb", subs / "dee" / "a1_backprop")
        with open(out / "filler", "wb") as f:
            try:
                while True:
                    f.write(bytes(2**16))
            except OSError:
                pass
        run = subprocess.run([sys.executable, "-c", "import sys; from autodiff_lab.cli import main; sys.exit(main())",
                              "grade", "a1_backprop", "--submissions",
                              str(subs), "--out", str(out), "--quiet", "--cell-timeout", "5"],
                             capture_output=True, text=True, timeout=120, cwd=REPO)
        lines = run.stderr.strip().splitlines()
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr[-2000:]
        assert "is full" in lines[-1] and "free at least" in lines[-1] and str(out) in lines[-1]
        assert holds_score(out, "dee", "4") == []
        (out / "filler").unlink()
        report = grade_quickly("a1_backprop", subs, out)
        assert {r.student: r.score for r in report.results} == {"ada": 10, "dee": 10}
    finally:
        subprocess.run(["umount", "-l", str(out)])


def test_a_second_run_on_the_same_course_folder_waits_for_the_first(tmp_path):
    """Fault: an instructor starts a second run on a course folder still being graded: it waits, saying why,
    then grades; never an nbgrader traceback, and both end with every row."""
    subs, out = tmp_path / "submitted", tmp_path / "course"
    shutil.copytree(SAMPLE / "dee" / "a1_backprop", subs / "dee" / "a1_backprop")
    code = (f"sys.path.insert(0, {str(REPO / 'tests' / 'grader')!r})\nfrom conftest import grade\n"
            f"r = grade('a1_backprop', {str(subs)!r}, {str(out)!r})\nprint(sorted(x.student for x in r.results))")
    first = child(code)
    lock = out / ".autodiff-lab.lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().strip() == str(first.pid)):
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = child(code)
    outputs = [p.communicate(timeout=180) for p in (first, second)]
    for p, (stdout, stderr) in zip((first, second), outputs):
        assert p.returncode == 0 and "Traceback" not in stderr, stderr[-3000:]
        assert stdout.strip() == "['dee']"
    assert "being graded by another run" in outputs[1][1] and f"process {first.pid}" in outputs[1][1]


def solution_lines(assignment: str, submitted: Path) -> list[bytes]:
    """Lines of the reference solution that neither the released notebook nor a submission under `submitted`
    has (quote-free, so that they read the same in a notebook's JSON)."""
    from grader.assignment import load_assignment

    a = load_assignment(assignment)
    elsewhere = json.dumps(a.template) + "".join(p.read_text() for p in submitted.rglob("*.ipynb"))
    lines = {line.strip() for cell in a.reference_notebook()["cells"] for line in "".join(cell["source"]).splitlines()}
    return [line.encode() for line in lines
            if len(line) > 15 and '"' not in line and "\\" not in line and line not in elsewhere]


def files_holding(folder: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [str(path)] if any(n in data for n in needles) else []
    return found


def test_a_grader_killed_during_the_reference_check_leaves_no_solution_after_a_rerun(tmp_path, monkeypatch,
                                                                                      grade_quickly):
    """Fault: the grader is killed (SIGKILL) while it grades the reference solution; after a rerun, no file
    under the course folder or the temp folder holds a line of the solution."""
    import tempfile

    from grader.pipeline import REFERENCE_PREFIX

    temp, out, subs = tmp_path / "temp", tmp_path / "course", tmp_path / "submitted"
    temp.mkdir()
    shutil.copytree(SAMPLE / "dee" / "a1_backprop", subs / "dee" / "a1_backprop")
    needles = solution_lines("a1_backprop", subs)
    assert len(needles) >= 3
    code = (f"sys.path.insert(0, {str(REPO / 'tests' / 'grader')!r})\nfrom conftest import grade\n"
            f"grade('a1_backprop', {str(subs)!r}, {str(out)!r}, check_reference=True)")
    grader = child(code, env={**os.environ, "TMPDIR": str(temp)})
    deadline = time.monotonic() + 60
    while not any(temp.glob(f"{REFERENCE_PREFIX}*/*.ipynb")):
        assert time.monotonic() < deadline and grader.poll() is None, grader.communicate()
        time.sleep(0.01)
    folder = next(temp.glob(f"{REFERENCE_PREFIX}*"))
    assert folder.stat().st_mode & 0o777 == 0o700 and not str(folder).startswith(str(out))
    grader.send_signal(signal.SIGKILL)
    grader.communicate()
    assert files_holding(temp, needles)                              # what the killed run left behind
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    report = grade_quickly("a1_backprop", subs, out, check_reference=True)
    assert [r.score for r in report.results] == [4]
    assert files_holding(temp, needles) == [] and files_holding(out, needles) == []


@needs_root_namespaces
def test_another_user_cannot_read_a_sandboxs_copy_of_the_files(tmp_path):
    """Attack: another user of the machine (or another sandbox's uid) reads the reference solution through the
    sandbox's /proc/<pid>/root while it is graded: refused; inside, only the sandbox's own uid may read it."""
    secret = tmp_path / "secret.ipynb"
    secret.write_text("the reference solution")
    secret.chmod(0o600)
    with Sandbox(QUICK, files=str(tmp_path)) as box:
        cell = box.run("import os, stat\nst, home = os.stat('secret.ipynb'), os.stat('/home/student')\n"
                       "assert st.st_uid == os.getuid() and not st.st_mode & 0o077, oct(st.st_mode)\n"
                       "assert stat.S_IMODE(home.st_mode) == 0o700, oct(home.st_mode)")
        assert cell.ok, cell.evalue
        pid = max(leases.processes_of(box.uid))
        path = f"/proc/{pid}/root/home/student/work/secret.ipynb"
        assert Path(path).read_text() == "the reference solution"      # the grader (root) sees it is there
        nobody = subprocess.run(["cat", path], capture_output=True, text=True,
                                preexec_fn=lambda: (os.setgroups([]), os.setgid(65534), os.setuid(65534)))
    assert nobody.returncode != 0 and "Permission denied" in nobody.stderr and not nobody.stdout


# ---- malformed notebooks: `invalid`, never `crashed` and retried forever ----------------------------------------
@pytest.mark.parametrize("text, says", [
    ("[" * 100_000, "nested too deeply"),
    ('{"cells": [{"cell_type": "code", "source": ' + "[" * 50_000 + "]" * 50_000 + "}]}", "nested too deeply"),
    ('{"cells": [{"cell_type": "code", "source": ["x = 1", 2, null]}]}', "source that is not text"),
    ('{"cells": [{"cell_type": "code", "source": {"a": 1}}]}', "source that is not text"),
    ('{"cells": [' + "1" * 5000 + "]}", "not a readable notebook"),
    ('{"cells": {"0": {}}}', "no list of cells"),
    ('{"cells": [' + ",".join(['{"cell_type": "raw"}'] * 20_001) + "]}", "cells"),
])
def test_a_malformed_notebook_is_invalid_not_a_grader_failure(tmp_path, text, says):
    """Fault: a notebook nested a hundred thousand deep, or with sources, numbers or cells no notebook has, is
    `invalid` with a reason, and cached like any result (a grader failure would be retried every run)."""
    from grader.assignment import load_assignment
    from grader.collect import from_folder

    folder = tmp_path / "mallory"
    folder.mkdir()
    (folder / "a1_backprop.ipynb").write_text(text)
    sub = from_folder("mallory", folder, "a1_backprop.ipynb", 2**24)
    result = grade(load_assignment("a1_backprop"), sub)
    assert result.status == "invalid" and says in result.failure["reason"], result.failure
    assert result.failure["kind"] != "grader"


@pytest.mark.parametrize("change", ["metadata-list", "nbgrader-string", "grade-id-list", "points-string",
                                    "outputs-garbage"])
def test_metadata_of_the_wrong_types_never_crashes_the_grader(tmp_path, change):
    """Fault: cell metadata of the wrong JSON types (a list for metadata, a string for nbgrader's, a list for a
    grade_id, text for points, garbage outputs): graded with a status that says what is wrong, never `crashed`
    by a grader failure."""
    nb = json.loads((SAMPLE / "ada" / "a1_backprop" / "a1_backprop.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "add_mul")
    if change == "metadata-list":
        cell["metadata"] = ["nbgrader"]
    elif change == "nbgrader-string":
        cell["metadata"]["nbgrader"] = "add_mul"
    elif change == "grade-id-list":
        cell["metadata"]["nbgrader"]["grade_id"] = ["add_mul"]
    elif change == "points-string":
        cell["metadata"]["nbgrader"]["points"] = "ten"
    else:
        cell["outputs"], cell["execution_count"] = {"garbage": [1, {"x": None}]}, "one"
    folder = tmp_path / "ada"
    folder.mkdir()
    (folder / "a1_backprop.ipynb").write_text(json.dumps(nb))
    from grader.assignment import load_assignment
    from grader.collect import from_folder

    result = grade(load_assignment("a1_backprop"), from_folder("ada", folder, "a1_backprop.ipynb", 2**24))
    assert result.failure is None or result.failure["kind"] != "grader", result.failure
    assert result.status in ("ok", "tampered", "needs-manual-grade")
