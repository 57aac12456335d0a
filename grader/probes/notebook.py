"""`grade.<kind>(...)` run in a notebook's own kernel: harvest and judge there, in one step. `rebuild` (a
harvest entry with its arrays put back) serves the grader's runner too."""

from __future__ import annotations

import inspect
from typing import Any

from ..sandbox import harvest as harvest_module
from .kinds import KINDS


class _Grade:
    """`grade.<kind>(...)` in a notebook: harvest and judge right there (plain nbgrader, or an instructor
    running the source notebook). A failing check raises AssertionError with the reports."""

    def __getattr__(self, kind: str):
        if kind not in KINDS:
            raise AttributeError(f"grade has no check {kind!r}; kinds: {', '.join(KINDS)}")

        def run(student: Any, *args: Any, **kwargs: Any) -> None:
            caller = inspect.currentframe().f_back
            namespace = {**caller.f_globals, **caller.f_locals}
            name = student if isinstance(student, str) else _name_of(student, namespace)
            probe = KINDS[kind](name, *args, **kwargs)
            items, arrays = probe.inputs()
            results, out_arrays = harvest_module.collect(namespace, items, arrays)
            harvested = {k: rebuild(v, out_arrays) for k, v in results.items()}
            failed = [c for c in probe.judge(probe.expected(), harvested) if not c.ok]
            if failed:
                raise AssertionError("\n".join(f"{c.title}: {c.text}" for c in failed))

        return run


def _name_of(obj: Any, namespace: dict) -> str:
    for name, value in namespace.items():
        if value is obj and not name.startswith("_"):
            return name
    raise NameError(f"grade: {obj!r} is not a name in the notebook")


def rebuild(entry: Any, arrays: dict) -> Any:
    """A harvest entry with {"$array": name} replaced by the arrays."""
    if isinstance(entry, dict):
        if set(entry) == {"$array"}:
            a = arrays.get(entry["$array"])
            return a if a is None or a.ndim else a.item()
        return {k: rebuild(v, arrays) for k, v in entry.items()}
    if isinstance(entry, list):
        return [rebuild(v, arrays) for v in entry]
    return entry


grade = _Grade()
