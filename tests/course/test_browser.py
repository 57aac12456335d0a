"""Lecture 1 in a real browser: JupyterLab on loopback, headless Chromium driven by Selenium.

The test opens a copy of the first lecture, runs every cell through the Run menu as a student would, checks that
the backprop drawings arrive as SVG images that load, and that the step-through widget changes its frame when its
"next" button is clicked and when its slider moves. A screenshot goes to artifacts/ (look at it).

It needs Debian's `chromium` and `chromium-driver` (`make browser` installs them when run as root) and is
skipped, saying so, where they are missing."""

from __future__ import annotations

import json
import os
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

from autodiff_lab.lab import student_environment

REPO = Path(__file__).resolve().parents[2]
LECTURE = REPO / "course" / "01_computational_graphs.ipynb"
ARTIFACTS = REPO / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
STARTUP_TIMEOUT_S = 90
RUN_TIMEOUT_S = 180

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no Chromium/chromedriver on this machine: run `make browser` as root (Debian packages chromium and "
    "chromium-driver) to enable the real-browser test of the lectures",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A fresh JupyterLab on 127.0.0.1 with a random token, its home, config, data, runtime, settings and
    workspaces all in a temporary folder, serving a copy of lecture 1 (autosave must not touch the repo)."""
    root = tmp_path_factory.mktemp("lab")
    work = root / "work"
    work.mkdir()
    shutil.copy(LECTURE, work / LECTURE.name)
    # the student settings, as `autodiff-lab lab` (make lab) gives them: Validate, no formgrader, no news
    env = student_environment({k: v for k, v in os.environ.items() if k != "AUTODIFF_LAB_BACKEND"})
    dirs = {"HOME": "home", "JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime", "JUPYTERLAB_SETTINGS_DIR": "settings",
            "JUPYTERLAB_WORKSPACES_DIR": "workspaces", "IPYTHONDIR": "ipython"}
    for var, name in dirs.items():
        (root / name).mkdir()
        env[var] = str(root / name)
    # Every cell in the DOM (no virtual scrolling), so all outputs can be found.
    _write_json(root / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
                {"windowingMode": "none"})

    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    log_path = root / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(server, f"{base}/api/status?token={token}", log_path)
        yield base, token
    finally:
        _stop_server(server, base, token)


def _wait_for_server(server: subprocess.Popen, status_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(status_url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer within {STARTUP_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")


def _stop_server(server: subprocess.Popen, base: str, token: str) -> None:
    """Shut the server down politely (it stops its kernels), then make sure its whole process group is gone."""
    try:
        request = urllib.request.Request(f"{base}/api/shutdown", method="POST",
                                         headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(request, timeout=5).close()
        server.wait(timeout=15)
    except Exception:
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


# Reads the state of the notebook in one round trip: code-cell prompts, error outputs, loaded SVG drawings.
_NOTEBOOK_STATE_JS = """
const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
// Cells whose input is collapsed (the exercise answers) show a placeholder without a prompt: skip those.
const prompts = cells.map(c => c.querySelector('.jp-InputArea-prompt')).filter(p => p).map(p => p.textContent);
const errors = [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
  + '.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]')]
  .map(e => e.textContent).filter(t => /Error|Traceback/.test(t));
const svgImages = [...document.querySelectorAll('.jp-RenderedSVG img, .jp-OutputArea-output img')]
  .filter(img => (img.getAttribute('src') || '').startsWith('data:image/svg+xml'));
const inlineSvgs = [...document.querySelectorAll('.jp-RenderedSVG svg, .jp-RenderedHTMLCommon svg')];
return {
  prompts: prompts,
  errors: errors,
  loadedSvgImages: svgImages.filter(img => img.complete && img.naturalWidth > 0).length,
  svgSources: svgImages.map(img => decodeURIComponent(img.getAttribute('src').split(',', 2)[1] || '')),
  inlineSvgs: inlineSvgs.map(s => s.outerHTML.length),
};
"""


def _wait(condition, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _click_menu(driver, menu: str, item: str) -> None:
    from selenium.webdriver.common.by import By

    labels = driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel")
    next(e for e in labels if e.text.strip() == menu).click()
    entry = _wait(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel")
                           if e.text.strip() == item], 10, f"the menu entry {menu} > {item}")
    entry[0].click()


def test_lecture_1_runs_in_jupyterlab_with_drawings_and_a_working_step_widget(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        browser.get(f"{base}/lab/tree/{LECTURE.name}?token={token}&reset")
        _wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Cell"), STARTUP_TIMEOUT_S,
              "the notebook to open")
        _wait(lambda: "Idle" in browser.find_element(By.ID, "jp-main-statusbar").text, STARTUP_TIMEOUT_S,
              "the kernel to start (status bar: Idle)")

        # A student's JupyterLab: nbgrader's Validate button on the notebook, none of the instructor's tools.
        toolbar = browser.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel-toolbar").text
        assert "Validate" in toolbar, f"no Validate button in the notebook's toolbar: {toolbar!r}"
        page = browser.find_element(By.TAG_NAME, "body").text
        assert "Create Assignment" not in page and "Formgrader" not in page, "an instructor's tool is showing"

        _click_menu(browser, "Run", "Run All Cells")

        def finished():
            state = browser.execute_script(_NOTEBOOK_STATE_JS)
            if state["errors"]:
                raise AssertionError("a cell failed in the browser:\n" + "\n".join(state["errors"])[-3000:])
            numbered = [p for p in state["prompts"] if p.strip().strip("[]:").isdigit()]
            idle = "Idle" in browser.find_element(By.ID, "jp-main-statusbar").text
            return state if idle and len(numbered) == len(state["prompts"]) >= 5 else None

        state = _wait(finished, RUN_TIMEOUT_S, "every cell to run (a number in every prompt)")

        # The drawings: graphviz SVGs, delivered as images that the browser decoded and laid out.
        drawings = state["loadedSvgImages"] + len(state["inlineSvgs"])
        assert drawings >= 4, f"expected the lecture's backprop drawings as SVG, found {drawings}: {state}"
        sources = state["svgSources"]
        assert any("-12" in s for s in sources), "the drawing of (x+y)*z should show f = -12"

        # The step-through widget: its area changes when 'next' is clicked and when the slider moves.
        slider = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".widget-slider"), 30,
                       "the step-through widget's slider")[0]
        widget = browser.execute_script("return arguments[0].closest('.jp-OutputArea-output')", slider)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", widget)

        def frame():
            return browser.execute_script("return arguments[0].innerHTML", widget)

        first = frame()
        buttons = [b for b in widget.find_elements(By.CSS_SELECTOR, "button")
                   if any(k in (b.text + " " + (b.get_attribute("title") or "")).lower()
                          for k in ("next", "▶", "→", "›", "forward"))]
        assert buttons, "the step widget has no 'next' button"
        buttons[0].click()
        after_click = _wait(lambda: (f := frame()) != first and f, 10, "the frame to change after 'next'")

        handle = widget.find_element(By.CSS_SELECTOR, ".noUi-handle, input[type=range]")
        handle.click()
        handle.send_keys(Keys.ARROW_RIGHT)
        after_slide = _wait(lambda: (f := frame()) not in (first, after_click) and f, 10,
                            "the frame to change after moving the slider")

        # For the picture: the last frame, the backward pass complete, gradients on every edge.
        handle.send_keys(Keys.END)
        _wait(lambda: frame() != after_slide, 10, "the slider to jump to the last frame (End key)")
        time.sleep(0.5)  # let the new frame's image paint before the screenshot
        # the frame fits the output area (narrower than the 1,000 px it was fitted to, it shrinks): nothing cut off
        fits = browser.execute_script(
            "const svg = arguments[0].querySelector('svg'); const box = svg.getBoundingClientRect();"
            "return [box.width, arguments[0].getBoundingClientRect().width];", widget)
        assert 0 < fits[0] <= fits[1] + 1, f"the frame is {fits[0]:.0f} px wide in an output area of {fits[1]:.0f} px"
        browser.save_screenshot(str(ARTIFACTS / "course_lecture1_step_widget.png"))
    except BaseException:
        browser.save_screenshot(str(ARTIFACTS / "course_lecture1_failure.png"))
        raise
