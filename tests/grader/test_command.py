"""`autodiff-lab grade`: arguments and the messages for what a user can get wrong."""

import pytest

from autodiff_lab.cli import main


def test_it_needs_an_assignment_and_submissions(capsys):
    assert main(["grade"]) == 2
    assert "--submissions" in capsys.readouterr().err


def test_without_submissions_it_takes_what_nbgrader_collect_put_in_the_course_folder(tmp_path, capsys):
    assert main(["grade", "a1_backprop", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--submissions" in err and str(tmp_path / "submitted") in err and "nbgrader collect" in err
    (tmp_path / "submitted").mkdir()
    assert main(["grade", "a1_backprop", "--out", str(tmp_path)]) == 1      # there, but empty: nothing to grade
    assert f"no submissions found in {tmp_path / 'submitted'}" in capsys.readouterr().err


def test_an_unknown_assignment_names_the_known_ones(tmp_path, capsys):
    assert main(["grade", "a9_nope", "--submissions", str(tmp_path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "unknown assignment 'a9_nope'" in err and "a2_vjp" in err


def test_missing_submissions_say_so(tmp_path, capsys):
    assert main(["grade", "a1_backprop", "--submissions", str(tmp_path / "none"), "--out", str(tmp_path)]) == 1
    assert "no submissions at" in capsys.readouterr().err


def test_grading_prints_the_class_table(tmp_path, capsys, sample_dir):
    out = tmp_path / "out"
    assert main(["grade", "a1_backprop", "--submissions", str(sample_dir), "--out", str(out), "--quiet",
                 "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    assert "ada      ok                  10 / 10" in printed and "dee      ok                  4 / 10" in printed
    assert (out / "a1_backprop" / "grades.csv").is_file()


@pytest.mark.parametrize("flag", ["--help"])
def test_help(flag, capsys):
    with pytest.raises(SystemExit):
        main(["grade", flag])
    assert "--sample" in capsys.readouterr().out


# ---- the limits, from the config or the command line ---------------------------------------------------
def config_file(tmp_path, line):
    path = tmp_path / "nbgrader_config.py"
    path.write_text(f"c = get_config()  # noqa: F821\n{line}\n")
    return path


def grade_nothing(tmp_path, *args):
    """`autodiff-lab grade` on a missing submissions folder: what it says about its settings, and no more."""
    return main(["grade", "a1_backprop", "--submissions", str(tmp_path / "none"), "--out", str(tmp_path / "out"),
                 *args])


def test_the_submission_timeout_in_the_config_reaches_the_limits(tmp_path):
    from grader.config import Sandbox, load_config

    assert Sandbox(config=load_config()).limits().submission_timeout == 300
    path = config_file(tmp_path, "c.Sandbox.submission_timeout = 120")
    assert Sandbox(config=load_config(path)).limits().submission_timeout == 120


def test_the_submission_timeout_on_the_command_line_reaches_the_limits(tmp_path, monkeypatch):
    import grader.pipeline
    from grader.config import load_config, load_settings

    seen = []

    def grade_class(assignment, submissions, out, *, config_path, overrides, **kw):
        seen.append(load_settings(load_config(config_path), overrides)[0].limits())
        raise ValueError("stopped before grading")

    monkeypatch.setattr(grader.pipeline, "grade_class", grade_class)
    assert grade_nothing(tmp_path, "--submission-timeout", "90") == 1
    assert seen[0].submission_timeout == 90 and seen[0].cell_timeout == 30


@pytest.mark.parametrize("value, says", [
    ("0", "must be a positive number, not 0.0"),
    ("-5", "must be a positive number, not -5.0"),
    ("float('nan')", "must be a positive number, not nan"),
    ("'five minutes'", "expected a float, not the str 'five minutes'"),
])
def test_a_bad_submission_timeout_in_the_config_is_a_clear_error(tmp_path, capsys, value, says):
    path = config_file(tmp_path, f"c.Sandbox.submission_timeout = {value}")
    assert grade_nothing(tmp_path, "--config", str(path)) == 1
    err = capsys.readouterr().err
    assert "submission_timeout" in err and says in err and "Traceback" not in err


@pytest.mark.parametrize("flag, setting", [("--submission-timeout", "submission_timeout"),
                                           ("--cell-timeout", "cell_timeout")])
def test_a_zero_timeout_on_the_command_line_is_a_clear_error_not_ignored(tmp_path, capsys, flag, setting):
    assert grade_nothing(tmp_path, flag, "0") == 1
    assert f"Sandbox.{setting} must be a positive number" in capsys.readouterr().err
