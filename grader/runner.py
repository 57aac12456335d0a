"""Grade one submission: match it to the template and check the policy, run it in the sandbox harvesting
each part where its test cell stands, then judge what came back. No student code runs in this process.

The status says how grading went (most serious first):

    invalid              nothing could be graded: no notebook, or not a readable notebook
    crashed              the kernel died (segfault, os._exit, a MemoryError) or the grader failed on it
    timeout              a cell ran past the wall-clock limit (even swallowing the interrupt)
    resource-limit       the sandbox's processes, memory or CPU time ran out (its own counters say so, which
                         student code cannot write); the points are what was harvested
    tampered             read-only cells, metadata or cells were changed (see structure.py), or student code
                         forged the kernel's replies to the grader (that stops the run); graded anyway
    needs-manual-grade   graded, but a person must confirm (renamed, metadata stripped, forbidden library)
    ok                   graded

After a crash, a timeout or forged replies, the parts harvested before keep their points; the later ones get 0.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from .assignment import Assignment
from .collect import Submission
from .kernel_notes import findings as kernel_findings
from .probes import Check, rebuild
from .sandbox import ForgedReply, Isolation, KernelDied, Limits, Sandbox, SandboxTimeout, Tampered
from .structure import MANUAL, TAMPERED, InvalidNotebook, Matched, Violation, match, read_notebook

REPLY_FACTOR = 2           # a harvest may send back this many times what its checks expect, plus the floor
REPLY_FLOOR = 4 * 2**20    # (a Value graph, trained parameters: sizes the checks do not fix)
STATUSES = ("ok", "timeout", "crashed", "invalid", "resource-limit", "tampered", "needs-manual-grade")
SEVERITY_ORDER = ("invalid", "crashed", "timeout", "resource-limit", "tampered", "needs-manual-grade", "ok")


@dataclass
class Result:
    student: str
    assignment: str
    status: str
    score: float
    max_score: float
    parts: dict                                    # grade_id -> {points, score, checks, note}
    violations: list = field(default_factory=list)
    failure: dict | None = None                    # {kind, cell, reason}
    cells: list = field(default_factory=list)      # answer cells that raised: {grade_id, ename, evalue}
    answers: dict = field(default_factory=dict)    # answer cell -> the code that ran (for formgrader)
    log: str = ""
    isolation: str = ""
    fingerprint: str = ""
    seconds: float = 0.0
    graded_at: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Result:
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})


@dataclass
class Run:
    """What happened in the sandbox: harvests per part, the failure that stopped it, answer-cell errors."""

    harvests: dict = field(default_factory=dict)   # grade_id -> (results by probe index, seconds by index)
    failure: dict | None = None
    cells: list = field(default_factory=list)
    log: str = ""
    engine: list = field(default_factory=list)     # the engine's derivative makers student code ran (guard.py)
    seconds: float = 0.0                           # from the sandbox's start to its close


def grade_submission(sub: Submission, assignment: Assignment, *, limits: Limits, isolation: Isolation,
                     forbidden_modules: list[str], forbidden_functions: list[str], slot: int = 0,
                     allowed_functions: dict | None = None, own_rules: list[str] | None = None) -> Result:
    """Grade one submission. `forbidden_functions`: the engine's functions this assignment forbids, except
    those `allowed_functions` names per answer cell ({grade_id: [names]}); `own_rules`: the answer cells
    whose Value rules must not reuse the engine's Value arithmetic. The three steps, which a cluster runs in two
    places (grader/cluster): `check_policy` and `finish` where the gradebook is, `run_in_sandbox` on a worker."""
    result, matched = check_policy(sub, assignment, isolation, forbidden_modules, forbidden_functions,
                                   allowed_functions, own_rules)
    if matched is None:
        return result
    run = run_in_sandbox(matched, assignment, sub, limits, isolation, forbidden_modules, slot)
    return finish(result, matched, run, assignment, forbidden_functions, allowed_functions, own_rules)


def check_policy(sub: Submission, assignment: Assignment, isolation: Isolation, forbidden_modules: list[str],
                 forbidden_functions: list[str], allowed_functions: dict | None = None,
                 own_rules: list[str] | None = None) -> tuple[Result, Matched | None]:
    """Read the notebook and match it to the template (structure.match: the policy, static, no code run).
    Returns the result begun and what the sandbox must run, or the finished `invalid` result and None."""
    start = time.monotonic()
    result = Result(sub.student, assignment.id, "ok", 0.0, assignment.max_score, {}, isolation=isolation.value,
                    fingerprint=sub.fingerprint, graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    try:
        if sub.problem:
            raise InvalidNotebook(sub.problem)
        submitted = read_notebook(sub.notebook)
        matched = match(submitted, assignment.template, forbidden_modules=forbidden_modules,
                        forbidden_functions=forbidden_functions, allowed_functions=allowed_functions,
                        own_rules=own_rules or ())
    except InvalidNotebook as err:
        result.status, result.failure = "invalid", {"kind": "invalid", "cell": "", "reason": str(err)}
        result.parts = {p.grade_id: part_result(p.points, [], f"not graded: {err}") for p in assignment.parts}
        result.seconds = time.monotonic() - start
        return result, None
    if sub.renamed_from:
        matched.violations.insert(0, Violation("renamed", f"the notebook was submitted as '{sub.renamed_from}' "
                                               f"instead of '{assignment.notebook}'"))
    result.seconds = time.monotonic() - start
    return result, matched


def finish(result: Result, matched: Matched, run: Run, assignment: Assignment, forbidden_functions: list[str],
           allowed_functions: dict | None = None, own_rules: list[str] | None = None) -> Result:
    """Judge what the run harvested (in this process, which runs no student code) and complete the result."""
    start = time.monotonic()
    result.parts = judge(assignment, run)
    result.score = sum(p["score"] for p in result.parts.values())
    matched.violations += kernel_findings(run.engine, matched, forbidden_functions, allowed_functions or {},
                                          own_rules or [])
    result.violations = [v.to_dict() for v in matched.violations]
    result.failure, result.cells, result.log = run.failure, run.cells, run.log
    result.answers = {s.grade_id: s.source for s in matched.steps if s.answer}
    result.status = status_of(run.failure, matched.violations)
    result.seconds += run.seconds + time.monotonic() - start
    return result


def status_of(failure: dict | None, violations: list[Violation]) -> str:
    candidates = {failure["kind"]} if failure else set()
    candidates |= {v.severity for v in violations if v.severity in (TAMPERED, MANUAL)}
    return next((s for s in SEVERITY_ORDER if s in candidates), "ok")


def run_in_sandbox(matched: Matched, assignment: Assignment, sub: Submission, limits: Limits,
                   isolation: Isolation, forbidden_modules: list[str], slot: int,
                   sizes: dict | None = None) -> Run:
    """Run the released notebook with the student's answers in a sandbox, harvesting each part where its test
    cell stands. `sizes`: {(grade_id, probe index): bytes its expected values take} (reply_sizes), where this
    process has no expected values (a cluster's worker); else they are read from `assignment`."""
    start = time.monotonic()
    run = Run()
    box = Sandbox(limits, files=str(sub.folder), slot=slot, isolation=isolation, forbidden=tuple(forbidden_modules))
    box.start()
    steps_by_request: dict[str, str] = {}       # request id -> the step's grade_id (for forged replies)
    try:
        for step in matched.steps:
            first_request = len(box.request_ids)
            try:
                if step.action == "harvest":
                    run.harvests[step.grade_id] = harvest_part(box, assignment, step.grade_id, limits, run.engine,
                                                               sizes)
                    continue
                cell = box.run(step.source, cell=step.grade_id)
                run.engine += cell.engine
            except SandboxTimeout as err:
                run.failure = {"kind": "timeout", "cell": step.grade_id, "reason": str(err)}
                break
            except Tampered as err:
                run.failure = {"kind": "tampered", "cell": step.grade_id,
                               "reason": err.reason + where(matched, err.cell, err.line)}
                break
            except ForgedReply as err:          # a step whose reply came twice got a forged one first: void it
                forged = steps_by_request.get(err.duplicate_of, step.grade_id)
                run.harvests.pop(forged, None)
                run.failure = {"kind": "tampered", "cell": forged, "reason": err.reason}
                break
            except KernelDied as err:
                kind = "resource-limit" if err.limit else "crashed"
                run.failure = {"kind": kind, "cell": step.grade_id, "reason": err.reason}
                break
            finally:
                steps_by_request.update(dict.fromkeys(box.request_ids[first_request:], step.grade_id))
            if not cell.ok and step.answer:
                run.cells.append({"grade_id": step.grade_id, "ename": cell.ename, "evalue": cell.evalue})
            if cell.ename == "MemoryError":
                run.failure = {"kind": "crashed", "cell": step.grade_id,
                               "reason": f"the cell ran out of memory (the limit is {limits.memory >> 20} MiB)"}
                break
    finally:
        box.close()
        run.failure = with_limits(run.failure, box.exhausted)
        run.log = box.output.decode("utf-8", errors="replace")
        if box.output_dropped:
            run.log += f"\n[{box.output_dropped} more bytes of output were dropped]"
        run.seconds = time.monotonic() - start
    return run


def with_limits(failure: dict | None, exhausted: list[str]) -> dict | None:
    """The run's failure once the limits its sandbox exhausted are known: `resource-limit` when nothing else
    stopped the run (the parts keep what was harvested), else that failure with the limits added to its reason."""
    said = "the notebook " + " and ".join(exhausted)
    if not exhausted or failure is not None and failure["kind"] == "resource-limit":
        return failure
    if failure is None:
        return {"kind": "resource-limit", "cell": "", "reason": said}
    return {**failure, "reason": f"{failure['reason']} ({said})"}


def where(matched: Matched, cell: str, line: int) -> str:
    """' at cell X line N: `code`', quoted from the code that ran (the kernel names only cell and line)."""
    source = next((s.source for s in matched.steps if s.grade_id == cell and s.action == "run"), None)
    if source is None or line < 1:
        return ""
    lines = source.splitlines()
    code = lines[line - 1].strip()[:120] if line <= len(lines) else ""
    return f" at cell '{cell}' line {line}" + (f": `{code}`" if code else "")


def harvest_part(box: Sandbox, assignment: Assignment, gid: str, limits: Limits,
                 engine: list | None = None, sizes: dict | None = None) -> tuple[dict, dict]:
    """Harvest every probe of a part: the quick ones in one request, each timed one alone under its limit.
    Returns ({probe index: {key: rebuilt entry}}, {probe index: seconds})."""
    part = assignment.part(gid)
    got: dict[int, dict] = {}
    seconds: dict[int, float] = {}
    batches = [[i for i, p in enumerate(part.probes) if not p.time_limit]]
    batches += [[i] for i, p in enumerate(part.probes) if p.time_limit]
    for batch in (b for b in batches if b):
        items, inputs = [], {}
        for i in batch:
            probe_items, probe_inputs = part.probes[i].inputs()
            items += [{**item, "key": f"{i}/{item['key']}"} for item in probe_items]
            inputs.update(probe_inputs)
        timeout = part.probes[batch[0]].time_limit if len(batch) == 1 and part.probes[batch[0]].time_limit \
            else limits.cell_timeout
        expects = sum(sizes[gid, i] if sizes is not None else nbytes(assignment.expected(gid, i)) for i in batch)
        reply = box.harvest(items, inputs, timeout=timeout, max_bytes=REPLY_FLOOR + REPLY_FACTOR * expects)
        if engine is not None:
            engine += reply.engine
        for i in batch:
            prefix = f"{i}/"
            got[i] = {k[len(prefix):]: safe_rebuild(v, reply.arrays) for k, v in reply.results.items()
                      if isinstance(k, str) and k.startswith(prefix)}
            seconds[i] = reply.seconds
    return got, seconds


def reply_sizes(assignment: Assignment) -> dict:
    """{(grade_id, probe index): the bytes of its expected values}: what caps a harvest's reply, for a process
    that is not given the expected values themselves."""
    return {(p.grade_id, i): nbytes(assignment.expected(p.grade_id, i)) for p in assignment.parts
            for i in range(len(p.probes))}


def nbytes(value) -> int:
    """The bytes of the numbers in an expected value (arrays and numbers in lists, tuples and dicts)."""
    if isinstance(value, (list, tuple)):
        return sum(nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    return np.asarray(value).nbytes if isinstance(value, (np.ndarray, float, int, np.generic)) else 0


def safe_rebuild(entry, arrays):
    try:
        return rebuild(entry, arrays)
    except (RecursionError, TypeError, AttributeError):
        return {"error": "sent back something the grader cannot read"}


def judge(assignment: Assignment, run: Run) -> dict:
    """Per part: the checks of every probe on what was harvested, and the points (all or nothing)."""
    parts = {}
    for part in assignment.parts:
        if part.grade_id not in run.harvests:
            why = (f"not reached: the notebook stopped at cell '{run.failure['cell']}' ({run.failure['reason']})"
                   if run.failure else "not graded")
            parts[part.grade_id] = part_result(part.points, [], why)
            continue
        got, seconds = run.harvests[part.grade_id]
        checks: list[Check] = []
        for i, probe in enumerate(part.probes):
            try:
                found = probe.judge(assignment.expected(part.grade_id, i), got.get(i, {}), seconds.get(i, 0.0))
            except Exception as err:  # noqa: BLE001  (what came back is untrusted; never let it crash grading)
                found = [Check(False, probe.describe(), f"what came back could not be checked "
                               f"({type(err).__name__})")]
            for check in found if len(part.probes) > 1 else ():   # the feedback says which input set it was
                check.input_set = f"input set {i + 1} of {len(part.probes)}"
            checks += found
        ok = bool(checks) and all(c.ok for c in checks)
        parts[part.grade_id] = part_result(part.points, checks, "", ok)
    return parts


def part_result(points: float, checks: list[Check], note: str, ok: bool = False) -> dict:
    return {"points": points, "score": points if ok else 0.0, "checks": [c.to_dict() for c in checks],
            "note": note}
