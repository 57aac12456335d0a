"""What nbgrader's exchange needs beside a feedback page, so that `nbgrader release_feedback` works on what
`autodiff-lab grade` wrote.

`nbgrader submit` puts a random secret and a timestamp into each submission (submission_secret.txt,
timestamp.txt); `nbgrader collect` brings them to submitted/<student>/<assignment>/. release_feedback reads both
from feedback/<student>/<assignment>/ and names the released page by a hash of the secret and the notebook, which
only that student's own `nbgrader fetch_feedback` can compute. nbgrader's generate_feedback copies them there; the
pipeline writes its own pages, so it copies them here.

Both files are the student's bytes: each is read only if it is a small regular file (no link, at most 4 KiB),
and written as text nbgrader reads, never interpreted here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

STAMPS = ("timestamp.txt", "submission_secret.txt")
MAX_BYTES = 4096


def read_small_file(path: Path) -> bytes | None:
    """The bytes of `path` if it is a regular file of at most MAX_BYTES, not a symbolic link; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        return os.read(fd, MAX_BYTES + 1)[:MAX_BYTES]
    finally:
        os.close(fd)


def keep_submission_stamps(submission: Path | None, feedback: Path) -> list[str]:
    """Copy the submission's timestamp and secret (when it has them) into the feedback folder; the names copied."""
    copied = []
    for name in STAMPS:
        data = read_small_file(submission / name) if submission is not None else None
        target = feedback / name
        if data is None:
            target.unlink(missing_ok=True)             # no stale stamp of an earlier submission
            continue
        target.write_bytes(data)
        copied.append(name)
    return copied
