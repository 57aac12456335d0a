"""Which isolation this machine offers, strongest first, and the file system view the sandbox gets.

    namespaces   running as root: new mount/PID/network/IPC/UTS namespaces, a private read-only root,
                 an unprivileged uid no other live sandbox has (leases.py), no capabilities, no_new_privs, rlimits
    userns       an ordinary user where unprivileged user namespaces are enabled: the same namespaces and
                 private root, inside a user namespace (the kernel runs as the grader's own uid outside it)
    rlimits      neither available: rlimits, a scratch working directory and a scrubbed environment only.
                 Student code can then read whatever the grader's user can read; the grader warns.
"""

from __future__ import annotations

import enum
import functools
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "launcher.py"
KERNEL_FILES = [HERE / "kernel.py", HERE / "harvest.py", HERE / "functions.py", HERE / "guard.py"]
KERNEL_DIR = "/opt/autodiff-lab-kernel"
HOME = "/home/student"
WORK = "/home/student/work"
SYSTEM_DIRS = ["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]


class Isolation(str, enum.Enum):
    NAMESPACES = "namespaces"
    USERNS = "userns"
    RLIMITS = "rlimits"

    def describe(self) -> str:
        return {
            "namespaces": "Linux namespaces (mount, PID, network, IPC, UTS) with a private read-only root, "
                          "a separate unprivileged uid, no capabilities, no_new_privs, and resource limits",
            "userns": "an unprivileged user namespace with mount, PID, network, IPC and UTS namespaces, a "
                      "private read-only root, no_new_privs, and resource limits",
            "rlimits": "resource limits and a scratch directory only (no namespaces available): student code "
                       "can read the files the grader's user can read",
        }[self.value]


def engine_dir() -> str:
    """The folder of the autodiff_lab package this grader imported (its real path). The sandbox shows it at
    the same path and the kernel loads the engine from there (kernel.Engine), whatever the kernel's Python
    would find first: an editable install names one checkout, PYTHONPATH or a git worktree may give the grader
    another."""
    import autodiff_lab

    return str(Path(autodiff_lab.__file__).resolve().parent)


def file_view(forbidden: list[str]) -> dict:
    """What the sandbox sees: system directories (binds or symlinks), the Python install, the virtual
    environment and the engine package, all read-only; the forbidden libraries' folders masked."""
    symlinks, binds = [], []
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            symlinks.append((d, os.readlink(d)))
        elif os.path.isdir(d):
            binds.append((d, d))
    for d in {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix, engine_dir()}:
        if not any(d == b or d.startswith(b + "/") for b, _ in binds):
            binds.append((d, d))
    return {"symlinks": symlinks, "binds": sorted(binds), "masks": masked_folders(forbidden)}


def masked_folders(forbidden: list[str]) -> list[str]:
    """The installed folders of forbidden top-level packages (for example autograd), to hide in the sandbox."""
    folders = []
    for name in forbidden:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            folders.extend(str(Path(p).resolve()) for p in spec.submodule_search_locations)
    return folders


@functools.cache
def detect_isolation() -> Isolation:
    """The strongest isolation that works here, found by starting a trivial sandbox."""
    for level in (Isolation.NAMESPACES, Isolation.USERNS):
        if level is Isolation.NAMESPACES and os.geteuid() != 0:
            continue
        if probe(level):
            return level
    return Isolation.RLIMITS


def probe(level: Isolation) -> bool:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="autodiff-lab-probe-") as root:
        cfg = launcher_config(level, root, files=None, uid=65534, rlimits={}, argv=["/bin/true"], env={},
                              forbidden=[], keep_fds=[], tmp_size="1m", work_size="1m")
        try:
            done = subprocess.run([sys.executable, "-I", "-S", str(LAUNCHER)], input=json.dumps(cfg).encode(),
                                  capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0


def launcher_config(level: Isolation, root: str, *, files: str | None, uid: int, rlimits: dict, argv: list,
                    env: dict, forbidden: list[str], keep_fds: list[int], tmp_size: str, work_size: str) -> dict:
    return {
        "mode": "root" if level is Isolation.NAMESPACES else "userns",
        "root": root, "files": files, "uid": uid, "rlimits": rlimits, "argv": argv, "env": env,
        "keep_fds": keep_fds, "tmp_size": tmp_size, "work_size": work_size, "home": HOME, "work": WORK,
        "kernel_dir": KERNEL_DIR, "kernel_files": [str(f) for f in KERNEL_FILES], **file_view(forbidden),
    }
