"""Workers are checked before they get work: the same engine and grader sources as the instructor's, the same
Python, numpy and IPython, and a sandbox built there at the run's isolation level with the run's limits in force.

    expected = expectation(limits, isolation)             on the instructor's machine
    failures = examine(expected)                          on a worker: [] or what failed, one phrase each

`Admission`, a dask worker plugin, examines every worker when it joins (those present, and any that starts
later, a restarted one included) and only then gives it the resource that grading tasks ask for: the scheduler
never sends a submission to a worker that was not admitted. Its verdict stays on the worker (`verdict`) for the
instructor's refusal message and for the task, which checks it again before it runs anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from ..config import PACKAGE
from ..sandbox import Isolation, Limits, Sandbox, cgroups, detect_isolation
from ..sandbox.isolation import engine_dir
from ..sandbox.outcomes import SandboxError

RESOURCE = "autodiff-lab-grading"    # the dask resource a grading task needs: admitted workers alone have it
ATTRIBUTE = "autodiff_lab_admission"  # where a worker keeps its verdict: (digest of the expectation, failures)
STRENGTH = [Isolation.RLIMITS, Isolation.USERNS, Isolation.NAMESPACES]


def sources() -> dict[str, dict[str, str]]:
    """{"engine": {file: sha256}, "grader": {file: sha256}}: the Python sources of the engine the grader imported
    (what kernels run) and of the grader (what runs and judges them), by path relative to their package."""
    found = {}
    for name, root in (("engine", Path(engine_dir())), ("grader", PACKAGE)):
        found[name] = {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                       for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}
    return found


def versions() -> dict[str, str]:
    """The versions that decide how a notebook runs: Python, numpy, IPython."""
    import IPython
    import numpy

    return {"Python": sys.version.split()[0], "numpy": numpy.__version__, "IPython": IPython.__version__}


def expectation(limits: Limits, isolation: Isolation) -> dict:
    """What every worker must match, taken on the instructor's machine, with its `digest` (a task checks that
    its worker was admitted under the same expectation)."""
    expected = {"sources": sources(), "versions": versions(), "isolation": isolation.value, "limits": repr(limits),
                "cgroups": isolation is Isolation.NAMESPACES}
    digest = hashlib.sha256(json.dumps(expected, sort_keys=True).encode()).hexdigest()
    return {**expected, "limits": limits, "digest": digest}


def differences(mine: dict[str, str], theirs: dict[str, str]) -> str:
    """'ops.py differs, new.py missing, old.py extra' (at most five named)."""
    said = [f"{f} differs" for f in sorted(mine.keys() & theirs.keys()) if mine[f] != theirs[f]]
    said += [f"{f} missing" for f in sorted(theirs.keys() - mine.keys())]
    said += [f"{f} extra" for f in sorted(mine.keys() - theirs.keys())]
    return ", ".join(said[:5]) + (f" and {len(said) - 5} more" if len(said) > 5 else "")


def examine(expected: dict) -> list[str]:
    """What fails on this machine, [] when it may grade: sources and versions first (cheap), then a sandbox is
    built at the run's level with the run's limits and a cell checks that they are in force."""
    failures = []
    here = sources()
    for name, label in (("engine", "engine (autodiff_lab)"), ("grader", "grader")):
        if here[name] != expected["sources"][name]:
            changed = differences(here[name], expected["sources"][name])
            failures.append(f"its {label} sources are not the instructor's ({changed})")
    mine = versions()
    failures += [f"it has {k} {mine[k]}, the instructor {v}" for k, v in expected["versions"].items()
                 if mine.get(k) != v]
    if failures:
        return failures
    wanted, best = Isolation(expected["isolation"]), detect_isolation()
    if STRENGTH.index(best) < STRENGTH.index(wanted):
        return [f"its sandbox can only be built at the level {best.value!r}, the run needs {wanted.value!r} (run the "
                "worker as root, or where unprivileged user namespaces are enabled)"]
    limits: Limits = expected["limits"]
    if expected["cgroups"] and not cgroups.plan("admission", limits.memory, limits.processes):
        failures.append("it has no memory and pids control groups it may write (cgroup v1, or v2 with memory and "
                        "pids delegated to the worker's group), so the sandbox's memory and process limits could not "
                        "be enforced for the sandbox as a whole")
    return failures + trial(limits, wanted)


def trial(limits: Limits, level: Isolation) -> list[str]:
    """Build a sandbox with `limits` at `level` and check from inside that its resource limits are in force."""
    check = ("import resource\n"
             f"assert resource.getrlimit(resource.RLIMIT_AS)[0] == {int(limits.memory)}\n"
             f"assert resource.getrlimit(resource.RLIMIT_CPU)[0] == {int(limits.cpu_seconds)}\n"
             f"assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == {int(limits.open_files)}\n")
    try:
        with Sandbox(limits, isolation=level) as box:
            cell = box.run(check, timeout=30)
    except SandboxError as err:
        return [f"the sandbox cannot be built there: {str(err)[:400]}"]
    except Exception as err:  # noqa: BLE001  (whatever it is, the worker must not grade)
        return [f"a trial sandbox failed: {type(err).__name__}: {str(err)[:300]}"]
    if not cell.ok:
        return [f"the sandbox's resource limits are not in force there ({cell.ename} {cell.evalue[:200]})"]
    return []


def verdict(dask_worker) -> tuple[str, list[str]] | None:
    """The admission verdict a worker keeps, (digest, failures), None while it is being examined (for
    Client.run, which passes the worker as `dask_worker`)."""
    return getattr(dask_worker, ATTRIBUTE, None)


class Admission(WorkerPlugin):
    """Examines its worker on setup and, when it passes, gives it RESOURCE (one per thread), which every grading
    task asks for."""

    name = "autodiff-lab-admission"

    def __init__(self, expected: dict) -> None:
        self.expected = expected

    async def setup(self, worker) -> None:
        setattr(worker, ATTRIBUTE, None)
        await worker.set_resources(**{RESOURCE: 0})       # an earlier run's admission no longer counts
        try:
            failures = await asyncio.get_running_loop().run_in_executor(None, examine, self.expected)
        except Exception as err:  # noqa: BLE001
            failures = [f"its check failed: {type(err).__name__}: {str(err)[:300]}"]
        setattr(worker, ATTRIBUTE, (self.expected["digest"], failures))
        if not failures:
            await worker.set_resources(**{RESOURCE: worker.state.nthreads})
