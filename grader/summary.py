"""The class at a glance: grades.csv (one row per student, one column per part), and a summary picture
(score histogram, pass rate per part) with an HTML page around it, which also lists how the entries were
found (misnamed folders, extra copies) and the students whose answers are identical."""

from __future__ import annotations

import ast
import base64
import csv
import html
import io
import os
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from .assignment import Assignment
from .runner import STATUSES, Result
from .structure import nbgrader_meta, normalized

FILLER = {"pass", "raise NotImplementedError()", "raise NotImplementedError", "..."}
ENTRY_CODES = ("misnamed-folder", "duplicate-copies", "extra-notebook", "odd-file-name", "id-clash")


def write_csv(path: Path, results: list[Result], assignment: Assignment) -> list[str]:
    """student, assignment, score, max_score, one column per part, status, policy, reason. Returns the students
    of the rows written."""
    parts = [p.grade_id for p in assignment.parts]
    tmp = path.with_name(path.name + ".tmp")   # replaced at once: never half a file (a full disk, a kill)
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "score", "max_score", *parts, "status", "policy", "reason"])
        for r in results:
            policy = ";".join(sorted({v["code"] for v in r.violations}))
            reason = r.failure["reason"] if r.failure else ""
            w.writerow([r.student, r.assignment, f"{r.score:g}", f"{r.max_score:g}",
                        *(f"{r.parts[g]['score']:g}" for g in parts), r.status, policy, reason])
    os.replace(tmp, path)
    return [r.student for r in results]


def answer_key(source: str) -> str:
    """An answer as code, whatever its comments and layout (as Python prints its syntax tree back), without
    the stub's lines and `pass`: what the student wrote."""
    try:
        source = ast.unparse(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    lines = (" ".join(line.split()) for line in normalized(source))
    return "\n".join(x for x in lines if not x.startswith("#") and x not in FILLER)


def identical_answers(results: list[Result], assignment: Assignment) -> list[list[str]]:
    """Groups of two or more students whose answers are identical (as code: comments and layout aside), over
    the answer cells each changed from its stub. Students who answered nothing are in no group."""
    stubs = {nbgrader_meta(c).get("grade_id"): answer_key(c["source"]) for c in assignment.template["cells"]
             if nbgrader_meta(c).get("solution")}
    groups: dict[tuple, list[str]] = {}
    for r in results:
        answered = tuple(sorted((gid, key) for gid, src in r.answers.items()
                                if (key := answer_key(src)) != stubs.get(gid) and key))
        if answered:
            groups.setdefault(answered, []).append(r.student)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def pass_rates(results: list[Result], assignment: Assignment) -> dict[str, float]:
    """The fraction of the class with full points on each part."""
    n = max(len(results), 1)
    return {p.grade_id: sum(r.parts[p.grade_id]["score"] >= p.points for r in results) / n for p in assignment.parts}


def picture(results: list[Result], assignment: Assignment) -> bytes:
    """PNG: the score histogram next to the pass rate of each part."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1, 1.4]})
    scores = [r.score for r in results]
    bins = min(int(assignment.max_score), 20) or 1
    left.hist(scores, bins=bins, range=(0, assignment.max_score), color="#4c72b0", edgecolor="white")
    left.set(title=f"{assignment.id}: scores ({len(results)} students)", xlabel="score", ylabel="students")
    left.yaxis.set_major_locator(MaxNLocator(integer=True))  # students come whole
    rates = pass_rates(results, assignment)
    right.barh(list(rates)[::-1], [100 * v for v in rates.values()][::-1], color="#55a868")
    right.set(title="full points per part", xlabel="% of the class", xlim=(0, 100))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def write_summary(folder: Path, results: list[Result], assignment: Assignment, feedback: dict[str, str], *,
                  entries: int | None = None) -> None:
    """summary.png and summary.html (which embeds it) in `folder`; `feedback` maps students to page links,
    `entries` is how many entries the submissions held."""
    png = picture(results, assignment)
    (folder / "summary.png").write_bytes(png)
    esc = html.escape
    statuses = Counter(r.status for r in results)
    head = "".join(f"<th>{esc(p.grade_id)}<br><small>{p.points:g}</small></th>" for p in assignment.parts)
    rows = []
    for r in results:
        cells = "".join(f"<td>{r.parts[p.grade_id]['score']:g}</td>" for p in assignment.parts)
        link = f"<a href='{esc(quote(feedback.get(r.student, '')))}'>{esc(r.student)}</a>"   # ids may hold '%'
        rows.append(f"<tr class='{esc(r.status)}'><td>{link}</td><td>{esc(r.status)}</td>"
                    f"<td><b>{r.score:g}</b> / {r.max_score:g}</td>{cells}</tr>")
    mean = sum(r.score for r in results) / max(len(results), 1)
    found = [f"<li>{esc(r.student)}: {esc(v['message'])}</li>" for r in results for v in r.violations
             if v["code"] in ENTRY_CODES]
    entries_line = f"{entries} entries found in the submissions, in {len(results)} rows. " if entries is not None \
        else ""
    same = [f"<li>{', '.join(esc(s) for s in group)}</li>" for group in identical_answers(results, assignment)]
    page = f"""<!doctype html><meta charset='utf-8'><title>{esc(assignment.id)}: class summary</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:.2rem .5rem;text-align:center}}tr:not(.ok) td:nth-child(2){{color:#b42318}}</style>
<h1>{esc(assignment.id)}: class summary</h1>
<p>{len(results)} submissions, mean score {mean:.2f} / {assignment.max_score:g}. Statuses: {
        ', '.join(f'{esc(s)} {statuses[s]}' for s in STATUSES if statuses[s])}.</p>
<img alt='score histogram and pass rate per part' src='data:image/png;base64,{base64.b64encode(png).decode()}'>
<table><tr><th>student</th><th>status</th><th>score</th>{head}</tr>{''.join(rows)}</table>
<h2>Entries</h2><p>{entries_line}{'How some were found (each row needs a look):' if found else
    'Each was found where and as expected.'}</p><ul>{''.join(found)}</ul>
<h2>Identical answers</h2><p>{'Students whose answer cells are all identical (comments and layout aside):' if same
    else 'No two students handed in identical answers.'}</p><ul>{''.join(same)}</ul>
"""
    (folder / "summary.html").write_text(page, encoding="utf-8")
