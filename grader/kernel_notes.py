"""Findings from the kernel's run-time notes (sandbox/guard.py): each run of one of the engine's derivative
makers (a transformation, finite differences, a built-in rule, Value arithmetic) and each change the notebook's
code tried to make to a read-only module, with the notebook line behind it.

A note is untrusted (it comes from the student's kernel): it can only add a finding, never remove one, and the
line a finding quotes is taken here from the code that ran, not from the kernel.
"""

from __future__ import annotations

from .sandbox.guard import BUILT_IN_RULE, MODULE_CHANGES, OUTWARD_NOTE, VALUE_ARITHMETIC
from .structure import Matched, Violation


def findings(notes: list[dict], matched: Matched, forbidden: list[str], allowed: dict[str, list[str]],
             own_rules: list[str]) -> list[Violation]:
    """One finding per (note, cell, line):
    - `changed-module` (tampered): the notebook's code tried to change numpy, the engine or the kernel;
    - `reached-out` (tampered): it started a process or opened a socket (the sandbox contained it);
    - `engine-derivative` (needs-manual-grade): a derivative maker the rules forbid there: `forbidden`, the
      assignment's forbidden engine functions (except those `allowed` in a cell: {grade_id: [names]}); the
      built-in rules, always; Value arithmetic in the cells listed in `own_rules` (there the student writes
      the rules)."""
    answers = {s.grade_id: s.source for s in matched.steps if s.answer}
    found, seen = [], set()
    for note in notes:
        fn, cell, line = note["fn"], note["cell"], note["line"]
        if (fn, cell, line) in seen:
            continue
        seen.add((fn, cell, line))
        where = (f"cell '{cell}' line {line}" if cell in answers else "a rule given to defvjp/defjvp" if not cell
                 else "code shipped beside the notebook")
        code = _line(answers.get(cell, ""), line)
        quoted = f"{where}{f': `{code}`' if code else ''}"
        if fn.startswith(MODULE_CHANGES):
            found.append(Violation("changed-module", f"{quoted} {fn}, a module the grader relies on (the change "
                                   "was ignored)", cell))
        elif fn.startswith(OUTWARD_NOTE):
            found.append(Violation("reached-out", f"{quoted} {fn.removeprefix(OUTWARD_NOTE)}: a process or a "
                                   "connection, which the sandbox does not allow", cell))
        elif _forbidden(fn, cell, answers, forbidden, allowed, own_rules):
            found.append(Violation("engine-derivative", f"{quoted} ran the engine's {_what(fn)} while being graded: "
                                   "a derivative the engine made, not your own", cell))
    return found


def _forbidden(fn: str, cell: str, answers: dict, forbidden: list[str], allowed: dict, own_rules: list[str]) -> bool:
    if cell == "":
        return fn.startswith(BUILT_IN_RULE)                 # the harvest found the engine's rule in a primitive
    if cell not in answers:
        return not cell.startswith("<")                     # a file the student shipped, not the template's cells
    if fn.startswith(BUILT_IN_RULE):
        return True
    if fn == VALUE_ARITHMETIC:
        return cell in own_rules
    return fn in forbidden and fn not in allowed.get(cell, [])


def _what(fn: str) -> str:
    return fn if fn.startswith(BUILT_IN_RULE) or fn == VALUE_ARITHMETIC else f"{fn}()"


def _line(source: str, line: int) -> str:
    lines = source.splitlines()
    return lines[line - 1].strip()[:120] if 1 <= line <= len(lines) else ""
