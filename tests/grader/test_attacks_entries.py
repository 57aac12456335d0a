"""Issue 17, items 3, 4 and 6 (entries): no student vanishes or merges, every entry is a row, no run deletes
what a person entered, the gradebook is backed up, and sizes are checked before anything is read.

Most tests use grader.collect directly (milliseconds). The pipeline tests grade without a sandbox
(`no_sandbox`: the real collecting, matching, policy, gradebook and outputs, every part judged on an empty
harvest), since what they check is what the pipeline does with rows, not what a kernel computes.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

from grader import collect as collect_module
from grader.collect import MAX_ID_BYTES, collect, student_id
from grader.gradebook import backup_gradebook
from grader.pipeline import WouldDropStudents
from grader.structure import SEVERITY

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
A1 = "a1_backprop"
A2 = "a2_vjp"
RIGHT_A1 = REPO / "grader" / "sample" / "submitted" / "ada" / A1 / f"{A1}.ipynb"
WRONG_A1 = REPO / "grader" / "sample" / "submitted" / "dee" / A1 / f"{A1}.ipynb"
BLANK_A1 = REPO / "assignments" / A1 / f"{A1}.ipynb"
RIGHT_A2 = REPO / "grader" / "sample" / "submitted" / "ada" / A2 / f"{A2}.ipynb"


def put(path: Path, source: Path = RIGHT_A1, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, path)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def gather(root: Path, tmp_path: Path, assignment: str = A1):
    """{student id: Submission} of `root`, and the entries found."""
    subs = collect(root, assignment, f"{assignment}.ipynb", tmp_path / "scratch")
    return {s.student: s for s in subs}, subs.entries


def codes(sub) -> list[str]:
    return [v.code for v in sub.violations]


def rows_hold_every_entry(subs: dict, entries: list[str]) -> None:
    assert sorted(e for s in subs.values() for e in s.entries) == sorted(entries)


# ---- ids keep the name: nobody merges ---------------------------------------------------------------------
def test_jose_and_josè_stay_two_students(tmp_path):
    """Attack: two students named José and Josè (an ASCII-only id made both 'Jos': one grade lost, the other
    possibly given to the wrong person). Each keeps a row, and the id decodes back to the name."""
    lms = tmp_path / "lms"
    put(lms / "José.ipynb", RIGHT_A1)
    put(lms / "Josè.ipynb", WRONG_A1)
    subs, entries = gather(lms, tmp_path)
    assert sorted(subs) == sorted(["José", "Josè"])
    assert {unquote(s) for s in subs} == {"José", "Josè"}
    assert subs["José"].notebook.read_bytes() == RIGHT_A1.read_bytes()
    assert subs["Josè"].notebook.read_bytes() == WRONG_A1.read_bytes()
    assert len(entries) == 2 and not any(s.violations for s in subs.values())


def test_the_same_name_typed_on_another_system_is_one_student_with_both_copies_listed(tmp_path):
    """Attack: 'José' spelled with a combining accent (NFD, as macOS writes names) beside the NFC one: the same
    student by Unicode's rules, so one row, NFC id, with both files listed and a person asked which counts."""
    lms = tmp_path / "lms"
    put(lms / unicodedata.normalize("NFD", "José.ipynb"), WRONG_A1, mtime=1_000_000)
    put(lms / "José.ipynb", RIGHT_A1, mtime=2_000_000)
    subs, entries = gather(lms, tmp_path)
    assert list(subs) == ["José"] and len(entries) == 2
    assert codes(subs["José"]) == ["duplicate-copies"]
    rows_hold_every_entry(subs, entries)


def test_two_chinese_names_stay_two_students(tmp_path):
    """Attack: two students with Chinese names (both became 'unnamed', one row for two people)."""
    root = tmp_path / "submitted"
    put(root / "张伟" / A1 / f"{A1}.ipynb", RIGHT_A1)
    put(root / "王芳" / A1 / f"{A1}.ipynb", WRONG_A1)
    subs, entries = gather(root, tmp_path)
    assert sorted(subs) == sorted(["张伟", "王芳"]) and len(entries) == 2


def test_jo_smith_and_jo_dash_smith_stay_two_students(tmp_path):
    """Attack: 'jo smith' and 'jo-smith' (both cleaned to 'jo-smith': merged). Ids are safe file names that
    still differ: the space is percent-encoded."""
    root = tmp_path / "submitted"
    put(root / "jo smith" / A1 / f"{A1}.ipynb", RIGHT_A1)
    put(root / "jo-smith" / A1 / f"{A1}.ipynb", WRONG_A1)
    subs, _ = gather(root, tmp_path)
    assert sorted(subs) == ["jo%20smith", "jo-smith"]


@pytest.mark.parametrize("name", ["../../etc/passwd", ".hidden", "a/b", "100%", "~x", "x" * 300, "张" * 80,
                                  "é" * 200, "bad\udcffbytes", "CON", " lead", "tab\there"])
def test_an_id_is_a_safe_bounded_file_name_and_decodes_to_the_name(name):
    """Attack: a name chosen to escape the results folder, hide the file, or overflow the file name limit."""
    sid = student_id(name)
    assert "/" not in sid and "\0" not in sid and not sid.startswith(".") and sid not in ("", ".", "..")
    assert len(sid.encode()) <= MAX_ID_BYTES
    if "~" in sid:        # cut to length, ending in a hash of the whole name ('~' is encoded otherwise)
        assert len(name) > 40 and re.fullmatch(r".*~[0-9a-f]{16}", sid)
    else:
        assert unquote(sid, errors="surrogateescape") == unicodedata.normalize("NFC", name)


def test_long_names_that_share_a_prefix_get_distinct_ids():
    """Attack: two names equal in their first few hundred characters (ids are cut to a file name's length)."""
    a, b = "ä" * 300 + "1", "ä" * 300 + "2"
    assert student_id(a) != student_id(b)
    assert len(student_id(a).encode()) <= MAX_ID_BYTES


def test_upper_and_lower_case_stay_two_students(tmp_path):
    """Attack: 'Alice' and 'alice' on Linux (case-sensitive): two people, two rows."""
    lms = tmp_path / "lms"
    put(lms / "Alice.ipynb")
    put(lms / "alice.ipynb")
    subs, _ = gather(lms, tmp_path)
    assert sorted(subs) == ["Alice", "alice"]


def test_a_lossy_id_still_cannot_merge_two_students(tmp_path, monkeypatch):
    """Fault: should ids ever coincide (here: the old ASCII-only cleaning put back), the two students still
    get distinct ids and each row says so."""
    monkeypatch.setattr(collect_module, "student_id", lambda name: re.sub(r"[^A-Za-z0-9._-]", "-", name).strip(".-"))
    lms = tmp_path / "lms"
    put(lms / "José.ipynb", RIGHT_A1)
    put(lms / "Josè.ipynb", WRONG_A1)
    subs, entries = gather(lms, tmp_path)
    assert len(subs) == 2 and all(codes(s) == ["id-clash"] for s in subs.values())
    assert all("José" in s.violations[0].message and "Josè" in s.violations[0].message for s in subs.values())
    rows_hold_every_entry(subs, entries)


# ---- every LMS file is a row ------------------------------------------------------------------------------
def test_an_lms_file_with_a_non_ascii_name_is_a_row(tmp_path):
    """Attack: 'Zoë.ipynb' and 'Ólafur_a1_backprop.ipynb' in an LMS export (dropped: the pattern was ASCII)."""
    lms = tmp_path / "lms"
    put(lms / "Zoë.ipynb")
    put(lms / f"Ólafur_{A1}.ipynb")
    subs, entries = gather(lms, tmp_path)
    assert sorted(subs) == sorted(["Zoë", "Ólafur"]) and len(entries) == 2
    assert not any(s.violations or s.problem for s in subs.values())


def test_files_with_a_leading_dot_or_underscore_are_rows_flagged_for_a_person(tmp_path):
    """Attack: '.mallory.ipynb' (hidden) and '_trent.ipynb' (dropped by the pattern): rows, flagged."""
    lms = tmp_path / "lms"
    put(lms / ".mallory.ipynb")
    put(lms / "_trent.ipynb")
    put(lms / ".DS_Store", BLANK_A1)           # system files are nobody's entry
    (lms / "._trent.ipynb").write_bytes(b"\x00\x05\x16\x07" + bytes(60))   # macOS AppleDouble
    subs, entries = gather(lms, tmp_path)
    assert sorted(subs) == ["mallory", "trent"] and sorted(entries) == [".mallory.ipynb", "_trent.ipynb"]
    for s in subs.values():
        assert codes(s) == ["odd-file-name"] and SEVERITY["odd-file-name"] == "needs-manual-grade"
        assert not s.problem and s.notebook is not None


def test_a_late_named_file_is_the_students_row_flagged(tmp_path):
    """Attack: 'alice_late.ipynb' (dropped: the suffix was not the assignment). Graded as alice, flagged."""
    lms = tmp_path / "lms"
    put(lms / "alice_late.ipynb")
    subs, _ = gather(lms, tmp_path)
    assert list(subs) == ["alice"] and codes(subs["alice"]) == ["odd-file-name"]
    assert "'late'" in subs["alice"].violations[0].message


def test_a_file_that_is_not_a_notebook_is_an_invalid_row(tmp_path):
    """Attack: a student uploads 'bob.pdf' instead of a notebook: a row that says why, not silence."""
    lms = tmp_path / "lms"
    put(lms / "ada.ipynb")
    (lms / "bob.pdf").write_bytes(b"%PDF-1.4")
    subs, entries = gather(lms, tmp_path)
    assert sorted(subs) == ["ada", "bob"] and "not a notebook" in subs["bob"].problem and len(entries) == 2


def test_another_assignments_files_are_not_entries_of_this_one(tmp_path):
    """Fault: an LMS folder holding every assignment: alice_a2_vjp.ipynb is not a second copy of a1."""
    lms = tmp_path / "lms"
    put(lms / f"alice_{A1}.ipynb")
    put(lms / f"alice_{A2}.ipynb", RIGHT_A2)
    subs, entries = gather(lms, tmp_path)
    assert list(subs) == ["alice"] and entries == [f"alice_{A1}.ipynb"] and not subs["alice"].violations


# ---- misnamed folders, extra notebooks, copies ------------------------------------------------------------
@pytest.mark.parametrize("folder", ["A1_backprop", "a1_backprop (1)", "a1-backprop"])
def test_a_misnamed_assignment_folder_is_graded_and_flagged(tmp_path, folder):
    """Attack: the assignment folder named 'A1_backprop' or 'a1_backprop (1)' (its student vanished)."""
    root = tmp_path / "submitted"
    put(root / "ada" / folder / f"{A1}.ipynb")
    put(root / "dee" / A1 / f"{A1}.ipynb", WRONG_A1)
    subs, entries = gather(root, tmp_path)
    assert sorted(subs) == ["ada", "dee"] and len(entries) == 2
    assert codes(subs["ada"]) == ["misnamed-folder"] and f"'{folder}'" in subs["ada"].violations[0].message
    assert subs["ada"].notebook.read_bytes() == RIGHT_A1.read_bytes() and not subs["dee"].violations


def test_an_extra_notebook_is_listed_in_the_students_row(tmp_path):
    """Attack: a second notebook beside the graded one (ignored without a word): listed, flagged."""
    root = tmp_path / "submitted"
    put(root / "ada" / A1 / f"{A1}.ipynb")
    put(root / "ada" / A1 / "scratch.ipynb", WRONG_A1)
    subs, entries = gather(root, tmp_path)
    ada = subs["ada"]
    assert ada.entries == [f"ada/{A1}/{A1}.ipynb", f"ada/{A1}/scratch.ipynb"] and len(entries) == 2
    assert codes(ada) == ["extra-notebook"] and "scratch.ipynb" in ada.violations[0].message
    assert ada.notebook.name == f"{A1}.ipynb"


def test_two_copies_for_one_student_grade_the_newest_and_list_the_other(tmp_path):
    """Attack: 'a1_backprop' and a newer 'a1_backprop (1)' folder, plus an LMS file for the same student."""
    root = tmp_path / "submitted"
    put(root / "ada" / A1 / f"{A1}.ipynb", WRONG_A1, mtime=1_000_000)
    put(root / "ada" / f"{A1} (1)" / f"{A1}.ipynb", RIGHT_A1, mtime=3_000_000)
    put(root / "ada.ipynb", WRONG_A1, mtime=2_000_000)
    subs, entries = gather(root, tmp_path)
    ada = subs["ada"]
    assert list(subs) == ["ada"] and len(entries) == 3 and len(ada.entries) == 3
    assert ada.entries[0] == f"ada/{A1} (1)/{A1}.ipynb" and ada.notebook.read_bytes() == RIGHT_A1.read_bytes()
    assert codes(ada) == ["misnamed-folder", "duplicate-copies"]
    assert "not graded" in ada.violations[1].message and "'ada.ipynb'" in ada.violations[1].message


def test_hidden_system_files_are_not_entries_but_a_hidden_notebook_is(tmp_path):
    """Attack: a submission that is only a hidden notebook, beside checkpoints and .DS_Store."""
    root = tmp_path / "submitted"
    put(root / "ada" / A1 / f".{A1}.ipynb")
    put(root / "ada" / A1 / ".ipynb_checkpoints" / f"{A1}-checkpoint.ipynb")
    (root / ".DS_Store").write_bytes(b"junk")
    put(root / "__MACOSX" / "ada" / A1 / f"._{A1}.ipynb")
    subs, entries = gather(root, tmp_path)
    assert entries == [f"ada/{A1}/.{A1}.ipynb"] and subs["ada"].notebook.name == f".{A1}.ipynb"


def test_a_folder_without_a_notebook_is_an_invalid_row(tmp_path):
    """Attack: an empty student folder, and one with a PDF only: rows that say why."""
    root = tmp_path / "submitted"
    (root / "ada" / A1).mkdir(parents=True)
    (root / "dee" / A1).mkdir(parents=True)
    (root / "dee" / A1 / "answers.pdf").write_bytes(b"%PDF")
    subs, entries = gather(root, tmp_path)
    assert sorted(entries) == [f"ada/{A1}/", f"dee/{A1}/"]
    assert all("no notebook found" in s.problem for s in subs.values())


# ---- sizes before reading ---------------------------------------------------------------------------------
PEAK_RSS = """
import json, resource, sys, time
from pathlib import Path
from grader.collect import collect
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
subs = collect(Path(sys.argv[1]), "a1_backprop", "a1_backprop.ipynb", Path(sys.argv[2]))
print(json.dumps({"seconds": time.monotonic() - start,
                  "grew_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before,
                  "rows": {s.student: s.problem for s in subs}}))
"""


def test_a_3_gib_sparse_file_is_invalid_and_never_read(tmp_path):
    """Attack: a 3 GiB sparse file beside the notebook, and a 3 GiB sparse LMS notebook (read whole before any
    size check: the grader took 3.3 GB). Both are `invalid` by their size, found by stat(); a 48 MiB file under
    the limit is hashed a chunk at a time. The collecting process grows by less than 16 MiB."""
    root = tmp_path / "submitted"
    put(root / "mallory" / A1 / f"{A1}.ipynb")
    with open(root / "mallory" / A1 / "weights.bin", "wb") as f:
        f.truncate(3 * 2**30)
    with open(root / "trent.ipynb", "wb") as f:
        f.truncate(3 * 2**30)
    put(root / "ada" / A1 / f"{A1}.ipynb")
    with open(root / "ada" / A1 / "data.bin", "wb") as f:
        f.truncate(48 * 2**20)
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, str(root), str(tmp_path / "scratch")], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["rows"]["ada"] is None
    for student in ("mallory", "trent"):
        assert "3072 MiB of files, more than the 64 MiB allowed" in got["rows"][student]
    assert got["grew_kib"] < 16 * 1024, got
    assert not (tmp_path / "scratch" / "collected" / "trent").exists()    # not even copied


# ---- the pipeline: rows, refusals, manual grades, backups -------------------------------------------------
@pytest.fixture
def no_sandbox(monkeypatch):
    """Grade without running student code: real collecting, matching, policy and outputs; empty harvests."""
    from grader import runner

    monkeypatch.setattr(runner, "run_in_sandbox", lambda *a, **k: runner.Run())


def a1_course(root: Path, students=("ada", "dee")) -> Path:
    for s in students:
        put(root / s / A1 / f"{A1}.ipynb", RIGHT_A1 if s == "ada" else WRONG_A1)
    return root


def gradebook(out: Path):
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="autodiff_lab")


def give_manual_grade(out: Path, student: str, score: float = 1.5, comment: str = "see me") -> None:
    with gradebook(out) as gb:
        nb = gb.find_submission_notebook(A1, A1, student)
        nb.grades[0].manual_score = score
        nb.comments[0].manual_comment = comment
        gb.db.commit()


def manual_grades(out: Path, student: str):
    with gradebook(out) as gb:
        nb = gb.find_submission_notebook(A1, A1, student)
        return nb.grades[0].manual_score, nb.comments[0].manual_comment


def snapshot(out: Path) -> dict:
    """Every file of the course folder but the collecting scratch, with its bytes."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and "collected" not in p.parts}


def test_an_empty_submissions_folder_into_an_existing_course_changes_nothing(tmp_path, grade_quickly, no_sandbox):
    """Fault: --submissions names an empty folder (it deleted every result, feedback page and gradebook
    submission, manual scores included, and exited 0). Now: an error, and the course is as it was."""
    out = tmp_path / "course"
    grade_quickly(A1, a1_course(tmp_path / "submitted"), out)
    give_manual_grade(out, "dee")
    before = snapshot(out)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".DS_Store").write_bytes(b"")
    with pytest.raises(ValueError, match="no submissions found in .*empty: nothing to grade"):
        grade_quickly(A1, tmp_path / "empty", out)
    assert snapshot(out) == before


def test_a_wrong_submissions_folder_refuses_and_names_who_would_go(tmp_path, grade_quickly, no_sandbox, capsys):
    """Fault: --submissions names another section's folder. The run stops before changing anything, says
    how many and who would be dropped, and the command exits 1."""
    from autodiff_lab.cli import main

    out = tmp_path / "course"
    grade_quickly(A1, a1_course(tmp_path / "submitted"), out)
    before = snapshot(out)
    other = a1_course(tmp_path / "other-section", students=("ada", "zed"))
    with pytest.raises(WouldDropStudents, match=r"1 student\(s\) .*: dee\. Nothing was changed.*--prune"):
        grade_quickly(A1, other, out)
    assert snapshot(out) == before
    assert main(["grade", A1, "--submissions", str(other), "--out", str(out), "--quiet"]) == 1
    assert "dee" in capsys.readouterr().err and snapshot(out) == before


def test_prune_drops_automatic_results_but_never_manual_grades(tmp_path, grade_quickly, no_sandbox):
    """Fault: a withdrawn student with a manual score and comment. --prune removes results and feedback of the
    students gone, and the gradebook submission of one with nothing entered by hand; the one a person graded
    stays whole in the gradebook, and the report says so."""
    out = tmp_path / "course"
    root = a1_course(tmp_path / "submitted", students=("ada", "dee", "eve"))
    grade_quickly(A1, root, out)
    give_manual_grade(out, "dee", 2.5, "good effort")
    shutil.rmtree(root / "dee")
    shutil.rmtree(root / "eve")
    report = grade_quickly(A1, root, out, prune=True)
    assert report.pruned == ["dee", "eve"] and report.kept == ["dee"]
    assert [r.student for r in report.results] == ["ada"]
    assert manual_grades(out, "dee") == (2.5, "good effort")
    with gradebook(out) as gb:
        assert sorted(s.student.id for s in gb.assignment_submissions(A1)) == ["ada", "dee"]
    assert not (out / A1 / "results" / "dee.json").exists() and not (out / "feedback" / "eve").joinpath(A1).exists()
    again = grade_quickly(A1, root, out)         # what stays is never removed, so it stops no later run
    assert again.pruned == [] and manual_grades(out, "dee") == (2.5, "good effort")


def test_students_only_in_the_gradebook_still_stop_a_run(tmp_path, grade_quickly, no_sandbox):
    """Fault: the course's output folders were cleaned by hand, the gradebook still holds the class; a run on
    a folder without them would remove their gradebook submissions: it refuses."""
    out = tmp_path / "course"
    grade_quickly(A1, a1_course(tmp_path / "submitted"), out)
    for kind in ("feedback", "autograded", A1):
        shutil.rmtree(out / kind)
    with pytest.raises(WouldDropStudents, match=r": dee\. Nothing was changed"):
        grade_quickly(A1, a1_course(tmp_path / "other", students=("ada",)), out)


def test_regrading_never_overwrites_a_manual_score(tmp_path, grade_quickly, no_sandbox):
    """Fault: a person gave a manual score; the class is graded again (--force). The manual score and comment
    stay; only the automatic score is written."""
    out = tmp_path / "course"
    root = a1_course(tmp_path / "submitted")
    grade_quickly(A1, root, out)
    give_manual_grade(out, "ada", 0.5, "copied?")
    report = grade_quickly(A1, root, out, force=True)
    assert report.graded == 2
    assert manual_grades(out, "ada") == (0.5, "copied?")
    with gradebook(out) as gb:      # the verdict did not change: the person's grade is not marked again
        assert not gb.find_submission_notebook(A1, A1, "ada").grades[0].needs_manual_grade


def test_a_flag_a_person_set_stays_and_only_the_graders_own_flags_are_cleared(tmp_path, grade_quickly,
                                                                              monkeypatch):
    """Fault: a person flags ada's submission in formgrader; dee's run crashed once (flagged by the grader) and
    is graded again fine. ada's flag stays through the regrade; dee's automatic flag is cleared."""
    from grader import runner

    out = tmp_path / "course"
    root = a1_course(tmp_path / "submitted")
    crashed = {"kind": "crashed", "cell": "", "reason": "the kernel died"}
    monkeypatch.setattr(runner, "run_in_sandbox", lambda m, a, sub, *rest: runner.Run(
        failure=crashed if sub.student == "dee" else None))
    grade_quickly(A1, root, out)
    with gradebook(out) as gb:
        gb.find_submission_notebook(A1, A1, "ada").flagged = True      # a person's flag
        gb.db.commit()
    monkeypatch.setattr(runner, "run_in_sandbox", lambda *a, **k: runner.Run())
    grade_quickly(A1, root, out, force=True)
    with gradebook(out) as gb:
        assert gb.find_submission_notebook(A1, A1, "ada").flagged
        assert not gb.find_submission_notebook(A1, A1, "dee").flagged


def test_each_run_backs_up_the_gradebook_and_the_backup_restores_a_manual_score(tmp_path, grade_quickly, no_sandbox):
    """Fault: the gradebook is lost after a run (deleted, damaged). The backup made before that run holds the
    manual score given earlier, and copying it back (the guide's command) restores it."""
    out = tmp_path / "course"
    root = a1_course(tmp_path / "submitted")
    assert grade_quickly(A1, root, out).backup is None        # no gradebook yet: nothing to back up
    give_manual_grade(out, "dee", 3.0, "nice")
    backup = grade_quickly(A1, root, out).backup
    assert backup.parent == out / "backups" and re.fullmatch(r"gradebook-\d{8}T\d{6}\.\d{6}Z\.db", backup.name)
    (out / "gradebook.db").write_bytes(b"damaged")
    shutil.copyfile(backup, out / "gradebook.db")              # cp <out>/backups/gradebook-<time>.db <out>/gradebook.db
    assert manual_grades(out, "dee") == (3.0, "nice")


def test_only_the_last_backups_are_kept(tmp_path):
    """Fault: hundreds of runs must not fill the disk with backups: the newest 20 stay."""
    import sqlite3

    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        db.execute("CREATE TABLE t (x)")
    made = [backup_gradebook(tmp_path) for _ in range(23)]
    kept = sorted((tmp_path / "backups").glob("gradebook-*.db"))
    assert kept == sorted(made)[-20:] and len(set(made)) == 23


def test_the_command_prints_as_many_entries_in_rows_as_it_found(tmp_path, no_sandbox, monkeypatch, capsys):
    """Attack: a class with every odd shape at once (misnamed folder, extra notebook, copy, late-named and
    hidden LMS files, Unicode names). The command prints the entries found and those in its rows: equal."""
    from autodiff_lab.cli import main
    from grader import pipeline

    monkeypatch.setattr(pipeline, "reference_passes", lambda *a, **k: None)
    root = tmp_path / "submitted"
    put(root / "ada" / "A1_backprop" / f"{A1}.ipynb")
    put(root / "dee" / A1 / f"{A1}.ipynb", WRONG_A1)
    put(root / "dee" / A1 / "old.ipynb", WRONG_A1)
    put(root / "张伟" / A1 / f"{A1}.ipynb")
    put(root / "alice_late.ipynb", BLANK_A1)
    put(root / ".mallory.ipynb", BLANK_A1)
    put(root / "jo smith.ipynb", BLANK_A1)
    put(root / "jo-smith.ipynb", BLANK_A1)
    put(root / "jo-smith" / A1 / f"{A1}.ipynb", BLANK_A1)
    out = tmp_path / "course"
    assert main(["grade", A1, "--submissions", str(root), "--out", str(out), "--quiet", "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    found, in_rows, rows = map(int, re.search(r"entries: (\d+) found, (\d+) in the (\d+) rows", printed).groups())
    assert found == in_rows == 9 and rows == 7
    with open(out / A1 / "grades.csv", encoding="utf-8") as f:
        assert len(f.readlines()) == 1 + rows
    assert "jo%20smith" in printed and "张伟" in printed
    links = re.findall(r"href='([^']*)'", (out / A1 / "summary.html").read_text(encoding="utf-8"))
    assert len(links) == rows and all((out / A1 / unquote(link)).is_file() for link in links)   # 'jo%2520smith'


def test_identical_answers_are_listed(tmp_path, grade_quickly, no_sandbox):
    """Attack: two students hand in the same answers, one with its comments and spacing changed to hide it.
    The summary lists them together; blank notebooks (untouched stubs) are not listed as identical."""
    from grader.summary import identical_answers

    nb = json.loads(RIGHT_A1.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            src = "".join(cell["source"]).replace("  ", "    ")
            cell["source"] = "# my own work, honest\n" + src.replace("\n", "\n\n")
    root = a1_course(tmp_path / "submitted", students=("ada", "dee"))
    twin = root / "bob" / A1 / f"{A1}.ipynb"
    twin.parent.mkdir(parents=True)
    twin.write_text(json.dumps(nb))
    put(root / "cy" / A1 / f"{A1}.ipynb", BLANK_A1)
    put(root / "eve" / A1 / f"{A1}.ipynb", BLANK_A1)
    out = tmp_path / "course"
    report = grade_quickly(A1, root, out)
    assert identical_answers(report.results, report.assignment) == [["ada", "bob"]]
    page = (out / A1 / "summary.html").read_text()
    assert "<h2>Identical answers</h2>" in page and "<li>ada, bob</li>" in page and "cy, eve" not in page
