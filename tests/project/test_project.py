"""The project's set-up: pins in sync, the README's two commands, lint."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]

# conda-forge names where they differ from PyPI's
CONDA_NAMES = {"graphviz": "python-graphviz"}


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    pins = {}
    for spec in specs:
        name, _, version = spec.partition("==")
        assert version, f"{spec!r} in pyproject.toml is not pinned with =="
        pins[CONDA_NAMES.get(name.lower(), name.lower())] = version
    return pins


def environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s*([A-Za-z0-9_.-]+)\s*(==|=)\s*([^\s#]+)", line)
        if m and m.group(1) != "python":
            pins[m.group(1).lower()] = m.group(3)
    return pins


def test_environment_yml_and_pyproject_pin_the_same_versions():
    assert pyproject_pins() == environment_pins()


def test_environment_yml_brings_the_graphviz_program():
    assert re.search(r"^\s*-\s*graphviz\s*$", (ROOT / "environment.yml").read_text(), re.M)


def test_readme_quick_start_is_exactly_make_lab_and_make_test():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:bash)?\n(.*?)```", quick, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["make lab", "make test"]


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.skipif(shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
                    reason="ruff is not installed (pip install -e '.[test]')")
def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    folders = [d for d in ("autodiff_lab", "grader", "tests", "bench", "course/site") if (ROOT / d).is_dir()]
    result = subprocess.run([ruff, "check", *folders], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
