"""One feedback page per student: the score, what went wrong the way autodiff_lab.check reports it
(argument, shape, worst entry, diagnosis), the policy notes. Built only from the verdicts: it never contains
hidden test source or tracebacks from hidden lines, and everything that came from the student is escaped."""

from __future__ import annotations

import copy
import html
import json
from pathlib import Path

from .assignment import Assignment
from .probes import student_error
from .runner import Result
from .structure import grade_id

STATUS_TEXT = {
    "ok": "graded",
    "timeout": "stopped: a cell ran past its time limit",
    "crashed": "stopped: the notebook's kernel died",
    "invalid": "not graded: the notebook could not be read",
    "tampered": "graded, but the notebook broke the grading rules (see below)",
    "needs-manual-grade": "graded automatically; your instructor will confirm the grade",
}
CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}.score{font-size:1.2rem}.ok{color:#1a7f37}.bad{color:#b42318}.note{color:#8a6100}
section{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}
pre{background:#f6f8fa;padding:.5rem;white-space:pre-wrap}"""


def esc(x) -> str:
    return html.escape(str(x))


def render(result: Result, assignment: Assignment) -> str:
    r = result
    out = [f"<!doctype html><meta charset='utf-8'><title>{esc(assignment.id)}: {esc(r.student)}</title>",
           f"<style>{CSS}</style>",
           f"<h1>{esc(assignment.id)}: feedback for {esc(r.student)}</h1>",
           f"<p class='score'>Score: <b>{r.score:g} / {r.max_score:g}</b> &middot; status <b>{esc(r.status)}</b>: "
           f"{esc(STATUS_TEXT[r.status])}</p>"]
    if r.failure:
        where = f" (at cell '{esc(r.failure['cell'])}')" if r.failure.get("cell") else ""
        out.append(f"<p class='bad'>{esc(r.failure['reason'])}{where}. Parts graded before this kept their "
                   "points; the later ones could not be graded.</p>")
    if r.violations:
        out.append("<section><h2>Assignment rules</h2><ul>")
        out += [f"<li class='{'note' if v['severity'] == 'note' else 'bad'}'>{esc(v['message'])}</li>"
                for v in r.violations]
        out.append("</ul></section>")
    errors = {c["grade_id"]: c for c in r.cells}
    for part in assignment.parts:
        got = r.parts.get(part.grade_id, {"score": 0.0, "checks": [], "note": "not graded"})
        ok = got["score"] >= part.points and part.points > 0
        out.append(f"<section><h2 class='{'ok' if ok else 'bad'}'>{'&#10003;' if ok else '&#10007;'} "
                   f"{esc(part.title)} <small>({esc(part.grade_id)})</small>: {got['score']:g} / {part.points:g}"
                   "</h2>")
        if got["note"]:
            out.append(f"<p>{esc(got['note'])}</p>")
        for check in got["checks"]:
            if not check["ok"]:
                out.append(render_check(check))
        out.append("</section>")
    if errors:
        out.append("<section><h2>Errors in your cells</h2><ul>")
        out += [f"<li>cell '{esc(gid)}' raised {esc(cell_error(c))}</li>" for gid, c in errors.items()]
        out.append("</ul></section>")
    out.append(f"<p><small>Graded {esc(r.graded_at)} in a sandbox ({esc(r.isolation)}).</small></p>")
    return "\n".join(out)


def cell_error(cell: dict) -> str:
    """An answer cell's exception, shown like a harvest's: a cell run after a harvest could otherwise put
    the hidden inputs it caught into its message."""
    return student_error(f"{cell['ename']}: {cell['evalue']}" if cell["evalue"] else cell["ename"])


def render_check(check: dict) -> str:
    """A failed check: what was checked, and autodiff_lab.check's report (shape, worst entry, diagnosis)."""
    return f"<div><p class='bad'><b>{esc(check['title'])}</b></p><pre>{esc(check['text'])}</pre></div>"


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
            lines = [f"{part['score']:g} / {part['points']:g} points" + (f": {part['note']}" if part["note"] else "")]
            lines += [f"{c['title']}: {c['text']}" for c in part["checks"] if not c["ok"]]
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
