"""The nbgrader gradebook, written by one writer only (the pipeline's main thread; workers never open it),
so concurrent grading cannot corrupt it. Formgrader, `nbgrader export` and the feedback commands then work on
it as on any nbgrader course.

What a person entered in it is never overwritten or deleted: a run writes automatic scores only (a manual
score, extra credit or comment stays), a gradebook submission holding any of them is never removed (not even
with --prune), and the gradebook is copied to <out>/backups/ before each run (the last BACKUPS_KEPT)."""

from __future__ import annotations

import json
import os
import sqlite3
import warnings
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

from traitlets.config import Config

from .assignment import Assignment
from .release import differences, generate
from .runner import Result

BACKUPS_KEPT = 20

COURSE_CONFIG = """# Written by `autodiff-lab grade`: nbgrader's own commands (formgrader, export) work in this folder.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course!r}
"""


def create_gradebook(db: Path) -> None:
    """An empty gradebook stamped with nbgrader's schema version. nbgrader would run the `alembic` command
    for the version (a second or two); reading it in-process is quicker."""
    if db.exists():
        return
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader import api
    from sqlalchemy import create_engine, text

    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(Path(api.__file__).parent / "alembic"))
    head = ScriptDirectory.from_config(alembic).get_current_head()
    tmp = db.with_name(db.name + ".new")
    tmp.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{tmp}")
    api.Base.metadata.create_all(bind=engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    engine.dispose()
    os.replace(tmp, db)


class GradebookWriter:
    """Registers the assignment (nbgrader's generate_assignment, which also proves that assignments/ is what
    the source generates now) and records each result."""

    def __init__(self, root: Path, assignment: Assignment, config: Config) -> None:
        from nbgrader.api import Gradebook

        self.assignment = assignment
        self.course = config.CourseDirectory.get("course_id", "autodiff_lab")
        db = root / "gradebook.db"
        create_gradebook(db)
        fresh = generate(assignment.id, root / "release", db, config, assignment.source_path.parent.parent)
        stale = differences(fresh, assignment.release_path.parent)
        if stale:
            raise RuntimeError(f"assignments/{assignment.id} differs from what solutions/{assignment.id} generates "
                               f"({', '.join(stale)}): students may have a different version. Run `make "
                               "assignments` (and release the new version) before grading.")
        (root / "nbgrader_config.py").write_text(COURSE_CONFIG.format(course=self.course))
        self.gb = Gradebook(f"sqlite:///{db}", course_id=self.course)
        self.previous: dict[tuple[str, str], float | None] = {}    # (student, part) -> cleared automatic score
        self.flags = root / assignment.id / "auto-flags.json"
        try:
            self.flagged = set(json.loads(self.flags.read_text()))
        except (OSError, ValueError, TypeError):
            self.flagged = set()     # none known: a flag already in the gradebook may be a person's, and stays

    def record(self, result: Result) -> None:
        """Write a result's scores, replacing any earlier automatic ones (never a stale score). A failure leaves
        the gradebook as it was, ready for the next result."""
        try:
            self._record(result)
        except Exception:
            self.gb.db.rollback()
            raise

    def forget_automatic(self, students: list[str]) -> None:
        """Clear the automatic scores of the students about to be graded again (a run stopped before their new
        result, by a full disk say, must not leave their old score in the gradebook); manual scores stay, and the
        cleared scores are kept here so that a person's grade is re-marked only when the verdict really changes."""
        a, notebook = self.assignment, Path(self.assignment.notebook).stem
        for student in students:
            try:
                submitted = self.gb.find_submission_notebook(notebook, a.id, student)
            except Exception:  # noqa: BLE001  (nbgrader's MissingEntry: not graded before)
                continue
            for grade in submitted.grades:
                self.previous[(student, grade.name)] = grade.auto_score
                grade.auto_score = None
        self.gb.db.commit()

    def _record(self, result: Result) -> None:
        gb, a = self.gb, self.assignment
        notebook = Path(a.notebook).stem
        gb.update_or_create_student(result.student)
        with warnings.catch_warnings():   # nbgrader's add_submission trips an SQLAlchemy autoflush warning
            warnings.simplefilter("ignore")
            gb.update_or_create_submission(a.id, result.student)
        submitted = gb.find_submission_notebook(notebook, a.id, result.student)
        for gid, part in result.parts.items():
            grade = gb.find_grade(gid, notebook, a.id, result.student)
            before = self.previous.pop((result.student, gid), grade.auto_score)
            verdict_changed = before != part["score"]
            grade.auto_score = part["score"]
            if grade.manual_score is None:
                grade.needs_manual_grade = result.status == "needs-manual-grade"
            elif verdict_changed:     # a person graded an earlier verdict: flag it for a look, keep their score
                grade.needs_manual_grade = True
        self._flag(submitted, result)
        gb.db.commit()
        self._save_flags()

    def _flag(self, submitted, result: Result) -> None:
        """Flag a submission that is not `ok`; clear only a flag this grader set (auto-flags.json lists them):
        a flag a person set in formgrader stays."""
        if result.status != "ok":
            submitted.flagged = True
            self.flagged.add(result.student)
        elif result.student in self.flagged:
            submitted.flagged = False
            self.flagged.discard(result.student)

    def _save_flags(self) -> None:
        self.flags.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.flags.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(self.flagged)))
        os.replace(tmp, self.flags)

    def forget_others(self, students: set[str]) -> tuple[list[str], list[str]]:
        """Remove this assignment's submissions by students not in `students`, except those holding anything a
        person entered (removing a submission deletes its grades and comments): those are kept. Returns the
        students (removed, kept)."""
        removed, kept = [], []
        for sub in list(self.gb.assignment_submissions(self.assignment.id)):
            student = sub.student.id
            if student in students:
                continue
            if entered_by_hand(sub):
                kept.append(student)
            else:
                self.gb.remove_submission(self.assignment.id, student)
                removed.append(student)
        return sorted(removed), sorted(kept)

    def close(self) -> None:
        self.gb.close()


def entered_by_hand(submission) -> bool:
    """Whether a gradebook submission holds a manual score, extra credit or a manual comment."""
    notebooks = submission.notebooks
    return any(g.manual_score is not None or g.extra_credit is not None for nb in notebooks for g in nb.grades) \
        or any((c.manual_comment or "").strip() for nb in notebooks for c in nb.comments)


AUTOMATIC_ONLY = """
SELECT s.student_id FROM submitted_assignment s JOIN assignment a ON s.assignment_id = a.id WHERE a.name = ?
AND NOT EXISTS (SELECT 1 FROM submitted_notebook n JOIN grade g ON g.notebook_id = n.id WHERE n.assignment_id = s.id
                AND (g.manual_score IS NOT NULL OR g.extra_credit IS NOT NULL))
AND NOT EXISTS (SELECT 1 FROM submitted_notebook n JOIN comment c ON c.notebook_id = n.id WHERE n.assignment_id = s.id
                AND TRIM(COALESCE(c.manual_comment, '')) != '')
"""     # the submissions of an assignment that hold nothing a person entered (entered_by_hand, in SQL)


def course_students(out: Path, assignment: str) -> set[str]:
    """The students of `assignment` with something in the course folder that --prune would remove: results,
    logs, feedback, autograded copies, gradebook submissions holding nothing entered by hand (those are never
    removed, so they do not stop a run). Read only; the gradebook is opened read-only."""
    folder = out / assignment
    found = {p.stem for p in (folder / "results").glob("*.json")} | {p.stem for p in (folder / "logs").glob("*.txt")}
    found |= {p.parent.name for kind in ("feedback", "autograded") for p in (out / kind).glob(f"*/{assignment}")}
    db = out / "gradebook.db"
    if db.is_file():
        try:
            with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
                found |= {row[0] for row in conn.execute(AUTOMATIC_ONLY, (assignment,))}
        except sqlite3.OperationalError:   # a gradebook without nbgrader's tables holds no submissions
            pass
    return found


def backup_gradebook(out: Path, keep: int = BACKUPS_KEPT) -> Path | None:
    """Copy <out>/gradebook.db (sqlite3's online backup: consistent even if formgrader has it open) to
    <out>/backups/gradebook-<UTC time>.db and keep the newest `keep` copies. None when there is no gradebook."""
    db = out / "gradebook.db"
    if not db.is_file():
        return None
    folder = out / "backups"
    dest = folder / f"gradebook-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S.%fZ')}.db"
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        folder.mkdir(exist_ok=True)
        tmp.unlink(missing_ok=True)
        with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as src, closing(sqlite3.connect(tmp)) as dst:
            src.backup(dst)
        os.replace(tmp, dest)
    except (OSError, sqlite3.Error) as err:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"could not back up the gradebook to {folder} ({err}); nothing was changed. Free space "
                           "there (or fix its permissions) and run again") from None
    for old in sorted(folder.glob("gradebook-*.db"))[:-keep]:
        old.unlink()
    return dest
