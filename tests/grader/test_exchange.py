"""The stamps beside each feedback page (grader/exchange.py), which nbgrader's release_feedback reads for the
whole class in one loop. A student controls their submission's timestamp.txt and submission_secret.txt."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from grader.exchange import FORMS, keep_submission_stamps

TIMESTAMP = "2026-12-07 20:18:55.172946 UTC"


def submission(folder: Path, timestamp: bytes | None = TIMESTAMP.encode(), secret: bytes | None = None) -> Path:
    folder.mkdir(parents=True)
    secret = secret or secrets.token_hex(64).encode()
    for name, data in (("timestamp.txt", timestamp), ("submission_secret.txt", secret)):
        if data is not None:
            (folder / name).write_bytes(data)
    return folder


def test_nbgraders_own_stamps_are_copied_as_they_are(tmp_path):
    sub = submission(tmp_path / "sub", secret=b"ab" * 64)
    feedback = tmp_path / "fb"
    feedback.mkdir()
    assert keep_submission_stamps(sub, feedback) == ["timestamp.txt", "submission_secret.txt"]
    assert (feedback / "timestamp.txt").read_text() == TIMESTAMP
    assert (feedback / "submission_secret.txt").read_text() == "ab" * 64


@pytest.mark.parametrize("hostile", ["link", "huge", "fifo", "undecodable", "newlines", "missing"])
def test_attack_a_hostile_stamp_is_never_copied_and_a_stand_in_keeps_the_page_releasable(tmp_path, hostile):
    """Attack: a secret that links to another file, is huge, is a FIFO (reading it would block), is not text,
    carries a second line, or is missing. None of it reaches the feedback folder; a stand-in of nbgrader's form
    does, the same on every regrade (the released page keeps its name)."""
    sub = submission(tmp_path / "sub", secret=b"00" * 64)
    secret = sub / "submission_secret.txt"
    secret.unlink()
    if hostile == "link":
        (tmp_path / "other").write_text("cd" * 64)
        secret.symlink_to(tmp_path / "other")
    elif hostile == "huge":
        secret.write_bytes(b"e" * 10_000)
    elif hostile == "fifo":
        os.mkfifo(secret)
    elif hostile == "undecodable":
        secret.write_bytes(b"\xff\xfe" * 40)
    elif hostile == "newlines":
        secret.write_bytes(b"ab" * 40 + b"\n../../etc\n")
    feedback = tmp_path / "fb"
    feedback.mkdir()
    assert keep_submission_stamps(sub, feedback) == ["timestamp.txt"]
    written = (feedback / "submission_secret.txt").read_text()
    assert FORMS["submission_secret.txt"].fullmatch(written) and written != "cd" * 64
    keep_submission_stamps(sub, feedback)
    assert (feedback / "submission_secret.txt").read_text() == written


def test_attack_one_students_stamps_do_not_stop_release_feedback_for_the_others(tmp_path):
    """Attack: a student submits without a timestamp and with a secret that is not text. nbgrader's
    release_feedback (its own class, run here) still releases every page: the others' under the names their
    fetch_feedback computes."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
    from nbgrader.utils import notebook_hash
    from traitlets.config import Config

    course, exchange = tmp_path / "course", tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    good_secret = secrets.token_hex(64)
    subs = {"ada": submission(tmp_path / "sub" / "ada", secret=good_secret.encode()),
            "max": submission(tmp_path / "sub" / "max", timestamp=None, secret=b"\xff" * 30)}
    for student, sub in subs.items():
        feedback = course / "feedback" / student / "a2_vjp"
        feedback.mkdir(parents=True)
        (feedback / "a2_vjp.html").write_text(f"<p>{student}</p>")
        keep_submission_stamps(sub, feedback)
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.course_id = "autodiff_lab"
    config.CourseDirectory.assignment_id = "a2_vjp"
    config.Exchange.root = str(exchange)
    release = ExchangeReleaseFeedback(coursedir=CourseDirectory(config=config), config=config)
    release.start()
    released = exchange / "autodiff_lab" / "feedback"
    assert len(list(released.glob("*.html"))) == 2
    ada = released / f"{notebook_hash(secret=good_secret, notebook_id='a2_vjp')}.html"
    assert ada.read_text() == "<p>ada</p>"
