"""nbgrader's own commands read this file when run in this folder, the course folder: `nbgrader
release_assignment`, `collect`, `release_feedback`, `formgrader`, `export`, `db ...` work here as they are.

The course's settings are grader/nbgrader_config.py (loaded below, and read by `autodiff-lab grade` too). This file
adds where nbgrader's course-side folders are: the sources solutions/, the released assignments assignments/, and
everything a term produces under grader/out/ (git-ignored), where `autodiff-lab grade` writes by default:

    grader/out/submitted/<student>/<assignment>/    what `nbgrader collect` brings in from the exchange
    grader/out/autograded/, grader/out/feedback/    what `autodiff-lab grade` writes (release_feedback reads it)
    grader/out/gradebook.db                         the gradebook of both

The exchange's location is the machine's, not the course's: /etc/jupyter/nbgrader_config.py (see
grader/deploy/ and grader/README.md, "A course on a shared machine").
"""

import os

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)
here = os.path.dirname(os.path.abspath(__file__))
load_subconfig(os.path.join(here, "grader", "nbgrader_config.py"))  # noqa: F821

out = os.path.join(here, "grader", "out")
os.makedirs(out, exist_ok=True)                  # the gradebook's folder: sqlite will not make it
c.CourseDirectory.root = here
c.CourseDirectory.submitted_directory = os.path.join("grader", "out", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("grader", "out", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("grader", "out", "feedback")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(out, "gradebook.db")
