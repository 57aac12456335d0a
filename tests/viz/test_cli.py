"""`autodiff-lab draw` on good and bad input."""

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
