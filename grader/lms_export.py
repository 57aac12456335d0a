"""Grades into the LMS, part two: one assignment's scores in the gradebook-import CSV of Canvas or Moodle.

    canvas   Student, ID, SIS User ID, SIS Login ID, Section, "<title> (<Canvas assignment id>)" (or "<title>"),
             a "Points Possible" row under the header, then a row per roster student (Canvas's Grades >
             Import). Canvas finds each student by ID, SIS User ID or SIS Login ID.
    moodle   an identifier column ("Email address", "ID number" or "Username") and a column per grade item
             (here one: "<title>"); Moodle's Grades > Import > CSV file maps the first to "useremail",
             "useridnumber" or "username" and the second to the grade item.

Every roster student gets a row: their final score, or 0 when they submitted nothing (flagged). The score is
grades.csv's, with what a person entered in the gradebook (<out>/gradebook.db) winning as in nbgrader's own
export: a part's manual score replaces its automatic one, extra credit is added, a late penalty taken off.
Beside the import file, a report (<name>-flags.csv) lists each student to look at: no submission, a status
other than `ok`, a manual score, a submission left out (--allow-unmatched).
"""

from __future__ import annotations

import csv
import os
import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from .lms import Match, RosterError, Student, describe_unmatched, fold, match_all, read_roster

FORMATS = ("canvas", "moodle")
MOODLE_IDS = {"email": "Email address", "idnumber": "ID number", "username": "Username"}
POINTS_POSSIBLE = "    Points Possible"   # as Canvas writes it, indented
REPORT_HEADER = ["roster name", "lms ids", "email", "submission", "score", "flag", "detail"]

MANUAL_GRADES = """
SELECT s.student_id, c.name, g.manual_score, g.extra_credit, n.late_submission_penalty
FROM grade g JOIN submitted_notebook n ON g.notebook_id = n.id JOIN submitted_assignment s ON n.assignment_id = s.id
JOIN assignment a ON s.assignment_id = a.id JOIN base_cell c ON g.cell_id = c.id
WHERE a.name = ? AND (g.manual_score IS NOT NULL OR g.extra_credit IS NOT NULL
                      OR COALESCE(n.late_submission_penalty, 0) != 0)
"""   # what a person entered for an assignment: nbgrader's Grade.score is manual (else auto) + extra credit


class Unmatched(RosterError):
    """Submissions that match no roster row, with --allow-unmatched not given: nothing was written."""

    def __init__(self, matches: list[Match]) -> None:
        self.matches = matches
        listed = "\n".join(f"  {describe_unmatched(m)}" for m in matches)
        super().__init__(f"{len(matches)} submission(s) match no roster student or more than one, so nothing "
                         f"was written (a name is never guessed):\n{listed}"
                         + "\nFix the roster or the submission's name and export again, or give --allow-unmatched "
                           "to export without them (they are listed in the flags report)")


@dataclass
class Score:
    student: str
    score: float
    max_score: float
    status: str
    parts: dict[str, float]
    reason: str = ""
    manual: list[str] = field(default_factory=list)   # what a person entered: "test_matmul 2 (manual)", ...


@dataclass
class Line:
    """A row of the export: a roster student and their score (None: no submission, exported as 0)."""

    row: Student
    score: Score | None
    flags: list[tuple[str, str]] = field(default_factory=list)   # (flag, detail)

    @property
    def points(self) -> float:
        return self.score.score if self.score else 0.0


@dataclass
class Export:
    path: Path
    report: Path
    fmt: str
    header: list[str]
    lines: list[Line]
    matches: list[Match]
    gradebook: bool           # whether a gradebook was read for manual scores
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[Line]:
        return [x for x in self.lines if x.score is None]

    @property
    def unmatched(self) -> list[Match]:
        return [m for m in self.matches if m.row is None]


def number(x: float) -> str:
    """A score as the LMS reads it: at most two decimals, no trailing zeros ("14.5", "15", "0")."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def read_grades(path: Path) -> list[Score]:
    """grades.csv's rows (student, assignment, score, max_score, a column per part, status, policy, reason)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows, header = list(reader), reader.fieldnames or []
    except FileNotFoundError:
        raise RosterError(f"no grades at {path}: grade the assignment first (autodiff-lab grade)") from None
    if not {"student", "score", "max_score", "status", "policy", "reason"} <= set(header):
        raise RosterError(f"{path} is not a grades.csv of autodiff-lab grade (its header: {', '.join(header)})")
    if not rows:
        raise RosterError(f"{path} holds no submissions: nothing to export")
    parts = header[header.index("max_score") + 1:header.index("status")]
    scores = []
    for line, r in enumerate(rows, start=2):
        try:
            scores.append(Score(r["student"], float(r["score"]), float(r["max_score"]), r["status"],
                                {p: float(r[p]) for p in parts}, "; ".join(x for x in (
                                    r["reason"], r["policy"] and f"rules broken: {r['policy']}") if x)))
        except (KeyError, TypeError, ValueError):
            raise RosterError(f"{path}, line {line}: not a row as autodiff-lab grade writes it ({r})") from None
    return scores


def apply_gradebook(scores: list[Score], db: Path, assignment: str) -> bool:
    """Make each score final with what a person entered in nbgrader's gradebook (read-only): a part's manual
    score replaces the automatic one, extra credit adds, a late penalty subtracts (never below 0), as nbgrader's
    export counts. Returns whether there was a gradebook to read."""
    if not db.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            entered = conn.execute(MANUAL_GRADES, (assignment,)).fetchall()
    except sqlite3.Error as err:
        raise RosterError(f"could not read the gradebook {db} ({err})") from None
    by_student = {s.student: s for s in scores}
    penalties: dict[str, float] = {}
    for student, part, manual, extra, penalty in entered:
        s = by_student.get(student)
        if s is None or part not in s.parts:
            continue
        if manual is not None:
            s.manual.append(f"{part} {number(manual)} (manual; automatic {number(s.parts[part])})")
            s.parts[part] = manual
        if extra:
            s.manual.append(f"{part} +{number(extra)} (extra credit)")
            s.parts[part] += extra
        if penalty:
            penalties[student] = penalty
    for student, penalty in penalties.items():
        by_student[student].manual.append(f"late penalty -{number(penalty)}")
    for s in scores:
        if s.manual:
            s.score = max(0.0, sum(s.parts.values()) - penalties.get(s.student, 0.0))
    return True


def canvas_column(roster, title: str, canvas_id: str | None) -> tuple[str, str]:
    """The assignment's column, and a note for the user: "<title> (<id>)" with the id given, else the one
    column of a Canvas export roster titled so, else the title alone (Canvas then makes a new assignment)."""
    if canvas_id:
        return f"{title} ({canvas_id})", ""
    columns = roster.canvas_columns()
    found = [c for c, t, _ in columns if fold(t) == fold(title)]
    if len(found) > 1:
        raise RosterError(f"the roster has {len(found)} columns titled {title!r} ({', '.join(found)}): give "
                          "--canvas-id to say which")
    if found:
        return found[0], f"the column is the roster's own {found[0]!r}: Canvas updates that assignment"
    note = f"no Canvas assignment id known: Canvas will make a new assignment {title!r} of the points possible"
    if columns:
        note += (f". The roster's assignments are {', '.join(repr(c) for c, _, _ in columns)}: give --title (and "
                 "--canvas-id) to grade one of them")
    return title, note


def build_lines(roster, matches: list[Match], scores: dict[str, Score]) -> list[Line]:
    """A Line per roster student, in the roster's order, with its flags."""
    by_row = {id(m.row): m for m in matches if m.row is not None}
    near = {}
    for m in matches:
        for c in (m.candidates if m.row is None else []):
            near.setdefault(id(c), []).append(m.student)
    lines = []
    for row in roster.students:
        m = by_row.get(id(row))
        line = Line(row, scores[m.student] if m else None)
        if m is None:
            hint = f"; close to a submission left out: {', '.join(near[id(row)])}" if id(row) in near else ""
            line.flags.append(("no-submission", "no submission matched this student: exported as 0" + hint))
        else:
            s = line.score
            if s.status != "ok":
                line.flags.append((f"status {s.status}", s.reason or "see the class summary and the feedback"))
            if s.manual:
                line.flags.append(("manual-score", "; ".join(s.manual)))
        lines.append(line)
    return lines


def write_rows(path: Path, rows: list[list[str]]) -> None:
    """A CSV file (UTF-8, comma separated, quoted as needed), replaced at once: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    os.replace(tmp, path)


def export(assignment: str, out: str | Path, roster_path: str | Path, fmt: str, *, to: str | Path | None = None,
           title: str | None = None, canvas_id: str | None = None, moodle_id: str = "email",
           allow_unmatched: bool = False) -> Export:
    """Write `assignment`'s grades (from <out>/<assignment>/grades.csv and <out>/gradebook.db) for the LMS
    `fmt`, one row per student of the roster, and the flags report beside it. Raises RosterError (Unmatched for
    submissions no roster row matches) with a message for the user; then nothing is written."""
    if fmt not in FORMATS:
        raise RosterError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    if moodle_id not in MOODLE_IDS:
        raise RosterError(f"unknown Moodle identifier {moodle_id!r}: one of {', '.join(MOODLE_IDS)}")
    out = Path(out)
    scores = read_grades(out / assignment / "grades.csv")
    gradebook = apply_gradebook(scores, out / "gradebook.db", assignment)
    roster = read_roster(roster_path)
    matches = match_all([s.student for s in scores], roster)
    unmatched = [m for m in matches if m.row is None]
    if unmatched and not allow_unmatched:
        raise Unmatched(unmatched)
    lines = build_lines(roster, matches, {s.student: s for s in scores})
    title, notes = title or assignment, []
    max_score = max(s.max_score for s in scores)
    if fmt == "canvas":
        column, note = canvas_column(roster, title, canvas_id)
        notes.append(note)
        nameless = [x.row.label() for x in lines if not (x.row.lms_id or x.row.sis_user_id or x.row.sis_login_id)]
        header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column]
        table = [header, [POINTS_POSSIBLE, "", "", "", "", number(max_score)]] + [
            [x.row.full_name, x.row.lms_id, x.row.sis_user_id, x.row.sis_login_id, x.row.section, number(x.points)]
            for x in lines]
        needs = "an ID, SIS User ID or SIS Login ID (Canvas finds students by these)"
    else:
        key = {"email": "email", "idnumber": "lms_id", "username": "username"}[moodle_id]
        nameless = [x.row.label() for x in lines if not getattr(x.row, key)]
        header = [MOODLE_IDS[moodle_id], title]
        table = [header] + [[getattr(x.row, key), number(x.points)] for x in lines]
        needs = f"the {MOODLE_IDS[moodle_id]} that Moodle finds students by (--moodle-id chooses another)"
    if nameless:
        raise RosterError(f"{len(nameless)} roster student(s) lack {needs}, so nothing was written: "
                          + "; ".join(nameless))
    path = Path(to) if to else out / assignment / "lms" / f"{fmt}-import.csv"
    report = path.with_name(f"{path.stem}-flags.csv")
    flagged = [[x.row.full_name, ", ".join(sorted(x.row.ids)), x.row.email,
                x.score.student if x.score else "", number(x.points), flag, detail]
               for x in lines for flag, detail in x.flags]
    flagged += [["", "", "", m.student, number(scores_of(scores, m.student)), "unmatched-submission",
                 "left out of the export (--allow-unmatched): " + describe_unmatched(m)] for m in unmatched]
    write_rows(path, table)
    write_rows(report, [REPORT_HEADER, *flagged])
    return Export(path, report, fmt, header, lines, matches, gradebook, [n for n in notes if n])


def scores_of(scores: list[Score], student: str) -> float:
    return next(s.score for s in scores if s.student == student)


MOODLE_MAP_TO = {"email": "useremail", "idnumber": "useridnumber", "username": "username"}


def summary_lines(e: Export) -> list[str]:
    """What `autodiff-lab export` prints: the counts, every flagged student, the files written."""
    matched = [m for m in e.matches if m.row is not None]
    hows = Counter(m.how for m in matched)
    lines = [f"{e.fmt}: {len(e.lines)} roster students; {len(matched)} of {len(e.matches)} submissions matched"
             + (f" ({', '.join(f'{n} by {how}' for how, n in sorted(hows.items()))})" if hows else "")]
    if e.missing:
        lines.append(f"no submission (exported as 0, flagged): {len(e.missing)}: "
                     + "; ".join(x.row.label() for x in e.missing))
    not_ok = [x.score for x in e.lines if x.score and x.score.status != "ok"]
    if not_ok:
        lines.append("status not ok (exported with their score, flagged): "
                     + ", ".join(f"{s.student} ({s.status})" for s in not_ok))
    manual = [x.score for x in e.lines if x.score and x.score.manual]
    if manual:
        lines.append("entered in the gradebook (the final score counts it): "
                     + "; ".join(f"{s.student}: {', '.join(s.manual)}" for s in manual))
    elif not e.gradebook:
        lines.append("no gradebook.db in the course folder: automatic scores only")
    if e.unmatched:
        lines.append(f"left out (--allow-unmatched): {len(e.unmatched)} submission(s) matching no roster student:")
        lines += [f"  {describe_unmatched(m)}" for m in e.unmatched]
    if e.fmt == "canvas":
        how = "Canvas: Grades > Import, this file (a 'Points Possible' row under the header)"
    else:
        how = (f"Moodle: Grades > Import > CSV file; map '{e.header[0]}' to {MOODLE_MAP_TO[moodle_key(e.header[0])]}"
               f" and '{e.header[1]}' to the grade item")
    lines += e.notes
    lines.append(f"written: {e.path} (columns: {', '.join(e.header)}); import it in {how}")
    flags = sum(len(x.flags) for x in e.lines) + len(e.unmatched)
    lines.append(f"flags: {e.report} ({flags} row{'s' * (flags != 1)})")
    return lines


def moodle_key(header: str) -> str:
    return next(k for k, h in MOODLE_IDS.items() if h == header)
