"""The student edition's one build step (issue 18): the wheel carries the lectures (course/) and the released
assignments (assignments/) as autodiff_lab/course_material/, which `autodiff-lab course init` copies out for the
student. Everything else is declared in pyproject.toml; what the sdist holds is in MANIFEST.in.

The editable install (`make install`) copies nothing: there `autodiff-lab course init` reads the repository's
own course/ and assignments/ (autodiff_lab/course_init.py).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MATERIAL = ("course", "assignments")   # autodiff_lab/course_init.py FOLDERS


class build_py_with_course_material(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib, "autodiff_lab", "course_material")
        shutil.rmtree(target, ignore_errors=True)       # no stale copy from an earlier build
        for folder in MATERIAL:
            if not Path(folder).is_dir():
                raise SystemExit(f"setup.py: {Path(folder).resolve()} is missing: build from the repository "
                                 f"or from an sdist of it")
            # hidden files (.ipynb_checkpoints) and caches stay out, as in course_init.shipped_files
            # and course/site/, how the web site is built (course_init.NOT_SHIPPED)
            skip = shutil.ignore_patterns(".*", "__pycache__", *(["site"] if folder == "course" else []))
            shutil.copytree(folder, target / folder, ignore=skip)


setup(cmdclass={"build_py": build_py_with_course_material})
