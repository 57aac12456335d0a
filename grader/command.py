"""`autodiff-lab grade`: grade a class's notebooks in sandboxes and write grades, feedback and a summary.

    autodiff-lab grade a2_vjp --submissions course/submitted [--out grader/out] [--workers 2]
                       [--cell-timeout 30] [--submission-timeout 300] [--input-salt 2026-fall] [--prune]
                       [--cluster tcp://scheduler:8786 | --cluster local:4]
    autodiff-lab grade --sample          the sample class shipped in grader/sample (what `make grade` runs)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import PACKAGE

SAMPLE = PACKAGE / "sample" / "submitted"
DEFAULT_OUT = PACKAGE / "out"
SAMPLE_CELL_TIMEOUT = 10   # the sample class's endless loop need not hold the demo up for the full 30 s


def register(subparsers) -> None:
    p = subparsers.add_parser("grade", help="grade a class's notebooks (sandboxed) and write grades and feedback",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignment", nargs="?", help="the assignment, e.g. a2_vjp (a folder of solutions/)")
    p.add_argument("--submissions", type=Path,
                   help="nbgrader's submitted/ folder, a folder per student, or an LMS folder or zip of notebooks "
                        "(default <out>/submitted, where `nbgrader collect` in the course folder puts them)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"course folder for the results (default {DEFAULT_OUT})")
    p.add_argument("--workers", type=int, default=0, help="submissions graded at once (default: one per core)")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="grade on dask.distributed workers: a scheduler's address (tcp://HOST:8786) or local:N for N "
                        "local worker processes; needs autodiff-lab[cluster] (grader/README.md, 'Grading on a "
                        "cluster')")
    p.add_argument("--config", type=Path, help="nbgrader config with Sandbox/Grader settings (default: grader's)")
    p.add_argument("--cell-timeout", type=float, help="seconds per cell (overrides the config)")
    p.add_argument("--submission-timeout", type=float,
                   help="seconds for a whole notebook, every cell and harvest together (overrides the config)")
    p.add_argument("--input-salt", metavar="TEXT",
                   help="draw the hidden tests' random inputs anew, e.g. one salt per term such as 2026-fall "
                        "(overrides the config's Grader.input_salt)")
    p.add_argument("--pattern", help="regex with a group 'student' for LMS file names")
    p.add_argument("--force", action="store_true", help="grade every submission again, even unchanged ones")
    p.add_argument("--prune", action="store_true",
                   help="drop students of the course who are not among these submissions (their automatic results; "
                        "manual grades and comments in the gradebook are kept); without it such a run stops")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--sample", action="store_true", help="grade the sample class in grader/sample")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .pipeline import grade_class
    from .release import assignment_ids
    from .summary import identical_answers

    if args.sample:
        wanted = [args.assignment] if args.assignment else [a for a in assignment_ids() if any(SAMPLE.glob(f"*/{a}"))]
        submissions = SAMPLE
    elif not args.assignment:
        print("autodiff-lab grade: give an ASSIGNMENT and --submissions DIR (or --sample)", file=sys.stderr)
        return 2
    elif args.submissions is None and not (args.out / "submitted").is_dir():
        print(f"autodiff-lab grade: give --submissions DIR (without it, the submissions are taken from "
              f"{args.out / 'submitted'}, where `nbgrader collect` puts them, and there is no such folder)",
              file=sys.stderr)
        return 2
    else:
        wanted, submissions = [args.assignment], args.submissions or args.out / "submitted"
    overrides = {"Sandbox": sandbox_overrides(args)}
    if args.input_salt is not None:
        overrides["Grader"] = {"input_salt": args.input_salt}
    kwargs = {"pattern": args.pattern} if args.pattern else {}
    for assignment in wanted:
        try:
            report = grade_class(assignment, submissions, args.out, workers=args.workers, config_path=args.config,
                                 overrides=overrides, progress=not args.quiet, force=args.force, prune=args.prune,
                                 cluster=args.cluster, **kwargs)
        except (ValueError, FileNotFoundError, RuntimeError) as err:
            print(f"autodiff-lab grade: {err}", file=sys.stderr)
            return 1
        folder = report.out / report.assignment.id
        salt = f", input salt {report.assignment.salt!r}" if report.assignment.salt else ""
        print(f"\n{report.assignment.id}: {len(report.results)} submissions ({report.graded} graded now) in "
              f"{report.seconds:.1f} s, sandbox: {report.isolation}{salt}")
        print(report.table())
        print(f"entries: {len(report.entries)} found, {len(report.in_rows)} in the {len(report.results)} rows "
              "written" + (" (a row lists a student's extra copies beside the one graded)"
                           if len(report.results) < len(report.in_rows) else ""))
        for group in identical_answers(report.results, report.assignment):
            print(f"identical answers: {', '.join(group)}")
        if report.pruned:
            print(f"pruned (--prune): {len(report.pruned)} student(s) without a submission: "
                  f"{', '.join(report.pruned[:20])}{' ...' if len(report.pruned) > 20 else ''}")
        if report.kept:
            print(f"kept in the gradebook (they hold manual grades or comments): {', '.join(report.kept)}")
        if report.backup:
            print(f"gradebook backup (before this run): {report.backup}")
        if report.isolation.startswith("rlimits"):
            print("WARNING: this machine offers no namespaces, so the sandbox had resource limits only: student code "
                  "could read what the grader's user can read (solutions, the gradebook). Grade as root, or where "
                  "unprivileged user namespaces are enabled.", file=sys.stderr)
        print(f"grades: {folder / 'grades.csv'}\nsummary: {folder / 'summary.html'}\n"
              f"feedback: {report.out / 'feedback'}/<student>/{report.assignment.id}/\n"
              f"gradebook: {report.out / 'gradebook.db'}")
        if report.lost:
            print(f"autodiff-lab grade: {len(report.lost)} entries found are in no row (or in two); this is a bug "
                  f"of the grader, please report it: {', '.join(report.lost)}", file=sys.stderr)
            return 1
    return 0


def sandbox_overrides(args: argparse.Namespace) -> dict:
    """The Sandbox settings given on the command line (checked with the config's, in config.load_settings)."""
    given = {"cell_timeout": args.cell_timeout, "submission_timeout": args.submission_timeout}
    if args.sample and given["cell_timeout"] is None:
        given["cell_timeout"] = SAMPLE_CELL_TIMEOUT
    return {name: value for name, value in given.items() if value is not None}


EXPORT_DOC = """`autodiff-lab export`: an assignment's grades as the gradebook-import CSV of Canvas or Moodle, a row per
student of the roster (0 and flagged for those who submitted nothing). Names are matched, never guessed.

    autodiff-lab export a2_vjp --roster roster.csv --format canvas|moodle [--out grader/out] [--to FILE]
                        [--title TEXT] [--canvas-id N] [--moodle-id email|idnumber|username] [--allow-unmatched]
"""


def register_export(subparsers) -> None:
    from .lms_export import FORMATS, MOODLE_IDS

    p = subparsers.add_parser("export", help="an assignment's grades for Canvas or Moodle, matched to a roster",
                              description=EXPORT_DOC, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignment", help="the assignment graded, e.g. a2_vjp")
    p.add_argument("--roster", type=Path, required=True,
                   help="CSV: id,name,email, or the LMS's own export (Canvas gradebook, Moodle grades)")
    p.add_argument("--format", choices=FORMATS, required=True, help="the LMS to import into")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"the course folder graded into (default {DEFAULT_OUT})")
    p.add_argument("--to", type=Path, help="the file to write (default <out>/<assignment>/lms/<format>-import.csv)")
    p.add_argument("--title", help="the assignment's name in the LMS (default the assignment)")
    p.add_argument("--canvas-id", help="Canvas's id of the assignment (its column becomes 'TITLE (ID)')")
    p.add_argument("--moodle-id", choices=list(MOODLE_IDS), default="email",
                   help="the column Moodle finds students by (default email)")
    p.add_argument("--allow-unmatched", action="store_true",
                   help="export even if some submissions match no roster student (they are listed, not exported)")
    p.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    from .lms import RosterError
    from .lms_export import export, summary_lines

    try:
        done = export(args.assignment, args.out, args.roster, args.format, to=args.to, title=args.title,
                      canvas_id=args.canvas_id, moodle_id=args.moodle_id, allow_unmatched=args.allow_unmatched)
    except RosterError as err:
        print(f"autodiff-lab export: {err}", file=sys.stderr)
        return 1
    print("\n".join(summary_lines(done)))
    return 0
