"""The pipeline's promises: idempotent re-runs, resuming after an interruption, never a stale score,
concurrent workers that cannot corrupt the gradebook, and submissions in the shapes instructors get them."""

import shutil
import sqlite3
import zipfile

import numpy as np
import pytest

from grader import pipeline
from grader.collect import collect
from grader.gradebook import GradebookWriter
from grader.runner import Result

SAMPLE_A1 = {"ada": ("ok", 10), "dee": ("ok", 4)}


@pytest.fixture
def a1_class(tmp_path, sample_dir):
    """A copy of the sample class's assignment 1 (a right and a wrong submission)."""
    root = tmp_path / "submitted"
    for student in ("ada", "dee"):
        shutil.copytree(sample_dir / student / "a1_backprop", root / student / "a1_backprop")
    return root


def table(report):
    return {r.student: (r.status, r.score) for r in report.results}


def gradebook_scores(out, assignment):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="autodiff_lab") as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(assignment)}


def test_rerunning_is_idempotent(a1_class, tmp_path, grade_quickly):
    out = tmp_path / "out"
    first = grade_quickly("a1_backprop", a1_class, out)
    csv_first = (out / "a1_backprop" / "grades.csv").read_bytes()
    second = grade_quickly("a1_backprop", a1_class, out)
    assert first.graded == 2 and second.graded == 0
    assert table(first) == table(second) == SAMPLE_A1
    assert (out / "a1_backprop" / "grades.csv").read_bytes() == csv_first
    assert gradebook_scores(out, "a1_backprop") == {"ada": 10, "dee": 4}


def test_an_interrupted_run_resumes_where_it_stopped(a1_class, tmp_path, grade_quickly, monkeypatch):
    out = tmp_path / "out"
    record = GradebookWriter.record
    calls = []

    def record_then_stop(self, result):
        record(self, result)
        calls.append(result.student)
        raise KeyboardInterrupt   # the instructor presses Ctrl-C after the first submission

    monkeypatch.setattr(GradebookWriter, "record", record_then_stop)
    with pytest.raises(KeyboardInterrupt):
        grade_quickly("a1_backprop", a1_class, out, workers=1)
    monkeypatch.setattr(GradebookWriter, "record", record)
    resumed = grade_quickly("a1_backprop", a1_class, out)
    assert resumed.graded == 1        # the one finished before the interrupt was kept
    assert table(resumed) == SAMPLE_A1
    assert gradebook_scores(out, "a1_backprop") == {"ada": 10, "dee": 4}


def test_a_changed_submission_is_graded_again_and_never_keeps_a_stale_score(a1_class, tmp_path, grade_quickly):
    out = tmp_path / "out"
    grade_quickly("a1_backprop", a1_class, out)
    notebook = a1_class / "ada" / "a1_backprop" / "a1_backprop.ipynb"
    notebook.write_text(notebook.read_text()[:500])            # ada's file is now damaged
    report = grade_quickly("a1_backprop", a1_class, out)
    assert report.graded == 1 and table(report)["ada"] == ("invalid", 0)
    assert gradebook_scores(out, "a1_backprop") == {"ada": 0, "dee": 4}
    shutil.rmtree(a1_class / "dee")                             # dee's submission is withdrawn
    report = grade_quickly("a1_backprop", a1_class, out, prune=True)    # without --prune the run refuses
    assert table(report) == {"ada": ("invalid", 0)}
    assert gradebook_scores(out, "a1_backprop") == {"ada": 0}
    assert not (out / "feedback" / "dee" / "a1_backprop").exists()


def test_many_workers_one_writer_keep_the_gradebook_whole(a1_class, tmp_path, grade_quickly):
    for i in range(3):
        for student in ("ada", "dee"):
            shutil.copytree(a1_class / student, a1_class / f"{student}{i}")
    out = tmp_path / "out"
    report = grade_quickly("a1_backprop", a1_class, out, workers=4)
    expected = {s: SAMPLE_A1[s.rstrip("012")] for s in table(report)}
    assert len(expected) == 8 and table(report) == expected
    assert gradebook_scores(out, "a1_backprop") == {s: score for s, (_, score) in expected.items()}
    with sqlite3.connect(out / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def fake_grading(broken=()):
    """grade_submission without a sandbox: full points, and for the `broken` students a check whose `ok` is an
    array (what a string array for a word once gave), which JSON cannot hold."""
    def grade(sub, assignment, **kw):
        parts = {p.grade_id: {"points": p.points, "score": p.points, "checks": [], "note": ""}
                 for p in assignment.parts}
        if sub.student in broken:
            next(iter(parts.values()))["checks"] = [{"ok": np.array([True]), "title": "t", "text": "", "report": None}]
        return Result(sub.student, assignment.id, "ok", assignment.max_score, assignment.max_score, parts,
                      fingerprint=sub.fingerprint)
    return grade


def test_a_result_that_cannot_be_written_fails_its_student_and_the_class_goes_on(a1_class, tmp_path,
                                                                                  grade_quickly, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setattr(pipeline, "grade_submission", fake_grading(broken={"ada"}))
    report = grade_quickly("a1_backprop", a1_class, out)
    assert table(report) == {"ada": ("crashed", 0), "dee": ("ok", 10)}
    ada = report.results[0]
    assert ada.failure["kind"] == "grader" and "TypeError" in ada.failure["reason"]
    assert gradebook_scores(out, "a1_backprop") == {"ada": 0, "dee": 10}
    assert "the grader itself failed" in (out / "feedback" / "ada" / "a1_backprop" / "a1_backprop.html").read_text()
    monkeypatch.setattr(pipeline, "grade_submission", fake_grading())
    again = grade_quickly("a1_backprop", a1_class, out)
    assert again.graded == 1 and table(again) == {"ada": ("ok", 10), "dee": ("ok", 10)}


def test_code_shipped_beside_the_notebook_needs_a_manual_grade(a1_class, tmp_path, grade_quickly, monkeypatch):
    package = a1_class / "dee" / "a1_backprop" / "autograd"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package.parent / "helpers.py").write_text("from autograd import grad\n")
    monkeypatch.setattr(pipeline, "grade_submission", fake_grading())
    report = grade_quickly("a1_backprop", a1_class, tmp_path / "out")
    assert table(report) == {"ada": ("ok", 10), "dee": ("needs-manual-grade", 10)}
    dee = report.results[1]
    assert [v["code"] for v in dee.violations] == ["shipped-code", "forbidden-import"]
    assert "autograd/, helpers.py" in dee.violations[0]["message"]


def test_lms_zip_of_notebooks_named_by_student(a1_class, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for student in ("ada", "dee"):
            zf.write(a1_class / student / "a1_backprop" / "a1_backprop.ipynb", f"class/{student}_a1_backprop.ipynb")
    subs = collect(archive, "a1_backprop", "a1_backprop.ipynb", tmp_path / "scratch")
    assert [s.student for s in subs] == ["ada", "dee"]
    assert all(s.notebook.name == "a1_backprop.ipynb" and not s.problem and not s.renamed_from for s in subs)


def test_unsafe_zip_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escape.ipynb", "{}")
    with pytest.raises(ValueError, match="unsafe path"):
        collect(archive, "a1_backprop", "a1_backprop.ipynb", tmp_path / "scratch")
    assert not (tmp_path / "escape.ipynb").exists()


def test_symbolic_links_in_a_submission_are_refused(tmp_path):
    folder = tmp_path / "submitted" / "mallory" / "a1_backprop"
    folder.mkdir(parents=True)
    (folder / "a1_backprop.ipynb").symlink_to("/etc/passwd")
    (sub,) = collect(tmp_path / "submitted", "a1_backprop", "a1_backprop.ipynb", tmp_path / "scratch")
    assert "symbolic link" in sub.problem


def test_students_without_this_assignment_are_not_listed(tmp_path, sample_dir):
    subs = collect(sample_dir, "a1_backprop", "a1_backprop.ipynb", tmp_path)
    assert [s.student for s in subs] == ["ada", "dee"]
