# Two commands set up everything on a fresh machine that has only Python 3.10+:
#   make lab    JupyterLab on the course index
#   make test   every test (what CI runs through .ci/run)
# Other targets: bench, bench-grading, grade, assignments, lint, dist (the student edition), site (the course web site).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
ROOT   := $(filter 0,$(shell id -u))
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: lab test bench bench-grading grade assignments lint graphviz browser install dist site

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[course,test,bench]'
	rm -f $(VENV)/.installed-* && touch $@

# Graphviz's `dot` draws the computational graphs. As root on Debian/Ubuntu we install it;
# anywhere else we stop and say which package to install.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ -n "$(ROOT)" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Graphviz (Debian package 'graphviz')..."; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q graphviz >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q graphviz >/dev/null; }; \
	  else \
	    echo "Graphviz's 'dot' program is missing. Install the package 'graphviz':" >&2; \
	    echo "  Debian/Ubuntu: sudo apt-get install graphviz   macOS: brew install graphviz" >&2; \
	    echo "  conda: conda install -c conda-forge graphviz   Windows: winget install graphviz" >&2; \
	    exit 1; \
	  fi; }

# Chromium drives the real-browser test of the lecture notebooks. Optional: without it that test
# is skipped with a message saying how to get it.
browser:
	@command -v chromedriver >/dev/null 2>&1 || { \
	  if [ -n "$(ROOT)" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Chromium for the browser test (Debian packages 'chromium', 'chromium-driver')..."; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; } || \
	    echo "Could not install Chromium; the browser test will be skipped."; \
	  fi; }

# JupyterLab on my-course/, a git-ignored working copy of the lectures and assignments (laid out, or brought up to
# date without overwriting anything, by the same command a student of the edition runs): saving never touches the
# tracked notebooks. Student settings: nbgrader's assignment list and Validate, no formgrader, no news pop-up.
# The course as a static web site, readable offline: open _site/html/index.html. The lectures run (in parallel),
# then Sphinx + MyST-NB build them with the released assignments (course/site/build.py, course/site/conf.py).
site: install graphviz
	$(PY) course/site/build.py

lab: install graphviz
	$(VENV)/bin/autodiff-lab lab my-course

test: install graphviz browser
	$(PY) -m pytest

bench: install graphviz
	$(PY) bench/run.py

bench-grading: install
	$(PY) bench/grading.py

grade: install graphviz
	$(VENV)/bin/autodiff-lab grade --sample

assignments: install
	$(PY) -m grader.release

lint: install
	$(VENV)/bin/ruff check autodiff_lab grader tests bench course/site

# The student edition: dist/autodiff_lab-VERSION.tar.gz and the wheel built from it, with the engine, the lectures
# and the released assignments, and nothing of solutions/ or grader/ (pyproject.toml, setup.py, MANIFEST.in).
# A student installs the wheel and runs `autodiff-lab course init DIR`. Offline: setuptools comes from the venv.
dist: install
	rm -rf dist
	$(PY) -c "from setuptools import build_meta; build_meta.build_sdist('dist')"
	$(PY) -m pip wheel --no-deps --no-build-isolation --no-index -w dist dist/autodiff_lab-*.tar.gz
	@ls -l dist
