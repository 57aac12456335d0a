"""Issue 18, part 2: JupyterLab for students. `make lab` serves a git-ignored working copy, never the tracked
notebooks; students get nbgrader's assignment list and Validate, not formgrader, Create Assignment or the news
pop-up; Validate runs clean. A real JupyterLab server is started on loopback and asked over its HTTP API."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from autodiff_lab.lab import CONFIG_DIR, DEFAULT_DIR, student_environment

REPO = Path(__file__).resolve().parents[2]
INSTRUCTOR_CONFIG = REPO / "grader" / "hub" / "instructor"
RIGHT_A2 = REPO / "grader" / "sample" / "submitted" / "ada" / "a2_vjp" / "a2_vjp.ipynb"
INSTRUCTORS_TOOLS = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                     "@jupyter/nbgrader:course-list"}
STUDENT_OFF = INSTRUCTORS_TOOLS | {"@jupyterlab/apputils-extension:announcements"}
STUDENT_ON = {"@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"}

pytestmark = pytest.mark.skipif(shutil.which("jupyter", path=str(Path(sys.executable).parent)) is None,
                                reason="JupyterLab is not installed (make install)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """`autodiff-lab lab DIR` running on loopback, asked over HTTP with its token."""

    def __init__(self, folder: Path, env: dict | None = None) -> None:
        self.folder, self.port, self.token = folder, free_port(), "t" + os.urandom(8).hex()
        argv = [str(Path(sys.executable).parent / "autodiff-lab"), "lab", str(folder), "--no-browser",
                f"--port={self.port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={self.token}"]
        self.log = folder.parent / f"lab-{self.port}.log"
        self.proc = subprocess.Popen(argv, stdout=self.log.open("w"), stderr=subprocess.STDOUT, cwd=folder.parent,
                                     env=env or dict(os.environ), start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"autodiff-lab lab stopped:\n{self.log.read_text()}")
            try:
                self.get("/api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        self.close()
        raise AssertionError(f"JupyterLab did not answer in 90 s:\n{self.log.read_text()}")

    def request(self, path: str, data: bytes | None = None, method: str | None = None) -> tuple[int, str]:
        sep = "&" if "?" in path else "?"
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}{sep}token={self.token}", data=data,
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")

    def get(self, path: str) -> str:
        status, body = self.request(path)
        assert status == 200, f"GET {path}: {status} {body[:300]}"
        return body

    def page_config(self) -> dict:
        html = self.get("/lab")
        found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
        return json.loads(found.group(1))

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("student") / "my-course")
    yield server
    server.close()


def test_make_lab_opens_the_git_ignored_working_copy_never_the_tracked_notebooks():
    recipe = subprocess.run(["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert f"autodiff-lab lab {DEFAULT_DIR}" in recipe and "jupyter lab" not in recipe
    ignored = subprocess.run(["git", "check-ignore", "-q", f"{DEFAULT_DIR}/course/index.ipynb"], cwd=REPO)
    assert ignored.returncode == 0, f"{DEFAULT_DIR}/ must be git-ignored"


def test_the_lab_serves_the_working_copy_and_nothing_above_it(lab):
    listing = json.loads(lab.get("/api/contents"))
    assert {item["name"] for item in listing["content"]} == {"course", "assignments"}
    for outside in ("..", "../solutions", "%2E%2E/solutions"):
        status, _ = lab.request(f"/api/contents/{outside}")
        assert status in (400, 403, 404), outside


def test_a_saved_lecture_is_the_students_copy(lab):
    path = "course/01_computational_graphs.ipynb"
    tracked = (REPO / path).read_bytes()
    model = json.loads(lab.get(f"/api/contents/{path}?content=1"))
    model["content"]["cells"][0]["source"] = "my notes"
    status, _ = lab.request(f"/api/contents/{path}", json.dumps({"type": "notebook", "content": model["content"]})
                            .encode(), method="PUT")
    assert status == 200
    assert "".join(json.loads((lab.folder / path).read_text())["cells"][0]["source"]) == "my notes"
    assert (REPO / path).read_bytes() == tracked


def test_students_get_the_assignment_list_and_validate_not_the_instructors_tools_nor_news(lab):
    config = lab.page_config()
    off = set(config["disabledExtensions"])
    assert STUDENT_OFF <= off and not STUDENT_ON & off
    assert config["news"] == {"disabled": True}
    assert lab.request("/formgrader")[0] == 404                      # the server side of formgrader is off too
    assert lab.request("/assignments?course_id=autodiff_lab")[0] == 200   # the assignment list's is on


def test_the_plugins_named_are_the_installed_nbgrader_extensions_own():
    """A plugin id that does not exist disables nothing, silently (nbgrader's ids start with '@jupyter/')."""
    static = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader" / "static"
    code = "".join(path.read_text(errors="replace") for path in static.glob("*.js"))
    for plugin in INSTRUCTORS_TOOLS | STUDENT_ON:
        assert f'"{plugin}"' in code, f"nbgrader's JupyterLab extension has no plugin {plugin}"


def test_validate_passes_a_right_notebook_and_names_the_failing_cells_of_a_blank_one(lab):
    target = lab.folder / "assignments" / "a2_vjp"
    shutil.copy(target / "a2_vjp.ipynb", target / "blank.ipynb")
    shutil.copy(RIGHT_A2, target / "a2_vjp.ipynb")
    for name, passes in (("a2_vjp.ipynb", True), ("blank.ipynb", False)):
        status, body = lab.request("/assignments/validate", urllib.parse.urlencode(
            {"path": f"assignments/a2_vjp/{name}"}).encode(), method="POST")
        reply = json.loads(body)
        assert status == 200 and reply["success"], body[:500]
        assert bool(reply["value"].get("failed")) is not passes, name


@pytest.mark.parametrize("assignment", ["a1_backprop", "a2_vjp", "a3_forward_mode", "a4_two_layer_net"])
def test_nbgrader_validate_in_the_students_terminal_prints_no_warning(tmp_path, assignment):
    """The lab's terminals inherit its environment: `nbgrader validate` of a right notebook says only that it
    passes (no "no nbgrader_config.py", no "unencrypted TCP", no test cell output taken for partial credit)."""
    shutil.copy(RIGHT_A2.parents[2] / "ada" / assignment / f"{assignment}.ipynb", tmp_path / f"{assignment}.ipynb")
    out = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "validate", f"{assignment}.ipynb"],
                         cwd=tmp_path,
                         env=student_environment(), capture_output=True, text=True, timeout=300)
    text = out.stdout + out.stderr
    assert out.returncode == 0 and "Success! Your notebook passes all the tests." in text, text
    assert "WARNING" not in text and "encryption" not in text, text


def test_the_instructors_own_settings_bring_formgrader_back(tmp_path):
    """On a shared machine the student settings are everyone's; the instructor's ~/.jupyter (first on the
    path) turns formgrader, Create Assignment and the course list on again for that account alone."""
    env = student_environment()
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(INSTRUCTOR_CONFIG), str(CONFIG_DIR)])
    server = Lab(tmp_path / "course", env=env)
    try:
        off = set(server.page_config()["disabledExtensions"])
        assert not INSTRUCTORS_TOOLS & off
        assert "@jupyterlab/apputils-extension:announcements" in off
        assert server.request("/formgrader")[0] != 404
    finally:
        server.close()
