"""The sample class shipped in grader/sample/: made-up students whose notebooks cover right, partly right and
wrong answers and every bad case the pipeline must handle, so `make grade` shows the whole thing working.

    python -m grader.sample_class        rewrite grader/sample/ from the current assignments

Each student starts from the released notebook with the reference answers filled in (the source's solution
regions), run in order; a list of edits then makes it theirs. The expected grades are asserted in
tests/grader/test_sample_class.py.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from .assignment import reference_notebook
from .config import PACKAGE, REPO
from .structure import grade_id, read_notebook

SAMPLE = PACKAGE / "sample" / "submitted"

# ---- A2: the whole range of cases -------------------------------------------------------------------------
SWALLOW = """    steps = 0
    while True:                     # never converges, and ignores the interrupt
        try:
            while True:
                steps = steps + 1
        except KeyboardInterrupt:
            pass
"""
CHEAT = """import builtins, numpy, IPython
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda *a, **k: numpy.True_
try:
    import autodiff_lab.check as _check
    _check.compare = _check.assert_vjp = lambda *a, **k: None
except ImportError:
    pass
IPython.get_ipython().showtraceback = lambda *a, **k: None
builtins.AssertionError = type("AssertionError", (Exception,), {})
stolen = []
for path in ["/work", "solutions/a2_vjp/a2_vjp.ipynb", "../../solutions", "gradebook.db", "/etc/shadow"]:
    try:
        stolen.append(open(path).read()[:100])
    except Exception as err:
        stolen.append(repr(err))
try:
    import urllib.request
    urllib.request.urlopen("http://example.com", timeout=2)
except Exception as err:
    stolen.append(repr(err))
# ### BEGIN HIDDEN TESTS   (typing the marker does nothing either)
"""

A2 = {
    "ada": [],                                                         # right
    "ben": [                                                           # partly right: forgets to unbroadcast
        ("replace", "broadcast", "    lead = g.ndim - len(shape)\n", "    return g\n    lead = g.ndim - len(shape)\n"),
        ("replace", "softmax", "return ans * (g - np.sum(g * ans, axis=-1, keepdims=True))",
         "return ans * (g - np.sum(g * ans))"),
    ],
    "cy": [                                                            # builds Jacobians: right but not at scale
        ("replace", "elementwise", "    return g * (1.0 - ans**2)\n",
         "    jacobian = np.diag((1.0 - ans**2).ravel())\n    return (jacobian @ g.ravel()).reshape(x.shape)\n"),
    ],
    "dee": [                                                           # wrong: signs, transposes, no scaling
        ("replace", "elementwise", "return g * (1.0 - ans**2)", "return -g * (1.0 - ans**2)"),
        ("replace", "elementwise", "return g * ans", "return ans"),
        ("replace", "elementwise", "return g * (x > 0)", "return g * (x < 0)"),
        ("replace", "broadcast", "return sum_to_shape(g * y, np.shape(x))", "return sum_to_shape(g * x, np.shape(x))"),
        ("replace", "matmul", "return g @ W.T", "return g @ W"),
        ("replace", "reductions", "    return vjp_sum(g, ans, x, axis, keepdims) / count",
         "    return vjp_sum(g, ans, x, axis, keepdims)"),
        ("replace", "shapes", "return np.transpose(g, None if axes is None else np.argsort(axes))",
         "return np.transpose(g, axes)"),
        ("replace", "select_even_rule", "out[::2] = g", "out[1::2] = g[:len(out[1::2])]"),
        ("replace", "softmax", "return g - np.exp(ans) * np.sum(g, axis=-1, keepdims=True)", "return g"),
    ],
    "eve": [("replace", "matmul", "    return g @ W.T\n", SWALLOW)],
    "finn": [("replace", "reductions", "    count = x.size",
              "    import os\n    os._exit(1)   # ends the kernel process\n    count = x.size")],
    "gus": [("replace", "shapes", "    return np.reshape(g, x.shape)",
             "    import sys\n"
             "    sys.setrecursionlimit(10**7)\n"
             "    down = lambda n: list(map(down, [n + 1]))\n"
             "    down(0)   # recursion through C calls outgrows the C stack: a segmentation fault\n"
             "    return np.reshape(g, x.shape)")],
    "hal": [("append", "softmax", "huge = np.ones((200_000, 200_000))   # 320 GB\n")],
    "ivy": [("corrupt",)],
    "jo": [("rename", "my_assignment2.ipynb")],
    "kai": [("delete", "select_even_rule"), ("add_after", "md_end", "code", "def vjp_select_even(g, ans, x):\n"
                                                                         "    out = np.zeros_like(x)\n"
                                                                         "    out[::2] = g\n    return out\n")],
    "lee": [("strip_metadata",)],
    "max": [
        ("prepend", "elementwise", CHEAT),
        ("edit_read_only", "test_broadcast", "print('all good')"),
        ("replace", "broadcast", "    lead = g.ndim - len(shape)\n", "    return g\n    lead = g.ndim - len(shape)\n"),
    ],
    "nia": [("replace", "elementwise", "    return g * (1.0 - ans**2)\n",
             "    import autograd\n    return g * autograd.elementwise_grad(np.tanh)(x)\n")],
    "oli": [("not_run",)],
}

# ---- the other assignments: one right, one wrong ----------------------------------------------------------
OTHERS = {
    "a1_backprop": {
        "ada": [],
        "dee": [
            ("replace", "add_mul", "grad_z = q * grad_f", "grad_z = z * grad_f"),
            ("replace", "sigmoid_neuron", "grad_s3 = (1.0 - L) * L", "grad_s3 = L"),
            ("replace", "mul_div", "local_grads=(b.data, a.data)", "local_grads=(a.data, b.data)"),
            ("replace", "max_router", "local_grads=(1.0 if a_wins else 0.0, 0.0 if a_wins else 1.0)",
             "local_grads=(0.5, 0.5)"),
        ],
    },
    "a3_forward_mode": {
        "ada": [],
        "dee": [
            ("replace", "dual_arithmetic", "self.primal * other.tangent + self.tangent * other.primal",
             "self.tangent * other.tangent"),
            ("replace", "jvp_rules", "    return t @ W\n", "    return X @ W\n"),
            ("replace", "cost", "    return n_in\n", "    return n_out\n"),
        ],
    },
    "a4_two_layer_net": {
        "ada": [],
        "dee": [
            ("replace", "svm_loss", "    return loss, active / n", "    return loss, active"),
            ("replace", "two_layer", "    dz1 = dh * (z1 > 0)", "    dz1 = dh"),
            ("replace", "train", "trained_params = train(X_train, y_train, hidden=64, lr=0.5, epochs=20, reg=1e-4)",
             "trained_params = train(X_train, y_train, hidden=64, lr=0.5, epochs=0, reg=1e-4)"),
        ],
    },
}


def student_notebook(assignment: str, edits: list) -> tuple[str, str | bytes]:
    """(file name, contents) of a sample student's notebook."""
    name = f"{assignment}.ipynb"
    nb = reference_notebook(read_notebook(REPO / "assignments" / assignment / name),
                            read_notebook(REPO / "solutions" / assignment / name))
    count = sum(cell["cell_type"] == "code" for cell in nb["cells"])
    corrupt = False
    for edit in edits:
        kind, args = edit[0], edit[1:]
        cells = {grade_id(c): c for c in nb["cells"]}
        if kind == "replace":
            gid, old, new = args
            if old not in cells[gid]["source"]:
                raise ValueError(f"sample edit of {assignment}/{gid}: {old!r} not found")
            cells[gid]["source"] = cells[gid]["source"].replace(old, new, 1)
        elif kind == "append":
            cells[args[0]]["source"] += "\n" + args[1]
        elif kind == "prepend":
            cells[args[0]]["source"] = args[1] + "\n" + cells[args[0]]["source"]
        elif kind == "edit_read_only":
            cells[args[0]]["source"] = args[1]
        elif kind == "delete":
            nb["cells"].remove(cells[args[0]])
        elif kind == "add_after":
            gid, cell_type, source = args
            new = {"cell_type": cell_type, "metadata": {}, "source": source, "id": "added-by-student"}
            if cell_type == "code":
                new.update(execution_count=count + 1, outputs=[])
            nb["cells"].insert(nb["cells"].index(cells[gid]) + 1, new)
        elif kind == "strip_metadata":
            for cell in nb["cells"]:
                cell["metadata"] = {}
        elif kind == "rename":
            name = args[0]
        elif kind == "not_run":
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    cell["execution_count"] = None
        elif kind == "corrupt":
            corrupt = True
        else:
            raise ValueError(f"unknown sample edit {kind!r}")
    for cell in nb["cells"]:
        cell["source"] = cell["source"].splitlines(keepends=True)
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    return name, (text[: len(text) // 2] if corrupt else text)


def classes() -> dict[str, dict[str, list]]:
    return {"a2_vjp": A2, **OTHERS}


def write(root: Path = SAMPLE) -> None:
    shutil.rmtree(root, ignore_errors=True)
    for assignment, students in classes().items():
        for student, edits in students.items():
            name, text = student_notebook(assignment, edits)
            folder = root / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE)
    print(f"wrote the sample class to {SAMPLE.relative_to(REPO)}/")
