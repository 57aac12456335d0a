"""What a sandboxed run can end in: the limits it ran under, what a cell or a harvest gave back, and the ways a
kernel stops (died, forged a reply, tampered, timed out, or could not start at all: a machine problem)."""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass, field

MiB = 2**20
SIGNAL_REASONS = {
    signal.SIGSEGV: "a segmentation fault",
    signal.SIGBUS: "a bus error",
    signal.SIGABRT: "an abort",
    signal.SIGKILL: "being killed (out of memory, or a limit was hit)",
    signal.SIGXCPU: "hitting the CPU time limit",
    signal.SIGXFSZ: "writing a file larger than the limit",
    signal.SIGFPE: "a floating point exception",
    signal.SIGILL: "an illegal instruction",
}
SETUP_FAILED = 112
TAMPERED = 114              # guard.TAMPERED: the kernel's guard stopped student code
FORGED = "student code wrote its own replies to the grader (forged or garbled); the run was stopped"


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Times in seconds, sizes in bytes."""

    cell_timeout: float = 30.0          # wall clock for one cell or one harvest request
    submission_timeout: float = 300.0   # wall clock for the whole notebook: every cell and harvest together
    interrupt_grace: float = 2.0        # after the interrupt, how long the kernel has to stop
    cpu_seconds: int = 120              # CPU time of the whole kernel (RLIMIT_CPU)
    memory: int = 2048 * MiB            # address space (RLIMIT_AS)
    processes: int = 64                 # processes and threads of the sandbox (pids cgroup, RLIMIT_NPROC)
    open_files: int = 256               # RLIMIT_NOFILE
    file_size: int = 16 * MiB           # largest file it may write (RLIMIT_FSIZE)
    disk: int = 64 * MiB                # its working copy and /tmp, each a tmpfs of this size
    output: int = 256 * 1024            # stdout/stderr kept for the log; the rest is counted, not stored
    reply: int = 16 * MiB               # largest reply payload, unless a request allows more (Sandbox.max_reply)

    def rlimits(self) -> dict:
        """{name: (soft, hard)}. CPU: SIGXCPU at the soft limit, SIGKILL a second later if it is ignored."""
        return {
            "RLIMIT_CPU": (int(self.cpu_seconds), int(self.cpu_seconds) + 1),
            **{name: (int(value), int(value)) for name, value in [
                ("RLIMIT_AS", self.memory), ("RLIMIT_NPROC", self.processes), ("RLIMIT_NOFILE", self.open_files),
                ("RLIMIT_FSIZE", self.file_size), ("RLIMIT_CORE", 0)]},
        }


@dataclass
class CellResult:
    ok: bool
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0
    engine: list = field(default_factory=list)     # the engine's derivative makers it ran (engine_notes)


@dataclass
class HarvestResult:
    """What the kernel sent back, untrusted: {key: {"value": skeleton} | {"error": text}} and the arrays."""

    results: dict
    arrays: dict = field(default_factory=dict)
    seconds: float = 0.0
    engine: list = field(default_factory=list)


def engine_notes(reply: dict) -> list[dict]:
    """The kernel's notes of the engine's derivative makers that student code ran ({"fn", "cell", "line"}),
    as far as they are well formed: untrusted, they can only add a finding for a person to confirm."""
    notes = reply.get("engine")
    if not isinstance(notes, list):
        return []
    return [{"fn": n["fn"][:100], "cell": n["cell"][:200], "line": n["line"]} for n in notes[:100]
            if isinstance(n, dict) and isinstance(n.get("fn"), str) and isinstance(n.get("cell"), str)
            and isinstance(n.get("line"), int)]


class KernelDied(Exception):
    """The kernel process ended while work was pending; `reason` says how (from the launcher's status),
    `cpu_limit` whether it was the CPU time limit, and `limit` whether a limit of the sandbox killed it (its CPU
    time, or the memory group's OOM killer): graded `resource-limit` rather than `crashed`."""

    def __init__(self, reason: str, signum: int | None = None, limit: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.cpu_limit = signum == signal.SIGXCPU
        self.limit = limit or self.cpu_limit


class ForgedReply(KernelDied):
    """Student code wrote its own replies to the grader: not a crash but an attempt to cheat (the runner
    grades it `tampered`)."""

    def __init__(self, duplicate_of: str = "") -> None:
        super().__init__(FORGED)
        self.duplicate_of = duplicate_of     # a request whose reply came twice: the first one was forged


class Tampered(KernelDied):
    """The kernel's guard stopped student code at a door to objects it did not create (guard.py): graded
    `tampered`. `cell` and `line` say where, as the kernel reported them (untrusted, used only to quote)."""

    def __init__(self, door: str = "", cell: str = "", line: int = 0) -> None:
        self.door, self.cell, self.line = door[:100], cell[:200], line
        what = f" ({self.door})" if self.door else ""
        super().__init__(f"student code reached for the grader's or the engine's own objects{what}; the run was "
                         "stopped")


class SandboxTimeout(Exception):
    """A request ran past its limit, or the submission past its total time (`budget`); `interrupted` tells
    whether the kernel stopped on the interrupt."""

    def __init__(self, seconds: float, interrupted: bool, budget: bool = False):
        how = "stopped on the interrupt" if interrupted else "ignored the interrupt and was killed"
        super().__init__(f"ran past the submission's total time limit of {seconds:g} s" if budget
                         else f"ran past the {seconds:g} s limit and {how}")
        self.interrupted = interrupted


class SandboxError(RuntimeError):
    """The sandbox itself could not be built: a problem of the grading machine, not of the submission. `log`:
    what the kernel printed meanwhile, for the instructor's log (not the message: students see that)."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class KernelBroken(SandboxError):
    """The kernel cannot start on this machine whatever the submission (it said so before any student code
    ran): the engine, numpy or IPython does not import in it. Grading the class stops with this message."""

    def __init__(self, reason: str, engine: str, log: str = "") -> None:
        self.reason, self.engine = reason, engine
        said = f"\nThe kernel's output ends with:\n{log[-1500:].rstrip()}" if log.strip() else ""
        super().__init__(
            f"the sandboxed kernel cannot start, whatever the submission, so no submission was graded: it "
            f"{reason}.\n"
            f"The kernel runs {sys.executable} -s in the sandbox with a clean environment (no PYTHONPATH, no user "
            f"site-packages) and loads autodiff_lab from {engine}, the copy this grader imported. Install numpy, "
            f"IPython and the engine's other dependencies into that Python's environment ({sys.prefix}), not only "
            f"on PYTHONPATH or in ~/.local, and make them and the engine readable by other users; then grade "
            f"again.{said}", log)
