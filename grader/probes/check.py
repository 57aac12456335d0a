"""The verdict of one check (`Check`), as the grader's results and a student's feedback carry it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..student_text import MAX_CHECK, clip


@dataclass
class Check:
    """One verdict: what was checked, whether it passed, the text a student may read, and the checker's full
    report (numbers included) for the instructor: it stays in the grader's results, never in feedback."""

    ok: bool
    title: str
    text: str
    report: dict | None = None
    input_set: str = ""   # "input set 2 of 3" when the part checks a function on several input sets

    def __post_init__(self) -> None:
        """Plain JSON whatever the probe passed: only a real True passes (an array from `==` does not), and
        the texts are short strings, so one result cannot stop the class's results from being written."""
        self.ok = isinstance(self.ok, (bool, np.bool_)) and bool(self.ok)
        self.title, self.text = clip(self.title, MAX_CHECK), clip(self.text, MAX_CHECK)
        self.report = _jsonable(self.report)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)



def _jsonable(d: Any) -> Any:
    if isinstance(d, dict):
        return {str(k): _jsonable(v) for k, v in d.items()}
    if isinstance(d, (list, tuple)):
        return [_jsonable(v) for v in d]
    if isinstance(d, np.generic):
        return d.item()
    if isinstance(d, np.ndarray):
        return d.tolist()
    return d
