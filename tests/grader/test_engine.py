"""The engine the sandboxed kernel runs is the very autodiff_lab the grader imported, whichever way the grader
was started (editable install, PYTHONPATH, a git worktree of another commit); a kernel that cannot import it
stops the class with one message for the instructor instead of grading every student `crashed`."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox import Isolation, Limits, Sandbox, detect_isolation, isolation


def call(expression: str, key: str = "k", inputs: tuple = ()) -> dict:
    """A harvest item: `expression` evaluated in the notebook, over the grader's arrays named in `inputs`."""
    return {"key": key, "op": "call", "fn": f"lambda {', '.join(inputs)}: {expression}",
            "args": [{"$array": name} for name in inputs]}


REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "grader" / "sample" / "submitted"

# Run with PYTHONPATH at another checkout of the engine: the kernel, at every isolation level this machine
# has, reports which engine it imported, then the sample class's first assignment is graded.
OTHER_CHECKOUT = """
import json, os, sys
import autodiff_lab
from grader.pipeline import grade_class
from grader.sandbox import Isolation, Limits, Sandbox, detect_isolation

levels = [detect_isolation()] + ([Isolation.RLIMITS] if detect_isolation() is not Isolation.RLIMITS else [])
kernels = {}
for level in levels:
    with Sandbox(Limits(cell_timeout=20), isolation=level) as box:
        code = "import autodiff_lab, autodiff_lab.numpy\\nwhere = [autodiff_lab.__file__, autodiff_lab.numpy.__file__]"
        assert box.run(code).ok
        kernels[level.value] = box.harvest([{"key": "w", "op": "read", "fn": "where"}], {}).results["w"]
report = grade_class("a1_backprop", sys.argv[1], sys.argv[2], workers=2, progress=False,
                     overrides={"Sandbox": {"cell_timeout": 20}})
print(json.dumps({"grader": autodiff_lab.__file__, "kernels": kernels,
                  "results": {r.student: [r.status, r.score, r.failure] for r in report.results}}))
"""


def test_the_kernel_imports_the_engine_the_grader_imported_from_another_checkout(tmp_path):
    """PYTHONPATH at a copy of the engine (as when a worktree of an older commit is checked): the grader imports
    the copy, and so must every kernel, even though the installed (editable) engine names this checkout."""
    copy = tmp_path / "checkout" / "autodiff_lab"
    shutil.copytree(REPO / "autodiff_lab", copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy.parent), str(REPO)])}   # this checkout's grader
    done = subprocess.run([sys.executable, "-c", OTHER_CHECKOUT, str(SAMPLE), str(tmp_path / "out")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["grader"] == str(copy / "__init__.py")
    for level, where in seen["kernels"].items():
        assert where == {"value": [str(copy / "__init__.py"), str(copy / "numpy" / "__init__.py")]}, level
    assert seen["results"] == {"ada": ["ok", 10.0, None], "dee": ["ok", 4.0, None]}


@pytest.fixture
def broken_engine(tmp_path, monkeypatch):
    """The grader's engine, as the sandbox sees it, is one whose import fails."""
    engine = tmp_path / "broken" / "autodiff_lab"
    engine.mkdir(parents=True)
    (engine / "__init__.py").write_text("raise ImportError('this engine is broken on purpose')\n")
    monkeypatch.setattr(isolation, "engine_dir", lambda: str(engine))
    return engine


@pytest.mark.parametrize("level", list(Isolation))
def test_a_kernel_that_cannot_import_the_engine_says_why_for_the_instructor(broken_engine, level):
    from grader.sandbox.outcomes import KernelBroken

    if level is not Isolation.RLIMITS and (level is Isolation.NAMESPACES and os.geteuid() != 0
                                           or not isolation.probe(level)):
        pytest.skip(f"{level.value} is not available on this machine")
    box = Sandbox(Limits(cell_timeout=5), isolation=level)
    with pytest.raises(KernelBroken) as err:
        box.start()
    message = str(err.value)
    assert f"cannot import the engine autodiff_lab from {broken_engine}" in message
    assert "ImportError: this engine is broken on purpose" in message
    assert "no submission was graded" in message and sys.executable in message
    assert box.proc is None and not os.path.exists(box._scratch)      # cleaned up


def test_a_kernel_that_cannot_start_stops_the_class_with_one_message(broken_engine, tmp_path, capsys):
    """Not every student `crashed` as a grader failure: one message, and no result recorded for anyone."""
    from autodiff_lab.cli import main

    out = tmp_path / "out"
    assert main(["grade", "a1_backprop", "--submissions", str(SAMPLE), "--out", str(out), "--quiet",
                 "--workers", "2"]) == 1
    printed = capsys.readouterr()
    assert printed.err.count("autodiff-lab grade:") == 1 and "this engine is broken on purpose" in printed.err
    assert "crashed" not in printed.out + printed.err
    assert not list((out / "a1_backprop" / "results").glob("*.json"))


def test_student_modules_do_not_stand_in_for_the_engines(tmp_path):
    """A submission's autodiff_lab/ folder neither replaces the engine nor adds modules to it."""
    (tmp_path / "autodiff_lab").mkdir()
    (tmp_path / "autodiff_lab" / "__init__.py").write_text("SHADOW = True\n")
    (tmp_path / "autodiff_lab" / "extra.py").write_text("SHADOW = True\n")
    code = ("import autodiff_lab\nwhere = autodiff_lab.__file__\ntry:\n    import autodiff_lab.extra\n"
            "    extra = 'imported'\nexcept ImportError as err:\n    extra = type(err).__name__")
    with Sandbox(Limits(cell_timeout=5), files=str(tmp_path)) as box:
        assert box.run(code).ok
        got = box.harvest([call('[where, extra]', 'w')], {}).results["w"]["value"]
    assert got == [str(Path(isolation.engine_dir()) / "__init__.py"), "ModuleNotFoundError"]
    assert detect_isolation() is Isolation.RLIMITS or "/home/student" not in got[0]
