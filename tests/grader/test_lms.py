"""Issue 18, part 4: grades into the LMS. A roster maps submissions to students (never guessed), and the
export is the gradebook-import CSV of Canvas or Moodle, checked cell by cell against the sample files in
grader/lms_samples/ (a Canvas gradebook export, a Moodle grades export, a plain roster, and a grades.csv of the
sample class). Fast: grades.csv and the gradebook are written by hand, nothing is graded."""

import csv
import shutil
import unicodedata
import warnings
from pathlib import Path

import pytest

from autodiff_lab.cli import main
from grader.collect import student_id
from grader.lms import RosterError, match_all, match_one, read_roster
from grader.lms_export import Unmatched, export, number

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[1] / "grader" / "lms_samples"
CANVAS = SAMPLES / "canvas_gradebook_export.csv"
MOODLE = SAMPLES / "moodle_grades_export.csv"
PLAIN = SAMPLES / "roster.csv"
A2 = "a2_vjp"
A2_TITLE = "A2: vector-Jacobian products"

# the sample class's a2_vjp grades (lms_samples/a2_vjp_grades.csv): submission -> (score, status)
SAMPLE_GRADES = {
    "ada": (15, "ok"), "ben": (8, "ok"), "cy": (13, "ok"), "dee": (0, "ok"), "eve": (5, "timeout"),
    "finn": (7, "crashed"), "gus": (9, "tampered"), "hal": (11, "crashed"), "ivy": (0, "invalid"),
    "jo": (15, "needs-manual-grade"), "kai": (12, "tampered"), "lee": (15, "needs-manual-grade"),
    "max": (10, "tampered"), "nia": (11, "needs-manual-grade"), "oli": (15, "ok"),
}
# the roster's students, as the Canvas sample lists them (sorted by sortable name): (Student, ID, login)
CANVAS_ROWS = [
    ("Berg, Gus", "10007", "gus"), ("Chen, Ivy", "10009", "ivy"), ("Durand, Ève", "10005", "edurand"),
    ("Haddad, Nia", "10014", "nia"), ("Laine, Finn", "10006", "finn"), ("Lovelace, Ada", "10001", "ada"),
    ("Moreau, Lee", "10012", "lee"), ("Nakamura, Dee", "10004", "dee"), ("Novak, Pia", "10016", "pnovak"),
    ("Okafor, Ben", "10002", "ben"), ("Osei, Hal", "10008", "hal"), ("Park, Cy", "10003", "cy"),
    ("Quinn, Oli", "10015", "oli"), ("Silva, Jo", "10010", "jo"), ("Tanaka, Kai", "10011", "kai"),
    ("Weber, Max", "10013", "max"),
]
SECTION = "Autodiff Lab (Fall 2026)"
# eve's roster row is "Ève Durand" (login edurand, email e.durand@): a near miss, never matched to "eve";
# Pia Novak submitted nothing
NOT_SUBMITTED = {"edurand", "pnovak"}


def sample_course(tmp_path: Path) -> Path:
    """A course folder holding the sample class's grades.csv for a2_vjp (no gradebook)."""
    out = tmp_path / "course"
    (out / A2).mkdir(parents=True)
    shutil.copyfile(SAMPLES / "a2_vjp_grades.csv", out / A2 / "grades.csv")
    return out


def course(tmp_path: Path, students: dict) -> Path:
    """A course folder with a grades.csv of two parts, test_a (2 points) and test_b (3): {student: (a, b, status)}."""
    out = tmp_path / "course"
    (out / A2).mkdir(parents=True)
    with open(out / A2 / "grades.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "score", "max_score", "test_a", "test_b", "status", "policy", "reason"])
        for s, (a, b, status) in students.items():
            w.writerow([s, A2, f"{a + b:g}", "5", f"{a:g}", f"{b:g}", status, "", "" if status == "ok" else "why"])
    return out


def roster_file(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rows_of(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def flags_of(path: Path) -> dict[str, list[tuple[str, str]]]:
    """The flags report: {roster name or the submission left out: [(flag, detail)]}."""
    rows = rows_of(path)
    assert rows[0] == ["roster name", "lms ids", "email", "submission", "score", "flag", "detail"]
    found: dict[str, list] = {}
    for r in rows[1:]:
        found.setdefault(r[0] or r[3], []).append((r[5], r[6]))
    return found


# ---- the roster files --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, kind, ada, eve", [
    (CANVAS, "canvas", "Lovelace, Ada", "Durand, Ève"),
    (MOODLE, "moodle", "Ada Lovelace", "Ève Durand"),
    (PLAIN, "plain", "Ada Lovelace", "Ève Durand"),
])
def test_the_sample_rosters_are_read_whatever_the_lms(path, kind, ada, eve):
    """Canvas's "Points Possible" row is no student; Moodle's byte-order mark and quoted headers are read."""
    roster = read_roster(path)
    assert roster.kind == kind and len(roster.students) == 16
    names = [s.full_name for s in roster.students]
    assert ada in names and eve in names and "Points Possible" not in " ".join(names)
    if kind == "canvas":
        assert [(s.name, s.lms_id, s.sis_login_id) for s in roster.students] == CANVAS_ROWS
        assert roster.canvas_columns()[1] == (f"{A2_TITLE} (48213)", A2_TITLE, "48213")
    else:
        assert roster.students[0].email == "ada@students.example.edu"


def test_a_semicolon_roster_with_other_headers(tmp_path):
    path = roster_file(tmp_path, "Student ID;Full Name;E-mail\n7;Ada Lovelace;ada@x.org\n")
    (s,) = read_roster(path).students
    assert (s.lms_id, s.name, s.email) == ("7", "Ada Lovelace", "ada@x.org")


@pytest.mark.parametrize("text, says", [
    ("name,grade\nAda,3\n", "an id or email column"),
    ("id,email\n1,a@x\n", "a name column"),
    ("id,name,email,ID number\n1,Ada,a@x,2\n", "both give the lms id"),
    ("", "is empty"),
])
def test_a_roster_without_the_columns_says_what_it_needs(tmp_path, text, says):
    with pytest.raises(RosterError, match=says):
        read_roster(roster_file(tmp_path, text))


# ---- matching: exact id, email, name after NFC and case folding; nothing else ------------------------------
ROSTER = """id,name,email,SIS Login ID
101,Ada Lovelace,ada.l@uni.edu,alovelace
102,José Núñez,jn@uni.edu,
103,Li Wei,li@uni.edu,
104,Li Na,li@other.edu,
105,Ève Durand,e.durand@uni.edu,
"""


@pytest.fixture
def roster(tmp_path):
    return read_roster(roster_file(tmp_path, ROSTER))


@pytest.mark.parametrize("handed_in, who, how", [
    ("101", "Ada Lovelace", "id"),                       # the LMS id
    ("alovelace", "Ada Lovelace", "id"),                 # the SIS login id
    ("ada.l@uni.edu", "Ada Lovelace", "email"),          # the email (its '@' percent-encoded in the id)
    ("ADA.L", "Ada Lovelace", "email"),                  # its local part, whatever the case
    ("ada lovelace", "Ada Lovelace", "name"),            # the name, case folded
    ("José Núñez", "José Núñez", "name"),
    (unicodedata.normalize("NFD", "JOSÉ NÚÑEZ"), "José Núñez", "name"),   # typed on macOS
])
def test_exact_keys_match(roster, handed_in, who, how):
    m = match_one(student_id(handed_in), roster)
    assert m.row is not None and (m.row.name, m.how) == (who, how)


def test_a_roster_written_in_nfd_matches_an_nfc_name(tmp_path):
    path = roster_file(tmp_path, unicodedata.normalize("NFD", "id,name,email\n1,Zoë Ørsted,z@x.org\n"))
    assert match_one(student_id("zoë ørsted"), read_roster(path)).how == "name"


@pytest.mark.parametrize("handed_in, closest", [
    ("eve", "Ève Durand"),             # differs only in an accent and case: accents are never folded
    ("Jose Nunez", "José Núñez"),
    ("ada lovelac", "Ada Lovelace"),   # a typo
    ("ada", "Ada Lovelace"),           # a first name alone is not a name
])
def test_a_near_miss_is_not_matched_and_names_its_candidates(roster, handed_in, closest):
    m = match_one(student_id(handed_in), roster)
    assert m.row is None and "no roster row" in m.how
    assert m.candidates and m.candidates[0].name == closest


def test_a_key_two_rows_share_matches_neither(roster):
    """'li' is the local part of two emails: ambiguous, so unmatched, both rows named."""
    m = match_one("li", roster)
    assert m.row is None and [c.name for c in m.candidates] == ["Li Wei", "Li Na"]
    assert "matches 2 roster rows" in m.how


def test_two_submissions_matching_one_student_is_an_error_naming_both(roster):
    with pytest.raises(RosterError) as err:
        match_all(["Ada%20Lovelace", "alovelace", "101"], roster)
    message = str(err.value)
    assert "'Ada%20Lovelace' (name)" in message and "'alovelace' (id)" in message and "'101' (id)" in message
    assert "Ada Lovelace" in message


def test_two_submissions_differing_in_case_matching_one_name_is_an_error(tmp_path):
    path = roster_file(tmp_path, "id,name,email\n1,Alice,a.smith@x.org\n")
    with pytest.raises(RosterError, match="'Alice' .* and by 'alice'"):
        match_all(["Alice", "alice"], read_roster(path))


# ---- the Canvas export ---------------------------------------------------------------------------------------
def test_canvas_export_of_the_sample_class_cell_by_cell(tmp_path):
    out = sample_course(tmp_path)
    done = export(A2, out, CANVAS, "canvas", title=A2_TITLE, allow_unmatched=True)
    assert done.path == out / A2 / "lms" / "canvas-import.csv"
    rows = rows_of(done.path)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{A2_TITLE} (48213)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "15"]
    expected = [[name, cid, f"S26{int(cid) - 10000:03d}", login, SECTION,
                 "0" if login in NOT_SUBMITTED else f"{SAMPLE_GRADES[login][0]:g}"] for name, cid, login in CANVAS_ROWS]
    assert rows[2:] == expected
    assert [u.student for u in done.unmatched] == ["eve"]

    flags = flags_of(done.report)
    assert flags["Novak, Pia"] == [("no-submission", "no submission matched this student: exported as 0")]
    assert flags["Durand, Ève"] == [("no-submission", "no submission matched this student: exported as 0; close "
                                                      "to a submission left out: eve")]
    (flag, detail), = flags["eve"]
    assert flag == "unmatched-submission" and "Durand, Ève" in detail
    statuses = {name: f for name, fs in flags.items() for f, _ in fs if f.startswith("status")}
    by_login = {login: name for name, _, login in CANVAS_ROWS}
    assert statuses == {by_login[s]: f"status {status}" for s, (_, status) in SAMPLE_GRADES.items()
                        if status != "ok" and s != "eve"}
    assert "rules broken: forbidden-import" in dict(flags["Haddad, Nia"])["status needs-manual-grade"]


def test_canvas_from_a_plain_roster_names_the_assignment_and_its_id(tmp_path):
    out = course(tmp_path, {"ada": (2, 3, "ok")})
    path = roster_file(tmp_path, "id,name,email\n10001,Ada Lovelace,ada@x.org\n10016,Pia Novak,pia@x.org\n")
    done = export(A2, out, path, "canvas", to=tmp_path / "up.csv")
    assert rows_of(tmp_path / "up.csv") == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", A2],
        ["    Points Possible", "", "", "", "", "5"],
        ["Ada Lovelace", "10001", "", "", "", "5"],
        ["Pia Novak", "10016", "", "", "", "0"],
    ]
    assert done.report == tmp_path / "up-flags.csv" and "new assignment 'a2_vjp'" in done.notes[0]
    export(A2, out, path, "canvas", to=tmp_path / "up.csv", title="Backprop, part 2", canvas_id="777")
    assert rows_of(tmp_path / "up.csv")[0][-1] == "Backprop, part 2 (777)"


# ---- the Moodle export ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("moodle_id, column, key", [("email", "Email address", "email"),
                                                    ("idnumber", "ID number", "lms_id")])
def test_moodle_export_of_the_sample_class_cell_by_cell(tmp_path, moodle_id, column, key):
    out = sample_course(tmp_path)
    done = export(A2, out, MOODLE, "moodle", moodle_id=moodle_id, allow_unmatched=True)
    rows = rows_of(done.path)
    assert done.path.name == "moodle-import.csv"
    assert rows[0] == [column, A2]
    roster = read_roster(MOODLE).students
    local = {s.email.partition("@")[0]: s for s in roster}     # e.durand@ (Ève) and pia.novak@ have no submission
    expected = [[getattr(s, key), f"{SAMPLE_GRADES.get(name, (0,))[0]:g}"] for name, s in local.items()]
    assert rows[1:] == expected and len(rows) == 17
    assert rows[1] == [getattr(local["ada"], key), "15"] and rows[-1] == [getattr(local["pia.novak"], key), "0"]
    assert {m.how for m in done.matches if m.row} == {"email"}
    flags = flags_of(done.report)
    assert ("no-submission", "no submission matched this student: exported as 0") in flags["Pia Novak"]
    (eve,) = done.unmatched
    assert eve.student == "eve" and eve.candidates[0].full_name == "Ève Durand"   # ahead of Dee (as close in ratio)


def test_moodle_needs_the_identifier_of_every_student(tmp_path):
    out = course(tmp_path, {"ada": (2, 3, "ok")})
    path = roster_file(tmp_path, "ID,Student,Email address\n1,Ada Lovelace,ada@x.org\n2,Pia Novak,\n")
    with pytest.raises(RosterError, match="1 roster student.* lack the Email address.*Pia Novak"):
        export(A2, out, path, "moodle")
    assert not (out / A2 / "lms").exists()
    assert rows_of(export(A2, out, path, "moodle", moodle_id="idnumber").path)[1:] == [["1", "5"], ["2", "0"]]


# ---- unmatched, and scores a person entered ------------------------------------------------------------------
def test_an_unmatched_submission_stops_the_export_with_its_candidates(tmp_path):
    out = sample_course(tmp_path)
    with pytest.raises(Unmatched) as err:
        export(A2, out, CANVAS, "canvas")
    assert "eve: no roster row has this id, email or name; closest on the roster: Durand, Ève" in str(err.value)
    assert not (out / A2 / "lms").exists()


def test_a_manual_score_in_the_gradebook_wins(tmp_path):
    from nbgrader.api import Gradebook

    from grader.gradebook import create_gradebook

    out = course(tmp_path, {"ada": (2, 3, "ok"), "ben": (1, 0, "needs-manual-grade"), "cy": (0, 3, "ok")})
    create_gradebook(out / "gradebook.db")
    gb = Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id="autodiff_lab")
    try:
        gb.add_assignment(A2)
        gb.add_notebook(A2, A2)
        for part, points in (("test_a", 2), ("test_b", 3)):
            gb.add_grade_cell(part, A2, A2, max_score=points, cell_type="code")
        for student, (a, b) in {"ada": (2, 3), "ben": (1, 0), "cy": (0, 3)}.items():
            gb.add_student(student)
            with warnings.catch_warnings():   # nbgrader's add_submission trips an SQLAlchemy autoflush warning
                warnings.simplefilter("ignore")
                gb.add_submission(A2, student)
            gb.find_grade("test_a", A2, A2, student).auto_score = a
            gb.find_grade("test_b", A2, A2, student).auto_score = b
        gb.find_grade("test_b", A2, A2, "ben").manual_score = 2.5        # a person graded ben's part b
        gb.find_grade("test_a", A2, A2, "cy").extra_credit = 1           # and gave cy extra credit
        gb.db.commit()
    finally:
        gb.close()
    path = roster_file(tmp_path, "id,name,email\n1,Ada,ada@x.org\n2,Ben,ben@x.org\n3,Cy,cy@x.org\n")
    done = export(A2, out, path, "moodle")
    assert rows_of(done.path)[1:] == [["ada@x.org", "5"], ["ben@x.org", "3.5"], ["cy@x.org", "4"]]
    flags = flags_of(done.report)
    assert ("manual-score", "test_b 2.5 (manual; automatic 0)") in flags["Ben"]
    assert ("manual-score", "test_a +1 (extra credit)") in flags["Cy"]
    assert "Ada" not in flags
    assert rows_of(out / A2 / "grades.csv")[2][2] == "1"     # grades.csv keeps the automatic grade


# ---- the command ----------------------------------------------------------------------------------------------
def cli(out, roster, *extra):
    return main(["export", A2, "--out", str(out), "--roster", str(roster), *extra])


def test_the_command_refuses_an_unmatched_submission_and_says_how_to_go_on(tmp_path, capsys):
    out = sample_course(tmp_path)
    assert cli(out, CANVAS, "--format", "canvas") == 1
    err = capsys.readouterr().err
    assert err.startswith("autodiff-lab export: 1 submission(s) match no roster student or more than one, so "
                          "nothing was written")
    assert "eve:" in err and "Durand, Ève (ID 10005" in err and "--allow-unmatched" in err


def test_the_command_exports_and_flags(tmp_path, capsys):
    out = sample_course(tmp_path)
    to = tmp_path / "canvas.csv"
    assert cli(out, CANVAS, "--format", "canvas", "--allow-unmatched", "--title", A2_TITLE, "--to", str(to)) == 0
    printed = capsys.readouterr().out
    assert "canvas: 16 roster students; 14 of 15 submissions matched (14 by id)" in printed
    assert "no submission (exported as 0, flagged): 2: Durand, Ève (ID 10005" in printed
    assert "Novak, Pia (ID 10016" in printed
    assert ("status not ok (exported with their score, flagged): gus (tampered), ivy (invalid), nia "
            "(needs-manual-grade), finn (crashed)") in printed
    assert "left out (--allow-unmatched): 1 submission(s)" in printed and "  eve: " in printed
    assert "no gradebook.db in the course folder: automatic scores only" in printed
    assert f"written: {to} (columns: Student, ID, SIS User ID, SIS Login ID, Section, {A2_TITLE} (48213))" in printed
    assert f"flags: {tmp_path / 'canvas-flags.csv'}" in printed and to.is_file()


def test_the_command_says_what_is_missing(tmp_path, capsys):
    assert cli(tmp_path, PLAIN, "--format", "moodle") == 1
    assert "no grades at" in capsys.readouterr().err
    out = course(tmp_path, {"ada": (2, 3, "ok")})
    assert cli(out, tmp_path / "nope.csv", "--format", "moodle") == 1
    assert "no roster at" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli(out, PLAIN, "--format", "blackboard")
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        main(["export", A2, "--format", "canvas"])
    assert "--roster" in capsys.readouterr().err


def test_scores_are_written_as_the_lms_reads_them():
    assert [number(x) for x in (15, 14.5, 0, 2 / 3, 0.1 + 0.2, -0.0)] == ["15", "14.5", "0", "0.67", "0.3", "0"]
