"""Matching a submission to the released template, and the assignment policy (no sandbox involved)."""

import copy
import json
import re

import pytest

from grader.assignment import load_assignment
from grader.structure import (
    InvalidNotebook,
    fits_scaffold,
    grade_id,
    match,
    policy_of_code,
    policy_of_files,
    read_notebook,
)


@pytest.fixture(scope="module")
def a1():
    a = load_assignment("a1_backprop")
    return a, a.reference_notebook()


def codes(matched):
    return sorted(v.code for v in matched.violations)


def test_a_right_submission_has_no_violations_and_runs_the_template_in_order(a1):
    a, right = a1
    m = match(right, a.template)
    assert codes(m) == []
    assert [s.grade_id for s in m.steps if s.action == "harvest"] == [p.grade_id for p in a.parts]
    assert all(m.answered.values())


def test_the_untouched_template_is_unanswered_and_not_run(a1):
    a, _ = a1
    m = match(copy.deepcopy(a.template), a.template)
    assert codes(m) == ["not-run"] and not any(m.answered.values())


def test_edited_read_only_cells_are_replaced_by_the_originals(a1):
    a, right = a1
    nb = copy.deepcopy(right)
    test_cell = next(c for c in nb["cells"] if grade_id(c) == "test_add_mul")
    test_cell["source"] = "pass  # all tests pass now"
    m = match(nb, a.template)
    assert codes(m) == ["edited-read-only-cell"]
    assert "pass  # all tests pass now" not in "".join(s.source for s in m.steps)


def test_deleted_and_added_cells(a1):
    a, right = a1
    nb = copy.deepcopy(right)
    nb["cells"] = [c for c in nb["cells"] if grade_id(c) != "add_mul"]
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "print('extra')", "execution_count": 9,
                        "outputs": []})
    m = match(nb, a.template)
    assert codes(m) == ["added-cell", "deleted-cell"]
    step = next(s for s in m.steps if s.grade_id == "add_mul")
    assert "raise NotImplementedError" in step.source and not m.answered["add_mul"]
    assert all("extra" not in s.source for s in m.steps)


def test_changed_points_are_tampering(a1):
    a, right = a1
    nb = copy.deepcopy(right)
    next(c for c in nb["cells"] if grade_id(c) == "test_add_mul")["metadata"]["nbgrader"]["points"] = 100
    assert codes(match(nb, a.template)) == ["edited-metadata"]


def test_stripped_metadata_answers_are_matched_by_position(a1):
    a, right = a1
    nb = copy.deepcopy(right)
    for cell in nb["cells"]:
        cell["metadata"] = {}
    m = match(nb, a.template)
    assert codes(m) == ["metadata-stripped"]
    assert all(m.answered.values())
    answers = {s.grade_id: s.source for s in m.steps if s.answer}
    assert "grad_q = z * grad_f" in answers["add_mul"] and "Value(a.data * b.data" in answers["mul_div"]


@pytest.mark.parametrize("source, ok", [
    ("def f(x):\n    \"\"\"doc\"\"\"\n    return 2 * x\n", True),
    ("def f(x):\n    \"\"\"doc\"\"\"\n    y = x\n\n    return 2 * y   \n", True),
    ("def f(x, y):\n    \"\"\"doc\"\"\"\n    return 2 * x\n", False),            # signature changed
    ("import torch\ndef f(x):\n    \"\"\"doc\"\"\"\n    return 2 * x\n", False),  # code above the scaffold
    ("def f(x):\n    return 2 * x\n", False),                                  # docstring deleted
])
def test_code_outside_the_answer_region(source, ok):
    template = "def f(x):\n    \"\"\"doc\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    assert fits_scaffold(source, template) is ok


def test_several_answer_regions_in_one_cell():
    template = ("def a():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n"
                "def b():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    assert fits_scaffold("def a():\n    return 1\n\ndef b():\n    return 2\n", template)
    assert not fits_scaffold("def a():\n    return 1\n\ndef c():\n    return 2\n", template)


def test_forbidden_imports_and_functions_are_found_however_written():
    def found(source):
        violations = policy_of_code(source, "c", ["torch", "jax", "autograd"], ["grad", "jacfwd"])
        return sorted(re.search(r"(?:imports|engine's) (\w+)", v.message).group(1) for v in violations
                      if v.code != "escape")    # escapes: tests/grader/test_attacks_static.py

    assert found("import torch.nn as nn") == ["torch"]
    assert found("from jax import grad") == ["jax"]
    assert found("m = __import__('autograd')") == ["autograd"]
    assert found("import importlib\nm = importlib.import_module('torch.nn')") == ["torch"]
    assert found("from autodiff_lab import grad, vjp") == ["grad"]
    assert found("import autodiff_lab as ad\nJ = ad.jacfwd(f)(x)") == ["jacfwd"]
    assert found("a.grad = 0.0\nv.grad += 1") == []          # a Value's .grad is not the engine's grad()


def shipped(folder, files):
    """`files` (relative paths) written under `folder` next to a notebook; the policy violations found."""
    notebook = folder / "a2_vjp.ipynb"
    notebook.write_text("{}")
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("import autograd\n")
    return policy_of_files(folder, notebook, ["torch", "jax", "autograd"])


def test_code_shipped_next_to_the_notebook_is_flagged_with_copies_of_forbidden_libraries(tmp_path):
    violations = shipped(tmp_path, ["helpers.py", "autograd/__init__.py", "autograd/numpy/numpy_wrapper.py",
                                    "timestamp.txt"])
    assert [v.code for v in violations] == ["shipped-code", "forbidden-import"]
    assert {v.severity for v in violations} == {"needs-manual-grade"}
    assert "autograd/, helpers.py" in violations[0].message and "copy of autograd" in violations[1].message


@pytest.mark.parametrize("files", [["lib/jax.zip"], ["vendor/torch/_C.so"], ["__pycache__/jax.cpython-311.pyc"]])
def test_forbidden_libraries_are_found_however_shipped(tmp_path, files):
    assert [v.code for v in shipped(tmp_path, files)] == ["shipped-code", "forbidden-import"]


def test_a_notebook_with_data_files_ships_no_code(tmp_path):
    assert shipped(tmp_path, ["timestamp.txt", "notes.md", ".ipynb_checkpoints/a2_vjp-checkpoint.ipynb"]) == []
    assert [v.code for v in shipped(tmp_path, [".ipynb_checkpoints/helpers-checkpoint.py"])] == ["shipped-code"]


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n", "not text"),
    (b'{"cells": [', "not valid JSON"),
    (b'{"nbformat": 4}', "not a Jupyter notebook"),
    (json.dumps({"cells": [{"cell_type": "widget"}]}).encode(), "not a code, markdown or raw cell"),
])
def test_unreadable_notebooks_say_why(tmp_path, content, message):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(content)
    with pytest.raises(InvalidNotebook, match=message):
        read_notebook(path)
