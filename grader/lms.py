"""Grades into the LMS, part one: the roster, and which roster student each submission is.

A roster is a CSV file with a row per student: a plain `id,name,email`, or straight what the LMS exports
(Canvas's gradebook export: Student, ID, SIS User ID, SIS Login ID, Section, assignment columns, and a
"Points Possible" row; Moodle's grades or participants export: First name, Last name, ID number, Email
address, ...). Column headers are read case-insensitively, with the synonyms in HEADERS.

A submission's student id (grader.collect.student_id: the name it was handed in under, percent-encoded where
it is not a letter or digit) is read back to that name and matched to a roster row by any of:

    id      the name is exactly one of the row's ids (LMS id, SIS User ID, SIS Login ID, username)
    email   the name is the row's email address, or the part before its '@' (case-insensitively)
    name    the name is the row's name after Unicode NFC normalisation and case folding ("Lovelace, Ada" is
            also "Ada Lovelace"; Moodle's first and last name make one name)

A submission is matched when these rules point at exactly one roster row. Anything else (no row, or two
rows) is unmatched: it is reported with the closest roster rows (difflib) and never guessed. Two submissions
that match one roster row are an error naming both.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

HEADERS = {   # a roster column's header (folded, '_' and '-' read as spaces) -> what it holds
    "id": "lms_id", "lms id": "lms_id", "user id": "lms_id", "student id": "lms_id", "canvas id": "lms_id",
    "canvas user id": "lms_id", "id number": "lms_id", "idnumber": "lms_id",
    "sis user id": "sis_user_id", "sis id": "sis_user_id", "sis login id": "sis_login_id", "login id": "sis_login_id",
    "username": "username", "user name": "username", "section": "section",
    "student": "name", "name": "name", "student name": "name", "full name": "name", "fullname": "name",
    "first name": "first", "firstname": "first", "given name": "first",
    "last name": "last", "lastname": "last", "surname": "last", "family name": "last",
    "email": "email", "email address": "email", "e mail": "email", "e mail address": "email", "mail": "email",
}
NOT_STUDENTS = {"points possible", "muted", "manual posting"}   # Canvas's rows under its header
CANVAS_COLUMN = re.compile(r"^(?P<title>.*\S)\s*\((?P<id>\d+)\)$")   # "A2: VJPs (48213)"
CANDIDATES = 3
CUTOFF = 0.6


class RosterError(ValueError):
    """A roster that cannot be read, or a match that must not be made: the message says which and why."""


@dataclass
class Student:
    """One roster row, as the LMS wrote it."""

    name: str = ""            # "Lovelace, Ada" (Canvas), "Ada Lovelace" (Moodle's first and last, or a plain roster)
    email: str = ""
    lms_id: str = ""          # Canvas's ID, Moodle's ID number, a plain roster's id
    sis_user_id: str = ""
    sis_login_id: str = ""
    username: str = ""
    section: str = ""
    first: str = ""
    last: str = ""
    line: int = 0             # its row in the roster file (the header is row 1)

    @property
    def ids(self) -> set[str]:
        return {i for i in (self.lms_id, self.sis_user_id, self.sis_login_id, self.username) if i}

    @property
    def names(self) -> set[str]:
        """The row's name, folded, in each form the LMS writes it."""
        forms = {self.name}
        if self.first and self.last:
            forms |= {f"{self.first} {self.last}", f"{self.last}, {self.first}"}
        else:
            forms.add(self.first or self.last)
        if self.name.count(",") == 1:   # Canvas's sortable name: "Last, First"
            last, first = self.name.split(",")
            forms.add(f"{first.strip()} {last.strip()}")
        return {fold(f) for f in forms} - {""}

    @property
    def full_name(self) -> str:
        return self.name or " ".join(x for x in (self.first, self.last) if x)

    def keys(self) -> set[str]:
        """What a near miss is measured against (for the candidates, never for matching)."""
        local = fold(self.email).partition("@")[0]
        words = {w for n in self.names for w in n.replace(",", " ").split()}
        return (self.names | words | {local, fold(self.email)} | {fold(i) for i in self.ids}) - {""}

    def label(self) -> str:
        """The row as a person finds it in the LMS: its name and ids."""
        bits = [f"{what} {value}" for what, value in (("ID", self.lms_id), ("SIS user", self.sis_user_id),
                                                      ("login", self.sis_login_id), ("username", self.username),
                                                      ("email", self.email)) if value]
        name = self.full_name or "(no name)"
        return f"{name} ({', '.join(bits)}; roster row {self.line})" if bits else f"{name} (roster row {self.line})"


@dataclass
class Roster:
    students: list[Student]
    columns: list[str]        # the header, as written
    kind: str                 # "canvas", "moodle" or "plain": which export it looks like
    path: Path | None = None

    def canvas_columns(self) -> list[tuple[str, str, str]]:
        """(header, title, Canvas assignment id) of each assignment column of a Canvas export."""
        return [(c, m["title"], m["id"]) for c in self.columns if (m := CANVAS_COLUMN.match(c.strip()))]


@dataclass
class Match:
    student: str              # the submission's student id (grades.csv's `student`)
    row: Student | None       # None: unmatched
    how: str = ""             # "id", "email", "name" (what matched), or why it is unmatched
    candidates: list[Student] = field(default_factory=list)

    @property
    def name(self) -> str:
        return submission_name(self.student)


def fold(text: str) -> str:
    """A name as matching compares it: NFC, case folded, outer spaces gone."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text or "").casefold()).strip()


def unaccented(text: str) -> str:
    """`text` without its combining marks ("ève" -> "eve"): to rank candidates, never to match."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def submission_name(student: str) -> str:
    """The name a student id was made from (grader.collect.student_id percent-encodes all but letters, digits
    and '-_.'; an id cut for length keeps its first part)."""
    return unquote(student, errors="replace")


def header_field(header: str) -> str | None:
    key = " ".join(fold(header).replace("_", " ").replace("-", " ").split())
    return HEADERS.get(key)


def read_roster(path: str | Path) -> Roster:
    """The roster in a CSV file (comma, semicolon or tab separated; UTF-8, with or without a byte-order mark)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"no roster at {path}") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path} is not UTF-8 text: save the roster as 'CSV UTF-8' and try again") from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise RosterError(f"{path} is empty: a roster needs a header row (e.g. id,name,email) and a row per student")
    header = rows[0]
    fields: dict[str, int] = {}
    for i, h in enumerate(header):
        f = header_field(h)
        if f is None:
            continue
        if f in fields:
            raise RosterError(f"{path}: columns {header[fields[f]]!r} and {h!r} both give the {f.replace('_', ' ')}; "
                              "keep one of them")
        fields[f] = i
    if not ({"name", "first", "last"} & fields.keys() and {"lms_id", "sis_user_id", "sis_login_id", "username",
                                                            "email"} & fields.keys()):
        raise RosterError(f"{path}: a roster needs a name column (name, Student, or First name and Last name) and an "
                          f"id or email column (id, ID number, SIS Login ID, Email address, ...); its header is "
                          f"{', '.join(header)}")
    folded = {fold(h) for h in header}
    kind = "canvas" if {"student", "sis login id"} <= folded or {"student", "id", "section"} <= folded else \
        "moodle" if {"first name", "last name"} <= folded else "plain"
    students = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row) or (kind == "canvas" and fold(row[0]) in NOT_STUDENTS):
            continue
        values = {f: (row[i].strip() if i < len(row) else "") for f, i in fields.items()}
        students.append(Student(**{k: unicodedata.normalize("NFC", v) for k, v in values.items()}, line=line))
    return Roster(students, header, kind, path)


def match_one(student: str, roster: Roster) -> Match:
    """The roster row `student` (a submission's id) names, by the rules above; unmatched with candidates when
    no row or more than one does."""
    name = submission_name(student)
    key = fold(name)
    hits: dict[int, tuple[Student, set[str]]] = {}
    for row in roster.students:
        how = set()
        if name in row.ids or student in row.ids:
            how.add("id")
        email = fold(row.email)
        if email and (key == email or ("@" not in key and key == email.partition("@")[0])):
            how.add("email")
        if key in row.names:
            how.add("name")
        if how:
            hits[id(row)] = (row, how)
    if len(hits) == 1:
        (row, how), = hits.values()
        return Match(student, row, "+".join(sorted(how)))
    if hits:
        rows = [row for row, _ in hits.values()]
        return Match(student, None, f"it matches {len(rows)} roster rows: " + "; ".join(
            f"{row.label()} by {'+'.join(sorted(how))}" for row, how in hits.values()), rows)
    return Match(student, None, "no roster row has this id, email or name", candidates(name, roster))


def candidates(name: str, roster: Roster, n: int = CANDIDATES) -> list[Student]:
    """The roster rows closest to `name` (difflib's ratio over each row's names, email and ids)."""
    key, bare = fold(name), unaccented(fold(name))
    best = []
    for row in roster.students:   # a name that differs only in its accents comes first
        ratio = max((max(difflib.SequenceMatcher(None, key, k).ratio(),
                         difflib.SequenceMatcher(None, bare, unaccented(k)).ratio()) for k in row.keys()), default=0.0)
        if ratio >= CUTOFF:
            best.append((-ratio, row.line, row))
    return [row for _, _, row in sorted(best, key=lambda t: t[:2])[:n]]


def match_all(students: list[str], roster: Roster) -> list[Match]:
    """A Match per submission. Raises RosterError naming them when two submissions match one roster row."""
    matches = [match_one(s, roster) for s in students]
    taken: dict[int, list[Match]] = {}
    for m in matches:
        if m.row is not None:
            taken.setdefault(id(m.row), []).append(m)
    clashes = [ms for ms in taken.values() if len(ms) > 1]
    if clashes:
        raise RosterError("two or more submissions match one roster student, and one of them is not that student: "
                          + "; ".join(f"{ms[0].row.label()} is matched by " + " and by ".join(
                              f"{m.student!r} ({m.how})" for m in ms) for ms in clashes)
                          + ". Rename the submission that is not theirs (or fix the roster) and export again")
    return matches


def describe_unmatched(m: Match) -> str:
    """One line for a submission matched to no roster row."""
    if m.row is None and m.candidates and m.how.startswith("it matches"):
        return f"{m.student}: {m.how}"
    closest = "; ".join(c.label() for c in m.candidates) or "none close"
    return f"{m.student}: {m.how}; closest on the roster: {closest}"
