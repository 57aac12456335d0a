"""A submitted notebook matched to the released one, cell by cell, with the assignment policy checked.

The released notebook (assignments/<a>/<a>.ipynb) is the template: every cell carries nbgrader metadata
with a grade_id. A submission's cells are matched to it by grade_id, or, when the metadata was stripped, by
their position among the unchanged read-only cells. What is graded is always the template with the student's
answer cells put in: edited read-only cells, added cells and changed metadata cannot change what runs.

Policy (the course's assignment rules), each a Violation with the status it implies:

    tampered             read-only cell edited or deleted, cell added, grading metadata changed, code
                         outside the answer region, an answer that reaches what it did not create (escape)
    needs-manual-grade   notebook renamed, cell metadata stripped (answers matched by position), a forbidden
                         library or an engine-made derivative used, code shipped next to the notebook
                         (policy_of_files)
    (note only)          cells not run before submitting

What answer cells may do is read statically by answer_policy.py (escape, forbidden-import, engine-derivative).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .answer_policy import answer_findings, module_bindings

STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()")
MAX_CELLS = 10_000   # a notebook of this course has dozens
IMPORTABLE = {".py", ".pyc", ".pyo", ".pyw", ".pyd", ".so", ".pth", ".zip", ".egg", ".whl"}   # what import finds
TAMPERED, MANUAL, NOTE = "tampered", "needs-manual-grade", "note"
SEVERITY = {
    "deleted-cell": TAMPERED, "added-cell": TAMPERED, "edited-read-only-cell": TAMPERED,
    "edited-metadata": TAMPERED, "outside-answer": TAMPERED,
    "escape": TAMPERED,
    "renamed": MANUAL, "metadata-stripped": MANUAL, "forbidden-import": MANUAL, "engine-derivative": MANUAL,
    "shipped-code": MANUAL,
    # what the kernel's guard noted at run time (kernel_notes.py)
    "changed-module": TAMPERED, "reached-out": TAMPERED,
    # how the entries were found (collect.py): a person confirms which one counts
    "misnamed-folder": MANUAL, "duplicate-copies": MANUAL, "extra-notebook": MANUAL, "odd-file-name": MANUAL,
    "id-clash": MANUAL,
    "not-run": NOTE,
}


class InvalidNotebook(ValueError):
    """The file is not a readable Jupyter notebook."""


@dataclass
class Violation:
    code: str
    message: str
    cell: str = ""

    @property
    def severity(self) -> str:
        return SEVERITY[self.code]

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "cell": self.cell, "severity": self.severity}


@dataclass
class Step:
    """One step of the graded run, in the template's order: run a cell's code, or harvest a part."""

    action: str            # "run" or "harvest"
    grade_id: str
    source: str = ""
    answer: bool = False   # the student's code (an answer cell) rather than the instructor's


@dataclass
class Matched:
    steps: list[Step]
    violations: list[Violation] = field(default_factory=list)
    answered: dict[str, bool] = field(default_factory=dict)   # answer cell -> changed from the stub


def read_notebook(path: Path) -> dict:
    """The notebook as a dict, each cell's source one string, or InvalidNotebook saying what is wrong with the
    file: whatever its bytes, reading it never raises anything else."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InvalidNotebook("the file is not text (not a Jupyter notebook)") from None
    except json.JSONDecodeError as err:
        raise InvalidNotebook(f"the file is not valid JSON ({err.msg} at line {err.lineno}): it was damaged "
                              "or is not a notebook") from None
    except RecursionError:
        raise InvalidNotebook("the notebook is nested too deeply to be read (lists or objects inside one another "
                              "hundreds of times): it was damaged or is not a notebook") from None
    except ValueError as err:   # a number of thousands of digits, say
        raise InvalidNotebook(f"the file is not a readable notebook ({str(err)[:100]})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidNotebook("the file is JSON but not a Jupyter notebook (no list of cells)")
    if len(nb["cells"]) > MAX_CELLS:
        raise InvalidNotebook(f"the notebook has {len(nb['cells'])} cells, more than a notebook of this course can "
                              f"have ({MAX_CELLS})")
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise InvalidNotebook("the notebook has a cell that is not a code, markdown or raw cell")
        src = cell.get("source", "")
        if not isinstance(src, str) and not (isinstance(src, list) and all(isinstance(s, str) for s in src)):
            raise InvalidNotebook(f"cell {i + 1} of the notebook has a source that is not text (a string or a list "
                                  "of strings)")
        cell["source"] = source_of(cell)
    return nb


def source_of(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def nbgrader_meta(cell: dict) -> dict:
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: dict) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def normalized(source: str) -> list[str]:
    """Lines without trailing spaces, blank lines dropped: edits that change nothing are not edits."""
    return [line.rstrip() for line in source.splitlines() if line.strip()]


def match(submission: dict, template: dict, *, forbidden_modules: list[str] = (),
          forbidden_functions: list[str] = (), allowed_functions: dict | None = None,
          own_rules: list[str] = ()) -> Matched:
    """Match the submission to the template and check the policy. forbidden_functions: the engine names no
    answer cell may use, but those allowed_functions ({answer cell: [names]}) grants; own_rules: the answer
    cells that must build their Values themselves (see answer_policy.py)."""
    tcells = template["cells"]
    by_id = _pair_by_grade_id(submission["cells"], tcells)
    violations: list[Violation] = []
    if by_id is None:
        pairs, extra = _pair_by_position(submission["cells"], tcells)
        violations.append(Violation("metadata-stripped", "the cells' nbgrader metadata was removed; answers were "
                                    "matched to questions by their position, so please confirm them"))
    else:
        pairs, extra, dup = by_id
        for cell in dup:
            violations.append(Violation("added-cell", "a cell was duplicated (copy of "
                                        f"'{grade_id(cell)}'); the copy was not run", grade_id(cell) or ""))
    for cell in extra:
        first = normalized(cell["source"])[:1]
        violations.append(Violation("added-cell", "a cell was added" + (f" (starting '{first[0][:60]}')" if first
                                    else "") + "; added cells are not run"))
    steps, answered = [], {}
    outer = code_bindings(tcells, pairs)
    for tcell in tcells:
        gid, meta = grade_id(tcell), nbgrader_meta(tcell)
        scell = pairs.get(gid)
        if scell is None:
            violations.append(Violation("deleted-cell", f"cell '{gid}' was deleted" + (
                "; its answer counts as missing" if meta.get("solution") else "; the original was used"), gid))
        elif by_id is not None and _meta_changed(nbgrader_meta(scell), meta):
            violations.append(Violation("edited-metadata", f"the grading metadata of cell '{gid}' was changed; "
                                        "the original was used", gid))
        if meta.get("solution"):
            source = scell["source"] if scell is not None else tcell["source"]
            answered[gid] = normalized(source) != normalized(tcell["source"])
            if scell is not None and not fits_scaffold(source, tcell["source"]):
                violations.append(Violation("outside-answer", f"in cell '{gid}', code outside the answer region "
                                            "(the lines around '# YOUR CODE HERE') was changed", gid))
            if tcell["cell_type"] == "code":
                steps.append(Step("run", gid, source, answer=True))
                allowed = (allowed_functions or {}).get(gid, ())
                violations += policy_of_code(source, gid, forbidden_modules, forbidden_functions, allowed=allowed,
                                             own_rules=gid in own_rules, scaffold=tcell["source"],
                                             outer=outer)
            continue
        if scell is not None and normalized(scell["source"]) != normalized(tcell["source"]):
            violations.append(Violation("edited-read-only-cell", f"read-only cell '{gid}' was edited; the "
                                        "original was used", gid))
        if tcell["cell_type"] != "code":
            continue
        steps.append(Step("harvest", gid) if meta.get("grade") else Step("run", gid, tcell["source"]))
    not_run = [grade_id(c) or f"#{i}" for i, c in enumerate(submission["cells"])
               if c.get("cell_type") == "code" and c.get("execution_count") is None and c["source"].strip()]
    if not_run:
        violations.append(Violation("not-run", f"{len(not_run)} code cell(s) were not run before submitting "
                                    f"({', '.join(not_run[:6])}{', ...' if len(not_run) > 6 else ''})"))
    return Matched(steps, violations, answered)


def _meta_changed(got: dict, want: dict) -> bool:
    keys = ("grade", "solution", "locked", "points", "grade_id")
    return any(bool(got.get(k)) != bool(want.get(k)) if k != "points" and k != "grade_id"
               else got.get(k) != want.get(k) for k in keys if k in want or k in got)


def _pair_by_grade_id(scells: list[dict], tcells: list[dict]):
    """{grade_id: submitted cell}, the cells with no known grade_id, and duplicates; None when no submitted
    cell carries a grade_id of the template (metadata stripped)."""
    wanted = {grade_id(c) for c in tcells}
    pairs, extra, dup = {}, [], []
    for cell in scells:
        gid = grade_id(cell)
        if gid not in wanted:
            extra.append(cell)
        elif gid in pairs:
            dup.append(cell)
        else:
            pairs[gid] = cell
    return None if not pairs else (pairs, extra, dup)


def _pair_by_position(scells: list[dict], tcells: list[dict]):
    """Without metadata: align read-only cells by their text; each answer cell is the one code cell left
    between two aligned read-only neighbours."""
    key = lambda c: (c["cell_type"], tuple(normalized(c["source"])))  # noqa: E731
    tkeys = [key(c) if not nbgrader_meta(c).get("solution") else ("answer", i) for i, c in enumerate(tcells)]
    skeys = [key(c) for c in scells]
    matcher = difflib.SequenceMatcher(None, tkeys, skeys, autojunk=False)
    pairs, used = {}, set()
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            pairs[grade_id(tcells[block.a + k])] = scells[block.b + k]
            used.add(block.b + k)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        answers = [i for i in range(a0, a1) if nbgrader_meta(tcells[i]).get("solution")]
        candidates = [j for j in range(b0, b1) if scells[j]["cell_type"] == "code" and j not in used]
        if op != "equal" and len(answers) == 1 and len(candidates) == 1:
            pairs[grade_id(tcells[answers[0]])] = scells[candidates[0]]
            used.add(candidates[0])
    extra = [c for j, c in enumerate(scells) if j not in used]
    return pairs, extra


def fits_scaffold(source: str, template: str) -> bool:
    """Whether `source` keeps every line of the template's answer cell outside the stubs, in order, with the
    first block at the top and the last at the bottom (the answers may replace the stubs freely)."""
    blocks, current = [], []
    for line in normalized(template):
        if line.strip() in STUB_LINES:
            if line.strip() == STUB_LINES[0]:
                blocks.append(current)
                current = []
            continue
        current.append(line)
    blocks.append(current)
    if len(blocks) == 1:
        return normalized(source) == blocks[0] or not blocks[0]
    lines = normalized(source)
    first, last = blocks[0], blocks[-1]
    if lines[:len(first)] != first or (last and lines[len(lines) - len(last):] != last):
        return False
    pos, end = len(first), len(lines) - len(last)
    for block in blocks[1:-1]:
        found = next((i for i in range(pos, end - len(block) + 1) if lines[i:i + len(block)] == block), None)
        if found is None:
            return False
        pos = found + len(block)
    return pos <= end


def policy_of_code(source: str, gid: str, forbidden_modules: list[str], forbidden_functions: list[str], *,
                   allowed: list[str] = (), own_rules: bool = False, scaffold: str = "",
                   outer: dict | None = None) -> list[Violation]:
    """The answer cell's escapes, forbidden imports and engine-made derivatives (answer_policy.py), each
    quoting its line; `allowed` are the forbidden engine names this cell may use all the same."""
    forbidden = set(forbidden_functions) - set(allowed)
    found = answer_findings(source, gid, forbidden_modules=forbidden_modules, forbidden=forbidden,
                            own_rules=own_rules, scaffold=scaffold, outer=outer)
    return [Violation(code, message, gid) for code, message in found]


def code_bindings(tcells: list[dict], pairs: dict) -> dict:
    """The names the code cells bind to modules (the template's own cells, test cells' self-checks included, and
    the student's answers): an answer's function may use any of them, since globals are looked up when it is
    called, and a student who ran the self-checks had them."""
    bindings: dict = {}
    for tcell in tcells:
        if tcell["cell_type"] == "code":
            scell = pairs.get(grade_id(tcell)) if nbgrader_meta(tcell).get("solution") else None
            bindings = module_bindings((scell or tcell)["source"], bindings)
    return bindings


def policy_of_files(folder: Path, notebook: Path, forbidden_modules) -> list[Violation]:
    """Files besides the notebook that Python could import (modules, packages, extensions, zips): an answer
    cell could import them, so the answer cells alone would not show what was graded. A copy of a forbidden
    library among them is flagged by name."""
    files = [p.relative_to(folder) for p in importable_files(folder, notebook)]
    if not files:
        return []
    shipped = sorted({_top_name(p) for p in files})
    names = ", ".join(shipped[:6]) + (", ..." if len(shipped) > 6 else "")
    out = [Violation("shipped-code", f"the submission includes files that Python can import besides the notebook "
                     f"({names}); answers must be written in the notebook's answer cells")]
    copies = {part.split(".")[0] for p in files for part in p.parts}
    out += [Violation("forbidden-import", f"the submission ships a copy of {m}, which this assignment does not allow")
            for m in sorted(copies & set(forbidden_modules))]
    return out


def importable_files(folder: Path, notebook: Path) -> list[Path]:
    """The files under `folder`, hidden ones too, with a suffix that Python's import system reads."""
    return [p for p in Path(folder).rglob("*") if p.suffix.lower() in IMPORTABLE and p.is_file() and p != notebook]


def _top_name(relative: Path) -> str:
    """'helpers.py', or 'autograd/' for anything inside a folder: what the student put next to the notebook."""
    name = clip_name(relative.parts[0])
    return f"{name}/" if len(relative.parts) > 1 else name


def clip_name(name: str) -> str:
    """A file name as a message quotes it: short, and printable as UTF-8 (names need not be valid UTF-8)."""
    return name[:60].encode("utf-8", "replace").decode("utf-8")
