"""Attacks on the harvest from inside the student's kernel, written as a student who has read the grader's source
(sandbox/kernel.py, harvest.py, guard.py) would try them: reach the grader's or the engine's objects and make
the harvested arrays come out right for a blank notebook. Each asserts what an instructor needs: the run ends
`tampered` (with where), or the blank earns no more than a blank.

The sandbox-level tests exercise the run-time guard alone (the static answer policy, answer_policy.py, is not
involved there); the end-to-end ones grade whole notebooks, both layers on.
"""

import json
from pathlib import Path

import pytest

from grader.sandbox import Isolation, Limits, Sandbox, Tampered, detect_isolation

REPO = Path(__file__).resolve().parents[2]
QUICK = Limits(cell_timeout=10, interrupt_grace=1)


def stopped(code: str, setup: str = "import numpy as np") -> Tampered:
    """Run `setup`, then `code` as the answer cell 'attack'; return how the guard stopped it."""
    with Sandbox(QUICK) as box:
        assert box.run(setup, cell="setup").ok
        with pytest.raises(Tampered) as err:
            box.run(code, cell="attack")
    assert err.value.cell == "attack"
    return err.value


# ---- doors: each ends the kernel as tampered, naming the cell and line ----------------------------------
@pytest.mark.parametrize("door, code", [
    ("gc.get_objects", "import gc\nfound = [o for o in gc.get_objects() if getattr(o, '__name__', '') == 'harvest']"),
    ("gc.get_referrers", "import gc\ngc.get_referrers(np.copy)"),
    ("sys._getframe", "import sys\nkernel_frame = sys._getframe().f_back"),
    ("tb_frame", "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    frame = e.__traceback__.tb_frame"),
    ("gi_frame", "g = (i for i in range(3))\nframe = g.gi_frame"),
    ("ctypes", "import ctypes\nctypes.string_at(id(np), 8)"),
    ("object.__setattr__", "def fake(g, ans, x):\n    return g\nfake.__code__ = (lambda g, ans, x: g * 0).__code__"),
    ("object.__setattr__", "import math\nobject.__setattr__(np, '__class__', type(math))"),
    ("compile", "exec('x = 1')"),
    ("compile", "code = compile('x = 1', 'mine', 'exec')"),
    ("open", "open('/proc/self/mem', 'rb')"),
    ("open", "import os\nos.fdopen(4, 'wb')"),
    ("sys.settrace", "import sys\nsys.settrace(lambda *a: None)"),
])
def test_attack_a_door_to_objects_the_notebook_did_not_create_ends_the_run(door, code):
    """Attack: reach the kernel's objects through the garbage collector, frames, ctypes, code swaps, exec,
    /proc, processes or tracing: every door ends the run as tampered, with the line that opened it."""
    err = stopped(code)
    assert door.split(".")[0] in err.door or door in err.door
    assert err.line >= 1


@pytest.mark.parametrize("path", ["/proc/self/mem", "/proc/self/fd/4", "/proc/self/environ", "/dev/fd/7"])
def test_attack_the_kernels_memory_and_pipes_cannot_be_opened_by_path(path):
    """Attack: numpy's fromfile opens a path for the student: read the kernel's memory (to learn the request
    id) or its pipes (to forge or steal requests). Opening /proc or /dev/fd is a door."""
    err = stopped(f"np.fromfile({path!r}, dtype=np.uint8, count=16)")
    assert err.door == "open"


def test_attack_patching_numpy_or_the_engine_changes_nothing_the_harvest_uses():
    """Attack: rebind what the harvest calls (numpy's functions, the engine's transformations): the modules are
    read-only while grading; each change is ignored and noted with its line, and the harvest is untouched."""
    with Sandbox(QUICK) as box:
        box.run("import numpy as np\nimport autodiff_lab\nx = np.arange(3.0)", cell="setup")
        patches = ["np.copy = lambda a: a * 0", "np.asarray = None", "autodiff_lab.vjp = None",
                   "import autodiff_lab.transforms as t\nt.vjp = None", "del np.array", "setattr(np, 'array', None)"]
        notes = []
        for patch in patches:
            cell = box.run(patch, cell="attack")
            assert cell.ok
            notes += cell.engine
        got = box.harvest([{"key": "x", "op": "call", "fn": "lambda: np.copy(x)"}], {})
    assert list(got.arrays["a0"]) == [0.0, 1.0, 2.0]
    assert [n["fn"] for n in notes] == ["changed numpy.copy", "changed numpy.asarray", "changed autodiff_lab.vjp",
                                        "changed autodiff_lab.transforms.vjp", "deleted numpy.array",
                                        "changed numpy.array"]
    assert all(n["cell"] == "attack" for n in notes)


@pytest.mark.parametrize("event, code", [
    ("os.system", "import os\nos.system('true')"),
    ("subprocess.Popen", "import subprocess\nsubprocess.run(['true'])"),
    ("socket", "import socket\nsocket.socket()"),
    ("os.fork", "import os\nif os.fork() == 0:\n    os._exit(0)"),
])
def test_attack_reaching_out_of_the_sandbox_is_noted_with_its_line(event, code):
    """Attack: start a process or open a connection. The operating system's sandbox contains them (no network,
    its own PID namespace); the guard notes each with its line, and the grader makes it a tampered finding."""
    with Sandbox(QUICK) as box:
        box.run("x = 1", cell="setup")
        cell = box.run("\n" + code, cell="attack")
    assert [(n["cell"], n["line"]) for n in cell.engine] == [("attack", 2)]
    assert cell.engine[0]["fn"].startswith("reached out of the sandbox: " + event)


def test_attack_the_kernels_own_modules_are_not_in_sys_modules():
    """Attack: look the harvest up by name, as the old design allowed (sys.modules['harvest'])."""
    with Sandbox(QUICK) as box:
        box.run("import sys\nfound = [n for n in ('harvest', 'guard', 'functions', 'kernel') if n in sys.modules]",
                cell="attack")
        got = box.harvest([{"key": "k", "op": "call", "fn": "lambda: len(found)"}], {})
    assert got.arrays[got.results["k"]["value"]["$array"]] == 0


def test_attack_a_forged_reply_with_the_right_id_voids_that_step(tmp_path):
    """Attack: the issue's own: a reply forged with the right request id, then a cell that raises, graded as
    if the cell had passed. The kernel's real reply comes second and shows the first was forged: the run is
    tampered from the step whose reply was forged, and that step's harvest is void. (The kernel is taken over
    here, guard off, as a student who got past every door would have it.)"""
    from grader.runner import run_in_sandbox
    from grader.structure import match, read_notebook

    forge_harvests = ("import os, sys, json\n_write, _replies, _cmd = os.write, int(sys.argv[2]), int(sys.argv[1])\n"
                      "def write(fd, data):\n"
                      "    if fd == _replies and b'results' in bytes(data):\n"
                      "        rid = json.loads(bytes(data).split(b'\\n')[0])['id']\n"
                      "        _write(fd, json.dumps({'ok': True, 'results': {}, 'id': rid}).encode() + b'\\n')\n"
                      "    return _write(fd, data)\n"
                      "os.write = write\n")
    a, sub = notebook(tmp_path, "a3_forward_mode", {})
    matched = match(read_notebook(sub.notebook), a.template)
    matched.steps[0].source = forge_harvests + matched.steps[0].source
    from grader import runner

    original = runner.Sandbox
    runner.Sandbox = lambda *args, **kw: original(*args, guard=False, **kw)
    try:
        run = run_in_sandbox(matched, a, sub, QUICK, detect_isolation(), [], 0)
    finally:
        runner.Sandbox = original
    first_harvest = next(s.grade_id for s in matched.steps if s.action == "harvest")
    assert run.failure["kind"] == "tampered" and run.failure["cell"] == first_harvest
    assert first_harvest not in run.harvests


# ---- whole notebooks: a blank plus an attack earns no more than a blank ----------------------------------
def notebook(tmp_path, assignment: str, answers: dict[str, str]) -> tuple:
    """The released (blank) notebook of `assignment` with `answers` ({grade_id: code}) in its answer cells,
    run in order (execution counts), as student 'mallory' submits it."""
    from grader.assignment import load_assignment
    from grader.collect import from_folder

    nb = json.loads((REPO / "assignments" / assignment / f"{assignment}.ipynb").read_text())
    for count, cell in enumerate(nb["cells"], 1):
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
        if cell["cell_type"] == "code":
            cell["execution_count"] = count
    folder = tmp_path / assignment
    folder.mkdir(parents=True)
    (folder / f"{assignment}.ipynb").write_text(json.dumps(nb))
    return load_assignment(assignment), from_folder("mallory", folder, f"{assignment}.ipynb", 2**24)


def grade(tmp_path, assignment: str, answers: dict[str, str], **policy):
    from grader.config import load_config, load_settings
    from grader.runner import grade_submission

    _, settings = load_settings(load_config())
    a, sub = notebook(tmp_path, assignment, answers)
    return grade_submission(sub, a, limits=QUICK, isolation=detect_isolation(),
                            forbidden_modules=settings.forbidden_modules,
                            forbidden_functions=settings.forbidden_functions.get(assignment, []), **policy)


def blank_rules(*names: str, args: str = "g, ans, x") -> str:
    return "".join(f"def {n}({args}):\n    raise NotImplementedError()\n\n\n" for n in names)


def test_attack_patching_the_engines_value_backward_gains_a_blank_nothing(tmp_path):
    """Attack: a1's rules left blank-ish (no local gradients) and Value.backward replaced by one that fills in
    the right gradients: the graded gradients come from the graph, by a backward pass in the grader."""
    fake = ("from autodiff_lab import Value\n"
            "def v_mul(a, b):\n    return Value(a.data * b.data, op='*', parents=(a, b), local_grads=(0.0, 0.0))\n\n\n"
            "def v_div(a, b):\n    return Value(a.data / b.data, op='/', parents=(a, b), local_grads=(0.0, 0.0))\n\n\n"
            "def backward(self):\n    self.a.grad, self.b.grad = self.b.data, self.a.data\n\n\n"
            "Value.backward = backward\n")
    result = grade(tmp_path, "a1_backprop", {"mul_div": fake})
    assert result.parts["test_mul_div"]["score"] == 0
    assert result.status in ("tampered", "ok")


def test_attack_patching_the_primitive_class_gains_a_blank_nothing(tmp_path):
    """Attack: a2's rules blank, and the engine's Primitive taught to answer with numpy's own derivative: the
    harvest calls the rules the primitive holds, not the engine's methods."""
    fake = (blank_rules("vjp_tanh", "vjp_exp", "vjp_relu") +
            "from autodiff_lab import Primitive\n"
            "Primitive.apply_vjp_rule = lambda self, i, g, ans, args, kw: g * (1 - ans ** 2)\n"
            "defvjp(my_tanh, vjp_tanh)\ndefvjp(my_exp, vjp_exp)\ndefvjp(my_relu, vjp_relu)\n")
    result = grade(tmp_path, "a2_vjp", {"elementwise": fake})
    assert result.parts["test_elementwise"]["score"] == 0


def test_attack_the_engines_own_rules_are_flagged_at_run_time(tmp_path):
    """Attack: a2's rule is the engine's built-in VJP of tanh, reached through a getattr chain the static
    policy might miss: graded as the student's, but flagged for a person, with the rule named."""
    taken = ("import autodiff_lab.numpy as anp\n"
             "tanh_rule = getattr(getattr(anp, 'tanh'), 'vjps')[0]\n"
             "def vjp_tanh(g, ans, x):\n    return tanh_rule(g, ans, x)\n\n\n"
             "vjp_exp = anp.exp.vjps[0]\n"
             "def vjp_relu(g, ans, x):\n    return g * (x > 0)\n\n\n"
             "defvjp(my_tanh, vjp_tanh)\ndefvjp(my_exp, vjp_exp)\ndefvjp(my_relu, vjp_relu)\n")
    result = grade(tmp_path, "a2_vjp", {"elementwise": taken})
    findings = [v for v in result.violations if v["code"] == "engine-derivative"]
    messages = " ".join(v["message"] for v in findings)
    assert "built-in rule of tanh" in messages and "tanh_rule(g, ans, x)" in messages       # called by the rule
    assert "built-in rule of my_exp" in messages                                           # given to defvjp
    assert result.status in ("needs-manual-grade", "tampered")


def test_attack_value_and_grad_through_a_submodule_is_flagged_at_run_time(tmp_path):
    """Attack: a4's softmax loss takes its gradient from the engine, reached as a submodule's attribute."""
    taken = ("from autodiff_lab import transforms\nimport autodiff_lab.numpy as anp\n"
             "def softmax_loss(scores, y):\n"
             "    def loss(s):\n"
             "        shifted = s - anp.max(s, axis=1, keepdims=True)\n"
             "        logp = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))\n"
             "        return -anp.mean(logp[np.arange(len(y)), y])\n"
             "    return transforms.value_and_grad(loss)(scores)\n")
    result = grade(tmp_path, "a4_two_layer_net", {"softmax_loss": taken})
    messages = " ".join(v["message"] for v in result.violations if v["code"] == "engine-derivative")
    assert "value_and_grad()" in messages and "cell 'softmax_loss'" in messages
    assert result.status in ("needs-manual-grade", "tampered")


def test_attack_value_arithmetic_inside_a1_rules_is_flagged_at_run_time(tmp_path):
    """Attack: a1's v_mul rebuilt from the engine's Value arithmetic instead of a written rule."""
    arithmetic = ("def v_mul(a, b):\n    return a * b\n\n\n"
                  "def v_div(a, b):\n    return a / b\n")
    result = grade(tmp_path, "a1_backprop", {"mul_div": arithmetic}, own_rules=["mul_div", "sigmoid_log",
                                                                                "max_router"])
    messages = " ".join(v["message"] for v in result.violations if v["code"] == "engine-derivative")
    assert "Value arithmetic" in messages and "return a * b" in messages
    assert result.status in ("needs-manual-grade", "tampered")


def test_attack_reaching_the_harvest_through_gc_in_a_whole_notebook_is_tampered(tmp_path):
    """Attack: the issue's own: a blank a2 whose answer cell finds the harvest through gc and replaces the op
    that calls the rules with one that answers from the engine. Tampered, and the later parts earn nothing."""
    attack = (blank_rules("vjp_tanh", "vjp_exp", "vjp_relu") +
              "import gc\n"
              "for o in gc.get_objects():\n"
              "    if isinstance(o, dict) and 'vjp' in o and 'call' in o and 'value_graph' in o:\n"
              "        o['vjp'] = lambda *a: None\n")
    result = grade(tmp_path, "a2_vjp", {"elementwise": attack})
    assert result.status == "tampered" and result.score == 0
    if result.failure:
        assert result.failure["cell"] == "elementwise"


@pytest.mark.skipif(detect_isolation() is Isolation.RLIMITS, reason="no namespaces on this machine")
def test_the_right_answers_run_under_the_guard_untouched(tmp_path):
    """The reference answers of every assignment pass under the guard: no door is opened by honest code, the
    engine's modules stay usable, and nothing is flagged."""
    from grader.assignment import load_assignment
    from grader.collect import Submission
    from grader.runner import grade_submission

    for name in ("a1_backprop", "a2_vjp", "a3_forward_mode"):
        a = load_assignment(name)
        folder = tmp_path / name
        folder.mkdir()
        (folder / a.notebook).write_text(json.dumps(a.reference_notebook()))
        result = grade_submission(Submission("ref", folder, folder / a.notebook), a, limits=Limits(cell_timeout=30),
                                  isolation=detect_isolation(), forbidden_modules=[], forbidden_functions=[],
                                  allowed_functions={"jacobian_fwd": ["jvp"], "jacobian_rev": ["vjp"]})
        assert (result.status, result.score) == ("ok", a.max_score), (name, result.failure, result.violations)


def test_attack_an_answer_larger_than_its_check_expects_fails_alone():
    """Attack: a function that returns far more numbers than its check expects (to exhaust the grader, or
    hoping the reply is lost with the others): that item is an error of its own, refused in the kernel, and the
    other items of the request come back; a kernel that ignores the cap is refused before its reply is read."""
    from grader.sandbox import KernelDied

    big = {"key": "big", "op": "call", "fn": "lambda: np.ones(2**21)"}           # 16 MiB
    small = {"key": "small", "op": "call", "fn": "lambda: np.ones(3)"}
    with Sandbox(QUICK) as box:
        box.run("import numpy as np")
        got = box.harvest([big, small], {}, max_bytes=2**20)
    assert "more than this check expects" in got.results["big"]["error"]
    assert list(got.arrays[got.results["small"]["value"]["$array"]]) == [1.0, 1.0, 1.0]
    with Sandbox(QUICK, guard=False) as box:              # a kernel taken over: it sends the 16 MiB anyway
        box.run("import numpy as np, sys\nh = sys.modules['harvest']\n"
                "h._within = lambda value, arrays, key, cap: h.to_plain(value, arrays, key)")
        with pytest.raises(KernelDied, match="larger than the limit"):
            box.harvest([big], {}, max_bytes=2**20)


def test_attack_an_exception_whose_message_raises_costs_only_its_own_item():
    """Attack: an exception whose __str__ raises again, thrown from a harvested function: the harvest names the
    exception and goes on with the other items; the kernel does not die."""
    with Sandbox(QUICK) as box:
        box.run("class E(Exception):\n    def __str__(self):\n        raise E()\n\n\ndef f():\n    raise E()")
        got = box.harvest([{"key": "k", "op": "call", "fn": "f"}, {"key": "j", "op": "call", "fn": "lambda: 1"}], {})
    assert got.results["k"] == {"error": "E"} and "value" in got.results["j"]


def test_attack_a_warm_kernel_finds_no_module_that_started_it():
    """Attack: a kernel forked warm (grader/sandbox/zygote.py) looks up the modules that started it, whose frames
    the guard counts as the kernel's own, to call code the guard would not blame on the notebook."""
    with Sandbox(QUICK) as box:
        box.run("import sys\nfound = [n for n in ('zygote', 'launcher', 'warm', 'kernel', 'harvest', 'guard', "
                "'functions', 'grader') if n in sys.modules]", cell="attack")
        got = box.harvest([{"key": "k", "op": "call", "fn": "lambda: len(found)"}], {})
    assert got.arrays[got.results["k"]["value"]["$array"]] == 0
