"""The sandbox: what student code can see and do, the limits, and how a kernel's end is read."""

import os
import threading
import time
from pathlib import Path

import pytest

from grader.sandbox import Isolation, KernelDied, Limits, Sandbox, SandboxTimeout, cgroups, detect_isolation


def call(expression: str, key: str = "k", inputs: tuple = ()) -> dict:
    """A harvest item: `expression` evaluated in the notebook, over the grader's arrays named in `inputs`."""
    return {"key": key, "op": "call", "fn": f"lambda {', '.join(inputs)}: {expression}",
            "args": [{"$array": name} for name in inputs]}

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ISOLATED = detect_isolation() is not Isolation.RLIMITS
needs_namespaces = pytest.mark.skipif(not ISOLATED, reason="no namespaces on this machine: rlimits only")
QUICK = Limits(cell_timeout=3, interrupt_grace=1)

PROBE = f"""
import os, socket, subprocess
report = {{}}
def attempt(name, action):
    try:
        action()
        report[name] = "allowed"
    except Exception as err:
        report[name] = type(err).__name__
attempt("read solutions", lambda: open({REPO!r} + "/solutions/a2_vjp/a2_vjp.ipynb").read())
attempt("read grader", lambda: open({REPO!r} + "/grader/probes/__init__.py").read())
attempt("read sample class", lambda: os.listdir({REPO!r} + "/grader/sample"))
attempt("list tmp of host", lambda: [f for f in os.listdir("/tmp") if f.startswith("pytest")][0])
attempt("write outside work", lambda: open("/opt/x", "w"))
attempt("write venv", lambda: open(os.__file__ + ".x", "w"))
attempt("network", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2))
attempt("big file", lambda: open("big", "wb").write(b"x" * (40 * 2**20)))
report["uid"] = str(os.getuid())
report["pids"] = str(len([p for p in os.listdir("/proc") if p.isdigit()]))
report["hostname"] = socket.gethostname()
report["cwd"] = os.getcwd()
report["work"] = ",".join(sorted(os.listdir(".")))
"""


def run_probe(tmp_path):
    (tmp_path / "notes.txt").write_text("the student's own file")
    with Sandbox(QUICK, files=str(tmp_path), guard=False) as box:
        assert box.run(PROBE).ok
        return box.harvest([call('report', 'r')], {}).results["r"]["value"]


@needs_namespaces
def test_student_code_sees_only_its_own_working_copy_and_no_network(tmp_path):
    report = run_probe(tmp_path)
    for action in ("read solutions", "read grader", "read sample class", "network"):
        assert report[action] != "allowed", action
    assert report["list tmp of host"] == "IndexError"          # a private /tmp
    assert report["write outside work"] == "OSError"           # read-only root
    assert report["write venv"] == "OSError"
    assert report["big file"] == "OSError"                     # file size limit
    assert report["uid"] not in ("0", str(os.getuid())) or detect_isolation() is Isolation.USERNS
    assert int(report["pids"]) <= 3                            # its own PID namespace
    assert report["hostname"] == "sandbox"
    assert report["cwd"] == "/home/student/work" and set(report["work"].split(",")) == {"notes.txt", "big"}


@needs_namespaces
def test_a_fork_bomb_in_one_sandbox_leaves_another_alone():
    bomb = ("import os, time\nchildren = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
            "            time.sleep(30)\n            os._exit(0)\n        children += 1\nexcept OSError:\n    pass\n")
    limits = Limits(processes=16)
    with Sandbox(limits, slot=0, guard=False) as a, Sandbox(limits, slot=1, guard=False) as b:
        assert a.run(bomb).ok
        assert a.harvest([call('children', 'n')], {}).results["n"]["value"] != {"$array": None}
        assert b.run("import subprocess\nout = subprocess.run(['true']).returncode").ok
        assert b.harvest([call('out', 'n')], {}).arrays


@pytest.mark.parametrize("level", list(Isolation))
def test_every_isolation_level_runs_cells_and_harvests(level):
    from grader.sandbox.isolation import probe

    if level is not Isolation.RLIMITS and (level is Isolation.NAMESPACES and os.geteuid() != 0 or not probe(level)):
        pytest.skip(f"{level.value} is not available on this machine")
    with Sandbox(QUICK, isolation=level) as box:
        assert box.run("import numpy as np\nx = np.arange(3.0) * 2").ok
        assert list(box.harvest([call('x', 'x')], {}).arrays["a0"]) == [0.0, 2.0, 4.0]
        with pytest.raises(SandboxTimeout):
            box.run("while True:\n    x = 1")


def test_an_interrupted_loop_is_a_timeout():
    with Sandbox(QUICK) as box, pytest.raises(SandboxTimeout) as err:
        box.run("while True:\n    x = 1")
    assert err.value.interrupted


def test_the_interrupt_works_when_the_grader_was_started_in_the_background():
    """`autodiff-lab grade ... &` without job control starts the grader with SIGINT ignored, which its children
    inherit: the kernel still stops on the interrupt (the other cells of the run are not lost to a kill)."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with Sandbox(QUICK) as box, pytest.raises(SandboxTimeout) as err:
            box.run("while True:\n    x = 1")
        assert err.value.interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_loop_that_swallows_the_interrupt_is_killed_in_time():
    swallow = ("import time\nwhile True:\n    try:\n        time.sleep(0.01)\n"
               "    except KeyboardInterrupt:\n        pass")
    start = time.monotonic()
    with Sandbox(QUICK) as box, pytest.raises(SandboxTimeout) as err:
        box.run(swallow)
    assert not err.value.interrupted
    assert time.monotonic() - start < QUICK.cell_timeout + QUICK.interrupt_grace + 3


@pytest.mark.parametrize("code, reason", [
    ("import os\nos._exit(3)", "exited with code 3"),
    ("import ctypes\nctypes.string_at(0)", "segmentation fault"),
    ("import os\nos.abort()", "abort"),
])
def test_a_dead_kernel_says_how_it_died(code, reason):
    with Sandbox(QUICK, guard=False) as box, pytest.raises(KernelDied, match=reason):
        box.run(code)


def test_memory_is_limited():
    with Sandbox(Limits(memory=512 * 2**20)) as box:
        cell = box.run("import numpy as np\nx = np.ones(2 * 2**30 // 8)")
    assert cell.ename == "MemoryError"


def test_cpu_time_is_limited():
    with Sandbox(Limits(cpu_seconds=1, cell_timeout=20)) as box, pytest.raises(KernelDied) as err:
        box.run("while True:\n    pass")
    assert err.value.cpu_limit


@pytest.mark.skipif(not cgroups.plan("probe", 1, 1), reason="no control groups available here")
def test_control_groups_of_killed_graders_are_cleared():
    """A killed grader's groups (and anything still running in them) go once they are an hour old; the groups
    of a grader still running, and recent ones, stay."""
    import subprocess

    from grader.sandbox.scratch import SCRATCH_PREFIX, sweep_stale

    gone = subprocess.Popen(["true"])
    gone.wait()
    names = {"stale": f"{SCRATCH_PREFIX}{gone.pid}-test1", "recent": f"{SCRATCH_PREFIX}{gone.pid}-test2",
             "live": f"{SCRATCH_PREFIX}{os.getpid()}-test3"}
    groups = {key: [folder for folder, _ in cgroups.plan(name, 2**30, 100)] for key, name in names.items()}
    runaway = subprocess.Popen(["sleep", "60"])
    try:
        two_hours_ago = time.time() - 7200
        for key, folders in groups.items():
            for folder in folders:
                os.makedirs(folder)
                if key == "stale":
                    Path(folder, "cgroup.procs").write_text(str(runaway.pid))
                if key != "recent":
                    os.utime(folder, (two_hours_ago, two_hours_ago))
        sweep_stale()
        assert runaway.wait(timeout=10) == -9  # killed with its group
        assert not any(map(os.path.exists, groups["stale"]))
        assert all(map(os.path.exists, groups["recent"] + groups["live"]))
    finally:
        runaway.kill()
        cgroups.remove([(folder, {}) for folders in groups.values() for folder in folders])


@pytest.mark.skipif(not cgroups.plan("probe", 1, 1), reason="no memory control group available here")
def test_forked_children_share_one_memory_limit():
    """rlimits bound each process; the sandbox's memory group bounds them together."""
    fork = ("import os, numpy as np\nkids = []\nfor i in range(3):\n    pid = os.fork()\n    if pid == 0:\n"
            "        a = np.ones(300 * 2**20 // 8)\n        a += 1\n        import time\n        time.sleep(1)\n"
            "        os._exit(0)\n    kids.append(pid)\n"
            "killed = sum(os.waitpid(p, 0)[1] & 0x7f == 9 for p in kids)")
    with Sandbox(Limits(memory=512 * 2**20, cell_timeout=30), guard=False) as box:
        assert box.run(fork).ok
        assert box.harvest([call('killed')], {}).arrays["a0"] >= 1
        groups = [folder for folder, _ in box.cgroups]
    assert groups and not any(os.path.exists(g) for g in groups)


def test_output_is_capped():
    with Sandbox(Limits(output=1000)) as box:
        box.run("print('x' * 100_000)")
    assert len(box.output) == 1000 and box.output_dropped > 90_000


def test_forbidden_libraries_are_hidden(tmp_path):
    with Sandbox(QUICK, forbidden=("autograd",)) as box:
        cell = box.run("import autograd")
    assert cell.ename == "ModuleNotFoundError" and "not allowed" in cell.evalue


@pytest.mark.parametrize("garbage, reason", [
    (b'not json\n{"ok": true}\n', "forged"),
    (b'{"ok": true, "results": {"k": {"value": 1}}, "nbytes": 99999999999}\n', "larger than the limit"),
])
def test_garbage_on_the_reply_pipe_ends_the_run(garbage, reason):
    """A kernel that writes its own 'replies' is stopped there: they would shift every later reply onto the
    wrong request."""
    forge = ("import os\nfor fd in range(3, 20):\n    try:\n"
             f"        os.write(fd, {garbage!r})\n    except OSError:\n        pass")
    with Sandbox(QUICK) as box, pytest.raises(KernelDied, match=reason):
        box.run(forge)


def test_workers_run_sandboxes_side_by_side():
    results = []

    def one(slot):
        with Sandbox(QUICK, slot=slot) as box:
            results.append(box.run("import time\ntime.sleep(1)").ok)

    start = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True, True] and time.monotonic() - start < 5


@needs_namespaces
def test_a_checkout_under_tmp_stays_visible_read_only(tmp_path, monkeypatch):
    """CI may clone the repository under /tmp: its binds must sit on top of the sandbox's own /tmp."""
    from grader.sandbox import isolation

    host_dir = tmp_path / "checkout"
    host_dir.mkdir()
    (host_dir / "engine.txt").write_text("visible")
    (tmp_path / "work").mkdir()
    view = isolation.file_view

    def with_checkout(forbidden):
        seen = view(forbidden)
        return {**seen, "binds": sorted(seen["binds"] + [(str(host_dir), str(host_dir))])}

    monkeypatch.setattr(isolation, "file_view", with_checkout)
    with Sandbox(QUICK, files=str(tmp_path / "work")) as box:
        assert box.run(f"text = open({str(host_dir / 'engine.txt')!r}).read()").ok
        assert box.harvest([call('text', 't')], {}).results["t"]["value"] == "visible"


def test_scratch_folders_of_killed_graders_are_swept(tmp_path, monkeypatch):
    """A grader killed before it cleans up leaves its scratch folder; the next sandbox removes it at once (its
    lock died with it), and leaves alone the folders of graders still running and folders being made."""
    import subprocess
    import sys
    import tempfile

    from grader.sandbox import leases
    from grader.sandbox.scratch import SCRATCH_PREFIX, sweep_stale

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    make = (f"import sys; sys.path.insert(0, {REPO!r}); from grader.sandbox import leases; "
            f"print(leases.private_folder({SCRATCH_PREFIX!r}, {str(tmp_path)!r})[0], flush=True); "
            "import time; time.sleep(60)")
    killed = subprocess.Popen([sys.executable, "-c", make], stdout=subprocess.PIPE, text=True)
    stale = Path(killed.stdout.readline().strip())
    killed.kill()
    killed.wait()
    live, fd = leases.private_folder(SCRATCH_PREFIX)
    making = Path(tempfile.mkdtemp(prefix=leases.STAGING))      # made, not yet locked and named
    other = tmp_path / "someone-elses-folder"
    for folder in (stale, Path(live), making, other):
        (folder / "work").mkdir(parents=True, exist_ok=True)
    try:
        sweep_stale()
        assert not stale.exists() and Path(live).exists() and making.exists() and other.exists()
    finally:
        os.close(fd)
