"""The sandbox a submission's notebook runs in, seen from the grader's side.

    with Sandbox(limits, files=submission_dir) as box:
        box.run("x = 1")                      -> CellResult(ok=True)
        box.harvest(items, inputs)            -> HarvestResult (untrusted skeleton + arrays)

`Sandbox` starts launcher.py (namespaces, private root, unprivileged uid, rlimits; see there) which execs
kernel.py. The grader keeps the clock: each request has a wall-clock limit; past it the kernel gets an
interrupt, and if it does not answer within the grace period it is killed. A kernel that dies is reported
with the reason read from the launcher's exit status (signal or exit code), which student code cannot forge.
A kernel that cannot start at all (its engine, numpy or IPython does not import) raises supervisor.KernelBroken:
a problem of the grading machine, the same for every submission.
"""

from .isolation import Isolation, detect_isolation
from .supervisor import (
    CellResult,
    ForgedReply,
    HarvestResult,
    KernelDied,
    Limits,
    Sandbox,
    SandboxTimeout,
    Tampered,
    engine_notes,
)

__all__ = [
    "CellResult", "ForgedReply", "HarvestResult", "Isolation", "KernelDied", "Limits", "Sandbox", "SandboxTimeout",
    "Tampered", "engine_notes",
    "detect_isolation",
]
