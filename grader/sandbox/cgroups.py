"""One memory and one pids control group per sandbox, where the machine offers them (root, with cgroup v1
controllers, or v2 with memory and pids delegated to our group): rlimits bound each process, a control group
bounds the sandbox as a whole, so a submission that forks cannot multiply its memory.

`plan` chooses the folders and settings; launcher.py creates them and moves itself in before it starts the
sandbox (everything in it inherits the groups: launcher.join_cgroups); the supervisor reads whether the kernel
was killed for memory (`oom_killed`) and which limits the sandbox exhausted (`limits_hit`: the pids group's
refused forks, the memory group's OOM kills, the CPU time of all its processes), then removes the folders
(`remove`). The groups of a grader that was killed before it could remove them are cleared by the next one
(`parents`, `clear`).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

Plan = list[tuple[str, dict[str, str]]]


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, type, options) of the cgroup file systems."""
    found = []
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                _, point, kind, options, *_ = line.split()
                if kind in ("cgroup", "cgroup2"):
                    found.append((point, kind, set(options.split(","))))
    except OSError:
        pass
    return found


def _own_groups() -> dict[str, str]:
    """{controller (or "" for v2): this process's group path}."""
    groups = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for c in controllers.split(",") if controllers else [""]:
                    groups[c] = path
    except OSError:
        pass
    return groups


def plan(name: str, memory: int, processes: int) -> Plan:
    """[(folder, {file: value})] for a sandbox called `name`; [] when control groups cannot be used here. With
    cgroup v1, a cpuacct group joins the memory and pids groups where the machine has one (it counts the CPU
    time of the sandbox as a whole; v2 counts it in every group)."""
    if os.geteuid() != 0:
        return []
    groups, mounts = _own_groups(), _mounts()
    v1 = {}
    for controller, settings in (("memory", {"memory.limit_in_bytes": str(memory)}),
                                 ("pids", {"pids.max": str(processes)}), ("cpuacct", {})):
        point = next((p for p, kind, opts in mounts if kind == "cgroup" and controller in opts), None)
        if point and controller in groups and os.access(point + groups[controller], os.W_OK):
            v1[controller] = (os.path.join(point + groups[controller], name), settings)
    if "memory" in v1 and "pids" in v1:
        return list(v1.values())
    point = next((p for p, kind, _ in mounts if kind == "cgroup2"), None)
    if point and "" in groups:
        parent = Path(point + groups[""])
        try:
            delegated = set((parent / "cgroup.subtree_control").read_text().split())
        except OSError:
            delegated = set()
        if {"memory", "pids"} <= delegated and os.access(parent, os.W_OK):
            return [(str(parent / name), {"memory.max": str(memory), "pids.max": str(processes)})]
    return []


def oom_killed(groups: Plan) -> bool:
    """Whether the kernel's out-of-memory killer struck inside the sandbox's memory group."""
    for folder, _ in groups:
        for file in ("memory.oom_control", "memory.events"):
            try:
                text = Path(folder, file).read_text()
            except OSError:
                continue
            counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
            if int(counts.get("oom_kill", 0)) > 0:
                return True
    return False


def limits_hit(groups: Plan, processes: int, memory: int, cpu_seconds: float) -> list[str]:
    """What the sandbox exhausted, each as a phrase ("hit the limit of 64 processes..."), read from the
    counters of its groups: the kernel keeps them, and nothing inside the sandbox can write them."""
    counts: dict[str, float] = {}
    for folder, _ in groups:
        for file, keys in (("pids.events", {"max": "pids"}), ("memory.oom_control", {"oom_kill": "oom"}),
                           ("memory.events", {"oom_kill": "oom"}), ("cpu.stat", {"usage_usec": "usec"}),
                           ("cpuacct.usage", {"": "nsec"})):
            for key, value in _counters(Path(folder, file)).items():
                if key in keys:
                    counts[keys[key]] = counts.get(keys[key], 0) + value
    hit = []
    if counts.get("pids", 0) > 0:
        hit.append(f"hit the limit of {processes} processes and threads: a fork bomb?")
    if counts.get("oom", 0) > 0:
        hit.append(f"ran out of memory: the sandbox's limit is {memory >> 20} MiB")
    cpu = counts.get("usec", 0) / 1e6 + counts.get("nsec", 0) / 1e9
    if cpu >= cpu_seconds:
        hit.append(f"used {cpu:.0f} s of CPU time in all: the limit is {cpu_seconds:g} s")
    return hit


def _counters(path: Path) -> dict[str, int]:
    """{name: count} of a cgroup file of "name count" lines ({"": count} for a file of one number)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        words = line.split()
        if len(words) == 1 and words[0].isdigit():
            found[""] = int(words[0])
        elif len(words) == 2 and words[1].isdigit():
            found[words[0]] = int(words[1])
    return found


def remove(groups: Plan) -> None:
    """Remove the (now empty) groups; the kernel may need a moment to let go of dead processes."""
    for folder, _ in groups:
        for _ in range(50):
            try:
                os.rmdir(folder)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)


def parents() -> list[str]:
    """The folders in which plan() makes a sandbox's groups here: where a killed grader left its groups."""
    return sorted({os.path.dirname(folder) for folder, _ in plan("probe", 1, 1)})


def clear(folders: list[str]) -> None:
    """Kill whatever still runs in these groups (a dead grader's sandbox; its launcher normally takes the
    sandbox down with it) and remove them."""
    for folder in folders:
        try:
            pids = Path(folder, "cgroup.procs").read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
    remove([(folder, {}) for folder in folders])
