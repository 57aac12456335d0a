"""The sandbox against a hostile kernel: forged replies, a kernel that stops reading, oversized or lying
harvests, a notebook that sleeps through its time, keys left for the next student, shadowed imports, and what
the sandbox's own command line gives away."""

import io
import json
import os
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npformat

from grader.sandbox import ForgedReply, Isolation, KernelDied, Limits, Sandbox, SandboxTimeout, detect_isolation
from grader.sandbox.supervisor import MAX_ARRAYS, load_arrays


def call(expression: str, key: str = "k", inputs: tuple = ()) -> dict:
    """A harvest item: `expression` evaluated in the notebook, over the grader's arrays named in `inputs`."""
    return {"key": key, "op": "call", "fn": f"lambda {', '.join(inputs)}: {expression}",
            "args": [{"$array": name} for name in inputs]}

ADA = Path(__file__).resolve().parents[2] / "grader" / "sample" / "submitted" / "ada"
ISOLATED = detect_isolation() is not Isolation.RLIMITS
needs_namespaces = pytest.mark.skipif(not ISOLATED, reason="no namespaces on this machine: rlimits only")
QUICK = Limits(cell_timeout=3, interrupt_grace=1)
BIG_INPUT = {"x": np.zeros(2**18)}       # a 2 MiB harvest request: far more than a pipe holds


def within(seconds, box, action):
    """action(), which must end within `seconds`; if it does not, the sandbox is killed (unblocking it) and
    the test fails instead of hanging."""
    outcome = {}

    def attempt():
        try:
            outcome["value"] = action()
        except BaseException as err:  # noqa: BLE001  (re-raised in the test's thread)
            outcome["error"] = err

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        box._kill()
        thread.join(10)
        pytest.fail(f"the grader was still blocked after {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def ada_a3_with(tmp_path, grade_id, code):
    """The assignment a3_forward_mode and ada's right submission of it, with `code` added at the end of the
    answer cell `grade_id`."""
    from grader.assignment import load_assignment
    from grader.collect import from_folder

    nb = json.loads((ADA / "a3_forward_mode" / "a3_forward_mode.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") in grade_id.split():
            cell["source"] = "".join(cell["source"]) + "\n" + code
    folder = tmp_path / "a3_forward_mode"
    folder.mkdir()
    (folder / "a3_forward_mode.ipynb").write_text(json.dumps(nb))
    return load_assignment("a3_forward_mode"), from_folder("mallory", folder, "a3_forward_mode.ipynb", 2**24)


ANSWER_CELLS_A3 = "dual_arithmetic dual_functions jvp_rules jacobian_fwd jacobian_rev cost"


# ---- the protocol: forged replies and a kernel that stops reading ---------------------------------------
FORGE_AND_SLEEP = """
import os, sys, time
os.write(int(sys.argv[2]), b'{"ok": true}\\n{"ok": true, "results": {}}\\n')
time.sleep(10**6)
"""

# A kernel taken over (the guard off: these tests hold the supervisor on its own) replaces how it writes its
# replies, from this cell's reply on.
KERNEL_SENDS = """
import os, sys, time
_write, _replies, _count = os.write, int(sys.argv[2]), []
def write(fd, data):
    n = _write(fd, data)
    if fd == _replies:
        {then}
    return n
os.write = write
"""
REPLY_THEN_SLEEP = KERNEL_SENDS.format(then="_count.append(1)\n        if len(_count) >= 2:\n"
                                             "            time.sleep(10**6)")
REPLY_TWICE = KERNEL_SENDS.format(then="_write(fd, data)")


def test_forged_replies_end_the_run_instead_of_hanging_the_grader():
    limit = QUICK.cell_timeout + QUICK.interrupt_grace + 5
    with Sandbox(QUICK) as box, pytest.raises(ForgedReply, match="forged"):
        within(limit, box, lambda: (box.run(FORGE_AND_SLEEP), box.harvest([call('1')], BIG_INPUT)))


def test_a_notebook_that_forges_replies_is_tampered_with_the_points_earned_before(tmp_path):
    """Forging the grader's replies is cheating, not a crash: the run stops there, and the status says so."""
    from grader.runner import grade_submission

    assignment, sub = ada_a3_with(tmp_path, "dual_functions", FORGE_AND_SLEEP)
    result = grade_submission(sub, assignment, limits=QUICK, isolation=detect_isolation(), forbidden_modules=[],
                              forbidden_functions=[])
    assert result.status == "tampered"
    assert result.failure["kind"] == "tampered" and "forged" in result.failure["reason"]
    assert result.failure["cell"] == "dual_functions" and result.score == 2    # test_dual_arithmetic, before it


def test_a_kernel_that_stops_reading_its_commands_is_killed_at_the_deadline():
    """The request is written under the same deadline as the reply is awaited: a kernel that answers a cell
    and then sleeps instead of reading on cannot block the grader in the write of the next, large, request."""
    with Sandbox(QUICK, guard=False) as box:
        assert box.run(REPLY_THEN_SLEEP).ok and box.run("x = 1").ok     # answered; the kernel now sleeps
        start = time.monotonic()
        with pytest.raises(SandboxTimeout) as err:
            within(QUICK.cell_timeout + 10, box, lambda: box.harvest([call('1')], BIG_INPUT))
    assert not err.value.interrupted
    assert time.monotonic() - start < QUICK.cell_timeout + 2


def test_a_forged_answer_to_the_current_request_does_not_shift_the_next_ones():
    """Student code that answers a request twice, with the right id (a kernel taken over: guard off): the
    second answer shows the first was forged, and the run ends there, naming the request."""
    with Sandbox(QUICK, guard=False) as box:
        assert box.run(REPLY_TWICE).ok
        with pytest.raises(ForgedReply) as err:
            box.run("x = 1")
    assert err.value.duplicate_of == box.request_ids[0]


def test_rebinding_how_the_kernel_writes_changes_nothing_under_the_guard():
    """Under the guard the os module is read-only: the cell's change to os.write is ignored and noted with its
    line, and the replies stay as they were."""
    with Sandbox(QUICK) as box:
        cell = box.run(REPLY_TWICE)
        assert cell.ok and [n["fn"] for n in cell.engine] == ["changed os.write"]
        assert box.run("x = 1").ok
        assert box.harvest([call('x', 'x')], {}).arrays["a0"] == 1
        assert not box.run("y = 2 / 0").ok


def test_a_kernel_that_closes_its_reply_pipe_and_sleeps_is_killed():
    """In rlimits mode the kernel is the only writer: end of file comes while it still runs."""
    code = "import os, sys, time\nos.close(int(sys.argv[2]))\ntime.sleep(10**6)"
    with Sandbox(QUICK, isolation=Isolation.RLIMITS) as box, pytest.raises(KernelDied):
        within(QUICK.cell_timeout + QUICK.interrupt_grace + 5, box, lambda: box.run(code))


def test_an_interrupt_that_comes_after_the_cell_ended_does_not_shift_the_next_reply():
    """The race of a cell that ends just as its time is up: the interrupt (sent as _request sends it, for a
    request past its time) finds the kernel idle, and its echo is skipped."""
    with Sandbox(QUICK) as box:
        assert box.run("x = 1").ok
        box._interrupted.add(box.request_ids[-1])
        box._interrupt()
        time.sleep(0.5)
        assert box.run("y = 2").ok
        assert box.harvest([call('y', 'y')], {}).arrays["a0"] == 2


# ---- the whole submission's time --------------------------------------------------------------------------
def test_the_submission_budget_ends_a_run_of_cells_each_within_their_limit():
    budget = Limits(cell_timeout=3, interrupt_grace=1, submission_timeout=5)
    start = time.monotonic()
    with Sandbox(budget) as box, pytest.raises(SandboxTimeout, match="total time limit of 5 s"):
        for _ in range(10):
            assert box.run("import time\ntime.sleep(2)").ok
    assert time.monotonic() - start < 5 + 1 + 3


def test_the_sandbox_dies_at_the_end_of_the_budget_whatever_the_grader_is_doing():
    """The watchdog: even a grader thread that never asks the kernel anything again sees it killed."""
    with Sandbox(Limits(cell_timeout=3, interrupt_grace=0.5, submission_timeout=1)) as box:
        box.run("import threading\nthreading.Thread(target=lambda: __import__('time').sleep(10**6)).start()")
        box.proc.wait(timeout=10)
        with pytest.raises(SandboxTimeout, match="total time limit"):
            box.run("x = 1")


def test_a_slow_notebook_is_a_timeout_with_the_points_earned_before(tmp_path):
    """Every answer cell takes 1.5 s, each well within the cell limit; together they run past the notebook's
    total time, and the parts harvested before that keep their points."""
    from grader.runner import grade_submission

    assignment, sub = ada_a3_with(tmp_path, ANSWER_CELLS_A3, "import time\ntime.sleep(1.5)")
    result = grade_submission(sub, assignment, limits=Limits(cell_timeout=3, submission_timeout=6),
                              isolation=detect_isolation(), forbidden_modules=[], forbidden_functions=[])
    assert result.status == "timeout" and "total time limit of 6 s" in result.failure["reason"]
    assert 0 < result.score < assignment.max_score
    assert result.seconds < 6 + 3 + 3


# ---- harvests: arrays that lie about their size, skeletons of millions of objects ----------------------
def npz(members: dict) -> bytes:
    """A zip of raw .npy members (bytes), written by hand the way a tampered kernel would."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def npy(header: dict, data: bytes = b"") -> bytes:
    buf = io.BytesIO()
    npformat.write_array_header_1_0(buf, {"fortran_order": False, **header})
    return buf.getvalue() + data


@pytest.mark.parametrize("member", [
    npy({"descr": "<U0", "shape": (2_000_000_000,)}),                   # gigabytes of empty strings, no data
    npy({"descr": "<U7", "shape": (1,)}, "forward".encode("utf-32-le")),  # words travel in the skeleton
    npy({"descr": "|O", "shape": (1,)}, b"\0" * 8),
    npy({"descr": [("a", "<f8")], "shape": (1,)}, b"\0" * 8),
    npy({"descr": "<f8", "shape": (10**6,)}, b"\0" * 8),                # a header promising more than it holds
    npy({"descr": "<f8", "shape": (1,)}, b"\0" * 16),
    npy({"descr": "<f8", "shape": (-1, -1)}, b"\0" * 8),
    b"not an npy file",
])
def test_arrays_that_are_not_numbers_or_not_the_size_they_claim_are_refused(member):
    with pytest.raises(ValueError):
        load_arrays(npz({"a0.npy": member}), 2**20)


def test_plain_arrays_come_back_as_saved():
    buf = io.BytesIO()
    arrays = {"a0": np.arange(6.0).reshape(2, 3), "a1": np.asfortranarray(np.eye(3)), "a2": np.array(True),
              "a3": np.array([1 + 2j]), "a4": np.zeros((0, 5), dtype=np.int32)}
    np.savez(buf, **arrays)
    got = load_arrays(buf.getvalue(), 2**20)
    assert got.keys() == arrays.keys()
    for name, a in arrays.items():
        assert got[name].dtype == a.dtype and got[name].shape == a.shape and np.array_equal(got[name], a)


def test_too_many_arrays_are_refused_before_they_are_listed():
    empty = npy({"descr": "<f8", "shape": (0,)})
    with pytest.raises(ValueError):
        load_arrays(npz({f"a{i}.npy": empty for i in range(MAX_ARRAYS + 1)}), 2**30)


def harvest_returns(value: str) -> str:
    """A cell that makes every harvest answer `value` (a Python expression) as its skeleton, as is."""
    return f"import sys\nsys.modules['harvest'].collect = lambda *args, **kwargs: ({{'k': {{'value': {value}}}}}, {{}})"


def test_a_harvest_of_ten_million_empty_lists_is_refused():
    """40 MB of JSON would be 1.6 GB of Python lists in the grader: the skeleton's line has its own limit."""
    with Sandbox(QUICK, guard=False) as box:
        assert box.run(harvest_returns("[[]] * 10_000_000")).ok
        with pytest.raises(KernelDied, match="larger than the limit"):
            box.harvest([call('1')], {})


@pytest.mark.parametrize("value", ["[[]] * 200_000", "eval('[' * 100 + ']' * 100)"])
def test_a_skeleton_of_too_many_values_or_too_deep_is_dropped(value):
    with Sandbox(QUICK, guard=False) as box:
        assert box.run(harvest_returns(value)).ok
        assert box.harvest([call('1')], {}).results == {}


def test_a_plain_skeleton_comes_back():
    with Sandbox(QUICK) as box:
        assert box.harvest([call("[[1, 2], {'a': 'forward'}]")], {}).results["k"]["value"] \
            == [[{"$array": "a0"}, {"$array": "a1"}], {"a": "forward"}]


U0_HARVEST = """
import io, sys, zipfile
from numpy.lib import format as _fmt
_h = sys.modules["harvest"]
def _save(file, arrays):
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as zf:
        b = io.BytesIO()
        _fmt.write_array_header_1_0(b, {"descr": "<U0", "fortran_order": False, "shape": (2_000_000_000,)})
        zf.writestr("a0.npy", b.getvalue())
_h.save_arrays = _save
"""


def test_a_tampered_kernel_cannot_send_gigabytes_of_empty_strings():
    with Sandbox(QUICK, guard=False) as box:
        assert box.run(U0_HARVEST).ok
        got = box.harvest([call('1.0')], {})
    assert got.results == {} and got.arrays == {}


# ---- what one sandbox leaves for the next, and what it sees of the host -------------------------------
KEYCTL_SEARCH = 10
ADD_KEY = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
data = b"answers of the student before you"
added = (libc.syscall(ctypes.c_long({add_key}), b"user", b"sandbox-test", data, ctypes.c_long(len(data)),
                     ctypes.c_long(-4)), ctypes.get_errno())
"""
FIND_KEY = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
found = (libc.syscall(ctypes.c_long({keyctl}), ctypes.c_long({search}), ctypes.c_long(-4), b"user",
                     b"sandbox-test", ctypes.c_long(0)), ctypes.get_errno())
"""


@needs_namespaces
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="system call numbers of x86-64")
def test_kernel_keyrings_are_closed_to_student_code():
    """Keyrings belong to a uid, and every sandbox of a worker has the same one: a key added by one student
    would be there for the next (and stay on the machine)."""
    import errno

    with Sandbox(QUICK, slot=7, guard=False) as box:
        assert box.run(ADD_KEY.format(add_key=248)).ok
        added = box.harvest([call('added')], {})
    with Sandbox(QUICK, slot=7, guard=False) as box:
        assert box.run(FIND_KEY.format(keyctl=250, search=KEYCTL_SEARCH)).ok
        found = box.harvest([call('found')], {})
    values = lambda got: [int(got.arrays[a["$array"]]) for a in got.results["k"]["value"]]  # noqa: E731
    assert values(added) == [-1, errno.EPERM]
    assert values(found) == [-1, errno.EPERM]


def test_shipped_modules_do_not_shadow_the_kernels(tmp_path):
    """A submission's harvest.py or numpy/ must not replace the kernel's own (nor hide the import hook); the
    student's own helper modules still import."""
    (tmp_path / "harvest.py").write_text("def collect(namespace, items, inputs):\n"
                                         "    return {'k': {'value': 'forged'}}, {}\n")
    (tmp_path / "numpy").mkdir()
    (tmp_path / "numpy" / "__init__.py").write_text("SHADOW = True\n")
    (tmp_path / "autograd").mkdir()
    (tmp_path / "autograd" / "__init__.py").write_text("")
    (tmp_path / "helpers.py").write_text("ANSWER = 42\n")
    code = ("import numpy, harvest, helpers\n"
            "where = [numpy.__file__, harvest.__file__, str(helpers.ANSWER)]")
    with Sandbox(QUICK, files=str(tmp_path), forbidden=("autograd",), guard=False) as box:
        assert box.run(code).ok
        got = box.harvest([call('where'), call("x * 2", "x", inputs=("x",))],
                          {"x": np.arange(3.0)})
        forbidden = box.run("import autograd")
    numpy_file, harvest_file, answer = got.results["k"]["value"]
    assert "/home/student" not in numpy_file and "/home/student" not in harvest_file and answer == "42"
    assert list(got.arrays[got.results["x"]["value"]["$array"]]) == [0.0, 2.0, 4.0]
    assert forbidden.ename == "ModuleNotFoundError" and "not allowed" in forbidden.evalue


@needs_namespaces
def test_the_sandbox_command_line_shows_no_host_paths(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with Sandbox(QUICK, files=str(tmp_path), guard=False) as box:
        assert box.run("line = open('/proc/1/cmdline').read()").ok
        line = box.harvest([call('line')], {}).results["k"]["value"]
        scratch = box._scratch
    assert line and str(tmp_path) not in line and scratch not in line and "cgroup" not in line
