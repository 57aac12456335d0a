"""Issue 18, part 3: the course's JupyterHub settings (grader/hub/jupyterhub_config.d/autodiff_lab.py, what The
Littlest JupyterHub loads) on a real JupyterHub, started on loopback. A student's server gets the student
settings (assignment list and Validate, no formgrader); the instructor's gets formgrader back.

The hub runs every user's server as this test's own Unix user (JupyterHub's SimpleLocalProcessSpawner), since
what is checked here is the hub's settings; real Unix accounts are tests/project/test_shared_machine.py's.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HUB_SETTINGS = REPO / "grader" / "hub" / "jupyterhub_config.d" / "autodiff_lab.py"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(
    not all((BIN / tool).exists() for tool in ("jupyterhub", "configurable-http-proxy", "jupyterhub-singleuser")),
    reason="JupyterHub is not installed (pip install -e '.[hub]')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    def __init__(self, base: Path) -> None:
        self.port, self.token = free_port(), secrets.token_hex(16)
        settings = HUB_SETTINGS.read_text()
        line = 'INSTRUCTORS = {"instructor": "/home/jupyter-instructor/autodiff_lab"}'
        assert line in settings
        (base / "autodiff_lab.py").write_text(settings.replace(line, f'INSTRUCTORS = {{"instructor": {str(REPO)!r}}}'))
        (base / "jupyterhub_config.py").write_text(f"""
c = get_config()
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{str(BIN / "configurable-http-proxy")!r}]
c.JupyterHub.db_url = "sqlite:///{base / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(base / 'cookie_secret')!r}
c.JupyterHub.pid_file = {str(base / 'hub.pid')!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(base / 'home' / '{username}')!r}
c.Spawner.cmd = [{str(BIN / "jupyterhub-singleuser")!r}]
c.Spawner.args = ["--allow-root"] if {os.geteuid() == 0} else []
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.services = [{{"name": "smoke", "api_token": {self.token!r}}}]
c.JupyterHub.load_roles = [{{"name": "smoke", "services": ["smoke"],
                             "scopes": ["admin:users", "admin:servers", "access:servers"]}}]
load_subconfig({str(base / "autodiff_lab.py")!r})
""")
        env = {**os.environ, "AUTODIFF_LAB_USER_PYTHON": sys.executable,
               "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}
        env.pop("JUPYTER_CONFIG_PATH", None)
        self.log = base / "hub.log"
        self.proc = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(base / "jupyterhub_config.py")], cwd=base,
                                     env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.wait(lambda: self.api("GET", "/hub/api/")[0] == 200, "the hub to answer")

    def api(self, method: str, path: str) -> tuple[int, str]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")
        except (urllib.error.URLError, ConnectionError):
            return 0, ""

    def wait(self, ready, what: str, seconds: float = 150) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"JupyterHub stopped:\n{self.log.read_text()[-4000:]}")
            if ready():
                return
            time.sleep(0.5)
        raise AssertionError(f"waited {seconds} s for {what}:\n{self.log.read_text()[-4000:]}")

    def start_server(self, user: str) -> None:
        assert self.api("POST", f"/hub/api/users/{user}")[0] in (201, 409)
        assert self.api("POST", f"/hub/api/users/{user}/server")[0] in (201, 202)
        self.wait(lambda: json.loads(self.api("GET", f"/hub/api/users/{user}")[1] or "{}").get("servers", {})
                  .get("", {}).get("ready"), f"{user}'s server")

    def page_config(self, user: str) -> dict:
        status, html = self.api("GET", f"/user/{user}/lab")
        assert status == 200, f"/user/{user}/lab: {status} {html[:300]}"
        found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
        return json.loads(found.group(1))

    def close(self) -> None:
        if self.proc.poll() is None:
            for user in ("student", "instructor"):
                self.api("DELETE", f"/hub/api/users/{user}/server")
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    base = tmp_path_factory.mktemp("hub")
    server = Hub(base)
    try:
        for user in ("student", "instructor"):
            server.start_server(user)
        yield server
    finally:
        server.close()
        shutil.rmtree(base, ignore_errors=True)


def test_a_student_on_the_hub_gets_the_assignment_list_and_validate_and_no_formgrader(hub):
    off = set(hub.page_config("student")["disabledExtensions"])
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
            "@jupyter/nbgrader:course-list",
            "@jupyterlab/apputils-extension:announcements"} <= off
    assert not {"@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"} & off
    assert hub.api("GET", "/user/student/formgrader")[0] == 404


def test_the_instructor_on_the_hub_gets_formgrader_back(hub):
    off = set(hub.page_config("instructor")["disabledExtensions"])
    assert not {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                "@jupyter/nbgrader:course-list"} & off
    assert "@jupyterlab/apputils-extension:announcements" in off
    assert hub.api("GET", "/user/instructor/formgrader")[0] != 404
