"""A submission's files, carried to a worker in the task itself: no shared file system.

    packed = pack(folder)                 on the instructor's machine: [(relative path, bytes or None for a folder)]
    unpack(packed, into)                  on the worker, into a new private folder

`collect` has already refused symbolic links and sized the folder (c.Sandbox.disk_mb), so a packed submission is
plain folders and files, at most the sandbox's disk limit. Unpacking trusts no name: each is relative, has no
`..`, and is created fresh (O_EXCL, O_NOFOLLOW) below folders made here, so nothing is written outside `into`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

Packed = list[tuple[str, bytes | None]]


def pack(folder: Path | None) -> Packed:
    """Every folder and regular file under `folder`, relative paths in POSIX form, folders before their files."""
    if folder is None:
        return []
    found: Packed = []
    for dirpath, dirnames, filenames in os.walk(folder):
        rel = Path(dirpath).relative_to(folder)
        dirnames.sort()
        for name in dirnames:
            if os.path.islink(os.path.join(dirpath, name)):
                raise ValueError(f"{os.path.join(dirpath, name)} is a symbolic link: it cannot be sent to a worker")
            found.append(((rel / name).as_posix(), None))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(f"{path} is not a regular file: it cannot be sent to a worker")
            with open(path, "rb") as f:
                found.append(((rel / name).as_posix(), f.read()))
    return found


def unpack(packed: Packed, into: str | Path) -> None:
    """Recreate what `pack` read under the existing, empty folder `into`."""
    root = Path(into)
    for rel, data in packed:
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"refusing the packed name {rel!r}: not a plain relative path")
        target = root.joinpath(*parts)
        if data is None:
            os.mkdir(target, 0o755)
            continue
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with open(fd, "wb") as f:
            f.write(data)
