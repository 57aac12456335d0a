"""Start a sandboxed kernel, send it cells and harvest requests, keep the clock, and read how it ended."""

from __future__ import annotations

import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np

from . import cgroups
from .isolation import KERNEL_DIR, KERNEL_FILES, LAUNCHER, Isolation, detect_isolation, launcher_config

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


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Times in seconds, sizes in bytes."""

    cell_timeout: float = 30.0          # wall clock for one cell or one harvest request
    interrupt_grace: float = 2.0        # after the interrupt, how long the kernel has to stop
    cpu_seconds: int = 120              # CPU time of the whole kernel (RLIMIT_CPU)
    memory: int = 2048 * MiB            # address space (RLIMIT_AS)
    processes: int = 64                 # processes and threads of the sandbox's uid (RLIMIT_NPROC)
    open_files: int = 256               # RLIMIT_NOFILE
    file_size: int = 16 * MiB           # largest file it may write (RLIMIT_FSIZE)
    disk: int = 64 * MiB                # its working copy and /tmp, each a tmpfs of this size
    output: int = 256 * 1024            # stdout/stderr kept for the log; the rest is counted, not stored
    reply: int = 256 * MiB              # largest harvest reply accepted

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


@dataclass
class HarvestResult:
    """What the kernel sent back, untrusted: {key: {"value": skeleton} | {"error": text}} and the arrays."""

    results: dict
    arrays: dict = field(default_factory=dict)
    seconds: float = 0.0


class KernelDied(Exception):
    """The kernel process ended while work was pending; `reason` says how (from the launcher's status), and
    `cpu_limit` whether it was the CPU time limit (a timeout rather than a crash)."""

    def __init__(self, reason: str, signum: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.cpu_limit = signum == signal.SIGXCPU


class SandboxTimeout(Exception):
    """A request ran past its limit; `interrupted` tells whether the kernel stopped on the interrupt."""

    def __init__(self, seconds: float, interrupted: bool):
        how = "stopped on the interrupt" if interrupted else "ignored the interrupt and was killed"
        super().__init__(f"ran past the {seconds:g} s limit and {how}")
        self.interrupted = interrupted


class SandboxError(RuntimeError):
    """The sandbox itself could not be built: a problem of the grading machine, not of the submission."""


def load_arrays(data: bytes, max_bytes: int) -> dict[str, np.ndarray]:
    """Arrays from an untrusted npz: stored (not compressed) members only, sizes checked before reading,
    never pickle."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        if any(i.compress_type != zipfile.ZIP_STORED for i in infos) or sum(i.file_size for i in infos) > max_bytes:
            raise ValueError("compressed or oversized arrays")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


SCRATCH_PREFIX = "autodiff-lab-sandbox-"  # then the grader's PID: scratch folders name who made them


def sweep_stale() -> None:
    """Remove what graders killed before they could clean up left behind (their PID is gone): scratch folders
    and control groups, so a class's worth of killed runs does not pile up. Only what is untouched for an hour
    goes: a grader in another PID namespace that shares the temp folder would look dead from here."""
    for path in _stale(tempfile.gettempdir()):
        shutil.rmtree(path, ignore_errors=True)  # another grader may sweep it at the same time
    cgroups.clear([path for parent in cgroups.parents() for path in _stale(parent)])


def _stale(folder: str) -> list[str]:
    """The sandbox folders in `folder` whose grader is dead, untouched for an hour."""
    an_hour_ago, found = time.time() - 3600, []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        pid, path = name.removeprefix(SCRATCH_PREFIX).split("-")[0], os.path.join(folder, name)
        if not (name.startswith(SCRATCH_PREFIX) and pid.isdigit()) or _alive(int(pid)):
            continue
        try:
            if os.path.getmtime(path) < an_hour_ago:
                found.append(path)
        except OSError:  # swept by another grader meanwhile
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class Sandbox:
    """One sandboxed kernel. `files`: a folder copied in as the student's working copy. `slot`: which
    worker (each gets its own uid, so one student's processes never count against another's limits)."""

    def __init__(self, limits: Limits = Limits(), *, files: str | None = None, slot: int = 0,
                 isolation: Isolation | None = None, forbidden: tuple[str, ...] = ()) -> None:
        self.limits = limits
        self.isolation = isolation or detect_isolation()
        self.files = files
        self.uid = 61000 + slot
        self.forbidden = list(forbidden)
        self.output = bytearray()
        self.output_dropped = 0
        self.cgroups: cgroups.Plan = []
        self._buffer = b""
        self.proc: subprocess.Popen | None = None

    # ------------------------------------------------------------------------------------------ life cycle
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, timeout: float = 60.0) -> None:
        sweep_stale()
        self._scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        cmd_r, self._cmd_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        out_r, out_w = os.pipe()
        kernel_args = [str(cmd_r), str(reply_w), json.dumps(self.forbidden)]
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "dumb",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.matplotlib", "IPYTHONDIR": "/tmp/.ipython",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
        }
        if self.isolation is Isolation.RLIMITS:
            argv, popen = self._start_plain(kernel_args, env)
        else:
            env["HOME"] = "/home/student"
            argv = [sys.executable, "-s", f"{KERNEL_DIR}/kernel.py", *kernel_args]
            cfg = launcher_config(
                self.isolation, self._scratch, files=self.files, uid=self.uid, rlimits=self.limits.rlimits(),
                argv=argv, env=env, forbidden=self.forbidden, keep_fds=[cmd_r, reply_w],
                tmp_size=str(self.limits.disk), work_size=str(self.limits.disk),
            )
            if self.isolation is Isolation.NAMESPACES:
                self.cgroups = cgroups.plan(os.path.basename(self._scratch), self.limits.memory,
                                            self.limits.processes)
                cfg["cgroups"] = self.cgroups
            argv, popen = [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(cfg)], {}
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, pass_fds=(cmd_r, reply_w),
            start_new_session=True, **popen,
        )
        for fd in (cmd_r, reply_w, out_w):
            os.close(fd)
        self._drain = threading.Thread(target=self._read_output, args=(out_r,), daemon=True)
        self._drain.start()
        try:
            self._receive(timeout)
        except SandboxTimeout as err:
            raise SandboxError(f"the sandboxed kernel did not start within {timeout:g} s") from err
        except KernelDied as err:
            raise SandboxError(f"the sandboxed kernel failed to start: {err.reason}") from err

    def _start_plain(self, kernel_args: list, env: dict) -> tuple[list, dict]:
        """Weakest level: no namespaces, so the kernel runs as a child of the grader with rlimits only."""
        work = os.path.join(self._scratch, "work")
        shutil.copytree(self.files, work) if self.files else os.makedirs(work)
        for f in KERNEL_FILES:
            shutil.copy(f, self._scratch)
        env["HOME"] = work
        env["MPLCONFIGDIR"] = env["IPYTHONDIR"] = os.path.join(self._scratch, "tmp")
        limits = self.limits.rlimits()
        limits.pop("RLIMIT_NPROC")   # per uid: here it would count the grader's own processes

        def set_limits() -> None:
            import resource

            for name, value in limits.items():
                resource.setrlimit(getattr(resource, name), tuple(value))

        argv = [sys.executable, "-s", os.path.join(self._scratch, "kernel.py"), *kernel_args]
        return argv, {"cwd": work, "env": env, "preexec_fn": set_limits}

    def close(self) -> None:
        """Kill the kernel (and with it everything in its PID namespace) and remove the scratch folder."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self._kill()
            self.proc.wait()
            self._drain.join(timeout=5)
            for fd in (self._cmd_w, self._reply_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.proc = None
        cgroups.remove(self.cgroups)
        shutil.rmtree(getattr(self, "_scratch", ""), ignore_errors=True)

    def _kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _interrupt(self) -> None:
        try:   # the launcher forwards SIGINT to the kernel; in rlimits mode the kernel is the child itself
            os.kill(self.proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    # ------------------------------------------------------------------------------------------ requests
    def run(self, code: str, timeout: float | None = None) -> CellResult:
        """Run one cell. Raises SandboxTimeout or KernelDied."""
        start = time.monotonic()
        reply = self._request({"op": "run", "code": code}, timeout)
        return CellResult(bool(reply.get("ok")), str(reply.get("ename", ""))[:200],
                          str(reply.get("evalue", ""))[:2000], time.monotonic() - start)

    def harvest(self, items: list[dict], inputs: dict[str, np.ndarray], timeout: float | None = None) -> HarvestResult:
        """Evaluate the grader's expressions in the kernel on `inputs`; return the untrusted results."""
        buf = io.BytesIO()
        np.savez(buf, **inputs)
        start = time.monotonic()
        reply = self._request({"op": "harvest", "items": items}, timeout, buf.getvalue())
        results = reply.get("results")
        arrays: dict = {}
        if not isinstance(results, dict):
            results = {}
        try:
            arrays = load_arrays(reply.get("payload", b""), self.limits.reply) if results else {}
        except Exception:  # noqa: BLE001  (a garbled reply is the student's loss, never the grader's crash)
            results = {}
        return HarvestResult(results, arrays, time.monotonic() - start)

    def _request(self, msg: dict, timeout: float | None, payload: bytes = b"") -> dict:
        timeout = self.limits.cell_timeout if timeout is None else timeout
        if payload:
            msg["nbytes"] = len(payload)
        try:
            view = memoryview((json.dumps(msg) + "\n").encode() + payload)
            while view:
                view = view[os.write(self._cmd_w, view):]
        except BrokenPipeError:
            raise self._death() from None
        try:
            reply = self._receive(timeout)
        except SandboxTimeout:
            self._interrupt()
            try:
                reply = self._receive(self.limits.interrupt_grace)
            except SandboxTimeout:
                self._kill()
                raise SandboxTimeout(timeout, interrupted=False) from None
            if reply.get("ename") == "KeyboardInterrupt" or reply.get("ok") is False:
                raise SandboxTimeout(timeout, interrupted=True) from None
        if reply.get("ename") == "KeyboardInterrupt":
            raise SandboxTimeout(timeout, interrupted=True)
        return reply

    def _receive(self, timeout: float) -> dict:
        """The next reply: its JSON line parsed (a line that is not a JSON object counts as an empty reply),
        with the raw bytes that follow it, when it announces some, under "payload"."""
        deadline = time.monotonic() + timeout
        self._fill(lambda: b"\n" in self._buffer, deadline, timeout)
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError):
            return {}
        if not isinstance(reply, dict):
            return {}
        nbytes = reply.get("nbytes")
        if isinstance(nbytes, int) and 0 < nbytes:
            if nbytes > self.limits.reply:
                self._kill()
                raise KernelDied("sent the grader a reply larger than the limit")
            self._fill(lambda: len(self._buffer) >= nbytes, deadline, timeout)
            reply["payload"], self._buffer = self._buffer[:nbytes], self._buffer[nbytes:]
        return reply

    def _fill(self, done, deadline: float, timeout: float) -> None:
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise SandboxTimeout(timeout, interrupted=False)
            ready, _, _ = select.select([self._reply_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._reply_r, 1 << 22)
            if not chunk:
                raise self._death()
            self._buffer += chunk
            if len(self._buffer) > self.limits.reply + (1 << 20):
                self._kill()
                raise KernelDied("sent the grader a reply larger than the limit")

    def _death(self) -> KernelDied:
        code = self.proc.wait()
        self._drain.join(timeout=5)
        if code == SETUP_FAILED:
            raise SandboxError("the sandbox could not be built: " + self.output.decode(errors="replace")[-2000:])
        if code < 0:
            code = 128 - code
        if code == 128 + signal.SIGKILL and cgroups.oom_killed(self.cgroups):
            return KernelDied(f"the kernel ran out of memory (the sandbox's limit is {self.limits.memory >> 20} MiB)",
                              signal.SIGKILL)
        if code > 128 and code - 128 in SIGNAL_REASONS.keys():
            return KernelDied(f"the kernel died from {SIGNAL_REASONS[signal.Signals(code - 128)]}", code - 128)
        if code > 128:
            return KernelDied(f"the kernel was killed by signal {code - 128}", code - 128)
        return KernelDied(f"the kernel exited with code {code} (os._exit, or an exit outside Python)")

    def _read_output(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as f:
            while chunk := f.read(65536):
                room = self.limits.output - len(self.output)
                self.output += chunk[:max(room, 0)]
                self.output_dropped += max(len(chunk) - max(room, 0), 0)
