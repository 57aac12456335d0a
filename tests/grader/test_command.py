"""`autodiff-lab grade`: arguments and the messages for what a user can get wrong."""

import pytest

from autodiff_lab.cli import main


def test_it_needs_an_assignment_and_submissions(capsys):
    assert main(["grade"]) == 2
    assert "--submissions" in capsys.readouterr().err


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
