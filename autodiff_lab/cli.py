"""`autodiff-lab`, the command line. Thin: each subcommand lives in its own module, which parses its
arguments and calls the library; this file only routes to it.

    autodiff-lab draw "log(a*b)" --at a=2 b=3 -o g.svg      (autodiff_lab/viz/command.py)
    autodiff-lab grade A1 --submissions DIR                  (grader/command.py; the course repository only)
    autodiff-lab export A1 --roster R --format canvas        (grader/command.py, grader/lms_export.py)
    autodiff-lab course init DIR                             (autodiff_lab/course_init.py)
    autodiff-lab lab [DIR]                                   (autodiff_lab/lab.py)
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {   # name: (module, the function that registers it)
    "draw": ("autodiff_lab.viz.command", "register"),
    "grade": ("grader.command", "register"),
    "export": ("grader.command", "register_export"),
    "course": ("autodiff_lab.course_init", "register"),
    "lab": ("autodiff_lab.lab", "register"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autodiff-lab", description="Automatic differentiation, drawn and graded.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(COMMANDS) + "}")
    for name, (module_name, register) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            subparsers.add_parser(name, help=f"(unavailable: {err})")
            continue
        getattr(module, register)(subparsers)
    args, unknown = parser.parse_known_args(argv)
    if not hasattr(args, "run"):   # before the arguments: a command that is not installed takes none
        parser.error(f"'{args.command}' is unavailable here: the student edition of autodiff-lab has no grader; "
                     f"in the course repository, reinstall the project with `make install`")
    if getattr(args, "passes_unknown", False):   # `lab` hands what it does not know on to JupyterLab
        args.unknown = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}" + _hint_for_dash(unknown))
    return args.run(args) or 0


def _hint_for_dash(unknown: list[str]) -> str:
    """argparse reads every argument that starts with '-' as an option, so an expression such as "-a*b" ends up
    among the unknown options; say how to pass it."""
    value = next((u for u in unknown if u.startswith("-") and not u.lstrip("-").replace("-", "_").isidentifier()), None)
    if value is None:
        return ""
    return (f". {value!r} starts with '-', so it was read as an option: give it last, after -- "
            f"(... -- \"{value}\"), or with a space in it (\"{value[0]} {value[1:]}\")")


if __name__ == "__main__":
    sys.exit(main())
