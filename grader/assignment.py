"""An assignment as the grader sees it: the released template, and its parts with points and hidden probes
read from the source notebook (never executed), their random inputs drawn under the term's input salt."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from .config import REPO
from .probes import Probe, parse_hidden, salted
from .structure import grade_id, nbgrader_meta, read_notebook


@dataclass
class Part:
    """One graded test cell: its points, a title for feedback, and the probes its hidden tests describe."""

    grade_id: str
    points: float
    title: str
    probes: list[Probe]


@dataclass
class Assignment:
    id: str
    notebook: str                 # file name students must keep, e.g. a2_vjp.ipynb
    template: dict                # the released (student) notebook
    parts: list[Part]
    source_path: Path
    release_path: Path
    salt: str = ""                # the input salt the probes' random inputs were drawn under ("" for none)
    _expected: dict = field(default_factory=dict, repr=False)

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.parts)

    def part(self, gid: str) -> Part:
        return next(p for p in self.parts if p.grade_id == gid)

    def expected(self, gid: str, index: int):
        """The expected values of a probe, computed once (finite differences of the reference)."""
        key = (gid, index)
        if key not in self._expected:
            self._expected[key] = self.part(gid).probes[index].expected()
        return self._expected[key]

    def prepare(self) -> None:
        """Compute every expected value now, before workers start."""
        for part in self.parts:
            for i in range(len(part.probes)):
                self.expected(part.grade_id, i)

    def reference_notebook(self) -> dict:
        """What a student with every answer right submits: the released notebook with the source's solutions."""
        return reference_notebook(self.template, read_notebook(self.source_path))


def reference_answers(source: dict) -> dict[str, str]:
    """The solution cells of the source notebook without the solution markers: the reference answers."""
    return {grade_id(c): "\n".join(line for line in c["source"].split("\n")
                                   if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
            for c in source["cells"] if nbgrader_meta(c).get("solution")}


def reference_notebook(template: dict, source: dict) -> dict:
    """The released notebook `template` with the reference answers of `source` in its answer cells, its code
    cells numbered as if run in order."""
    nb, answers = copy.deepcopy(template), reference_answers(source)
    count = 0
    for cell in nb["cells"]:
        if grade_id(cell) in answers:
            cell["source"] = answers[grade_id(cell)]
        if cell["cell_type"] == "code":
            count += 1
            cell["execution_count"] = count
    return nb


def load_assignment(assignment_id: str, solutions: Path = REPO / "solutions",
                    released: Path = REPO / "assignments", salt: str = "") -> Assignment:
    """Read assignments/<id>/ (the template) and solutions/<id>/ (points and hidden tests), the hidden tests'
    random inputs drawn under `salt` (probes.salted)."""
    source_dir, release_dir = solutions / assignment_id, released / assignment_id
    if not source_dir.is_dir():
        known = ", ".join(p.name for p in sorted(solutions.iterdir()) if p.is_dir())
        raise ValueError(f"unknown assignment {assignment_id!r}; the assignments are: {known}")
    notebooks = sorted(source_dir.glob("*.ipynb"))
    if len(notebooks) != 1:
        raise ValueError(f"{source_dir} must hold exactly one notebook, found {len(notebooks)}")
    name = notebooks[0].name
    if not (release_dir / name).is_file():
        raise ValueError(f"{release_dir / name} is missing: run `make assignments` to release it")
    source, template = read_notebook(notebooks[0]), read_notebook(release_dir / name)
    parts, heading = [], assignment_id
    for cell in source["cells"]:
        meta = nbgrader_meta(cell)
        if cell["cell_type"] == "markdown" and cell["source"].lstrip().startswith("#"):
            heading = cell["source"].lstrip().splitlines()[0].lstrip("# ").strip()
        if meta.get("grade") and cell["cell_type"] == "code":
            gid = grade_id(cell)
            probes = salted(parse_hidden(cell["source"], f"{notebooks[0].name}, cell {gid}"), salt)
            parts.append(Part(gid, float(meta.get("points", 0)), heading, probes))
    return Assignment(assignment_id, name, template, parts, notebooks[0], release_dir / name, salt)


def cell_settings(assignment_id: str, template: dict, allowed: dict, own_rules: dict) -> dict:
    """This assignment's per-cell settings, {"allowed_functions": {cell: [names]}, "own_rules": [cells]}; a
    ValueError names a cell that is not one of the assignment's answer cells."""
    answers = [grade_id(c) for c in template["cells"] if nbgrader_meta(c).get("solution")]
    settings = {"allowed_functions": dict(allowed.get(assignment_id, {})),
                "own_rules": list(own_rules.get(assignment_id, []))}
    for setting, cells in (("allowed_functions", settings["allowed_functions"]), ("own_rules", settings["own_rules"])):
        unknown = [c for c in cells if c not in answers]
        if unknown:
            raise ValueError(f"Grader.{setting}[{assignment_id!r}] names {', '.join(map(repr, unknown))}, which is "
                             f"not an answer cell of {assignment_id} (its answer cells: {', '.join(answers)}); "
                             "fix the grade_id in the grading config")
    return settings
