"""JupyterHub settings for autodiff_lab on a shared machine. For The Littlest JupyterHub, copy this file to
/opt/tljh/config/jupyterhub_config.d/ and run `sudo tljh-config reload hub`; any other JupyterHub can load it
from its jupyterhub_config.py with load_subconfig. The walk-through is grader/README.md, "A course on a shared
machine".

Every user's JupyterLab gets the student settings of the installed autodiff-lab (nbgrader's assignment list and
Validate; no formgrader, no Create Assignment, no news pop-up); the instructors named below get their course
folder's grader/hub/instructor settings ahead of those, which turn formgrader and Create Assignment back on.
"""

import os
import subprocess

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

# The Python of the users' environment (TLJH's), which has autodiff-lab, JupyterLab and nbgrader installed.
USER_PYTHON = os.environ.get("AUTODIFF_LAB_USER_PYTHON", "/opt/tljh/user/bin/python")
# JupyterHub user name -> that instructor's course folder (a clone of the course repository in their home).
INSTRUCTORS = {"instructor": "/home/jupyter-instructor/autodiff_lab"}


def student_settings() -> str:
    """The folder of student settings in the users' environment (autodiff_lab/jupyter_config)."""
    found = subprocess.run([USER_PYTHON, "-I", "-c", "from autodiff_lab.lab import CONFIG_DIR; print(CONFIG_DIR)"],
                           capture_output=True, text=True, cwd="/")     # -I, cwd /: no file here shadows the package
    if found.returncode:
        raise SystemExit(f"autodiff_lab's hub settings: {USER_PYTHON} cannot import autodiff_lab "
                         f"({found.stderr.strip()[-300:]}): install the student edition in the users' environment")
    return found.stdout.strip()


STUDENT_SETTINGS = student_settings()


def jupyter_config_path(spawner) -> str:
    """JUPYTER_CONFIG_PATH for one user's server: an instructor's own settings first, then the students'."""
    course = INSTRUCTORS.get(spawner.user.name)
    own = [os.path.join(course, "grader", "hub", "instructor")] if course else []
    return os.pathsep.join([*own, STUDENT_SETTINGS])


c.Spawner.environment = {"JUPYTER_CONFIG_PATH": jupyter_config_path}
c.Spawner.default_url = "/lab"
