"""The nbgrader gradebook, written by one writer only (the pipeline's main thread; workers never open it),
so concurrent grading cannot corrupt it. Formgrader, `nbgrader export` and the feedback commands then work on
it as on any nbgrader course."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from traitlets.config import Config

from .assignment import Assignment
from .release import differences, generate
from .runner import Result

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

    def record(self, result: Result) -> None:
        """Write a result's scores, replacing any earlier automatic ones (never a stale score). A failure leaves
        the gradebook as it was, ready for the next result."""
        try:
            self._record(result)
        except Exception:
            self.gb.db.rollback()
            raise

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
            grade.auto_score = part["score"]
            grade.needs_manual_grade = result.status == "needs-manual-grade"
        submitted.flagged = result.status != "ok"
        gb.db.commit()

    def forget_others(self, students: set[str]) -> None:
        """Remove submissions of this assignment by students who are no longer among the submissions."""
        for sub in list(self.gb.assignment_submissions(self.assignment.id)):
            if sub.student.id not in students:
                self.gb.remove_submission(self.assignment.id, sub.student.id)

    def close(self) -> None:
        self.gb.close()
