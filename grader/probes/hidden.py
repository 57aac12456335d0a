"""Reading the hidden part of a test cell as data (`parse_hidden`): nothing in it is executed. `salted` draws
the probes' random inputs anew under a salt."""

from __future__ import annotations

import ast
import copy
import zlib
from typing import Any

from .base import Probe
from .inputs import HiddenTestError
from .kinds import KINDS

BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def hidden_region(source: str) -> str:
    """The lines between the hidden-test markers (all such regions of a cell)."""
    return "\n".join(lines_between(source, BEGIN_HIDDEN, END_HIDDEN))


def lines_between(source: str, begin: str, end: str) -> list[str]:
    """The lines between each line holding `begin` and the next holding `end` (nbgrader's region markers)."""
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def parse_hidden(source: str, where: str = "") -> list[Probe]:
    """The probes of a test cell's hidden part, read as data: nothing in it is executed."""
    code = hidden_region(source)
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        raise HiddenTestError(f"{where}: the hidden tests are not valid Python: {err}") from None
    probes = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name) and call.func.value.id == "grade"
                and call.func.attr in KINDS):
            raise HiddenTestError(f"{where}: line {stmt.lineno} of the hidden tests is not a call "
                                  f"grade.<kind>(...) with kind in {', '.join(KINDS)}")
        args = [_literal(a, where) for a in call.args]
        kwargs = {k.arg: _literal(k.value, where) for k in call.keywords}
        try:
            probes.append(KINDS[call.func.attr](*args, **kwargs))
        except TypeError as err:
            raise HiddenTestError(f"{where}: grade.{call.func.attr}(...): {err}") from None
    return probes


def salted(probes: list[Probe], salt: str) -> list[Probe]:
    """The probes with their random inputs, cotangents and tangents drawn anew under `salt` (a term, say):
    each seed becomes a hash of the salt and the seed, so last term's inputs are of no use to this term's
    class, and one salt always draws the same inputs. Literal inputs (numbers, arrays) stay as written; an
    empty salt changes nothing."""
    if not salt:
        return probes
    drawn = []
    for probe in probes:
        probe = copy.copy(probe)
        probe.seed = zlib.crc32(f"{salt}\0{probe.seed}".encode())
        drawn.append(probe)
    return drawn


def _literal(node: ast.AST, where: str) -> Any:
    if isinstance(node, ast.Name):
        return node.id                 # the student's function, by name
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise HiddenTestError(f"{where}: hidden tests take only names and literals, not "
                              f"{ast.unparse(node)!r}") from None
