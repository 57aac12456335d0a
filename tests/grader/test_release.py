"""assignments/ is what nbgrader generates from solutions/ now, and the sample class is what its generator
writes from them."""

import filecmp

import pytest

from grader.release import assignment_ids, drifted
from grader.sample_class import write

ASSIGNMENTS = ["a1_backprop", "a2_vjp", "a3_forward_mode", "a4_two_layer_net"]


def test_the_four_assignments():
    assert assignment_ids() == ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebooks_match_their_sources(assignment):
    assert drifted(assignment) == [], "assignments/ is out of date: run `make assignments`"


def test_the_sample_class_is_in_sync_with_the_assignments(tmp_path, sample_dir):
    write(tmp_path)
    mismatch, missing, extra = [], [], []
    comparison = filecmp.dircmp(tmp_path, sample_dir)

    def walk(c, prefix=""):
        missing.extend(prefix + n for n in c.left_only)
        extra.extend(prefix + n for n in c.right_only)
        mismatch.extend(prefix + n for n in c.diff_files)
        for name, sub in c.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(comparison)
    assert (mismatch, missing, extra) == ([], [], []), "run `python -m grader.sample_class`"
