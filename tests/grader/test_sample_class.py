"""The sample class in grader/sample, graded end to end: the exact statuses and scores, and what the pipeline
writes (grades.csv, feedback, summary, the nbgrader gradebook)."""

import csv

import pytest

A2 = {  # student: (status, score out of 15)
    "ada": ("ok", 15),                    # right
    "ben": ("ok", 8),                     # partly right: forgets to undo broadcasting, softmax sum over all axes
    "cy": ("ok", 13),                     # right, but builds a Jacobian: fails only the hidden large case
    "dee": ("ok", 0),                     # wrong everywhere
    "eve": ("timeout", 5),                # endless loop that swallows the interrupt, in the matmul rule
    "finn": ("crashed", 7),               # os._exit in the mean rule
    "gus": ("crashed", 9),                # segfault in the reshape rule (recursion through C calls)
    "hal": ("crashed", 11),               # allocates 320 GB in the softmax cell
    "ivy": ("invalid", 0),                # corrupt notebook
    "jo": ("needs-manual-grade", 15),     # renamed notebook
    "kai": ("tampered", 12),              # deleted an answer cell, added a cell
    "lee": ("needs-manual-grade", 15),    # stripped cell metadata
    "max": ("tampered", 10),              # patches numpy, the checker, IPython, builtins; edits a test cell
    "nia": ("needs-manual-grade", 11),    # imports autograd
    "oli": ("ok", 15),                    # right, cells not run
}
OTHERS = {
    "a1_backprop": {"ada": ("ok", 10), "dee": ("ok", 4)},
    "a3_forward_mode": {"ada": ("ok", 13), "dee": ("ok", 4)},
    "a4_two_layer_net": {"ada": ("ok", 10), "dee": ("ok", 2)},
}


def table(report):
    return {r.student: (r.status, r.score) for r in report.results}


def test_a2_sample_class_gets_exactly_the_expected_statuses_and_scores(sample):
    assert table(sample["a2_vjp"]) == A2


@pytest.mark.parametrize("assignment", ["a1_backprop", "a3_forward_mode", "a4_two_layer_net"])
def test_right_and_wrong_submissions_of_the_other_assignments(sample, assignment):
    assert table(sample[assignment]) == OTHERS[assignment]


def parts(report, student):
    r = next(r for r in report.results if r.student == student)
    return {gid: p["score"] for gid, p in r.parts.items()}, r


@pytest.mark.parametrize("student, stopped_at, kept", [
    ("eve", "test_matmul", ["test_elementwise", "test_broadcast"]),
    ("finn", "test_reductions", ["test_elementwise", "test_broadcast", "test_matmul"]),
    ("gus", "test_shapes", ["test_elementwise", "test_broadcast", "test_matmul", "test_reductions"]),
    ("hal", "softmax", ["test_elementwise", "test_broadcast", "test_matmul", "test_reductions", "test_shapes",
                        "test_select_even"]),
])
def test_a_failure_keeps_the_points_earned_before_it(sample, student, stopped_at, kept):
    scores, result = parts(sample["a2_vjp"], student)
    assert result.failure["cell"] == stopped_at
    assert [g for g, s in scores.items() if s > 0] == kept
    later = [g for g in scores if g not in kept]
    assert all("not reached" in result.parts[g]["note"] for g in later)


def test_failures_say_what_happened(sample):
    reasons = {r.student: r.failure["reason"] for r in sample["a2_vjp"].results if r.failure}
    assert "ignored the interrupt" in reasons["eve"]
    assert "exited with code 1" in reasons["finn"]
    assert "segmentation fault" in reasons["gus"]
    assert "out of memory" in reasons["hal"]
    assert "not valid JSON" in reasons["ivy"]


def test_policy_violations_are_reported(sample):
    codes = {r.student: {v["code"] for v in r.violations} for r in sample["a2_vjp"].results}
    assert codes["jo"] == {"renamed"}
    assert codes["kai"] == {"deleted-cell", "added-cell"}
    assert codes["lee"] == {"metadata-stripped"}
    # escape: patches numpy, IPython; at run time the changes are ignored and noted, and so is the network
    assert codes["max"] == {"outside-answer", "edited-read-only-cell", "escape", "changed-module", "reached-out"}
    assert codes["nia"] == {"forbidden-import"}
    assert codes["oli"] == {"not-run"}
    assert codes["ada"] == codes["ben"] == codes["cy"] == codes["dee"] == set()


def test_the_cheater_gets_what_his_answers_earn(sample):
    """max replaces np.allclose, the checker, IPython's traceback display and AssertionError, and edits the
    broadcasting test to print 'all good': his wrong broadcasting rules still lose those points."""
    scores, _ = parts(sample["a2_vjp"], "max")
    assert scores["test_broadcast"] == 0 and scores["test_elementwise"] == 2


def test_grades_csv_has_a_column_per_part_and_a_status(sample):
    report = sample["a2_vjp"]
    with open(report.out / "a2_vjp" / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:4] == ["student", "assignment", "score", "max_score"]
    assert {p.grade_id for p in report.assignment.parts} <= set(rows[0])
    assert {r["student"]: (r["status"], float(r["score"])) for r in rows} == A2
    ben = next(r for r in rows if r["student"] == "ben")
    lost = (ben["test_broadcast"], ben["test_softmax"], ben["test_no_jacobian"])
    assert lost == ("0", "0", "0") and ben["max_score"] == "15"


def test_feedback_explains_like_the_checker_and_hides_the_hidden_tests(sample):
    out = sample["a2_vjp"].out
    pages = {p.parts[-3]: p.read_text() for p in out.glob("feedback/*/a2_vjp/a2_vjp.html")}
    assert set(pages) == set(A2)
    assert "did you undo broadcasting" in pages["ben"].lower()
    assert "my_softmax" in pages["ben"] and "argument 0" in pages["ben"]
    assert "ran out of memory" in pages["cy"] or "build the Jacobian" in pages["cy"]
    for student, page in pages.items():
        for secret in ("BEGIN HIDDEN", "grade.vjp", "grade.no_jacobian", "__harvest__", "__inputs__", "Traceback",
                       "solutions/"):
            assert secret not in page, (student, secret)


def test_gradebook_holds_the_same_scores_for_formgrader_and_nbgrader_export(sample):
    from nbgrader.api import Gradebook

    out = sample["a2_vjp"].out
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="autodiff_lab") as gb:
        for assignment, expected in [("a2_vjp", A2), *OTHERS.items()]:
            subs = {s.student.id: s for s in gb.assignment_submissions(assignment)}
            assert {s: sub.score for s, sub in subs.items()} == {s: score for s, (_, score) in expected.items()}
        flagged = {s.student.id for s in gb.assignment_submissions("a2_vjp") if s.notebooks[0].flagged}
        manual = {s.student.id for s in gb.assignment_submissions("a2_vjp") if s.needs_manual_grade}
    assert flagged == {s for s, (status, _) in A2.items() if status != "ok"}
    assert manual == {"jo", "lee", "nia"}


def test_class_summary_picture_and_page(sample):
    folder = sample["a2_vjp"].out / "a2_vjp"
    assert (folder / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (folder / "summary.html").read_text()
    assert "data:image/png;base64," in page and page.count("<tr class=") == len(A2)
    assert "timeout 1" in page and "crashed 3" in page and "tampered 2" in page


def test_sandbox_used_is_recorded(sample):
    import os

    from grader.sandbox import detect_isolation

    assert sample["a2_vjp"].isolation.startswith(detect_isolation().value)
    if os.geteuid() == 0:
        assert sample["a2_vjp"].isolation.startswith("namespaces")


def test_formgrader_gets_each_submission_with_answers_and_verdicts_but_no_hidden_tests(sample):
    import nbformat

    out = sample["a2_vjp"].out
    notebooks = sorted(out.glob("autograded/*/a2_vjp/a2_vjp.ipynb"))
    assert [p.parts[-3] for p in notebooks] == sorted(A2)
    ben = nbformat.read(out / "autograded" / "ben" / "a2_vjp" / "a2_vjp.ipynb", as_version=4)
    nbformat.validate(ben)
    cells = {c.metadata.nbgrader.grade_id: c for c in ben.cells}
    assert "return g\n" in cells["broadcast"].source                      # ben's answer
    assert cells["test_broadcast"].outputs[0]["text"].startswith("0 / 3 points")
    for path in notebooks:
        text = path.read_text()
        assert "grader.probes" not in text and "grade.vjp" not in text and "END HIDDEN" not in text
