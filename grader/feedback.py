"""One feedback page per student: the score, what went wrong the way autodiff_lab.check reports it
(argument, shape, worst entry, diagnosis), the policy notes. Built only from the verdicts: it never contains
hidden test source or tracebacks from hidden lines, and everything that came from the student is escaped.

Nothing the student's code did while it ran reaches a page beyond what the grader vouches for (student_text.py):
the verdicts are already so; here, the answer cells' exceptions, why a run stopped, and the rules broken. What
the kernel printed never does (it is in the instructor's logs)."""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

from .assignment import Assignment
from .math_text import title_html
from .runner import Result
from .structure import grade_id, source_of
from .student_text import NOTHING, Vouched, identifiers, student_error

# The rules broken, as found in the files submitted, before anything ran: their messages (cells, file names,
# the student's own lines) were written before the student's code saw a hidden input, and are shown. Any other
# finding (one made while the code ran could quote what it chose) is named on the page, detailed only in the
# instructor's results.
# ("engine-derivative" is both: found in the code as submitted, and noted by the kernel while it ran.)
SUBMITTED_FINDINGS = frozenset({"deleted-cell", "added-cell", "edited-read-only-cell", "edited-metadata",
                                "outside-answer", "escape", "renamed", "metadata-stripped", "forbidden-import",
                                "forbidden-function", "shipped-code", "not-run", "misnamed-folder",
                                "duplicate-copies", "extra-notebook", "odd-file-name", "id-clash"})
# Why a run stopped is the grader's own words, but for these pieces, which the student's code chooses.
STOPPED_BY_STUDENT = ((re.compile(r"exited with code -?\d+"), "exited"),
                      (re.compile(r"killed by signal \d+"), "killed by a signal"),
                      (re.compile(r"used \d+ s of CPU time in all"), "used up its CPU time"))
GUARD = "student code reached for the grader's or the engine's own objects"

STATUS_TEXT = {
    "ok": "graded",
    "timeout": "stopped: a cell ran past its time limit",
    "crashed": "stopped: the notebook's kernel died",
    "invalid": "not graded: the notebook could not be read",
    "resource-limit": "graded, but the notebook exhausted a limit of its sandbox (processes, memory or CPU time)",
    "tampered": "graded, but the notebook broke the grading rules (see below)",
    "needs-manual-grade": "graded automatically; your instructor will confirm the grade",
}
CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}.score{font-size:1.2rem}.ok{color:#1a7f37}.bad{color:#b42318}.note{color:#8a6100}
section{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}
pre{background:#f6f8fa;padding:.5rem;white-space:pre-wrap}.set{color:#555;font-weight:normal}"""


def esc(x) -> str:
    return html.escape(str(x))


def render(result: Result, assignment: Assignment) -> str:
    r = result
    cells = {grade_id(c) for c in assignment.template["cells"]} - {None}
    out = [f"<!doctype html><meta charset='utf-8'><title>{esc(assignment.id)}: {esc(r.student)}</title>",
           f"<style>{CSS}</style>",
           f"<h1>{esc(assignment.id)}: feedback for {esc(r.student)}</h1>",
           f"<p class='score'>Score: <b>{r.score:g} / {r.max_score:g}</b> &middot; status <b>{esc(r.status)}</b>: "
           f"{esc(STATUS_TEXT[r.status])}</p>"]
    if r.failure:
        where = f" (at cell '{esc(r.failure['cell'])}')" if r.failure.get("cell") in cells else ""
        after = (" Parts graded before this kept their points; the later ones could not be graded."
                 if r.failure.get("cell") else "")
        out.append(f"<p class='bad'>{esc(failure_text(r.failure))}{where}.{after}</p>")
    if r.violations:
        out.append("<section><h2>Assignment rules</h2><ul>")
        out += [f"<li class='{'note' if v['severity'] == 'note' else 'bad'}'>{esc(violation_text(v))}</li>"
                for v in r.violations]
        out.append("</ul></section>")
    errors = {c["grade_id"]: c for c in r.cells}
    for part in assignment.parts:
        got = r.parts.get(part.grade_id, {"score": 0.0, "checks": [], "note": "not graded"})
        ok = got["score"] >= part.points and part.points > 0
        # the instructor's heading, its $math$ as MathML (no script, no network: grader/math_text.py)
        out.append(f"<section><h2 class='{'ok' if ok else 'bad'}'>{'&#10003;' if ok else '&#10007;'} "
                   f"{title_html(part.title)} <small>({esc(part.grade_id)})</small>: {got['score']:g} / "
                   f"{part.points:g}</h2>")
        if got["note"]:
            out.append(f"<p>{esc(note_text(got['note'], r.failure, cells))}</p>")
        for check in got["checks"]:
            if not check["ok"]:
                out.append(render_check(check))
        out.append("</section>")
    if errors:
        vouch = assignment_vouch(assignment)
        out.append("<section><h2>Errors in your cells</h2><ul>")
        out += [f"<li>cell '{esc(gid)}' raised {esc(cell_error(c, vouch))}</li>" for gid, c in errors.items()]
        out.append("</ul></section>")
    out.append(f"<p><small>Graded {esc(r.graded_at)} in a sandbox ({esc(r.isolation)}).</small></p>")
    return "\n".join(out)


def cell_error(cell: dict, vouch: Vouched = NOTHING) -> str:
    """An answer cell's exception, shown like a harvest's: a cell run after a harvest could otherwise put
    the hidden inputs it caught into its message, or its class's name."""
    return student_error(f"{cell['ename']}: {cell['evalue']}" if cell["evalue"] else cell["ename"], vouch)


def assignment_vouch(assignment: Assignment) -> Vouched:
    """What an answer cell's exception may show: the numbers and names of every check of the assignment, and
    the names the released notebook uses (the instructor wrote them)."""
    code = "\n".join(source_of(c) for c in assignment.template["cells"] if c["cell_type"] == "code")
    vouch = Vouched(names=frozenset(identifiers(code)))
    for part in assignment.parts:
        for probe in part.probes:
            vouch |= probe.vouched()
    return vouch


def failure_text(failure: dict) -> str:
    """Why the run stopped, as the student reads it: the grader's words, without what the student's code chose
    there (an exit code, a signal, what the kernel said of where it was stopped)."""
    reason = str(failure.get("reason", ""))
    if failure.get("kind") == "grader":
        return "the grader itself failed on this submission; it will be retried on the next run"
    if reason.startswith(GUARD):
        return f"{GUARD}; the run was stopped"
    for pattern, said in STOPPED_BY_STUDENT:
        reason = pattern.sub(said, reason)
    return reason


def note_text(note: str, failure: dict | None, cells: set) -> str:
    """A part's note, with the run's failure in it told as failure_text tells it."""
    if not failure or str(failure.get("reason", "")) not in note:
        return note
    where = f" at cell '{failure['cell']}'" if failure.get("cell") in cells else ""
    return f"not reached: the notebook stopped{where} ({failure_text(failure)})"


def violation_text(violation: dict) -> str:
    """A rule broken, as the page says it (SUBMITTED_FINDINGS)."""
    if violation.get("code") in SUBMITTED_FINDINGS:
        return str(violation.get("message", ""))
    where = f" in cell '{violation['cell']}'" if violation.get("cell") else ""
    return (f"{violation.get('code')}{where}: a rule of this assignment was broken; your instructor has the "
            "details and will review it")


def render_check(check: dict) -> str:
    """A failed check: what was checked (and on which input set, when a part has several), and autodiff_lab.check's
    report (shape, worst entry, diagnosis)."""
    where = f" <span class='set'>({esc(check['input_set'])})</span>" if check.get("input_set") else ""
    return f"<div><p class='bad'><b>{esc(check['title'])}</b>{where}</p><pre>{esc(check['text'])}</pre></div>"


def check_line(check: dict) -> str:
    """A failed check as one plain-text line (the autograded notebook)."""
    where = f" ({check['input_set']})" if check.get("input_set") else ""
    return f"{check['title']}{where}: {check['text']}"


def write_autograded(root: Path, result: Result, assignment: Assignment) -> Path:
    """autograded/<student>/<assignment>/<notebook>.ipynb, where formgrader shows a submission: the released
    notebook with the student's answers, and under each test cell the verdicts (never the hidden tests)."""
    nb = copy.deepcopy(assignment.template)
    for cell in nb["cells"]:
        gid = grade_id(cell)
        if gid in result.answers:
            cell["source"] = result.answers[gid]
        part = result.parts.get(gid)
        if part is not None and cell["cell_type"] == "code":
            note = note_text(part["note"], result.failure, {grade_id(c) for c in nb["cells"]})
            lines = [f"{part['score']:g} / {part['points']:g} points" + (f": {note}" if note else "")]
            lines += [check_line(c) for c in part["checks"] if not c["ok"]]
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "\n".join(lines) + "\n"}]
    path = root / "autograded" / result.student / assignment.id / assignment.notebook
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8", errors="replace")
    return path


def feedback_path(root: Path, result: Result, assignment: Assignment) -> Path:
    """Where nbgrader's release_feedback looks: feedback/<student>/<assignment>/<notebook>.html."""
    return root / "feedback" / result.student / assignment.id / (Path(assignment.notebook).stem + ".html")


def write_feedback(root: Path, result: Result, assignment: Assignment) -> Path:
    path = feedback_path(root, result, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result, assignment), encoding="utf-8", errors="replace")
    return path
