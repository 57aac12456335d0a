"""The course as a web site (`make site`, course/site/build.py; issue 20, part 8), built from the notebooks the course
tests already ran (fixture `course_runs`) plus the course notebooks they do not run, then read as files and in a
real headless Chromium: every page there, nothing loaded from the network, every image loads, math rendered as
MathML, every link between pages (lectures, assignments) leads to a page of the site."""

from __future__ import annotations

import importlib.util
import re
import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _builder():
    spec = importlib.util.spec_from_file_location("website_build", REPO / "course" / "site" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _builder()


@pytest.fixture(scope="module")
def site(course_runs, tmp_path_factory) -> Path:
    """The built site's html folder."""
    failed = [run.name for run in course_runs.values() if run.error]
    if failed:
        pytest.fail(f"lectures failed to run, so the site cannot be built: {failed}", pytrace=False)
    ran = {name: run.notebook for name, run in course_runs.items()}
    start = time.perf_counter()
    ran.update(build.execute_all([p for p in build.course_notebooks() if p.stem not in ran], jobs=2))
    executed = {p.stem: ran[p.stem] for p in build.course_notebooks()}
    out = tmp_path_factory.mktemp("site")
    index = build.build_site(executed, out)
    print(f"site: the notebooks the course tests do not run, and Sphinx, took {time.perf_counter() - start:.0f} s")
    return index.parent


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name not in ("genindex.html", "search.html"))


def links(page: Path) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]+)"', page.read_text(encoding="utf-8"))


def test_every_course_notebook_and_assignment_has_a_page_listed_on_the_index(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    for notebook in build.course_notebooks():
        assert (site / "course" / f"{notebook.stem}.html").is_file(), notebook.name
        assert f'href="course/{notebook.stem}.html"' in index, notebook.name
    for notebook in sorted((REPO / "assignments").glob("*/*.ipynb")):
        relative = f"assignments/{notebook.parent.name}/{notebook.stem}.html"
        assert (site / relative).is_file() and f'href="{relative}"' in index, relative


def test_nothing_is_loaded_from_the_network(site):
    """No script, style sheet, image or font comes from another host: the site reads offline."""
    for path in [*pages(site), *site.rglob("*.css")]:
        text = path.read_text(encoding="utf-8")
        loads = re.findall(r'<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"', text)
        loads += re.findall(r'url\(\s*["\']?((?:https?:)?//[^)"\']+)', text)
        loads += re.findall(r'@import\s+["\']?((?:https?:)?//[^"\';]+)', text)
        assert not loads, f"{path.relative_to(site)} loads {loads[:3]}"


def test_links_between_lectures_and_to_the_assignments_lead_to_pages_of_the_site(site):
    seen = {"lecture -> lecture": 0, "lecture -> assignment": 0}
    for page in pages(site):
        for href in links(page):
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("#", "mailto:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file(), f"{page.relative_to(site)} links to {href}, which is not in the site"
            if page.parent.name == "course" and target != page and target.suffix == ".html":
                kind = "lecture -> assignment" if "assignments" in target.parts else "lecture -> lecture"
                seen[kind] += 1
    assert all(seen.values()), seen


def test_math_is_written_as_mathml_at_build_time(site):
    """The assignments' $...$ math is MathML in the page (no script renders it later); no formula failed."""
    with_math = 0
    for page in pages(site):
        text = page.read_text(encoding="utf-8")
        assert "math-error" not in text, f"{page.relative_to(site)} has a formula latex2mathml could not read"
        assert not re.search(r"\\\(|\\\[|\$\$", re.sub(r"<(pre|code)\b.*?</\1>", "", text, flags=re.S)), page
        with_math += "<math " in text
    assert with_math >= 4, f"only {with_math} pages hold MathML"


def test_lecture_drawings_and_plots_are_in_the_pages(site):
    lecture1 = (site / "course" / "01_computational_graphs.html").read_text(encoding="utf-8")
    drawings = re.findall(r'src="data:image/svg\+xml;charset=utf-8,([^"]+)"', lecture1)
    assert len(drawings) >= 4 and any("-12" in unquote(d) for d in drawings)
    lecture2 = (site / "course" / "02_backprop_as_code.html").read_text(encoding="utf-8")
    plots = re.findall(r'<img [^>]*src="(\.\./_images/[^"]+\.png)"', lecture2)
    assert plots and all((site / "course" / p).resolve().is_file() for p in plots)


# ------------------------------------------------------------------------------------------- in a browser
@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("no Chromium/chromedriver on this machine: run `make browser` as root (Debian packages chromium "
                    "and chromium-driver) to enable the real-browser test of the course site")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1300,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


_PAGE_STATE_JS = """
const shown = e => e.offsetParent !== null;   // not inside a closed <details>
const images = [...document.images];
const maths = [...document.querySelectorAll('math')];
const sized = m => { const r = m.getBoundingClientRect(); return r.width >= 1 && r.height >= 1; };
return {
  complete: document.readyState === 'complete',
  images: images.length,
  broken: images.filter(i => shown(i) && !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80)),
  maths: maths.length,
  flat: maths.filter(m => shown(m) && !sized(m)).length,
};
"""


def test_every_page_shows_its_images_and_math_in_chromium(site, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    total_images = total_math = 0
    for page in pages(site):
        browser.get(page.as_uri())
        # get() may hand back a heavy page (drawings as data: URIs) before its load event: wait for it
        deadline = time.monotonic() + 60
        while not (state := browser.execute_script(_PAGE_STATE_JS))["complete"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert state["complete"] and not state["broken"], f"{page.relative_to(site)}: {state}"
        assert not state["flat"], f"{page.relative_to(site)}: {state['flat']} formulas drawn without size"
        total_images += state["images"]
        total_math += state["maths"]
        if page.name == "01_computational_graphs.html":
            browser.save_screenshot(str(ARTIFACTS / "site_lecture1.png"))
    assert total_images >= 20 and total_math >= 20, (total_images, total_math)


def test_a_click_from_a_lecture_reaches_its_assignment_and_the_next_lecture(site, browser):
    from selenium.webdriver.common.by import By

    browser.get((site / "course" / "01_computational_graphs.html").as_uri())
    to_assignment = [a for a in browser.find_elements(By.CSS_SELECTOR, "a[href*='assignments/a1_backprop']")]
    assert to_assignment, "lecture 1 has no link to assignment 1"
    browser.execute_script("arguments[0].click()", to_assignment[0])
    assert browser.current_url.endswith("assignments/a1_backprop/a1_backprop.html")
    assert "Assignment 1" in browser.find_element(By.TAG_NAME, "h1").text
    browser.save_screenshot(str(ARTIFACTS / "site_assignment1.png"))
    browser.back()
    following = browser.find_elements(By.CSS_SELECTOR, "a[href='02_backprop_as_code.html']")
    assert following, "lecture 1 does not lead on to lecture 2"
    browser.execute_script("arguments[0].click()", following[0])
    assert browser.current_url.endswith("course/02_backprop_as_code.html")
