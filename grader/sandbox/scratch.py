"""Scratch folders and control groups that graders killed before they could clean up: swept by the next one."""

from __future__ import annotations

import os
import time

from . import cgroups, leases

SCRATCH_PREFIX = "autodiff-lab-sandbox-"  # then the grader's PID: scratch folders name who made them


def sweep_stale() -> None:
    """Remove what graders killed before they could clean up left behind: scratch folders at once (their lock
    is free: leases.sweep), and control groups once their grader's PID is gone and they are an hour old (a
    grader in another PID namespace would look dead from here), so that killed runs do not pile up."""
    leases.sweep(SCRATCH_PREFIX)
    cgroups.clear([path for parent in cgroups.parents() for path in _stale(parent)])


def _stale(folder: str) -> list[str]:
    """The sandbox groups in `folder` whose grader is dead, untouched for an hour."""
    an_hour_ago, found = time.time() - 3600, []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        pid, path = name.removeprefix(SCRATCH_PREFIX).split("-")[0], os.path.join(folder, name)
        if not (name.startswith(SCRATCH_PREFIX) and pid.isdigit()) or _alive(int(pid)):
            continue
        try:
            if os.path.getmtime(path) < an_hour_ago:
                found.append(path)
        except OSError:  # swept by another grader meanwhile
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
