"""Warm starts (grader/sandbox/zygote.py): a kernel forked from a process that has its libraries loaded gets the
same sandbox as an exec'd one, shares nothing with the sandboxes before it, and falls back to the exec'd start
when a forbidden library is among what the zygote loaded. (Every test of test_sandbox*.py and test_attacks_*.py
runs warm too: it is the default.)"""

import pytest

from grader.sandbox import Isolation, Limits, Sandbox, detect_isolation, warm

pytestmark = pytest.mark.skipif(detect_isolation() is Isolation.RLIMITS, reason="warm starts need namespaces")
QUICK = Limits(cell_timeout=10, interrupt_grace=1)


def said(box: Sandbox, expression: str) -> str:
    """What `expression` evaluates to in the kernel, read back through an exception's message."""
    cell = box.run(f"raise ValueError(repr({expression}))")
    assert not cell.ok and cell.ename == "ValueError", cell
    return cell.evalue


def test_a_warm_kernel_runs_in_the_same_sandbox_as_an_exec_d_one():
    seen = {}
    for mode in (False, True):
        warm.ENABLED = mode
        try:
            with Sandbox(QUICK) as box:
                assert isinstance(box.proc, warm.Forked) is mode
                seen[mode] = [said(box, e) for e in (
                    "(os.getuid() >= 61000, os.getpid(), os.getcwd())",
                    "sorted(os.listdir('/'))",
                    "[resource.getrlimit(getattr(resource, n)) for n in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_NOFILE')]",
                    "sorted(k for k in os.environ)",
                    "sys.path[:1]",
                ) if box.run("import os, sys, resource").ok]
        finally:
            warm.ENABLED = True
    assert seen[True] == seen[False]
    assert seen[True][0].startswith("(True, 2,")   # a leased unprivileged uid, the child of the sandbox's init


def test_warm_kernels_share_no_state():
    draws, marks = [], []
    for _ in range(2):
        with Sandbox(QUICK) as box:
            assert isinstance(box.proc, warm.Forked)
            draws.append(said(box, "(__import__('random').random(), __import__('numpy').random.random())"))
            marks.append(said(box, "globals().get('left_behind')"))
            box.run("left_behind = 1")
    assert draws[0] != draws[1]                     # each child seeds its generators anew
    assert marks == ["None", "None"]


def test_a_forbidden_library_among_the_preloaded_starts_the_exec_d_way():
    with Sandbox(QUICK, forbidden=("glob",)) as box:     # the zygote loaded glob (for IPython)
        assert not isinstance(box.proc, warm.Forked)
    with Sandbox(QUICK, forbidden=("autograd",)) as box:
        assert isinstance(box.proc, warm.Forked)


def test_killing_a_warm_kernel_is_read_as_for_an_exec_d_one():
    from grader.sandbox import KernelDied

    with Sandbox(QUICK) as box:
        with pytest.raises(KernelDied, match="segmentation fault"):
            box.run("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
