"""Every exercise of every lecture in course/ (numbered or not; index.ipynb aside) is checked, following the
convention in the lectures: an `exercise` code cell holding the template a student fills in (its metadata
"autodiff_lab": {"exercise": "<lecture>.<n>", "wrong_answer": "<code>"}), a `check` cell right after it that
checks the student's own code and prints one report starting with "✓" or "✗", and an `answer` markdown cell
after that, the model answer in <details> (markdown, so Run All never runs it).

Each lecture runs twice, all lectures in parallel:
- as shipped: Run All finishes and every check says "✗ not answered yet";
- as answered: each exercise cell becomes its wrong_answer followed by its check, which must say "✗" (and not
  "not answered"), then its model answer followed by the check again, which must say "✓". Later cells thus
  see the model answer, so an exercise that builds on an earlier one is checked on its own mistake only.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

COURSE = Path(__file__).resolve().parents[2] / "course"
LECTURES = sorted(p.stem for p in COURSE.glob("*.ipynb") if p.stem != "index")
ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"
CELL_TIMEOUT_S = 300
CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
NEGATIVE_ZERO = re.compile(r"(?<![\w.])-0\.(?!\d*[1-9])")   # -0., -0.0, -0.000, not -0.25


def notebook(stem: str) -> nbformat.NotebookNode:
    return nbformat.read(COURSE / f"{stem}.ipynb", as_version=4)


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return cell.metadata.get("tags", [])


def exercise_cells(nb: nbformat.NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if "exercise" in tags(c)]


def model_answer(cell: nbformat.NotebookNode) -> str:
    """The code of a model answer: the first ```python block of the answer cell."""
    found = CODE_BLOCK.search(cell.source)
    assert found, f"answer cell {cell.get('id')} has no ```python block"
    return found.group(1)


def printed(cell: nbformat.NotebookNode) -> str:
    """What a cell printed or displayed as text."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


def verdict(cell: nbformat.NotebookNode) -> str:
    """The first line of a check cell's report ('' if it printed nothing)."""
    lines = [line for line in printed(cell).splitlines() if line.strip()]
    return lines[0] if lines else ""


def errors(cell: nbformat.NotebookNode) -> list[str]:
    return [f"{o.ename}: {o.evalue}" for o in cell.get("outputs", []) if o.output_type == "error"]


# --------------------------------------------------------------------------------------- the layout
@pytest.mark.parametrize("stem", LECTURES)
def test_every_exercise_has_a_template_a_check_and_a_model_answer(stem):
    nb = notebook(stem)
    found = exercise_cells(nb)
    assert found, f"{stem}: no exercise cell (tag 'exercise')"
    names = []
    for i in found:
        cell = nb.cells[i]
        meta = cell.metadata.get("autodiff_lab", {})
        where = f"{stem} cell {i} ({cell.get('id')})"
        assert cell.cell_type == "code", f"{where}: an exercise cell is code"
        assert re.fullmatch(r"[\w]+\.\d+", meta.get("exercise", "")), f"{where}: metadata exercise '<lecture>.<n>'"
        assert meta.get("wrong_answer", "").strip(), f"{where}: metadata wrong_answer (a plausible mistake)"
        names.append(meta["exercise"])
        check, answer = nb.cells[i + 1], nb.cells[i + 2]
        assert check.cell_type == "code" and "check" in tags(check), f"{where}: no check cell right after"
        assert answer.cell_type == "markdown" and "answer" in tags(answer), f"{where}: no answer cell after the check"
        assert answer.source.lstrip().startswith("<details><summary>Model answer</summary>"), where
        assert answer.source.rstrip().endswith("</details>"), where
        solution = model_answer(answer)
        assert solution.strip() != cell.source.strip(), f"{where}: the template is the model answer"
        assert meta["wrong_answer"].strip() != solution.strip(), f"{where}: the wrong answer is the model answer"
        assert "NotImplementedError" in cell.source or "..." in cell.source, f"{where}: not a template"
    assert len(set(names)) == len(names), f"{stem}: exercise names repeat: {names}"
    runnable_answers = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "answer" in tags(c)]
    assert not runnable_answers, f"{stem}: code cells tagged answer {runnable_answers} would run on Run All"


@pytest.mark.parametrize("stem", LECTURES)
def test_links_to_assignments_resolve(stem):
    text = "".join(c.source for c in notebook(stem).cells if c.cell_type == "markdown")
    for target in re.findall(r"\]\((\.\./assignments/[^)#]+)", text):
        assert (COURSE / target).resolve().is_file(), f"{stem} links {target}, which does not exist"


def test_every_assignment_is_linked_from_a_lecture():
    text = "".join(c.source for stem in LECTURES for c in notebook(stem).cells if c.cell_type == "markdown")
    for folder in sorted(p for p in ASSIGNMENTS.iterdir() if p.is_dir()):
        link = f"../assignments/{folder.name}/{folder.name}.ipynb"
        assert link in text, f"no lecture links its graded assignment {link}"


# ------------------------------------------------------------------------------------------ the runs
@dataclass
class Run:
    nb: nbformat.NotebookNode
    error: str | None = None
    expect: dict[int, str] = field(default_factory=dict)  # check cell index -> "✓", "✗" or "✗ not answered yet"
    may_fail: set[int] = field(default_factory=set)  # wrong-answer cells: an error there is allowed


def shipped(stem: str, course_runs: dict) -> Run:
    """The lecture as shipped, as Run All ran it for the other course tests (conftest.course_runs)."""
    nb, done = notebook(stem), course_runs[stem]
    return Run(done.notebook or nb, error=done.error, expect={i + 1: "✗ not answered yet" for i in exercise_cells(nb)})


def answered(stem: str) -> Run:
    """Each exercise: its wrong answer and its check, then its model answer and its check again."""
    original = notebook(stem)
    run = Run(nbformat.v4.new_notebook(metadata=original.metadata))
    starts = set(exercise_cells(original))
    for i, cell in enumerate(original.cells):
        if i - 1 in starts:                                    # a check cell: placed below with its exercise
            continue
        if i not in starts:
            run.nb.cells.append(cell)
            continue
        check = original.cells[i + 1]
        wrong = nbformat.v4.new_code_cell(cell.metadata["autodiff_lab"]["wrong_answer"])
        right = nbformat.v4.new_code_cell(model_answer(original.cells[i + 2]))
        for code, mark in ((wrong, "✗"), (right, "✓")):
            run.nb.cells.append(code)
            if mark == "✗":
                run.may_fail.add(len(run.nb.cells) - 1)
            run.expect[len(run.nb.cells)] = mark
            run.nb.cells.append(nbformat.v4.new_code_cell(check.source))
    return run


def execute(run: Run) -> Run:
    client = NotebookClient(run.nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", allow_errors=bool(run.may_fail),
                            resources={"metadata": {"path": str(COURSE)}})
    try:
        client.execute()
    except CellExecutionError as err:
        run.error = re.sub(r"\x1b\[[0-9;]*m", "", str(err))[-4000:]
    except Exception as err:  # a kernel that died or a cell that timed out
        run.error = f"{type(err).__name__}: {err}"
    return run


@pytest.fixture(scope="module")
def exercise_runs(course_runs) -> dict[tuple[str, str], Run]:
    """{(stem, "shipped" | "answered"): the executed Run}, every lecture both ways: the answered ones run here, in
    parallel; the shipped ones are the course tests' own runs."""
    saved = os.environ.pop("AUTODIFF_LAB_BACKEND", None)
    try:
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            runs = list(pool.map(lambda stem: execute(answered(stem)), LECTURES))
    finally:
        if saved is not None:
            os.environ["AUTODIFF_LAB_BACKEND"] = saved
    return {**{(stem, "answered"): run for stem, run in zip(LECTURES, runs)},
            **{(stem, "shipped"): shipped(stem, course_runs) for stem in LECTURES}}


@pytest.mark.parametrize("stem", LECTURES)
def test_as_shipped_every_check_says_not_answered_yet_and_run_all_finishes(exercise_runs, stem):
    run = exercise_runs[stem, "shipped"]
    assert run.error is None, f"{stem} as shipped stops:\n{run.error}"
    for i, want in run.expect.items():
        got = verdict(run.nb.cells[i])
        assert got.startswith(want), f"{stem} cell {i}: the check of a template says {got!r}, not {want!r}"


@pytest.mark.parametrize("stem", LECTURES)
def test_checks_fail_the_wrong_answer_and_pass_the_model_answer(exercise_runs, stem):
    run = exercise_runs[stem, "answered"]
    assert run.error is None, f"{stem} with answers filled in stops:\n{run.error}"
    problems = []
    for i, cell in enumerate(run.nb.cells):
        if cell.cell_type == "code" and i not in run.may_fail and errors(cell):
            problems.append(f"cell {i} raised {errors(cell)}:\n{cell.source[:300]}")
    for i, want in run.expect.items():
        text, got = printed(run.nb.cells[i]), verdict(run.nb.cells[i])
        tops = [line for line in text.splitlines() if line[:1] in ("✓", "✗")]
        if not got.startswith(want) or got.startswith("✗ not answered yet") or len(tops) != 1:
            answer = "wrong answer" if want == "✗" else "model answer"
            problems.append(f"check after the {answer} (cell {i}) printed {text[:600]!r}, expected one report "
                            f"starting with {want!r}\n{run.nb.cells[i - 1].source[:300]}")
    assert not problems, f"{stem}:\n" + "\n\n".join(problems)


@pytest.mark.parametrize("stem", LECTURES)
def test_printed_numbers_are_plain(exercise_runs, stem):
    """A student sees 1.5, not np.float64(1.5), and never -0. (a product like -1 x 0 is -0.0 in floating point)."""
    run = exercise_runs[stem, "shipped"]
    for i, cell in enumerate(run.nb.cells):
        text = printed(cell)
        assert "np.float64(" not in text and "np.float32(" not in text, f"{stem} cell {i} prints a numpy repr:\n{text}"
        assert not NEGATIVE_ZERO.search(text), f"{stem} cell {i} prints a negative zero:\n{text}"
