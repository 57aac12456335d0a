"""Grading speed, side by side in one run: plain `nbgrader autograde`, the pipeline with kernels started as before
(a fresh Python exec'd in each sandbox) and with warm starts (forked from grader/sandbox/zygote.py); the fixed
cost of one sandbox; and the speed-up from one to two local worker processes on a CPU-bound assignment.

    python bench/grading.py                        # everything: about 10 minutes on 2 cores
    python bench/grading.py --students 20          # a smaller synthetic class
    python bench/grading.py --skip-plain           # without plain nbgrader (the slowest part)
    python bench/grading.py --only startup scaling # some of: classes startup scaling

Every side uses the same per-cell time limit. Plain nbgrader is run as an instructor would run it: one
`nbgrader autograde` command for the class, in a course folder made from solutions/ (no sandbox, one kernel
after another). Ours runs sandboxed on a pool of workers (one per core), from scratch (no cached results);
"cold" is the same pipeline with warm starts turned off (grader.sandbox.warm.ENABLED = False), which starts
every kernel exactly as the grader did before them. The two orders of ours alternate from class to class.
Targets: the fixed cost of a submission (a sandbox started, an empty cell run, the sandbox closed) at most half
of the cold one; at least 1.7x from one to two dask worker processes on a CPU-bound class.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ASSIGNMENT = "a2_vjp"
CPU_BOUND = "a4_two_layer_net"     # trains a network on the digits in the kernel
CELL_TIMEOUT = 10.0
PLAIN_CONFIG = """c = get_config()
c.CourseDirectory.course_id = "autodiff_lab"
c.Execute.timeout = {timeout}
c.OverwriteCells.add_missing_cells = True
"""


def plain_nbgrader(submitted: Path, work: Path) -> float:
    """Seconds for `nbgrader autograde` on the class, in a fresh course folder (release included, not timed)."""
    course = work / "plain"
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    shutil.copytree(submitted, course / "submitted")
    (course / "nbgrader_config.py").write_text(PLAIN_CONFIG.format(timeout=int(CELL_TIMEOUT)))
    scripts = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}")
    nbgrader = [str(scripts / "nbgrader")]
    subprocess.run([*nbgrader, "generate_assignment", ASSIGNMENT], cwd=course, env=env, check=True,
                   capture_output=True)
    start = time.perf_counter()
    done = subprocess.run([*nbgrader, "autograde", ASSIGNMENT, "--create"], cwd=course, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):   # 1: some submissions failed, which the sample class is made to do
        raise RuntimeError(f"nbgrader autograde failed:\n{done.stderr[-3000:]}")
    return seconds


def ours(submitted: Path, out: Path, *, warm: bool, assignment: str = ASSIGNMENT, cluster: str | None = None,
         check_reference: bool = True) -> tuple[float, object]:
    from grader.pipeline import grade_class
    from grader.sandbox import warm as warm_start

    warm_start.ENABLED = warm
    try:
        start = time.perf_counter()
        report = grade_class(assignment, submitted, out, overrides={"Sandbox": {"cell_timeout": CELL_TIMEOUT}},
                             progress=False, force=True, cluster=cluster, check_reference=check_reference)
        return time.perf_counter() - start, report
    finally:
        warm_start.ENABLED = True


def synthetic_class(n: int, dest: Path, assignment: str = ASSIGNMENT, kinds=("ada", "ben", "cy", "dee")) -> Path:
    """n submissions: copies of the sample's students `kinds`, in turn."""
    sample = REPO / "grader" / "sample" / "submitted"
    for i in range(n):
        kind = kinds[i % len(kinds)]
        shutil.copytree(sample / kind / assignment, dest / f"s{i:03d}-{kind}" / assignment)
    return dest


def sample_only(students: list[Path], dest: Path) -> Path:
    for d in students:
        shutil.copytree(d / ASSIGNMENT, dest / d.name / ASSIGNMENT)
    return dest


def table_of(report) -> dict:
    return {r.student: (r.status, r.score) for r in report.results}


def classes(args, work: Path) -> None:
    """Plain nbgrader, ours cold, ours warm, on the synthetic class and on the sample class."""
    sample = REPO / "grader" / "sample" / "submitted"
    cls = [d for d in sample.iterdir() if (d / ASSIGNMENT).is_dir()]
    runs = [(f"synthetic class of {args.students} (right, partly right, wrong)",
             synthetic_class(args.students, work / "synthetic")),
            (f"sample class of {len(cls)} (every bad case; one endless loop costs {CELL_TIMEOUT:g} s on every side)",
             sample_only(cls, work / "sample"))]
    rows = []
    for i, (label, submitted) in enumerate(runs):
        times = {}
        for warm in ((False, True) if i % 2 == 0 else (True, False)):
            times[warm], report = ours(submitted, work / f"ours{i}-{warm}", warm=warm)
            if warm:
                same = table_of(report)
            else:
                cold = table_of(report)
        if same != cold:
            raise RuntimeError(f"warm and cold starts graded {label} differently: {same} vs {cold}")
        plain = None if args.skip_plain else plain_nbgrader(submitted, work / f"plain{i}")
        rows.append((label, plain, times[False], times[True], sum(1 for _ in submitted.iterdir())))
    print("| class | plain nbgrader | ours, cold starts (before) | ours, warm starts (now) | s / submission: plain, "
          "cold, warm | warm vs plain | warm vs cold |")
    print("|---|---|---|---|---|---|---|")
    for label, plain, cold, warm, n in rows:
        per = " / ".join(f"{t / n:.2f}" if t else "-" for t in (plain, cold, warm))
        print(f"| {label} | {f'{plain:.1f} s' if plain else 'not run'} | {cold:.1f} s | {warm:.1f} s | {per} | "
              f"{f'{plain / warm:.1f}x' if plain else '-'} | {cold / warm:.2f}x |")
    print("\nGrades agree between warm and cold starts on both classes (checked).\n")


def startup(args) -> None:
    """The fixed cost of a submission: a sandbox started, an empty cell run, the sandbox closed."""
    from grader.sandbox import Limits, Sandbox, detect_isolation, warm

    def once() -> tuple[float, float]:
        start = time.perf_counter()
        box = Sandbox(Limits(), isolation=detect_isolation())
        box.start()
        ready = time.perf_counter()
        box.run("pass")
        box.close()
        return ready - start, time.perf_counter() - start

    got = {False: [], True: []}
    for mode in (False, True):             # one of each first: the zygote starts, the page cache warms
        warm.ENABLED = mode
        once()
    for i in range(args.rounds):
        for mode in ((False, True) if i % 2 == 0 else (True, False)):
            warm.ENABLED = mode
            got[mode].append(once())
    warm.ENABLED = True
    med = {m: (statistics.median(t[0] for t in got[m]), statistics.median(t[1] for t in got[m])) for m in got}
    print(f"| fixed cost per submission ({args.rounds} rounds, alternating; medians) | to the kernel ready | "
          "start + empty cell + close |")
    print("|---|---|---|")
    print(f"| cold start: a Python exec'd in the sandbox (before) | {med[False][0] * 1000:.0f} ms | "
          f"{med[False][1] * 1000:.0f} ms |")
    print(f"| warm start: forked from the zygote (now) | {med[True][0] * 1000:.0f} ms | {med[True][1] * 1000:.0f} ms |")
    ratio = med[True][1] / med[False][1]
    print(f"\nwarm / cold: {ratio:.2f} (target: at most 0.50) -> {'met' if ratio <= 0.5 else 'NOT met'}\n")


def cpu_bound_class(n: int, dest: Path, epochs: int) -> Path:
    """n copies of the sample's right a4 submission, its student training for `epochs` epochs instead of 20 (a
    student's own choice in an answer cell): seconds of CPU in the kernel per submission."""
    sample = REPO / "grader" / "sample" / "submitted" / "ada" / CPU_BOUND / f"{CPU_BOUND}.ipynb"
    nb = json.loads(sample.read_text())
    call = "trained_params = train(X_train, y_train, hidden=64, lr=0.5, epochs=20, reg=1e-4)"
    cell = next(c for c in nb["cells"] if call in "".join(c["source"]))
    cell["source"] = "".join(cell["source"]).replace(call, call.replace("epochs=20,", f"epochs={epochs},"))
    for i in range(n):
        folder = dest / f"s{i:03d}" / CPU_BOUND
        folder.mkdir(parents=True)
        (folder / f"{CPU_BOUND}.ipynb").write_text(json.dumps(nb))
    return dest


@contextlib.contextmanager
def dask_cluster(workers: int, work: Path):
    """A scheduler and `workers` worker processes, each its own command as on a real cluster; its address."""
    info = work / f"scheduler-{workers}.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    dask = [sys.executable, "-m"]
    procs = [subprocess.Popen([*dask, "distributed.cli.dask_scheduler", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(info)], **quiet)]
    procs.append(subprocess.Popen([*dask, "distributed.cli.dask_worker", "--scheduler-file", str(info), "--nworkers",
                                   str(workers), "--nthreads", "1", "--memory-limit", "0", "--no-dashboard"], **quiet))
    try:
        from distributed import Client

        with Client(scheduler_file=str(info), timeout=60) as client:
            client.wait_for_workers(workers, timeout=60)
            address = client.scheduler.address
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)


def grading_phase(submitted: Path, address: str, work: Path) -> tuple[float, dict]:
    """Seconds from the first submission sent to the last result back, through the cluster's stream of results
    that `grade_class(cluster=...)` consumes (grader/cluster/pool.py), on a class set up as it sets it up. What
    the instructor's side does once per run (collecting, expected values, feedback pages, the summary) does not
    depend on the workers and is left out."""
    from grader.assignment import cell_settings, load_assignment
    from grader.cluster.admission import expectation
    from grader.cluster.pool import Cluster
    from grader.collect import collect
    from grader.config import load_config, load_settings
    from grader.pipeline import grader_failure

    sandbox, grader = load_settings(load_config(), {"Sandbox": {"cell_timeout": CELL_TIMEOUT}})
    limits, isolation = sandbox.limits(), sandbox.level()
    assignment = load_assignment(CPU_BOUND, salt=grader.input_salt)
    cells = cell_settings(assignment.id, assignment.template, grader.allowed_functions, grader.own_rules)
    subs = collect(submitted, CPU_BOUND, assignment.notebook, work / "collected", max_bytes=limits.disk)
    assignment.prepare()
    grading = {"limits": limits, "isolation": isolation, "forbidden_modules": grader.forbidden_modules,
               "forbidden_functions": grader.forbidden_functions.get(CPU_BOUND, []), **cells}
    with Cluster(address) as pool:
        pool.admit(expectation(limits, isolation))
        start = time.perf_counter()
        results = list(pool.results(list(subs), assignment, grading, lambda result, _: result,
                                    lambda sub, err: grader_failure(sub.student, sub.fingerprint, assignment, err)))
        return time.perf_counter() - start, {r.student: (r.status, r.score) for r in results}


def scaling(args, work: Path) -> None:
    """A CPU-bound class on a cluster of one and one of two worker processes, both started before any clock
    starts: each warmed up by one unmeasured run, then `autodiff-lab grade --cluster` end to end once on each,
    then the grading phase alone in rounds that alternate which cluster goes first; the best round of each."""
    submitted = cpu_bound_class(args.cpu_students, work / "cpu", args.epochs)
    whole, phases, tables = {}, {1: [], 2: []}, []
    with dask_cluster(1, work) as one, dask_cluster(2, work) as two:
        address = {1: one, 2: two}
        for n in (1, 2):
            tables.append(grading_phase(submitted, address[n], work / f"warm{n}")[1])
        for n in (1, 2):
            whole[n], report = ours(submitted, work / f"scale{n}", warm=True, assignment=CPU_BOUND,
                                    cluster=address[n], check_reference=False)
            tables.append(table_of(report))
        for r in range(args.scaling_rounds):
            for n in (1, 2) if r % 2 == 0 else (2, 1):
                seconds, graded = grading_phase(submitted, address[n], work / f"phase{n}-{r}")
                phases[n].append(seconds)
                tables.append(graded)
    phase = {n: min(times) for n, times in phases.items()}
    if any(t != tables[0] for t in tables):
        raise RuntimeError(f"the runs graded differently: {tables}")
    statuses = dict(Counter(status for status, _ in tables[0].values()))
    print(f"| {args.cpu_students} submissions of {CPU_BOUND}, each training {args.epochs} epochs | 1 worker process "
          "| 2 worker processes | speed-up |")
    print("|---|---|---|---|")
    print(f"| grading phase (first submission sent to last result back; best of {args.scaling_rounds} rounds) | "
          f"{phase[1]:.1f} s | {phase[2]:.1f} s | "
          f"{phase[1] / phase[2]:.2f}x |")
    print(f"| the whole command (admission, expected values, feedback and summary included) | {whole[1]:.1f} s | "
          f"{whole[2]:.1f} s | {whole[1] / whole[2]:.2f}x |")
    speedup = phase[1] / phase[2]
    print(f"\nspeed-up of grading from 1 to 2 worker processes: {speedup:.2f}x on {os.cpu_count()} cores (target: at "
          f"least 1.7x) -> {'met' if speedup >= 1.7 else 'NOT met'}; load average now {os.getloadavg()[0]:.2f}; "
          f"graded {statuses}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40, help="size of the synthetic class (default 40)")
    parser.add_argument("--cpu-students", type=int, default=12, help=f"submissions of {CPU_BOUND} (default 12)")
    parser.add_argument("--epochs", type=int, default=600,
                        help="epochs each of them trains (default 600: about 1.5 s of training a submission)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of the start-up timing (default 10)")
    parser.add_argument("--scaling-rounds", type=int, default=3,
                        help="rounds of the 1-and-2-worker grading phase, alternating (default 3; the best counts)")
    parser.add_argument("--skip-plain", action="store_true", help="do not run plain nbgrader")
    parser.add_argument("--only", nargs="+", choices=["classes", "startup", "scaling"],
                        default=["classes", "startup", "scaling"])
    args = parser.parse_args(argv)
    from grader.sandbox import detect_isolation

    print(f"# Grading speed ({os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; sandbox: "
          f"{detect_isolation().value}; {CELL_TIMEOUT:g} s per cell on every side)\n")
    with tempfile.TemporaryDirectory(prefix="autodiff-lab-bench-") as tmp:
        work = Path(tmp)
        if "startup" in args.only:
            startup(args)
        if "classes" in args.only:
            classes(args, work)
        if "scaling" in args.only:
            scaling(args, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
