"""What one sandbox holds alone on this machine: its uid, and its private folders.

Both are leases held by an open file descriptor with an exclusive `flock`: the kernel releases a lock when
its last descriptor closes, on close or on death, so a lease is never held by a dead grader and never held
twice, whichever grader (process, thread or PID namespace) asks.

    uids      lease_uid() picks a uid of UID_BASE .. UID_BASE + UID_COUNT - 1 that no live sandbox on this
              machine holds (one lock file per uid in lease_folder()), after killing whatever still runs as
              that uid; RLIMIT_NPROC counts per uid, so sandboxes sharing one would limit each other
    folders   private_folder() makes a folder, mode 0700, that sweep() removes as soon as its maker is gone:
              the reference solution and the sandboxes' scratch space never outlive a killed grader's rerun
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import stat
import tempfile
import time

UID_BASE, UID_COUNT = 61000, 1000
LEASE_FOLDER = "/run/autodiff-lab-sandbox-uids"
STAGING = "autodiff-lab-staging-"   # a private folder before it is locked (never swept while that young)
STAGING_AGE = 60.0                  # seconds


class NoUidFree(RuntimeError):
    """Every uid of the range is leased, or holds processes that would not die."""


class UidLease:
    """A uid for one sandbox; release() kills what still runs as it, then frees it."""

    def __init__(self, uid: int, fd: int) -> None:
        self.uid, self._fd = uid, fd

    def release(self) -> None:
        """Kill what still runs as the uid, without waiting (the next holder waits, or takes another uid while
        this one's zombies wait for the machine's init to reap them), and free it."""
        if self._fd is not None:
            kill_all(processes_of(self.uid))
            os.close(self._fd)
            self._fd = None


def lease_folder() -> str:
    """The folder of the uid lock files: root's own, so that no other user can hold or fake a lease."""
    for folder in (LEASE_FOLDER, os.path.join(tempfile.gettempdir(), f"autodiff-lab-sandbox-uids-{os.geteuid()}")):
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            st = os.lstat(folder)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077:
            return folder
    raise NoUidFree(f"no private folder for the sandboxes' uid leases: {LEASE_FOLDER} cannot be made, or belongs "
                    "to another user or is open to others (it must be the grader's own, mode 0700)")


def lease_uid(preferred: int = 0) -> UidLease:
    """A uid no other live sandbox holds, starting the search at UID_BASE + preferred (a worker's slot, so that
    one grader's workers keep their uids from one submission to the next)."""
    folder = lease_folder()
    for k in range(UID_COUNT):
        uid = UID_BASE + (preferred + k) % UID_COUNT
        fd = os.open(os.path.join(folder, str(uid)), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if clear_uid(uid):
            return UidLease(uid, fd)
        os.close(fd)
    raise NoUidFree(f"all {UID_COUNT} sandbox uids from {UID_BASE} are in use on this machine (lock files in "
                    f"{folder}); grade with fewer workers or wait for the other graders")


def processes_of(uid: int) -> dict[int, bool]:
    """{pid: whether it is a zombie} of the processes (visible here) with `uid` as their real, effective, saved
    or file-system uid."""
    found, wanted = {}, str(uid).encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{name}/status", os.O_RDONLY)
            try:
                status = os.read(fd, 4096)
            finally:
                os.close(fd)
        except OSError:   # gone meanwhile
            continue
        uids = status.partition(b"\nUid:")[2].partition(b"\n")[0].split()
        if wanted in uids:
            found[int(name)] = status.partition(b"\nState:")[2].split()[:1] == [b"Z"]
    return found


def kill_all(pids: dict[int, bool]) -> None:
    for pid, zombie in pids.items():
        if not zombie:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def clear_uid(uid: int, timeout: float = 5.0) -> bool:
    """Kill every process that runs as `uid` and wait until none is left. False if some outlive `timeout`, or
    only zombies are left: they still count against the uid's process limit until whoever adopted them (the
    machine's init, after the sandbox's launcher died) reaps them, so the caller takes another uid meanwhile.
    A sandbox's uid owns nothing else that outlives it: its files are on the sandbox's own tmpfs, its IPC in its
    own namespace, and keyrings are closed to it (launcher.py)."""
    deadline = time.monotonic() + timeout
    while pids := processes_of(uid):
        if all(pids.values()) or time.monotonic() > deadline:
            return False
        kill_all(pids)
        time.sleep(0.01)
    return True


def private_folder(prefix: str, parent: str | None = None) -> tuple[str, int]:
    """A new folder <parent>/<prefix><pid>-<random> (mode 0700, in the temp folder by default) and the
    descriptor whose lock marks it live: close the descriptor after removing the folder. The folder gets its
    final name only once it is locked, so that sweep() never takes a folder being made for a dead one."""
    parent = parent or tempfile.gettempdir()
    staging = tempfile.mkdtemp(prefix=STAGING, dir=parent)
    fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    final = os.path.join(parent, f"{prefix}{os.getpid()}-{os.path.basename(staging).removeprefix(STAGING)}")
    os.rename(staging, final)
    return final, fd


def sweep(prefix: str, parent: str | None = None) -> list[str]:
    """Remove the private folders named `prefix`... in `parent` whose maker is gone (their lock is free), and
    folders left half made; return what was removed."""
    parent = parent or tempfile.gettempdir()
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    removed = []
    for name in names:
        path = os.path.join(parent, name)
        if name.startswith(STAGING):
            try:
                if time.time() - os.lstat(path).st_mtime < STAGING_AGE:
                    continue
            except OSError:
                continue
        elif not name.startswith(prefix):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:   # not a folder, or removed by another sweeper meanwhile
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:   # its maker is alive
            os.close(fd)
            continue
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)
        removed.append(path)
    return removed
