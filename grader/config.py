"""The pipeline's settings, read from grader/nbgrader_config.py (or a file the instructor names) with
traitlets' PyFileConfigLoader, next to nbgrader's own settings in the same file."""

from __future__ import annotations

import math
from pathlib import Path

from traitlets import Dict, Float, Int, List, TraitError, Unicode, validate
from traitlets.config import Config, Configurable
from traitlets.config.loader import PyFileConfigLoader

from .sandbox import Isolation, Limits, detect_isolation

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
DEFAULT_CONFIG = PACKAGE / "nbgrader_config.py"
MiB = 2**20


class Sandbox(Configurable):
    """Limits for each submission's sandboxed kernel."""

    cell_timeout = Float(30.0, help="Wall-clock seconds for one cell.").tag(config=True)
    submission_timeout = Float(300.0, help="Wall-clock seconds for the whole notebook: every cell and harvest "
                               "together.").tag(config=True)
    interrupt_grace = Float(2.0, help="Seconds a kernel has to stop after an interrupt.").tag(config=True)
    cpu_seconds = Int(120, help="CPU seconds for the whole notebook.").tag(config=True)
    memory_mb = Int(2048, help="Address space of the kernel, in MiB.").tag(config=True)
    processes = Int(64, help="Processes and threads of the kernel's user.").tag(config=True)
    open_files = Int(256, help="Open files.").tag(config=True)
    disk_mb = Int(64, help="Size of the working copy and of /tmp, in MiB.").tag(config=True)
    output_kb = Int(256, help="Kernel output kept in the log, in KiB.").tag(config=True)
    isolation = Unicode("auto", help="auto, namespaces, userns or rlimits.").tag(config=True)

    @validate("cell_timeout", "submission_timeout", "interrupt_grace", "cpu_seconds", "memory_mb", "processes",
              "open_files", "disk_mb", "output_kb")
    def _positive(self, proposal):
        """Every limit is a positive, finite number (a tmpfs of size 0 would even be unlimited)."""
        value = proposal["value"]
        if not (math.isfinite(value) and value > 0):
            raise TraitError(f"Sandbox.{proposal['trait'].name} must be a positive number, not {value!r}")
        return value

    def limits(self) -> Limits:
        return Limits(
            cell_timeout=self.cell_timeout, submission_timeout=self.submission_timeout,
            interrupt_grace=self.interrupt_grace, cpu_seconds=self.cpu_seconds,
            memory=self.memory_mb * MiB, processes=self.processes, open_files=self.open_files,
            file_size=min(16, self.disk_mb) * MiB, disk=self.disk_mb * MiB, output=self.output_kb * 1024,
        )

    def level(self) -> Isolation:
        """The isolation to use: the strongest available, or the one asked for (an error if unavailable)."""
        best = detect_isolation()
        if self.isolation == "auto":
            return best
        wanted = Isolation(self.isolation)
        order = list(Isolation)
        if order.index(wanted) < order.index(best):
            raise RuntimeError(f"Sandbox.isolation = {wanted.value!r} is not available on this machine (the "
                               f"strongest available is {best.value!r}); set it to 'auto' or {best.value!r}")
        return wanted


class Grader(Configurable):
    """Policy and parallelism."""

    forbidden_modules = List(Unicode(), help="Top-level modules no submission may import.").tag(config=True)
    forbidden_functions = Dict(help="assignment -> engine names its answer cells may not use: derivative makers "
                               "such as grad, vjp, numerical_grad, .vjps (grader/answer_policy.py).").tag(config=True)
    allowed_functions = Dict(help="assignment -> {answer cell grade_id: forbidden engine names that cell may use "
                             "all the same}, e.g. {'a3_forward_mode': {'jacobian_fwd': ['jvp']}}.").tag(config=True)
    own_rules = Dict(help="assignment -> answer cells (grade_ids) whose Value rules must build Value(..., "
                      "local_grads=...) themselves rather than use Value's arithmetic.").tag(config=True)
    workers = Int(0, help="Submissions graded at once (0: one per CPU core).").tag(config=True)
    input_salt = Unicode("", help="Draws the hidden tests' random inputs anew: set a new one each term (e.g. "
                         "'2026-fall') so that last term's inputs are of no use. Empty: the inputs the source "
                         "notebooks' seeds give.").tag(config=True)

    @validate("forbidden_functions", "allowed_functions", "own_rules")
    def _per_assignment(self, proposal):
        """{assignment: [names]}, or {assignment: {cell: [names]}} for allowed_functions: a misspelt layout would
        otherwise silently forbid or allow nothing."""
        name, value = proposal["trait"].name, proposal["value"]
        example = {"forbidden_functions": "{'a2_vjp': ['grad', 'vjp']}", "own_rules": "{'a1_backprop': ['mul_div']}",
                   "allowed_functions": "{'a3_forward_mode': {'jacobian_fwd': ['jvp']}}"}[name]
        for assignment, entry in value.items():
            cells = entry if name == "allowed_functions" else {"": entry}
            if not isinstance(assignment, str) or not isinstance(cells, dict) or not all(
                    isinstance(cell, str) and isinstance(names, (list, tuple))
                    and all(isinstance(n, str) and n.isidentifier() for n in names) for cell, names in cells.items()):
                raise TraitError(f"Grader.{name} maps each assignment to "
                                 f"{'a dict of answer cell -> list of names' if cells is entry else 'a list of names'}"
                                 f", e.g. {example}; the entry for {assignment!r} is {entry!r}")
        return value

    @validate("input_salt")
    def _printable(self, proposal):
        """A salt is shown in messages and kept in the results: one line of printable text, without spaces at
        its ends (which would draw other inputs than the salt a person reads)."""
        value = proposal["value"]
        if not value.isprintable() or len(value) > 100 or value != value.strip():
            raise TraitError(f"Grader.input_salt must be one line of printable text (at most 100 characters, no "
                             f"spaces at either end), not {value!r}")
        return value


def load_config(path: str | Path | None = None) -> Config:
    """The Config in `path` (default grader/nbgrader_config.py)."""
    path = Path(path or DEFAULT_CONFIG)
    if not path.is_file():
        raise FileNotFoundError(f"no nbgrader config at {path}; pass --config with the path of one")
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def load_settings(config: Config, overrides: dict | None = None) -> tuple[Sandbox, Grader]:
    """The pipeline's settings in `config`, with `overrides` ({section: {name: value}}, from the command line)
    on top. A bad value is a ValueError that names the setting."""
    for section, values in (overrides or {}).items():
        for key, value in values.items():
            setattr(config[section], key, value)
    try:
        return Sandbox(config=config), Grader(config=config)
    except TraitError as err:
        raise ValueError(f"invalid grading setting: {err}") from None
