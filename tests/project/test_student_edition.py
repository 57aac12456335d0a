"""The student edition (issue 18, part 1): what `make dist` builds, and `autodiff-lab course init`.

Once per module (about 30 s) the project is copied (as a checkout is, untracked files and the egg-info of an earlier
install included) and built the way the Makefile's `dist` target builds it: the sdist, then the wheel from the
sdist, offline, with the setuptools of this environment. The wheel is installed into a fresh virtual environment
that borrows this environment's packages through a .pth file (nothing is downloaded; the borrowed folder's own
.pth files, such as the editable install's, are not read, so the grader and this checkout stay out of reach).
Every file of the wheel and of the sdist is scanned for solution content, and from the installed edition
`autodiff-lab course init` lays out a working copy in which lecture 1 runs and assignment 1 runs with one answer
filled in: its self-check passes and every other self-check stops at its stub's NotImplementedError.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomllib

from autodiff_lab import course_init
from autodiff_lab.cli import main
from grader.probes.hidden import BEGIN_HIDDEN, END_HIDDEN, lines_between

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
NAME = "autodiff_lab"
MATERIAL = "autodiff_lab/course_material/"
NOT_COPIED = {".git", ".venv", "build", "dist", "artifacts", "__pycache__", ".pytest_cache", ".ruff_cache",
              ".hypothesis", ".ipynb_checkpoints"}
NOT_COPIED_PATHS = {"grader/out", "grader/course"}          # the grader's own output (git ignores both)
SDIST_TOP = {"PKG-INFO", "pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in", "README.md", "autodiff_lab",
             "autodiff_lab.egg-info", "course", "assignments"}
MARKERS = re.compile(r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS|grader\.probes"
                     r"|\bgrade\.[A-Za-z_]+\(|^\s*(from|import) grader\b", re.M)
SHORTEST_LINE = 12          # shorter lines of an answer ("q = x + y") say too little to count as a leak

# The one answer the assignment run fills in (written here, not taken from solutions/).
ADD_MUL_ANSWER = '''def add_mul_backprop(x, y, z):
    """f = (x + y) z and its gradient (df/dx, df/dy, df/dz), by hand."""
    total = x + y
    return total * z, (z, z, total)
'''


def quiet_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", **extra)
    return env


def sh(args, cwd, timeout=180, env=None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env=env or quiet_env())
    command = " ".join(map(str, args))
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


# ---- the build, once --------------------------------------------------------------------------------------
@dataclass
class Edition:
    wheel: Path
    sdist: Path
    venv: Path
    seconds: dict

    @property
    def bin(self) -> Path:
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / ("python.exe" if os.name == "nt" else "python")


def copy_checkout(dest: Path) -> None:
    def ignore(folder, names):
        rel = Path(folder).relative_to(ROOT)
        return {n for n in names if n in NOT_COPIED or (rel / n).as_posix() in NOT_COPIED_PATHS}

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Edition:
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.fail(f"setuptools {setuptools.__version__} cannot build the edition (pyproject.toml's test extra "
                    f"pins setuptools==84.2.1): run `make install`")
    tmp = tmp_path_factory.mktemp("edition")
    seconds, clock = {}, time.perf_counter
    start = clock()
    copy_checkout(tmp / "src")
    out = tmp / "dist"
    # The Makefile's dist target: the sdist, then the wheel from it, with no download.
    sh([sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(out)!r})"],
       cwd=tmp / "src")
    (sdist,) = out.glob("*.tar.gz")
    sh([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", out,
        sdist], cwd=tmp)
    (wheel,) = out.glob("*.whl")
    seconds["build"] = clock() - start

    start = clock()
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    ed = Edition(wheel, sdist, env_dir, seconds)
    site = sh([ed.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp).stdout.strip()
    borrowed = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    Path(site, "_borrowed_packages.pth").write_text("\n".join(borrowed) + "\n")
    sh([ed.python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", wheel], cwd=tmp)
    kernel = env_dir / "share" / "jupyter" / "kernels" / "edition"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(ed.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "the student edition", "language": "python"}))
    seconds["install"] = clock() - start
    return ed


def wheel_members(ed: Edition) -> dict[str, bytes]:
    with zipfile.ZipFile(ed.wheel) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}


def sdist_members(ed: Edition) -> dict[str, bytes]:
    with tarfile.open(ed.sdist) as tf:
        return {m.name.split("/", 1)[1]: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


# ---- what the edition holds -------------------------------------------------------------------------------
def repo_material() -> dict[str, bytes]:
    return {rel: path.read_bytes() for rel, path in course_init.shipped_files(ROOT).items()}


def test_the_wheel_holds_the_engine_lectures_and_assignments_and_no_grader(edition):
    members = wheel_members(edition)
    tops = {name.split("/")[0] for name in members}
    assert tops == {NAME, f"{NAME}-{VERSION}.dist-info"}, f"the wheel's top level: {sorted(tops)}"
    engine = {p.relative_to(ROOT).as_posix() for p in (ROOT / NAME).rglob("*.py") if "__pycache__" not in p.parts}
    assert engine <= set(members), f"missing from the wheel: {sorted(engine - set(members))}"
    for needed in ("autodiff_lab/viz/draw.py", "autodiff_lab/check/__init__.py", "autodiff_lab/data/digits.npz",
                   "autodiff_lab/course_init.py", "autodiff_lab/lab.py",      # and the lab's student settings:
                   "autodiff_lab/jupyter_config/labconfig/page_config.json",
                   "autodiff_lab/jupyter_config/jupyter_server_config.json",
                   "autodiff_lab/jupyter_config/nbgrader_config.py"):
        assert needed in members
    shipped = {name[len(MATERIAL):]: data for name, data in members.items() if name.startswith(MATERIAL)}
    assert shipped == repo_material(), "the wheel's lectures and assignments differ from course/ and assignments/"
    assert "course/01_computational_graphs.ipynb" in shipped and "assignments/a1_backprop/a1_backprop.ipynb" in shipped
    assert "console_scripts" in members[f"{NAME}-{VERSION}.dist-info/entry_points.txt"].decode()
    top_level = members.get(f"{NAME}-{VERSION}.dist-info/top_level.txt", b"").decode().split()
    assert "grader" not in top_level


def test_the_sdist_holds_what_builds_the_edition_and_nothing_of_the_instructors(edition):
    members = sdist_members(edition)
    tops = {name.split("/")[0] for name in members}
    assert tops <= SDIST_TOP, f"unexpected in the sdist: {sorted(tops - SDIST_TOP)}"
    material = {name: data for name, data in members.items() if name.split("/")[0] in course_init.FOLDERS}
    assert material == repo_material()
    assert {"setup.py", "MANIFEST.in", "pyproject.toml", "autodiff_lab/course_init.py"} <= set(members)


# ---- solution content, everywhere -------------------------------------------------------------------------
def notebook_cells(text: str) -> list[dict]:
    """The cells of a notebook; none for one that is not JSON (the sample class holds broken ones on purpose)."""
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return []
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def lines_of(text: str, name: str = "") -> set[str]:
    """The stripped lines of a file; of a notebook, the lines of its cells (JSON escapes undone)."""
    if name.endswith(".ipynb") and notebook_cells(text):
        text = "\n".join(cell_source(c) for c in notebook_cells(text))
    return {line.strip() for line in text.splitlines()}


@pytest.fixture(scope="module")
def fingerprints() -> dict[str, set[str]]:
    """Lines only the answers hold: the solution and hidden-test regions of solutions/, the answer cells of the
    sample class, the grader's reference functions; less every line that the lectures and the engine hold too
    (and for the sample's answer cells and the reference functions, the released assignments: the stubs'
    signatures and docstrings)."""
    def public(*patterns):
        found = set()
        for pattern in patterns:
            for path in ROOT.glob(pattern):
                found |= lines_of(path.read_text(), path.name)
        return found

    lectures_and_engine = public("course/*.ipynb", "autodiff_lab/**/*.py")
    released = lectures_and_engine | public("assignments/*/*.ipynb")
    solutions, hidden, sample = [], [], []
    for path in sorted(ROOT.glob("solutions/*/*.ipynb")):
        for cell in notebook_cells(path.read_text()):
            solutions += lines_between(cell_source(cell), "### BEGIN SOLUTION", "### END SOLUTION")
            hidden += lines_between(cell_source(cell), BEGIN_HIDDEN, END_HIDDEN)
    for path in sorted(ROOT.glob("grader/sample/submitted/*/*/*.ipynb")):
        for cell in notebook_cells(path.read_text()):
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                sample += cell_source(cell).splitlines()
    reference = (ROOT / "grader" / "sandbox" / "functions.py").read_text().splitlines()

    def keep(lines, known):
        return {s for s in (line.strip() for line in lines) if len(s) >= SHORTEST_LINE and s not in known}

    prints = {"solutions/ (solution cells)": keep(solutions, lectures_and_engine),
              "solutions/ (hidden tests)": keep(hidden, lectures_and_engine),
              "grader/sample/ (answers)": keep(sample, released),
              "grader/sandbox/functions.py": keep(reference, released)}
    for source, found in prints.items():
        assert len(found) >= 20, f"only {len(found)} lines of {source} to look for: the scan would prove little"
    return prints


def leaks(members: dict[str, bytes], prints: dict[str, set[str]]) -> list[str]:
    found = []
    for name, data in sorted(members.items()):
        text = data.decode("utf-8", errors="ignore")
        marker = MARKERS.search(text)
        if marker:
            found.append(f"{name}: {marker.group(0)!r}")
        lines = lines_of(text, name)
        for source, answer_lines in prints.items():
            common = sorted(lines & answer_lines)
            if common:
                found.append(f"{name}: {len(common)} line(s) of {source}, e.g. {common[0]!r}")
    return found


def test_the_scan_finds_answers_where_they_are(fingerprints):
    """The scan itself: it flags the instructor's files it must keep out of the edition."""
    members = {p.relative_to(ROOT).as_posix(): p.read_bytes()
               for p in [*ROOT.glob("solutions/*/*.ipynb"), ROOT / "grader/sandbox/functions.py",
                         *sorted(ROOT.glob("grader/sample/submitted/*/a1_backprop/*.ipynb"))[:1]]}
    flagged = {line.split(":")[0] for line in leaks(members, fingerprints)}
    assert flagged == set(members)


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_no_file_of_the_edition_holds_solution_content(edition, fingerprints, kind):
    members = wheel_members(edition) if kind == "wheel" else sdist_members(edition)
    assert not [n for n in members if n.split("/")[0] in ("grader", "solutions", "tests", "bench")
                or "/sample/" in n or n.endswith("functions.py")]
    found = leaks(members, fingerprints)
    assert not found, f"the {kind} holds answers:\n" + "\n".join(found[:20])


# ---- the installed edition ----------------------------------------------------------------------------------
RUN_NOTEBOOKS = r'''
import json, sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPORT = """
import importlib.util as _util, json as _json, sys as _sys
import autodiff_lab as _engine
print("<<edition>>" + _json.dumps({"engine": _engine.__file__, "python": _sys.prefix,
                                   "grader": _util.find_spec("grader") is not None}))
"""

def run(path, answers):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    nb.cells.append(nbformat.v4.new_code_cell(REPORT))
    NotebookClient(nb, timeout=240, kernel_name="edition", allow_errors=True,
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            meta = cell.metadata.get("nbgrader", {})
            errors = [o for o in cell.outputs if o.output_type == "error"]
            cells.append({"id": meta.get("grade_id") or cell.get("id"), "self_check": bool(meta.get("grade")),
                          "error": errors[0].ename if errors else None,
                          "traceback": "\n".join(errors[0].traceback)[-3000:] if errors else "",
                          "stdout": "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")})
    return cells

jobs = json.loads(Path(sys.argv[1]).read_text())
Path(sys.argv[2]).write_text(json.dumps({name: run(path, answers) for name, (path, answers) in jobs.items()}))
'''


def edition_env(ed: Edition) -> dict:
    return quiet_env(PATH=f"{ed.bin}{os.pathsep}{os.environ.get('PATH', '')}",
                     JUPYTER_PATH=str(ed.venv / "share" / "jupyter"), JUPYTER_PLATFORM_DIRS="1")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def working_copy(edition, tmp_path_factory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("student")
    result = sh([edition.bin / "autodiff-lab", "course", "init", "my-course"], cwd=home, env=edition_env(edition))
    return home / "my-course", result.stdout


def test_course_init_from_the_installed_edition_lays_out_the_material(edition, working_copy):
    work, printed = working_copy
    laid_out = tree(work)
    assert laid_out.pop(course_init.STATE)
    assert laid_out == repo_material()
    assert "Laid out the course" in printed and "course/index.ipynb" in printed and "a1_backprop" in printed
    assert not any(part in ("solutions", "grader") for name in laid_out for part in name.split("/"))


def test_the_edition_has_no_grade_command(edition):
    result = subprocess.run([edition.bin / "autodiff-lab", "grade", "a1_backprop"], capture_output=True, text=True,
                            env=edition_env(edition), cwd=edition.venv, timeout=60)
    assert result.returncode == 2 and "student edition" in result.stderr


def test_lecture_1_and_an_assignments_self_checks_run_from_the_working_copy(edition, working_copy, tmp_path):
    work, _ = working_copy
    jobs = {"lecture": [str(work / "course" / "01_computational_graphs.ipynb"), {}],
            "assignment": [str(work / "assignments" / "a1_backprop" / "a1_backprop.ipynb"),
                           {"add_mul": ADD_MUL_ANSWER}]}
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    (tmp_path / "run.py").write_text(RUN_NOTEBOOKS)
    sh([edition.python, tmp_path / "run.py", tmp_path / "jobs.json", tmp_path / "out.json"], cwd=tmp_path,
       timeout=400, env=edition_env(edition))
    results = json.loads((tmp_path / "out.json").read_text())

    lecture = results["lecture"]
    errors = [c for c in lecture if c["error"]]
    assert not errors, f"lecture 1 stopped in cell {errors[0]['id']}:\n{errors[0]['traceback']}"
    for cells in results.values():                 # both ran on the installed edition, without the grader
        seen = json.loads(cells[-1]["stdout"].split("<<edition>>", 1)[1])
        assert Path(seen["engine"]).resolve().is_relative_to(edition.venv.resolve()), seen
        assert Path(seen["python"]).resolve() == edition.venv.resolve() and not seen["grader"], seen

    checks = {c["id"]: c for c in results["assignment"] if c["self_check"]}
    assert len(checks) >= 5
    assert checks.pop("test_add_mul")["error"] is None, "the filled-in answer's self-check failed"
    stopped = {gid: c["error"] for gid, c in checks.items()}
    assert set(stopped.values()) == {"NotImplementedError"}, stopped
    assert not [c for c in results["assignment"] if c["error"] and not c["self_check"]]


def test_course_init_again_keeps_the_students_work(edition, tmp_path):
    work = tmp_path / "my-course"
    sh([edition.bin / "autodiff-lab", "course", "init", work], cwd=tmp_path, env=edition_env(edition))
    lecture = work / "course" / "03_jacobians_and_vjps.ipynb"
    mine = lecture.read_bytes().replace(b'"cells": [', b'"cells": [{"cell_type": "markdown", "id": "mine", '
                                        b'"metadata": {}, "source": ["my notes"]},', 1)
    lecture.write_bytes(mine)
    (work / "course" / "index.ipynb").unlink()
    result = sh([edition.bin / "autodiff-lab", "course", "init", str(work)], cwd=work.parent,
                env=edition_env(edition))
    assert lecture.read_bytes() == mine
    assert (work / "course" / "index.ipynb").read_bytes() == (ROOT / "course" / "index.ipynb").read_bytes()
    assert "restored  course/index.ipynb" in result.stdout and "Nothing of yours was overwritten" in result.stdout
    assert not list(work.rglob("*(updated*"))         # nothing newer was shipped: nothing beside


# ---- course init, file by file (in this process, on made-up material) ---------------------------------------
def write(folder: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)


def test_a_later_run_updates_what_the_student_left_alone_and_puts_the_rest_beside(tmp_path):
    shipped, work = tmp_path / "v1", tmp_path / "work"
    write(shipped, {"course/index.ipynb": "index 1", "course/01_a.ipynb": "a 1", "course/02_b.ipynb": "b 1",
                    "course/old.md": "old", "course/.ipynb_checkpoints/01_a-checkpoint.ipynb": "x",
                    "assignments/a1_x/a1_x.ipynb": "x 1"})
    first = course_init.init_working_copy(work, shipped, datetime.date(2026, 12, 1))
    assert first.fresh and sorted(first.new) == ["assignments/a1_x/a1_x.ipynb", "course/01_a.ipynb",
                                                 "course/02_b.ipynb", "course/index.ipynb", "course/old.md"]
    assert sorted(tree(work)) == sorted(first.new + [course_init.STATE])
    assert ".ipynb_checkpoints" not in str(tree(work))

    (work / "course/01_a.ipynb").write_text("a 1 + my work")          # the student works on 01 and 03
    (work / "course/index.ipynb").unlink()
    (shipped / "course/old.md").unlink()                               # upstream: 01 and 02 change, a2 is new
    write(shipped, {"course/01_a.ipynb": "a 2", "course/02_b.ipynb": "b 2", "assignments/a2_y/a2_y.ipynb": "y 1"})
    second = course_init.init_working_copy(work, shipped, datetime.date(2026, 12, 7))
    assert (work / "course/01_a.ipynb").read_text() == "a 1 + my work"
    assert (work / "course/01_a (updated 2026-12-07).ipynb").read_text() == "a 2"
    assert (work / "course/02_b.ipynb").read_text() == "b 2"
    assert (work / "course/index.ipynb").read_text() == "index 1"
    assert (work / "assignments/a2_y/a2_y.ipynb").read_text() == "y 1"
    assert (work / "course/old.md").read_text() == "old"
    said = course_init.describe(second)
    for line in ("new       assignments/a2_y/a2_y.ipynb", "restored  course/index.ipynb", "updated   course/02_b",
                 "beside    course/01_a.ipynb is yours", "course/01_a (updated 2026-12-07).ipynb",
                 "retired   course/old.md", "Nothing of yours was overwritten"):
        assert line in said, said

    before = tree(work)                                                 # again, nothing new: nothing happens
    third = course_init.init_working_copy(work, shipped, datetime.date(2026, 12, 8))
    assert tree(work) == before and third.written == 0
    assert "is up to date" in course_init.describe(third)

    write(shipped, {"course/01_a.ipynb": "a 3"})                        # a later update: a new copy beside
    course_init.init_working_copy(work, shipped, datetime.date(2026, 12, 9))
    assert (work / "course/01_a (updated 2026-12-09).ipynb").read_text() == "a 3"
    assert (work / "course/01_a (updated 2026-12-07).ipynb").read_text() == "a 2"
    assert (work / "course/01_a.ipynb").read_text() == "a 1 + my work"


def test_files_it_did_not_lay_out_count_as_the_students(tmp_path):
    shipped, work = tmp_path / "shipped", tmp_path / "work"
    write(shipped, {"course/index.ipynb": "index", "assignments/a1_x/a1_x.ipynb": "x"})
    write(work, {"course/index.ipynb": "my own index", course_init.STATE: "{broken"})
    report = course_init.init_working_copy(work, shipped, datetime.date(2026, 12, 7))
    assert (work / "course/index.ipynb").read_text() == "my own index"
    assert (work / "course/index (updated 2026-12-07).ipynb").read_text() == "index"
    assert report.new == ["assignments/a1_x/a1_x.ipynb"]


def test_in_the_repository_course_init_copies_course_and_assignments(tmp_path, capsys):
    assert course_init.material_root() in (ROOT, ROOT / NAME / "course_material")
    assert main(["course", "init", str(tmp_path / "copy")]) == 0
    laid_out = tree(tmp_path / "copy")
    laid_out.pop(course_init.STATE)
    assert laid_out == repo_material()
    assert "autodiff-lab lab" in capsys.readouterr().out


def test_course_init_mistakes_and_help(tmp_path, capsys):
    (tmp_path / "a-file").write_text("")
    assert main(["course", "init", str(tmp_path / "a-file")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["course", "init", "--help"])
    assert "never overwrites your work" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["course"])
    assert "init" in capsys.readouterr().err


def test_make_dist_builds_the_sdist_then_the_wheel_offline():
    recipe = (ROOT / "Makefile").read_text().split("\ndist:", 1)[1].split("\n\n", 1)[0]
    assert "build_sdist('dist')" in recipe and "--no-build-isolation --no-index" in recipe
