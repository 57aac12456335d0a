"""The sandbox a submission's notebook runs in, seen from the grader's side.

    with Sandbox(limits, files=submission_dir) as box:
        box.run("x = 1")                      -> CellResult(ok=True)
        box.harvest(items, inputs)            -> HarvestResult (untrusted skeleton + arrays)

Files: supervisor.py (Sandbox: the clock, the requests, the replies), outcomes.py (the limits, what a cell or a
harvest gives back, the ways a run ends), scratch.py (what killed graders left behind), launcher.py,
isolation.py, cgroups.py, leases.py, warm.py and zygote.py (the start), kernel.py, harvest.py, guard.py and
functions.py (inside the sandbox), payload.py (the replies' arrays).

`Sandbox` starts launcher.py (namespaces, private root, unprivileged uid, rlimits; see there) which execs
kernel.py. The grader keeps the clock: each request has a wall-clock limit; past it the kernel gets an
interrupt, and if it does not answer within the grace period it is killed. A kernel that dies is reported
with the reason read from the launcher's exit status (signal or exit code), which student code cannot forge.
A kernel that cannot start at all (its engine, numpy or IPython does not import) raises outcomes.KernelBroken:
a problem of the grading machine, the same for every submission.
"""

from .isolation import Isolation, detect_isolation
from .outcomes import CellResult, ForgedReply, HarvestResult, KernelDied, Limits, SandboxTimeout, Tampered, engine_notes
from .supervisor import Sandbox

__all__ = [
    "CellResult", "ForgedReply", "HarvestResult", "Isolation", "KernelDied", "Limits", "Sandbox", "SandboxTimeout",
    "Tampered", "engine_notes",
    "detect_isolation",
]
