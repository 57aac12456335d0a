"""`autodiff-lab draw` on good and bad input."""

import re
import subprocess
import sys

import pytest

from autodiff_lab.cli import main
from autodiff_lab.viz.examples import EXAMPLES


def test_draws_an_expression(tmp_path, capsys):
    out = tmp_path / "g.svg"
    assert main(["draw", "log(a*b)", "--at", "a=2", "b=3", "-o", str(out)]) == 0
    svg = out.read_text().replace("&#45;", "-")
    for number in ("1.792", "0.5", "0.333", "local 0.167", "downstream 1 × 0.167 = 0.167"):
        assert number in svg, number
    assert f"wrote {out} (4 nodes, 3 edges)" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["neuron", "add-mul", "ln-sin", "two-layer", "max-gate"])
def test_draws_the_built_in_examples(tmp_path, name):
    out = tmp_path / f"{name}.svg"
    assert main(["draw", name, "-o", str(out)]) == 0
    assert out.read_text().count('class="node"') == len(EXAMPLES[name][0]().nodes)


@pytest.mark.parametrize("suffix, magic", [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_format_follows_the_suffix(tmp_path, suffix, magic):
    out = tmp_path / f"g.{suffix}"
    assert main(["draw", "add-mul", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


def test_forward_mode_show_table_frames_and_list(tmp_path, capsys):
    out = tmp_path / "t.svg"
    assert main(["draw", "sin(x)*y", "--at", "x=0", "y=2", "--forward", "--tangent", "x=1",
                 "--show", "value", "tangent", "-o", str(out)]) == 0
    svg = out.read_text()
    assert "tangent 2" in svg and "grad" not in svg and "local" not in svg
    assert main(["draw", "ln-sin", "--table", "-o", str(tmp_path / "l.svg"),
                 "--frames", str(tmp_path / "steps.html")]) == 0
    printed = capsys.readouterr().out
    assert "Reverse adjoint trace" in printed and "1.716" in printed and "steps.html" in printed
    assert (tmp_path / "steps.html").read_text().count("<svg") == 7 + 1 + 8
    assert main(["draw", "--list"]) == 0
    assert "neuron" in capsys.readouterr().out


def test_default_file_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["draw", "exp(x) * 2", "--at", "x=0"]) == 0
    assert (tmp_path / "exp_x_2.svg").exists()


@pytest.mark.parametrize("argv, message", [
    (["log(a*b)", "--at", "a=2"], "no value for b: add --at b=1.0"),
    (["log(a*b)", "--at", "a=2", "b=3", "c=4"], "no variable 'c' (its variables: a, b)"),
    (["log(a*b)", "--at", "a=2", "b=three"], "'three' is not a number"),
    (["log(a*b)", "--at", "a:2", "b=3"], "NAME=VALUE"),
    (["open('x')", "--at", "x=1"], "unknown function 'open'"),
    (["a +* b", "--at", "a=1", "b=1"], "not a valid expression"),
    (["2 + 3"], "no variables"),
    (["neuron", "--at", "x=1"], "built-in example"),
    (["x*x", "--at", "x=1", "--tangent", "x=1"], "add --forward"),
    (["x*x", "--at", "x=1", "-o", "g.jpg"], "must end in .svg, .png or .pdf"),
    ([], "say what to draw"),
    (["1" * 400 + "*a", "--at", "a=1"], "too large"),
    (["add-mul", "--frames", "fr.txt"], "--frames fr.txt: frames are saved as a folder of SVGs"),
    (["*".join(["x"] * 70), "--at", "x=1", "--frames", "x.html"], "70 nodes, more than --max-nodes 60"),
    (["add-mul", "--frames", "x.html", "--max-nodes", "4"], "raise --max-nodes"),
])
def test_bad_input_gets_a_message_and_exit_code_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["draw", *argv]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("argv", [
    ["x", "--bogus"], ["add-mul", "--show", "gradient"], ["add-mul", "--rankdir", "up"],
])
def test_unknown_options_exit_with_2(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["draw", *argv])
    assert stop.value.code == 2
    assert "error" in capsys.readouterr().err


def test_the_installed_command_in_a_subprocess(tmp_path):
    good = subprocess.run([sys.executable, "-m", "autodiff_lab.cli", "draw", "(x+y)*z", "--at", "x=-2", "y=5",
                           "z=-4", "-o", str(tmp_path / "g.svg")], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stderr
    assert "-12" in (tmp_path / "g.svg").read_text().replace("&#45;", "-")
    bad = subprocess.run([sys.executable, "-m", "autodiff_lab.cli", "draw", "import os"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "not a valid expression" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("argv", [["-o", "afile/g.svg"], ["-o", "folder.svg"], ["--frames", "afile/frames"]])
def test_a_path_that_cannot_be_written_gets_a_message_and_exit_code_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("a file, not a folder")
    (tmp_path / "folder.svg").mkdir()
    assert main(["draw", "add-mul", *argv]) == 2
    assert "cannot write the output" in capsys.readouterr().err


def test_max_nodes_sets_the_largest_graph_to_step_through(tmp_path):
    frames = tmp_path / "s.html"
    assert main(["draw", "add-mul", "-o", str(tmp_path / "g.svg"), "--frames", str(frames), "--max-nodes", "5"]) == 0
    assert frames.read_text().count("<svg") == 5 + 1 + 4


def test_at_and_tangent_can_be_repeated_and_later_values_win(capsys, tmp_path):
    out = str(tmp_path / "g.svg")
    assert main(["draw", "a*b", "--at", "a=2", "b=3", "--at", "a=5", "-o", out, "--table"]) == 0
    assert "= 15" in capsys.readouterr().out
    assert main(["draw", "a*b", "--at", "a=2", "b=3", "--forward", "--tangent", "a=1", "--tangent", "b=1",
                 "-o", out, "--table"]) == 0
    assert re.search(r"ẏ\s+= v̇₁\s+= 5$", capsys.readouterr().out, re.M)   # d(a b) along (1, 1) = b + a


def test_an_expression_starting_with_minus_goes_last_after_a_double_dash(capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["draw", "--help"])
    assert "needs a space in it (\"-a * b\") or must come last, after --" in " ".join(capsys.readouterr().out.split())
    assert main(["draw", "--at", "a=1", "b=2", "-o", str(tmp_path / "g.svg"), "--table", "--", "-a*b"]) == 0
    assert re.search(r"y\s+= v₂\s+= -2$", capsys.readouterr().out, re.M)
    with pytest.raises(SystemExit) as exit_info:  # given first, it reads as an option: the error says what to do
        main(["draw", "-a*b", "--at", "a=1", "b=2"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "unrecognized arguments: -a*b. '-a*b' starts with '-'" in error and 'after -- (... -- "-a*b")' in error
    with pytest.raises(SystemExit):
        main(["draw", "a*b", "--colour", "red"])
    assert "starts with '-'" not in capsys.readouterr().err  # a mistyped option gets argparse's plain message


def test_the_output_is_never_named_like_an_input(capsys, tmp_path):
    assert main(["draw", "x*y", "--at", "x=3", "y=2", "--table", "-o", str(tmp_path / "xy.svg")]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^\s+f\s+= v₁\s+= 6$", printed, re.M) and not re.search(r"^\s+y\s+= v₁", printed, re.M)


@pytest.mark.parametrize("argv", [["a**0.5", "--at", "a=0"], ["log(a)", "--at", "a=0", "--forward"],
                                  ["a/b", "--at", "a=1", "b=0", "--forward", "--table"]])
def test_infinite_derivatives_are_drawn_as_inf_not_a_division_error(argv, capsys, tmp_path):
    assert main(["draw", *argv, "-o", str(tmp_path / "g.svg"), "--table"]) == 0
    assert "inf" in capsys.readouterr().out
