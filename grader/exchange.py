"""What nbgrader's exchange needs beside a feedback page, so that `nbgrader release_feedback` works on what
`autodiff-lab grade` wrote.

`nbgrader submit` puts a random secret and a timestamp into each submission (submission_secret.txt,
timestamp.txt); `nbgrader collect` brings them to submitted/<student>/<assignment>/. release_feedback reads both
from feedback/<student>/<assignment>/ and names the released page by a hash of the secret and the notebook, which
only that student's own `nbgrader fetch_feedback` can compute. nbgrader's generate_feedback copies them there; the
pipeline writes its own pages, so it copies them here.

Both files are the student's bytes, and release_feedback reads them for the whole class in one loop: one
student's missing, linked, huge or undecodable stamp would stop it for everyone after them. So a stamp is copied
only when it is a small regular file (no link) of the form nbgrader writes; otherwise a stand-in is written (a
timestamp of now, a random secret nobody holds), and release_feedback goes on, releasing that page under a name
no one can compute.
"""

from __future__ import annotations

import datetime
import os
import re
import secrets
import stat
from pathlib import Path

MAX_BYTES = 4096
FORMS = {   # what nbgrader submit writes: a timestamp like "2026-12-07 20:18:55.172946 UTC", secrets.token_hex(64)
    "timestamp.txt": re.compile(r"[0-9A-Za-z :.+-]{1,64}"),
    "submission_secret.txt": re.compile(r"[0-9a-f]{16,256}"),
}


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


def stamp(submission: Path | None, name: str) -> str | None:
    """The submission's stamp `name`, if it has the form nbgrader writes."""
    data = read_small_file(submission / name) if submission is not None else None
    text = data.decode("ascii", errors="replace").strip() if data is not None else ""
    return text if FORMS[name].fullmatch(text) else None


def stand_in(name: str) -> str:
    if name == "timestamp.txt":
        return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    return secrets.token_hex(64)


def keep_submission_stamps(submission: Path | None, feedback: Path) -> list[str]:
    """Write the submission's timestamp and secret into the feedback folder (for any that is missing or not of
    nbgrader's form, the stand-in written before, else a new one); the names copied from the submission."""
    copied = []
    for name in FORMS:
        text = stamp(submission, name)
        if text is not None:
            copied.append(name)
        else:
            text = stamp(feedback, name) or stand_in(name)     # a regrade keeps the stand-in: the page's name stays
        (feedback / name).write_text(text, encoding="ascii")
    return copied
