"""`autodiff-lab draw`: draw a built-in example or a typed expression, after its backward pass.

    autodiff-lab draw neuron -o neuron.svg
    autodiff-lab draw "log(a*b)" --at a=2 b=3 -o g.png
    autodiff-lab draw "sin(x)*y" --at x=1 y=2 --forward --tangent x=1 y=0 -o tangents.pdf
    autodiff-lab draw ln-sin --table                  (also print the trace table)
    autodiff-lab draw add-mul --frames steps.html     (also save the step-by-step frames)
    autodiff-lab draw --at a=1 b=2 -- "-a*b"          (an expression starting with '-' comes last, after --)
    autodiff-lab draw --list

The output format follows the file's suffix: .svg, .png or .pdf. Mistakes get a message and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import graph as graphs
from .draw import SHOW
from .examples import EXAMPLES
from .expression import parse
from .frames import frames_path

FORMATS = ("svg", "png", "pdf")


class UsageError(Exception):
    """A mistake in the command line; the message says how to fix it."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "draw", help="draw the computational graph of an example or an expression, with its gradients",
        description="Draw a computational graph with values, local gradients and upstream / downstream "
                    "gradients. WHAT is a built-in example (see --list) or an expression such as "
                    "\"log(a*b)\" with values given by --at.",
    )
    parser.add_argument("what", nargs="?", help="an example name or an expression, e.g. \"log(a*b)\"; one "
                        "that starts with '-' needs a space in it (\"-a * b\") or must come last, after --")
    parser.add_argument("--at", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                        help="the value of each variable of the expression, e.g. --at a=2 b=3 (a later value "
                             "wins)")
    parser.add_argument("-o", "--output", help="file to write: .svg, .png or .pdf (default: WHAT.svg)")
    parser.add_argument("--show", nargs="+", choices=SHOW, default=list(SHOW), metavar="ITEM",
                        help=f"what to write on the drawing, any of: {', '.join(SHOW)} (default: all)")
    parser.add_argument("--forward", action="store_true", help="forward mode: push tangents instead of "
                        "running the backward pass")
    parser.add_argument("--tangent", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                        help="with --forward: the input tangents (default: 1 for the first variable, 0 else)")
    parser.add_argument("--rankdir", choices=("auto", "LR", "TB"), default="auto",
                        help="layout direction (default auto: the one that fits a 1,000-pixel column best)")
    parser.add_argument("--table", action="store_true", help="also print the trace table (Wengert list)")
    parser.add_argument("--frames", metavar="PATH",
                        help="also save the step-by-step frames: a folder of SVGs, or one .html page")
    parser.add_argument("--max-nodes", type=int, default=60, metavar="N",
                        help="with --frames: the largest graph to step through (default 60)")
    parser.add_argument("--list", action="store_true", help="list the built-in examples and exit")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (UsageError, ValueError) as err:  # ExpressionError and the library's refusals are ValueErrors
        print(f"autodiff-lab draw: error: {err}", file=sys.stderr)
    except OSError as err:
        print(f"autodiff-lab draw: error: cannot write the output: {err}. Choose another path for -o or "
              f"--frames.", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace) -> int:
    if args.list:
        width = max(map(len, EXAMPLES))
        for name, (_, description) in EXAMPLES.items():
            print(f"{name:<{width}}  {description}")
        return 0
    if not args.what:
        raise UsageError("say what to draw: an example name (see --list) or an expression such as "
                         "\"log(a*b)\"")
    output = Path(args.output or f"{_file_stem(args.what)}.svg")
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise UsageError(f"cannot write {str(output)!r}: the file name must end in .svg, .png or .pdf")
    graph = _graph(args)
    if args.frames:
        _check_frames(args, graph)
    from . import draw, save_frames, trace_table

    # a file has no column to fit: every node drawn, at full size, in the direction that suits the graph
    picture = draw(graph, show=args.show, rankdir=args.rankdir, title=True, fold=False).full_size()
    if fmt == "png":
        picture.attr(dpi="150")
    data = _render(picture, fmt)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    print(f"wrote {output} ({len(graph.nodes)} nodes, {len(graph.edges)} edges)")
    if args.table:
        print(trace_table(graph))
    if args.frames:
        frames = save_frames(graph, args.frames, show=args.show, rankdir=args.rankdir, max_nodes=args.max_nodes)
        print(f"wrote {frames}")
    return 0


def _check_frames(args: argparse.Namespace, graph: graphs.Graph) -> None:
    """--frames is checked before anything is written: a path save_frames can write, a graph small enough."""
    try:
        frames_path(args.frames)
    except ValueError as err:
        raise UsageError(f"--frames {args.frames}: {err}") from None
    if len(graph.nodes) > args.max_nodes:
        raise UsageError(f"--frames: this graph has {len(graph.nodes)} nodes, more than --max-nodes "
                         f"{args.max_nodes}; stepping through is for small graphs. Leave out --frames, or "
                         f"raise --max-nodes.")


def _graph(args: argparse.Namespace) -> graphs.Graph:
    if args.what in EXAMPLES:
        if args.at or args.tangent or args.forward:
            raise UsageError(f"{args.what!r} is a built-in example with its own values; --at, --forward and "
                             f"--tangent are for expressions")
        return EXAMPLES[args.what][0]()
    expr = parse(args.what)
    if not expr.variables:
        raise UsageError(f"{args.what!r} has no variables, so there is nothing to differentiate")
    values = _assignments(args.at, expr.variables, "--at")
    missing = [v for v in expr.variables if v not in values]
    if missing:
        example = " ".join(f"{v}=1.0" for v in missing)
        raise UsageError(f"no value for {', '.join(missing)}: add --at {example}")
    primals = tuple(values[v] for v in expr.variables)
    if not args.forward:
        if args.tangent:
            raise UsageError("--tangent is for forward mode: add --forward")
        graph = graphs.trace(expr, *primals, names=expr.variables)
    else:
        tangents = _assignments(args.tangent, expr.variables, "--tangent")
        seeds = tuple(tangents.get(v, 1.0 if not tangents and i == 0 else 0.0)
                      for i, v in enumerate(expr.variables))
        graph = graphs.forward_trace(expr, primals, seeds, names=expr.variables)
    graph.title = args.what
    return graph


def _assignments(items: list[str], variables: tuple[str, ...], option: str) -> dict[str, float]:
    """{"a": 2.0} from ["a=2"], with a clear message for anything else."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"{option} takes NAME=VALUE pairs such as a=2, got {item!r}")
        if name not in variables:
            raise UsageError(f"{option} {item}: the expression has no variable {name!r} "
                             f"(its variables: {', '.join(variables)})")
        try:
            values[name] = float(number)
        except ValueError:
            raise UsageError(f"{option} {item}: {number!r} is not a number") from None
    return values


def _render(picture: object, fmt: str) -> bytes:
    import graphviz

    try:
        return picture.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise UsageError("Graphviz's `dot` program is not installed; install the package 'graphviz' "
                         "(e.g. `make graphviz`, or apt-get / brew / conda install graphviz)") from None


def _file_stem(what: str) -> str:
    """A file name from an example name or an expression: log(a*b) -> log_a_b."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in what).strip("_")
    while "__" in stem:
        stem = stem.replace("__", "_")
    return stem[:40] or "graph"
