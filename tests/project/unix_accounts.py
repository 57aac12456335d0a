"""Real Unix accounts for the shared-machine test (tests/project/test_shared_machine.py): create users, run a
command as one of them, and remove them again. Needs root (CI runs as root), useradd, unshare and setpriv.

A user may not be able to reach this checkout's Python: a folder on the way (typically /root, mode 0700, which
holds pyenv's Python) is closed to others. Each command then runs in a mount namespace of its own in which
that folder is a read-only, world-readable view holding only what the test needs (Python, the virtual
environment, the checkout). The view changes which paths a user can reach, never who owns a file or what
its mode is, so what the test checks about permissions is what the machine enforces.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

TOOLS = ("useradd", "userdel", "unshare", "setpriv")


def unavailable() -> str | None:
    """Why real accounts cannot be made here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to create Unix accounts (CI runs as root)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)}"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    if probe.returncode:
        return f"cannot make a mount namespace: {probe.stderr.decode(errors='replace').strip()}"
    return None


def closed_folders(paths: list[Path]) -> list[Path]:
    """The outermost folders on the way to `paths` that other users cannot enter."""
    closed = []
    for path in paths:
        for folder in [*reversed(path.resolve().parents), path.resolve()]:
            if folder.is_dir() and not folder.stat().st_mode & stat.S_IXOTH:
                closed.append(folder)
                break
    return sorted(set(closed))


class Accounts:
    """Users made for one test run (names with a random suffix), removed by close()."""

    def __init__(self, base: Path, needed: list[Path]) -> None:
        self.base = base
        self.suffix = secrets.token_hex(3)
        self.users: list[str] = []
        self.views = {folder: [p.resolve() for p in needed if p.resolve().is_relative_to(folder)]
                      for folder in closed_folders(needed)}

    def add(self, role: str) -> str:
        name = f"adl{role}{self.suffix}"[:32]
        home = self.base / "home" / name
        home.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/sh", "--user-group",
                        name], check=True, capture_output=True)
        self.users.append(name)
        home.chmod(0o700)
        return name

    def home(self, user: str) -> Path:
        return self.base / "home" / user

    def run(self, user: str, argv: list[str], *, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
        """Run argv as `user` (its own uid, gid and groups; nothing else kept from root), in a mount namespace
        that opens the closed folders on the way to the test's Python."""
        environ = {"HOME": str(self.home(user)), "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
                   "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
                   **(env or {})}
        setup = [f"mkdir -p {shlex.quote(str(self.base / 'views'))}"]
        for i, (folder, inside) in enumerate(self.views.items()):
            keep = self.base / "views" / str(i)
            setup += [f"mkdir -p {shlex.quote(str(keep))}", f"mount --bind {shlex.quote(str(folder))} {keep}",
                      f"mount -t tmpfs -o mode=0755 tmpfs {shlex.quote(str(folder))}"]
            # the entries the test needs; every entry when a needed path is the closed folder itself (a checkout
            # in a 0700 temp folder), each keeping its own owner and mode
            names = (os.listdir(folder) if folder in inside
                     else {p.relative_to(folder).parts[0] for p in inside})
            for top in sorted(folder / name for name in names):
                original = shlex.quote(str(keep / top.name))
                if top.is_symlink():
                    setup.append(f"ln -s {shlex.quote(os.readlink(top))} {shlex.quote(str(top))}")
                    continue
                make = "mkdir -p" if top.is_dir() else "touch"
                setup += [f"{make} {shlex.quote(str(top))}", f"mount --bind {original} {shlex.quote(str(top))}"]
            setup.append(f"mount -o remount,bind,ro {shlex.quote(str(folder))}")
        setup.append(f"cd {shlex.quote(str(cwd or self.home(user)))}")
        setup.append(f"exec setpriv --reuid {user} --regid {user} --init-groups -- " + shlex.join(argv))
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                               " && ".join(setup)], env=environ, capture_output=True, text=True, timeout=timeout)

    def close(self) -> None:
        for name in self.users:
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        self.users.clear()
