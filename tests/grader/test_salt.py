"""The input salt (fresh hidden inputs each term) and the reference solution checked before the class."""

import json
import zlib

import numpy as np
import pytest

from autodiff_lab.cli import main
from grader import pipeline
from grader.assignment import load_assignment
from grader.config import DEFAULT_CONFIG, load_config, load_settings
from grader.probes import make_input, parse_hidden, salted
from grader.release import assignment_ids
from grader.sample_class import student_notebook
from grader.structure import grade_id, read_notebook

HIDDEN = """### BEGIN HIDDEN TESTS
grade.vjp(my_multiply, "multiply", args=[(3, 1), {"array": [[1.5, -2.0, 0.25]]}])
grade.vjp(my_add, "add", args=[2.5, (4,)], seed=7)
### END HIDDEN TESTS
"""


def inputs(probes):
    return [p._values() for p in probes]


def test_a_salt_draws_new_random_inputs_and_keeps_literal_ones():
    plain = parse_hidden(HIDDEN)
    fall, fall_again, spring = (inputs(salted(parse_hidden(HIDDEN), s)) for s in ("2026-fall", "2026-fall", "2027"))
    for drawn in (fall, spring):
        assert not np.allclose(drawn[0][0], inputs(plain)[0][0])          # random: drawn anew
        np.testing.assert_array_equal(drawn[0][1], [[1.5, -2.0, 0.25]])    # literal array: as written
        assert drawn[1][0] == 2.5                                         # literal number: as written
        assert not np.allclose(drawn[1][1], inputs(plain)[1][1])          # an explicit seed is salted too
    assert not np.allclose(fall[0][0], spring[0][0])
    for a, b in zip(fall, fall_again):                                    # one salt, the same inputs
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_no_salt_keeps_todays_inputs_bit_for_bit():
    multiply, add = salted(parse_hidden(HIDDEN), "")
    todays_seed = zlib.crc32(repr(("vjp", "my_multiply", "multiply", multiply.args, {})).encode())
    rng = np.random.default_rng(todays_seed)
    np.testing.assert_array_equal(multiply._values()[0], make_input((3, 1), rng))
    np.testing.assert_array_equal(multiply.cotangent(), np.random.default_rng(todays_seed + 1).normal(size=(3, 3)))
    np.testing.assert_array_equal(add._values()[1], make_input((4,), np.random.default_rng(7)))


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_no_salt_draws_what_the_source_notebooks_hidden_tests_draw(assignment_id):
    assignment = load_assignment(assignment_id, salt="")
    source = {grade_id(c): c["source"] for c in read_notebook(assignment.source_path)["cells"]}
    for part in assignment.parts:
        assert [p.seed for p in part.probes] == [p.seed for p in parse_hidden(source[part.grade_id])]


def test_the_salt_is_part_of_the_cache_key():
    limits, isolation = sandbox_settings()["limits"], "namespaces"
    keys = {pipeline.run_key(load_assignment("a1_backprop", salt=s), limits, isolation, [], []) for s in ("", "x", "y")}
    assert len(keys) == 3


def sandbox_settings(salt=""):
    sandbox, grader = load_settings(load_config(), {"Grader": {"input_salt": salt}})
    return {"limits": sandbox.limits(), "isolation": sandbox.level(), "forbidden_modules": grader.forbidden_modules,
            "forbidden_functions": []}


@pytest.mark.parametrize("salt", ["2026-fall", "2027-spring"])
def test_the_reference_solutions_get_full_marks_under_other_salts(salt, tmp_path):
    for assignment_id in assignment_ids():
        assignment = load_assignment(assignment_id, salt=salt)
        assignment.prepare()
        pipeline.reference_passes(assignment, tmp_path / assignment_id, "key", sandbox_settings(salt), progress=False)
        assert json.loads((tmp_path / assignment_id / "reference.json").read_text())["key"] == "key"


def test_a_reference_that_passed_is_not_graded_again_under_the_same_key(tmp_path, monkeypatch):
    assignment = load_assignment("a3_forward_mode")
    pipeline.reference_passes(assignment, tmp_path, "k1", sandbox_settings(), progress=False)

    def must_not_run(*args, **kwargs):
        raise AssertionError("graded again")

    monkeypatch.setattr(pipeline, "grade_submission", must_not_run)
    pipeline.reference_passes(assignment, tmp_path, "k1", sandbox_settings(), progress=False)
    with pytest.raises(AssertionError, match="graded again"):   # another key (a salt, a limit): graded again
        pipeline.reference_passes(assignment, tmp_path, "k2", sandbox_settings(), progress=False)


def test_a_reference_that_loses_points_stops_the_class_before_anyone_is_graded(tmp_path, monkeypatch, capsys,
                                                                               sample_dir):
    forgets_to_unbroadcast = ("replace", "broadcast", "    lead = g.ndim - len(shape)\n",
                              "    return g\n    lead = g.ndim - len(shape)\n")
    _, wrong = student_notebook("a2_vjp", [forgets_to_unbroadcast])
    monkeypatch.setattr(pipeline.Assignment, "reference_notebook", lambda self: json.loads(wrong))
    out = tmp_path / "out"
    code = main(["grade", "a2_vjp", "--submissions", str(sample_dir), "--out", str(out), "--quiet",
                 "--cell-timeout", "5", "--input-salt", "2026-fall"])
    err = capsys.readouterr().err
    assert code == 1
    assert "the reference solution of a2_vjp" in err and "with input salt '2026-fall'" in err
    assert "is graded ok, 10 of 15 points" in err and "no submission was graded" in err and "--input-salt" in err
    assert "VJP" in err  # the failed check's verdict, for the instructor
    assert not list((out / "a2_vjp" / "results").glob("*.json"))
    assert not (out / "a2_vjp" / "grades.csv").exists()
    assert not (out / "feedback").exists()
    assert gradebook_students(out, "a2_vjp") == set()
    assert not (out / "a2_vjp" / "reference").exists() and not (out / "a2_vjp" / "reference.json").exists()


def gradebook_students(out, assignment):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="autodiff_lab") as gb:
        return {s.student.id for s in gb.assignment_submissions(assignment)}


@pytest.mark.parametrize("salt", ["two\nlines", "x" * 101, "\x1b[31m", "2026-fall "])
@pytest.mark.parametrize("where", ["flag", "config"])
def test_a_salt_that_is_not_one_printable_line_is_a_clear_error(salt, where, tmp_path, capsys):
    given = ["--input-salt", salt] if where == "flag" else ["--config", str(config_with_salt(tmp_path, salt))]
    code = main(["grade", "a1_backprop", "--submissions", str(tmp_path), "--out", str(tmp_path / "out"), *given])
    assert code == 1
    assert "Grader.input_salt must be one line of printable text" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def config_with_salt(folder, salt):
    """A copy of the grader's config that sets Grader.input_salt."""
    path = folder / "nbgrader_config.py"
    path.write_text(f"{DEFAULT_CONFIG.read_text()}\nc.Grader.input_salt = {salt!r}\n")
    return path


def test_the_config_sets_the_salt_and_the_flag_overrides_it(tmp_path):
    config = load_config(config_with_salt(tmp_path, "2026-fall"))
    assert load_settings(config)[1].input_salt == "2026-fall"
    assert load_settings(config, {"Grader": {"input_salt": "2027-spring"}})[1].input_salt == "2027-spring"
    assert load_settings(load_config())[1].input_salt == ""     # the shipped config: no salt


def test_grading_under_a_salt_says_so_and_checks_the_reference_first(tmp_path, capsys, sample_dir):
    out = tmp_path / "out"
    assert main(["grade", "a1_backprop", "--submissions", str(sample_dir), "--out", str(out), "--workers", "2",
                 "--cell-timeout", "5", "--input-salt", "2026-fall"]) == 0
    printed = capsys.readouterr()
    assert "input salt '2026-fall'" in printed.out and "ada      ok                  10 / 10" in printed.out
    assert "a1_backprop: grading the reference solution first" in printed.err
    folder = out / "a1_backprop"
    assert (folder / "reference.json").is_file()
    assert not (folder / "reference").exists()           # the solutions do not stay in the course folder
    students = {"ada", "dee"}                            # the class, and nothing else in any output
    assert {p.stem for p in (folder / "results").glob("*.json")} == students
    assert {line.split(",")[0] for line in (folder / "grades.csv").read_text().splitlines()[1:]} == students
    assert {p.name for p in (out / "feedback").iterdir()} == students == gradebook_students(out, "a1_backprop")
    assert "reference" not in (folder / "summary.html").read_text()


def test_a_reference_graded_anything_but_ok_stops_the_class_too(tmp_path, monkeypatch):
    """Full marks are not enough: a reference solution that breaks a rule of the assignment (here, a read-only
    cell edited, as a source notebook out of step with its released copy would) stops the class as well."""
    _, edited = student_notebook("a2_vjp", [("edit_read_only", "test_broadcast", "pass")])
    monkeypatch.setattr(pipeline.Assignment, "reference_notebook", lambda self: json.loads(edited))
    with pytest.raises(pipeline.ReferenceFails, match="is graded tampered") as stopped:
        pipeline.reference_passes(load_assignment("a2_vjp"), tmp_path, "key", sandbox_settings(), progress=False)
    assert "Rule broken:" in str(stopped.value) and "test_broadcast" in str(stopped.value)
    assert not (tmp_path / "reference.json").exists()
