"""Fixtures for the grader tests: the sample class, graded once per session into a temporary course folder."""

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SAMPLE = REPO / "grader" / "sample" / "submitted"
CELL_TIMEOUT = 5.0   # seconds; short, so that the sample's endless loop costs little


def _install_check_standin() -> None:
    """TEMPORARY (remove with _check_standin.py once branch `check` is merged into main): the judge needs
    autodiff_lab.check.compare and numerical_grad."""
    try:
        importlib.import_module("autodiff_lab.check")
    except ImportError:
        spec = importlib.util.spec_from_file_location("autodiff_lab.check", HERE / "_check_standin.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["autodiff_lab.check"] = module
        spec.loader.exec_module(module)


_install_check_standin()


def has_digits() -> bool:
    return importlib.util.find_spec("autodiff_lab.data") is not None


def grade(assignment, submissions, out, **kw):
    from grader.pipeline import grade_class

    kw.setdefault("workers", 2)
    kw.setdefault("progress", False)
    return grade_class(assignment, submissions, out, overrides={"Sandbox": {"cell_timeout": CELL_TIMEOUT}}, **kw)


@pytest.fixture(scope="session")
def sample_dir():
    """grader/sample/submitted: the sample class, in nbgrader's layout."""
    return SAMPLE


@pytest.fixture(scope="session")
def grade_quickly():
    """grade_class with a short cell limit, two workers and no progress bar."""
    return grade


@pytest.fixture(scope="session")
def digits():
    """Whether autodiff_lab.data is there (branch nnbench); assignment 4 trains on its digits."""
    return has_digits()


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    """{assignment: ClassReport} for every assignment of the sample class, graded into one course folder."""
    out = tmp_path_factory.mktemp("course")
    return {a: grade(a, SAMPLE, out) for a in ("a2_vjp", "a1_backprop", "a3_forward_mode", "a4_two_layer_net")}
