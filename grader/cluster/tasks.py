"""What a worker runs for one submission: its files unpacked into a private folder, the notebook run in a
sandbox there (runner.run_in_sandbox), and what was harvested sent back. Nothing is judged here: the expected
values never leave the instructor's machine, where the verdicts are computed (pool.py)."""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from pathlib import Path

from ..collect import Submission
from ..runner import run_in_sandbox
from ..sandbox import leases
from ..sandbox.outcomes import KernelBroken
from .admission import ATTRIBUTE
from .transfer import unpack

PREFIX = "autodiff-lab-worker-"      # the private folders submissions are unpacked into (swept when left behind)
_slots = itertools.count()
_local = threading.local()


class NotAdmitted(RuntimeError):
    """The worker this task landed on was not admitted under the run's expectation (admission.py)."""


def run_submission(student: str, packed: list, matched, assignment, sizes: dict, digest: str, *, limits,
                   isolation, forbidden_modules: list[str]) -> dict:
    """{"worker": address, "run": runner.Run} or, when grading failed for a reason of the grader's, {"worker",
    "error"} (a grader failure, retried next run), or {"worker", "broken"} (its kernel cannot start at all)."""
    from distributed import get_worker

    worker = get_worker()
    admitted = getattr(worker, ATTRIBUTE, None)
    if admitted is None or admitted[0] != digest or admitted[1]:
        raise NotAdmitted(f"worker {worker.address} was not admitted for this run")
    if not hasattr(_local, "slot"):
        _local.slot = next(_slots)
    leases.sweep(PREFIX)
    folder, lock = leases.private_folder(PREFIX)
    try:
        unpack(packed, folder)
        run = run_in_sandbox(matched, assignment, Submission(student, Path(folder)), limits, isolation,
                             forbidden_modules, _local.slot, sizes)
    except KernelBroken as err:
        return {"worker": worker.address, "broken": str(err)}
    except Exception as err:  # noqa: BLE001  (recorded as the grader's failure on this submission)
        return {"worker": worker.address, "error": f"{type(err).__name__}: {str(err)[:300]}",
                "log": str(getattr(err, "log", ""))}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(lock)
    return {"worker": worker.address, "run": run}
