"""Grade a class: collect the submissions, grade them on a pool of workers, and write everything.

    report = grade_class("a2_vjp", "path/to/submitted", out="grader/out")

Layout of `out` (an nbgrader course folder):

    gradebook.db, nbgrader_config.py, release/      nbgrader's gradebook (formgrader, `nbgrader export`)
    feedback/<student>/<assignment>/<notebook>.html one page per student (nbgrader's release_feedback layout)
    autograded/<student>/<assignment>/<notebook>    what formgrader shows: answers and verdicts
    <assignment>/grades.csv, summary.png, summary.html
    <assignment>/results/<student>.json            each graded submission (the resume cache)
    <assignment>/logs/<student>.txt                what the student's kernel printed (capped)

Workers are threads; each supervises one sandboxed kernel at a time and judges what it harvested. Only the
main thread writes results, the gradebook and the reports (one writer, so nothing is corrupted). A result is
written as soon as a submission is graded, so an interrupted run resumes where it stopped: a submission whose
files, assignment, limits and grader are unchanged is not graded again. Re-running gives the same files.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import itertools
import json
import os
import shutil
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .assignment import Assignment, cell_settings, load_assignment
from .collect import DEFAULT_PATTERN, Submission, collect
from .config import PACKAGE, load_config, load_settings
from .exchange import keep_submission_stamps
from .faults import forget_changed, is_disk_full, one_run_at_a_time
from .feedback import write_autograded, write_feedback
from .gradebook import GradebookWriter, backup_gradebook, course_students
from .probes import clip
from .progress import Progress
from .runner import SEVERITY_ORDER, Result, grade_submission
from .sandbox import Isolation, cgroups, leases
from .sandbox.isolation import engine_dir
from .sandbox.outcomes import KernelBroken
from .structure import policy_of_files
from .summary import write_csv, write_summary


@dataclass
class ClassReport:
    assignment: Assignment
    results: list[Result]
    out: Path
    seconds: float
    graded: int          # graded in this run (the others came from the cache)
    isolation: str
    entries: list[str] = field(default_factory=list)   # every entry found in the submissions
    in_rows: list[str] = field(default_factory=list)   # the entries the rows written account for (the same)
    pruned: list[str] = field(default_factory=list)    # students dropped from the course (prune=True)
    kept: list[str] = field(default_factory=list)      # of those, gradebook submissions kept for manual grades
    backup: Path | None = None                         # the gradebook as it was before this run
    refused: list[str] = field(default_factory=list)   # a cluster's workers refused, one message each

    @property
    def lost(self) -> list[str]:
        """Entries found but in no row, or in two (always empty: the run fails otherwise)."""
        return sorted((Counter(self.entries) - Counter(self.in_rows)) + (Counter(self.in_rows) - Counter(self.entries)))

    def table(self) -> str:
        """The class table: student, status, score."""
        width = max([len(r.student) for r in self.results] + [7])
        lines = [f"{'student':<{width}}  {'status':<19} score"]
        lines += [f"{r.student:<{width}}  {r.status:<19} {r.score:g} / {r.max_score:g}" for r in self.results]
        return "\n".join(lines)


@one_run_at_a_time
def grade_class(assignment_id: str, submissions: str | Path, out: str | Path, *, workers: int = 0,
                config_path: str | Path | None = None, overrides: dict | None = None, pattern: str = DEFAULT_PATTERN,
                progress: bool = True, force: bool = False, check_reference: bool = True,
                prune: bool = False, cluster: str | None = None) -> ClassReport:
    """Grade every submission of `assignment_id` under `submissions` into the course folder `out`. First the
    reference solution is graded the same way (unless check_reference=False): if it loses a point, nothing
    is graded and ReferenceFails says which part. No submissions at all is an error; students of the course
    missing from `submissions` stop the run before anything changes (WouldDropStudents) unless `prune`, which
    removes their automatic outputs but never a gradebook submission holding a manual grade or comment. The
    gradebook is backed up first (<out>/backups). `cluster`: grade on dask.distributed workers instead of local
    threads ('tcp://HOST:PORT' of a scheduler, or 'local:N' for N local worker processes; grader/cluster)."""
    start = time.monotonic()
    config = load_config(config_path)
    sandbox, grader = load_settings(config, overrides)
    limits = sandbox.limits()
    isolation = cluster_level(sandbox) if cluster else sandbox.level()
    assignment = load_assignment(assignment_id, salt=grader.input_salt)
    cells = cell_settings(assignment.id, assignment.template, grader.allowed_functions, grader.own_rules)
    out = Path(out).resolve()
    folder = out / assignment.id
    subs = collect(Path(submissions), assignment.id, assignment.notebook, folder / "collected", pattern=pattern,
                   max_bytes=limits.disk)
    if not subs.entries:
        raise ValueError(f"no submissions found in {submissions}: nothing to grade (expected a folder per student, "
                         f"{assignment.id}/ folders in them, or notebooks named after their students)")
    dropped = sorted(course_students(out, assignment.id) - {s.student for s in subs})
    if dropped and not prune:
        raise WouldDropStudents(would_drop(dropped, assignment.id, submissions, out))
    pool, refused = (connect(cluster, limits, isolation) if cluster else (None, []))
    try:
        backup = backup_gradebook(out)
        for sub in ("results", "logs"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        writer = GradebookWriter(out, assignment, config)
    except BaseException:
        if pool is not None:
            pool.close()
        raise
    forbidden = grader.forbidden_functions.get(assignment.id, [])
    key = run_key(assignment, limits, isolation.value, grader.forbidden_modules, forbidden, cells)
    cached = {} if force else {s.student: r for s in subs if (r := load_cached(folder, s, key))}
    todo = [s for s in subs if s.student not in cached]
    forget_changed(out, assignment.id, [s.student for s in todo])
    writer.forget_automatic([s.student for s in todo])
    assignment.prepare()
    grading = {"limits": limits, "isolation": isolation, "forbidden_modules": grader.forbidden_modules,
               "forbidden_functions": forbidden, **cells}
    bar = Progress(len(subs), assignment.id, enabled=progress)
    results: dict[str, Result] = {}

    def complete(result: Result, sub: Submission) -> Result:
        return with_violations(with_file_policy(result, sub, grader.forbidden_modules), sub.violations)

    def failed(sub: Submission, err: Exception) -> Result:
        return grader_failure(sub.student, sub.fingerprint, assignment, err)

    def on_cluster(sub: Submission) -> Result:
        return next(iter(pool.results([sub], assignment, grading, lambda r, _: r, failed)))

    try:
        if check_reference:
            reference_passes(assignment, folder, key, grading, progress=progress, force=force,
                             grade=on_cluster if pool is not None else None)
        for r in cached.values():
            results[r.student] = r
            writer.record(r)
            bar.step(f"{r.student}: {r.status} {r.score:g}/{r.max_score:g} (unchanged)")
        if pool is not None:
            stream = pool.results(todo, assignment, grading, complete, failed)
        else:
            n = workers or grader.workers or os.cpu_count() or 1
            stream = local_results(todo, assignment, grading, complete, n)
        with contextlib.closing(stream):
            for graded in stream:
                r = keep(graded, folder, key, writer, assignment)
                results[r.student] = r
                bar.step(f"{r.student}: {r.status} {r.score:g}/{r.max_score:g}")
        removed, kept = writer.forget_others({s.student for s in subs}) if prune else ([], [])
    finally:
        writer.close()
        if pool is not None:
            pool.close()
    ordered = [results[s.student] for s in subs]
    if prune:
        forget_others(out, assignment.id, {s.student for s in subs})
    links = {}
    for sub, r in zip(subs, ordered):
        page = write_feedback(out, r, assignment)
        keep_submission_stamps(sub.folder, page.parent)       # what nbgrader's release_feedback reads
        write_autograded(out, r, assignment)
        links[r.student] = os.path.relpath(page, folder)
        (folder / "logs" / f"{r.student}.txt").write_text(r.log, encoding="utf-8", errors="replace")
    rows = write_csv(folder / "grades.csv", ordered, assignment)
    write_summary(folder, ordered, assignment, links, entries=len(subs.entries))
    by_student = {s.student: s for s in subs}
    where = describe(isolation, limits) if pool is None else cluster_description(isolation, pool, cluster)
    return ClassReport(assignment, ordered, out, time.monotonic() - start, len(todo), where,
                       entries=subs.entries, in_rows=[e for row in rows for e in by_student[row].entries],
                       pruned=dropped if prune else [], kept=kept, backup=backup, refused=refused)


def local_results(todo: list[Submission], assignment: Assignment, grading: dict, complete, workers: int):
    """Grade `todo` on `workers` threads of this process, each supervising one sandbox at a time; yield each
    result as it finishes (the caller, in the main thread, is the one writer)."""
    slots = itertools.count()
    local = threading.local()

    def work(sub: Submission) -> Result:
        if not hasattr(local, "slot"):
            local.slot = next(slots)
        return complete(grade_safely(sub, assignment, slot=local.slot, **grading), sub)

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grader") as pool:
        futures = {pool.submit(work, s): s for s in todo}
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def cluster_level(sandbox) -> Isolation:
    """The isolation a cluster's workers must offer: the configured one, or with 'auto' what this machine's
    would be (config.Sandbox.level), namespaces when this machine cannot tell (it offers only rlimits)."""
    if sandbox.isolation != "auto":
        return Isolation(sandbox.isolation)
    best = sandbox.level()
    return Isolation.NAMESPACES if best is Isolation.RLIMITS else best


def connect(spec: str, limits, isolation: Isolation):
    """The cluster (grader/cluster), its workers examined; and one message per refused worker, also printed."""
    try:
        from .cluster.admission import expectation
        from .cluster.pool import Cluster
    except ImportError as err:      # dask is an optional extra
        raise RuntimeError(f"--cluster needs dask.distributed, which does not import here ({err}): pip install "
                           "'autodiff-lab[cluster]' (or the cluster lines of environment.yml)") from None

    pool = Cluster(spec)
    try:
        refused = pool.admit(expectation(limits, isolation))
    except BaseException:
        pool.close()
        raise
    for message in refused:
        print(f"autodiff-lab grade: {message}", file=sys.stderr, flush=True)
    return pool, refused


def cluster_description(isolation: Isolation, pool, spec: str) -> str:
    """'namespaces + memory/pids cgroups, on 2 admitted workers of local:2'."""
    groups = " + memory/pids cgroups" if isolation is Isolation.NAMESPACES else ""
    return f"{isolation.value}{groups}, on {len(pool.admitted)} admitted workers of {spec}"


class WouldDropStudents(RuntimeError):
    """The run would drop students already graded in the course (their submissions are not among these)."""


def would_drop(students: list[str], assignment: str, submissions, out: Path) -> str:
    names = ", ".join(students[:8]) + (f" and {len(students) - 8} more" if len(students) > 8 else "")
    return (f"{len(students)} student(s) graded for {assignment} in {out} have no submission in {submissions}: "
            f"{names}. Nothing was changed. Check --submissions and --out; to remove them from this course on "
            "purpose, run again with --prune (their automatic results go; manual grades and comments in the "
            "gradebook stay).")


class ReferenceFails(RuntimeError):
    """The reference solution loses points: grading the class would take points for right answers."""


REFERENCE_PREFIX = "autodiff-lab-reference-"


def reference_passes(assignment: Assignment, folder: Path, key: str, grading: dict, *, progress: bool = True,
                     force: bool = False, grade=None) -> None:
    """Grade the reference solution (the source notebook's solution cells in the released notebook) in the same
    sandbox, with the same limits and hidden inputs as the class, and raise ReferenceFails unless it gets full
    marks: a hidden test whose inputs fall on a kink or a domain edge under this term's input salt would
    otherwise fail right answers. `grade`: how to grade it (a cluster's), instead of grade_submission here.
    A pass is remembered in <folder>/reference.json under the run's key. The
    reference notebook exists only while it is graded, in a private folder of the temp folder (leases.py) that
    the next run sweeps away if this one is killed; in the sandbox it is the sandbox uid's alone."""
    record = folder / "reference.json"
    folder.mkdir(parents=True, exist_ok=True)
    leases.sweep(REFERENCE_PREFIX)                              # what runs killed meanwhile left
    shutil.rmtree(folder / "reference", ignore_errors=True)     # where versions before 17 wrote it
    try:
        if not force and json.loads(record.read_text()).get("key") == key:
            return
    except (OSError, ValueError):
        pass
    if progress:
        print(f"{assignment.id}: grading the reference solution first...", file=sys.stderr, flush=True)
    path, lock = leases.private_folder(REFERENCE_PREFIX)   # mode 0700, outside the course folder
    scratch = Path(path)
    try:
        notebook = scratch / assignment.notebook
        with open(os.open(notebook, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as f:
            f.write(json.dumps(assignment.reference_notebook(), indent=1))
        reference = Submission("reference", scratch, notebook)
        result = grade(reference) if grade is not None else grade_submission(reference, assignment, **grading)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        os.close(lock)
    if result.status != "ok" or result.score < result.max_score:
        raise ReferenceFails(reference_failure(assignment, result))
    record.write_text(json.dumps({"key": key, "seconds": round(result.seconds, 1)}))


def reference_failure(assignment: Assignment, result: Result) -> str:
    """What went wrong with the reference solution, for the instructor (full checker texts: no student sees it)."""
    salt = f"input salt {assignment.salt!r}" if assignment.salt else "no input salt (the source's own seeds)"
    lines = [f"the reference solution of {assignment.id} (the solution cells of {assignment.source_path.name}) "
             f"is graded {result.status}, {result.score:g} of {result.max_score:g} points with {salt}, so right "
             f"answers would be graded wrong; no submission was graded."]
    if result.failure:
        lines.append(f"  Its run stopped: {result.failure['reason']}")
    lines += [f"  Rule broken: {v['message']}" for v in result.violations]
    for gid, part in result.parts.items():
        if part["score"] < part["points"]:
            failed = [f"{c['title']}: {c['text']}" for c in part["checks"] if not c["ok"]] or [part["note"]]
            lines.append(f"  {gid} ({assignment.part(gid).title}):")
            lines += [f"    - {clip(text, 600)}" for text in failed[:3]]
            lines += [f"    - and {len(failed) - 3} more"] if len(failed) > 3 else []
    lines.append("Choose another input salt (--input-salt), or fix that hidden test in the source notebook: keep its "
                 "random inputs away from kinks and domain edges, e.g. {'uniform': (3, 4), 'low': 0.5, 'high': 2} "
                 "for a logarithm.")
    return "\n".join(lines)


def describe(isolation, limits) -> str:
    """The isolation in use, e.g. 'namespaces + memory/pids cgroups'."""
    groups = isolation.value == "namespaces" and cgroups.plan("probe", limits.memory, limits.processes)
    return isolation.value + (" + memory/pids cgroups" if groups else "")


def grade_safely(sub: Submission, assignment: Assignment, **kw) -> Result:
    """grade_submission, but a failure of the grader itself is recorded (and retried next run), not raised;
    except a kernel that cannot start whatever the submission (KernelBroken): that stops the class, with one
    message for the instructor, instead of grading every student `crashed`."""
    try:
        return grade_submission(sub, assignment, **kw)
    except KernelBroken:
        raise
    except Exception as err:  # noqa: BLE001
        return grader_failure(sub.student, sub.fingerprint, assignment, err)


def grader_failure(student: str, fingerprint: str, assignment: Assignment, err: Exception) -> Result:
    """The result of a submission the grader failed on: crashed, no points, not cached (retried next run)."""
    return Result(student, assignment.id, "crashed", 0.0, assignment.max_score,
                  {p.grade_id: {"points": p.points, "score": 0.0, "checks": [], "note": "not graded"}
                   for p in assignment.parts},
                  failure={"kind": "grader", "cell": "", "reason": f"the grader itself failed on this submission "
                           f"({type(err).__name__}: {clip(err, 200)}); it will be retried on the next run"},
                  log=str(getattr(err, "log", "")), fingerprint=fingerprint)


def keep(result: Result, folder: Path, key: str, writer: GradebookWriter, assignment: Assignment) -> Result:
    """Save and record one result. One that cannot be written becomes a grader failure of that student, so
    the rest of the class is still graded; a full disk stops the run (faults.DiskFull)."""
    try:
        save(folder, result, key)
        writer.record(result)
        return result
    except Exception as err:  # noqa: BLE001  (what a result holds came partly from the student)
        if is_disk_full(err):
            raise
        failed = grader_failure(result.student, result.fingerprint, assignment, err)
        save(folder, failed, key)
        writer.record(failed)
        return failed


def with_violations(result: Result, found: list) -> Result:
    """The result with `found` (Violations) added to its violations, and its status the most serious."""
    result.violations += [v.to_dict() for v in found]
    statuses = {result.status} | {v.severity for v in found}
    result.status = next(s for s in SEVERITY_ORDER if s in statuses)
    return result


def with_file_policy(result: Result, sub: Submission, forbidden_modules: list[str]) -> Result:
    """The result with the policy on the files shipped beside the notebook (structure.policy_of_files) added
    to its violations and status."""
    if sub.folder is None or sub.notebook is None or result.status == "invalid":
        return result
    return with_violations(result, policy_of_files(sub.folder, sub.notebook, forbidden_modules))


def run_key(assignment: Assignment, limits, isolation: str, modules: list, functions: list,
            cells: dict | None = None) -> str:
    """What a cached result depends on besides the submission: the assignment's notebooks and input salt, the
    limits and policy, the grader's own code, and the engine's (the copy the grader imported: student code
    runs on it)."""
    h = hashlib.sha256()
    code = [*sorted(PACKAGE.rglob("*.py")), *sorted(Path(engine_dir()).rglob("*.py"))]
    for path in [assignment.source_path, assignment.release_path, *code]:
        h.update(path.read_bytes())
    h.update(json.dumps([repr(limits), isolation, sorted(modules), sorted(functions), assignment.salt]).encode())
    h.update(json.dumps(cells or {}, sort_keys=True).encode())     # per-cell policy (assignment.cell_settings)
    return h.hexdigest()


def result_path(folder: Path, student: str) -> Path:
    return folder / "results" / f"{student}.json"


def load_cached(folder: Path, sub: Submission, key: str) -> Result | None:
    try:
        data = json.loads(result_path(folder, sub.student).read_text())
    except (OSError, ValueError):
        return None
    if data.get("key") != key or data["result"].get("fingerprint") != sub.fingerprint \
            or (data["result"].get("failure") or {}).get("kind") == "grader":
        return None
    return Result.from_dict(data["result"])


def save(folder: Path, result: Result, key: str) -> None:
    """Write atomically: a run killed mid-write leaves the old file or the new one, never half of one (nor a
    half-written temporary file, when the write fails)."""
    path = result_path(folder, result.student)
    tmp = path.with_suffix(".json.tmp")
    try:
        tmp.write_text(json.dumps({"key": key, "result": result.to_dict()}, indent=1))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def forget_others(out: Path, assignment: str, students: set[str]) -> None:
    """Drop the results, logs, feedback and autograded copies (automatic outputs, all regenerated by a run) of
    students who are no longer among the submissions: only with prune=True."""
    for kind in ("results", "logs"):
        for path in (out / assignment / kind).glob("*.*"):
            if path.stem not in students:
                path.unlink()
    for path in [*(out / "feedback").glob(f"*/{assignment}"), *(out / "autograded").glob(f"*/{assignment}")]:
        if path.parent.name not in students:
            shutil.rmtree(path)
