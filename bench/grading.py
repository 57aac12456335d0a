"""Grading speed: plain `nbgrader autograde` against `autodiff-lab grade`, side by side on the same class, and
seconds per submission for a synthetic class of 100.

    python bench/grading.py                   # 100 synthetic submissions, then the sample class (~8 minutes)
    python bench/grading.py --students 40     # a smaller synthetic class
    python bench/grading.py --skip-plain      # only ours

Both sides use the same per-cell time limit. Plain nbgrader is run as an instructor would run it: one
`nbgrader autograde` command for the class, in a course folder made from solutions/ (no sandbox, one kernel
after another). Ours runs sandboxed on a pool of workers (one per core), from scratch (no cached results).
Target: at least 4x faster than plain nbgrader on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ASSIGNMENT = "a2_vjp"
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


def ours(submitted: Path, work: Path) -> tuple[float, object]:
    from grader.pipeline import grade_class

    start = time.perf_counter()
    report = grade_class(ASSIGNMENT, submitted, work / "ours", overrides={"Sandbox": {"cell_timeout": CELL_TIMEOUT}},
                         progress=False, force=True)
    return time.perf_counter() - start, report


def synthetic_class(n: int, dest: Path) -> Path:
    """n submissions: copies of the sample's right, partly right and wrong students, in turn."""
    sample = REPO / "grader" / "sample" / "submitted"
    kinds = ["ada", "ben", "cy", "dee"]
    for i in range(n):
        shutil.copytree(sample / kinds[i % len(kinds)] / ASSIGNMENT, dest / f"s{i:03d}-{kinds[i % 4]}" / ASSIGNMENT)
    return dest


def sample_only(students: list[Path], dest: Path) -> Path:
    for d in students:
        shutil.copytree(d / ASSIGNMENT, dest / d.name / ASSIGNMENT)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100, help="size of the synthetic class (default 100)")
    parser.add_argument("--skip-plain", action="store_true", help="do not run plain nbgrader")
    args = parser.parse_args(argv)
    from grader.sandbox import detect_isolation

    sample = REPO / "grader" / "sample" / "submitted"
    cls = [d for d in sample.iterdir() if (d / ASSIGNMENT).is_dir()]
    print(f"# Grading speed ({ASSIGNMENT}; {os.cpu_count()} cores; sandbox: {detect_isolation().value}; "
          f"{CELL_TIMEOUT:g} s per cell on both sides)\n")
    rows = []
    with tempfile.TemporaryDirectory(prefix="autodiff-lab-bench-") as tmp:
        work = Path(tmp)
        classes = [(f"synthetic class of {args.students} (right, partly right, wrong)",
                    synthetic_class(args.students, work / "synthetic")),
                   (f"sample class of {len(cls)} (every bad case; one endless loop costs {CELL_TIMEOUT:g} s on "
                    "both sides)", sample_only(cls, work / "sample"))]
        for i, (label, submitted) in enumerate(classes):
            mine, _ = ours(submitted, work / f"ours{i}")
            plain = None if args.skip_plain else plain_nbgrader(submitted, work / f"plain{i}")
            rows.append((label, plain, mine, sum(1 for _ in submitted.iterdir())))
    print("| class | plain nbgrader autograde | autodiff-lab grade (sandboxed) | s / submission, plain | "
          "s / submission, ours | speed-up |")
    print("|---|---|---|---|---|---|")
    for label, plain, mine, n in rows:
        print(f"| {label} | {f'{plain:.1f} s' if plain else 'not run'} | {mine:.1f} s | "
              f"{f'{plain / n:.2f}' if plain else '-'} | {mine / n:.2f} | {f'{plain / mine:.1f}x' if plain else '-'} |")
    if rows[0][1]:
        ratio = rows[0][1] / rows[0][2]
        print(f"\nspeed-up on the synthetic class: {ratio:.1f}x (target: at least 4x on 2 cores) -> "
              f"{'met' if ratio >= 4 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
