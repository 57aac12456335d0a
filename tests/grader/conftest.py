"""Fixtures for the grader tests: the sample class, graded once per session into a temporary course folder."""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SAMPLE = REPO / "grader" / "sample" / "submitted"
CELL_TIMEOUT = 5.0   # seconds; short, so that the sample's endless loop costs little


def grade(assignment, submissions, out, **kw):
    from grader.pipeline import grade_class

    kw.setdefault("workers", 2)
    kw.setdefault("progress", False)
    kw.setdefault("check_reference", False)  # the sample fixture checks it, once per assignment
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
def sample(tmp_path_factory):
    """{assignment: ClassReport} for every assignment of the sample class, graded into one course folder."""
    out = tmp_path_factory.mktemp("course")
    return {a: grade(a, SAMPLE, out, check_reference=True)
            for a in ("a2_vjp", "a1_backprop", "a3_forward_mode", "a4_two_layer_net")}
