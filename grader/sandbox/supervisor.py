"""Start a sandboxed kernel, send it cells and harvest requests, keep the clock, and read how it ended."""

from __future__ import annotations

import io
import json
import math
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np

from . import cgroups, isolation, leases, warm
from .isolation import KERNEL_DIR, KERNEL_FILES, LAUNCHER, Isolation, detect_isolation, launcher_config
from .outcomes import (
    SETUP_FAILED,
    SIGNAL_REASONS,
    TAMPERED,
    CellResult,
    ForgedReply,
    HarvestResult,
    KernelBroken,
    KernelDied,
    Limits,
    MiB,
    SandboxError,
    SandboxTimeout,
    Tampered,
    engine_notes,
)
from .payload import MAX_ARRAYS, MAX_DEPTH, MAX_NODES, bounded, load_arrays, read_npy  # noqa: F401  (harvest's)
from .scratch import SCRATCH_PREFIX, sweep_stale

MAX_LINE = 1 * MiB          # a reply's JSON line, the harvest's skeleton included: the arrays travel in the npz
READ_CHUNK = 1 * MiB        # what one read of the reply pipe takes at most
NPZ_SLACK = 2 * MiB         # what an npz adds to its arrays' bytes: headers and the zip's directory, with room
TOO_LARGE = "sent the grader a reply larger than the limit"
DEFAULT_LIMITS = Limits()


class _Late(Exception):
    """A deadline passed while the grader waited on the kernel (turned into SandboxTimeout by the caller)."""


class Sandbox:
    """One sandboxed kernel. `files`: a folder copied in as the student's working copy. `slot`: which
    worker, where the search for the sandbox's own uid starts (no two live sandboxes on the machine share one,
    so one student's processes never count against another's limits: leases.py).
    `guard=False` leaves the kernel's guard (guard.py) off: only for tests of the operating system's layer,
    which must hold on its own."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, *, files: str | None = None, slot: int = 0,
                 isolation: Isolation | None = None, forbidden: tuple[str, ...] = (), guard: bool = True) -> None:
        self.limits = limits
        self.isolation = isolation or detect_isolation()
        self.files = files
        self.slot, self.uid = slot, 0          # uid: leased by start (namespaces only: leases.lease_uid)
        self.max_reply: int | None = None      # the payload a reply may carry; None: limits.reply
        self.exhausted: list[str] = []         # the limits the sandbox hit, read by close (cgroups.limits_hit)
        self._lease: leases.UidLease | None = None
        self._scratch_lock: int | None = None
        self.forbidden = list(forbidden)
        self.guard = guard
        self.engine = ""                       # the engine's folder, which the kernel loads (set by start)
        self.output = bytearray()
        self.output_dropped = 0
        self.cgroups: cgroups.Plan = []
        self._buffer = bytearray()
        self._asked: set[str] = set()          # the ids of every request sent so far
        self._answered: set[str] = set()       # ... and of those already answered
        self._interrupted: set[str] = set()    # ... and of those interrupted (their answer may come twice)
        self.request_ids: list[str] = []       # every request's id, in order
        self._ends = math.inf                  # when the submission's total time is up (time.monotonic)
        self._watchdog: threading.Timer | None = None
        self._expired = False
        self.proc: subprocess.Popen | None = None

    # ------------------------------------------------------------------------------------------ life cycle
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, timeout: float = 60.0) -> None:
        """Start the kernel and wait until it is ready. Raises SandboxError (KernelBroken when the kernel says
        it cannot start), having cleaned up."""
        try:
            self._start(timeout)
        except BaseException:
            self.close()
            raise

    def _start(self, timeout: float) -> None:
        sweep_stale()
        self._scratch, self._scratch_lock = leases.private_folder(SCRATCH_PREFIX)
        cmd_r, self._cmd_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        out_r, out_w = os.pipe()
        os.set_blocking(self._cmd_w, False)    # requests are written under a deadline: see _send
        self.engine = isolation.engine_dir()    # the kernel loads the grader's own engine (kernel.Engine)
        kernel_args = [str(cmd_r), str(reply_w), json.dumps(self.forbidden), self.engine,
                       "guard" if self.guard else "no-guard"]
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "dumb",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.matplotlib", "IPYTHONDIR": "/tmp/.ipython",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
        }
        if self.isolation is Isolation.RLIMITS:
            argv, popen = self._start_plain(kernel_args, env)
            config = None
        else:
            argv, popen, config = self._start_isolated(kernel_args, env, [cmd_r, reply_w])
            self.proc = warm.spawn(json.loads(config), [cmd_r, reply_w, out_w], env, self.forbidden)
            config = None if self.proc is not None else config
        if self.proc is None:
            self.proc = subprocess.Popen(
                argv, stdout=out_w, stderr=out_w, pass_fds=(cmd_r, reply_w), start_new_session=True, **popen,
            )
        for fd in (cmd_r, reply_w, out_w):
            os.close(fd)
        self._drain = threading.Thread(target=self._read_output, args=(out_r,), daemon=True)
        self._drain.start()
        if config is not None:
            self._hand_over(config)
        try:
            first = self._read_reply(time.monotonic() + timeout)
        except _Late as err:
            raise SandboxError(f"the sandboxed kernel did not start within {timeout:g} s", self._log()) from err
        except KernelDied as err:
            raise SandboxError(f"the sandboxed kernel failed to start: {err.reason}", self._log()) from err
        if first.get("event") == "broken":      # no student code has run: what it says is the kernel's own
            try:
                self.proc.wait(timeout=self.limits.interrupt_grace)
            except subprocess.TimeoutExpired:
                pass
            self._drain.join(timeout=1)
            raise KernelBroken(str(first.get("reason"))[:2000], self.engine, self._log())
        self._start_clock()

    def _log(self) -> str:
        return self.output.decode("utf-8", errors="replace")

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
        return argv, {"cwd": work, "env": env, "preexec_fn": set_limits, "stdin": subprocess.DEVNULL}

    def _start_isolated(self, kernel_args: list, env: dict, fds: list[int]) -> tuple[list, dict, bytes]:
        """The launcher's command and its configuration, which goes over its standard input: its command line
        is what /proc/1/cmdline shows inside the sandbox, and the configuration names host paths."""
        env["HOME"] = "/home/student"
        argv = [sys.executable, "-s", f"{KERNEL_DIR}/kernel.py", *kernel_args]
        rlimits = self.limits.rlimits()
        if self.isolation is Isolation.NAMESPACES:
            self._lease_uid()
            self.cgroups = cgroups.plan(os.path.basename(self._scratch), self.limits.memory, self.limits.processes)
            if self.cgroups:   # the pids group, whose counter says so, must be the limit a fork bomb hits first
                rlimits["RLIMIT_NPROC"] = (self.limits.processes + 2,) * 2
        cfg = launcher_config(
            self.isolation, self._scratch, files=self.files, uid=self.uid, rlimits=rlimits,
            argv=argv, env=env, forbidden=self.forbidden, keep_fds=fds,
            tmp_size=str(self.limits.disk), work_size=str(self.limits.disk),
        )
        cfg["cgroups"] = self.cgroups
        return [sys.executable, "-I", "-S", str(LAUNCHER)], {"stdin": subprocess.PIPE}, json.dumps(cfg).encode()

    def _lease_uid(self) -> None:
        """A uid that no other live sandbox on this machine runs as (RLIMIT_NPROC counts per uid), cleared of
        whatever a previous holder left running; the worker's slot is only where the search starts."""
        try:
            self._lease = leases.lease_uid(self.slot)
        except (leases.NoUidFree, OSError) as err:
            raise SandboxError(f"no uid for the sandbox: {err}") from err
        self.uid = self._lease.uid

    def _hand_over(self, config: bytes) -> None:
        """Give the launcher its configuration. One that dies first is reported by the wait for the kernel."""
        try:
            self.proc.stdin.write(config)
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def _start_clock(self) -> None:
        """The submission's total time starts now, with a watchdog that kills the sandbox a little after it
        is up whatever the grader is doing (normally the request under way has already stopped it)."""
        self._ends = time.monotonic() + self.limits.submission_timeout
        self._watchdog = threading.Timer(self.limits.submission_timeout + self.limits.interrupt_grace + 1,
                                         self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _expire(self) -> None:
        self._expired = True
        self._kill()

    def close(self) -> None:
        """Kill the kernel (and with it everything in its PID namespace) and remove the scratch folder."""
        if self._watchdog is not None:     # stopped first: once the kernel is reaped, its PID is free for reuse
            self._watchdog.cancel()
            self._watchdog.join()
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
        self.exhausted += [hit for hit in cgroups.limits_hit(self.cgroups, self.limits.processes, self.limits.memory,
                                                             self.limits.cpu_seconds) if hit not in self.exhausted]
        cgroups.remove(self.cgroups)
        self.cgroups = []
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        shutil.rmtree(getattr(self, "_scratch", ""), ignore_errors=True)
        if self._scratch_lock is not None:
            os.close(self._scratch_lock)
            self._scratch_lock = None

    def _kill(self) -> None:
        if isinstance(self.proc, warm.Forked) and self.proc.poll() is not None:
            return      # reaped by the zygote already: its pid may be another process's by now
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _interrupt(self) -> None:
        if isinstance(self.proc, warm.Forked) and self.proc.poll() is not None:
            return
        try:   # the launcher forwards SIGINT to the kernel; in rlimits mode the kernel is the child itself
            os.kill(self.proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    # ------------------------------------------------------------------------------------------ requests
    def run(self, code: str, timeout: float | None = None, cell: str = "") -> CellResult:
        """Run one cell (`cell`: its grade_id, which findings name). Raises SandboxTimeout or KernelDied."""
        start = time.monotonic()
        reply = self._request({"op": "run", "code": code, "cell": cell}, timeout)
        return CellResult(bool(reply.get("ok")), str(reply.get("ename", ""))[:200],
                          str(reply.get("evalue", ""))[:2000], time.monotonic() - start, engine_notes(reply))

    def harvest(self, items: list[dict], inputs: dict[str, np.ndarray], timeout: float | None = None,
                max_bytes: int | None = None) -> HarvestResult:
        """Run the harvest items (harvest.py) in the kernel on `inputs`; return the untrusted results (none
        at all when what came back is garbled, too large or too deeply nested: the student's loss). `max_bytes`:
        the arrays the checks expect back, at most; a reply carrying more is refused before it is read."""
        buf = io.BytesIO()
        np.savez(buf, **inputs)
        start = time.monotonic()
        request = {"op": "harvest", "items": items} | ({"max_bytes": max_bytes} if max_bytes else {})
        cap = max_bytes + NPZ_SLACK if max_bytes else self.limits.reply
        self.max_reply = min(cap, self.limits.reply)
        try:
            reply = self._request(request, timeout, buf.getvalue())
        finally:
            self.max_reply = None
        results, arrays = reply.get("results"), {}
        if not isinstance(results, dict) or not bounded(results):
            results = {}
        try:
            arrays = load_arrays(reply.get("payload", b""), min(cap, self.limits.reply)) if results else {}
        except Exception:  # noqa: BLE001  (a garbled reply is the student's loss, never the grader's crash)
            results = {}
        return HarvestResult(results, arrays, time.monotonic() - start, engine_notes(reply))

    def _request(self, msg: dict, timeout: float | None, payload: bytes = b"") -> dict:
        """Send one request and wait for its reply, both within the request's time and the submission's.
        Each request carries a fresh random id that its reply must echo (see _receive)."""
        timeout = self.limits.cell_timeout if timeout is None else timeout
        now = time.monotonic()
        deadline, budget = min(now + timeout, self._ends), self._ends < now + timeout
        if deadline <= now:
            raise self._late(timeout, budget, interrupted=False)
        msg["id"] = secrets.token_hex(16)
        self._asked.add(msg["id"])
        self.request_ids.append(msg["id"])
        if payload:
            msg["nbytes"] = len(payload)
        if not self._send((json.dumps(msg) + "\n").encode() + payload, deadline):
            self._kill()          # it stopped reading mid-request: nothing it says can be trusted any more
            raise self._late(timeout, budget, interrupted=False)
        try:
            reply = self._receive(msg["id"], deadline)
        except _Late:
            self._interrupted.add(msg["id"])
            self._interrupt()
            try:
                reply = self._receive(msg["id"], time.monotonic() + self.limits.interrupt_grace)
            except _Late:
                self._kill()
                raise self._late(timeout, budget, interrupted=False) from None
            if reply.get("ename") == "KeyboardInterrupt" or reply.get("ok") is False:
                raise self._late(timeout, budget, interrupted=True) from None
        if reply.get("ename") == "KeyboardInterrupt":
            raise self._late(timeout, budget, interrupted=True)
        return reply

    def _late(self, timeout: float, budget: bool, interrupted: bool) -> SandboxTimeout:
        return SandboxTimeout(self.limits.submission_timeout if budget else timeout, interrupted, budget)

    def _send(self, data: bytes, deadline: float) -> bool:
        """Write a request by the deadline (False if the kernel did not take it all in time). A blocking write
        would wait forever on a kernel that stopped reading, say one whose code sleeps after forging replies."""
        view = memoryview(data)
        while view:
            left = max(deadline - time.monotonic(), 0)
            if not select.select([], [self._cmd_w], [], left)[1]:
                return False
            try:
                view = view[os.write(self._cmd_w, view):]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise self._death() from None
        return True

    def _receive(self, rid: str, deadline: float) -> dict:
        """The reply to request `rid`. A late reply to an earlier request is skipped when that request was
        interrupted (the interrupt found the kernel done already, and it answered once more); any other reply
        was written by student code and ends the run: a forged reply must not shift every later one onto the
        wrong request, and a second answer to a request means its first answer was forged (`duplicate_of`)."""
        while (reply := self._read_reply(deadline)).get("id") != rid:
            if reply.get("event") == "tampered":     # the guard's last word before it ends the kernel
                self._kill()
                line = reply.get("line")
                raise Tampered(str(reply.get("door", "")), str(reply.get("cell", "")),
                               line if isinstance(line, int) else 0)
            if reply.get("id") not in self._asked:
                self._kill()
                raise ForgedReply
            if reply["id"] in self._answered:
                if reply["id"] not in self._interrupted or reply.get("ename") != "KeyboardInterrupt":
                    self._kill()
                    raise ForgedReply(duplicate_of=reply["id"])
                self._interrupted.discard(reply["id"])    # an interrupt's echo comes at most once
            self._answered.add(reply["id"])
        self._answered.add(rid)
        return reply

    def _read_reply(self, deadline: float) -> dict:
        """The next reply: its JSON line parsed (one that is not a JSON object counts as an empty reply), with
        the raw bytes that follow it, when it announces some, under "payload". A payload larger than the request
        allows (max_reply, else limits.reply) ends the run before a byte of it is read."""
        try:
            reply = json.loads(self._read_line(deadline))
        except (ValueError, RecursionError):
            return {}
        if not isinstance(reply, dict):
            return {}
        nbytes = reply.get("nbytes")
        if isinstance(nbytes, int) and 0 < nbytes:
            if nbytes > (self.max_reply or self.limits.reply):
                self._kill()
                raise KernelDied(TOO_LARGE)
            reply["payload"] = self._read_bytes(nbytes, deadline)
        return reply

    def _read_line(self, deadline: float) -> bytes:
        """The next line, at most MAX_LINE bytes: JSON is parsed into Python objects, many per byte."""
        scanned = 0
        while (end := self._buffer.find(b"\n", scanned, MAX_LINE + 1)) < 0:
            if len(self._buffer) > MAX_LINE:
                self._kill()
                raise KernelDied(TOO_LARGE)
            scanned = len(self._buffer)
            self._read_more(deadline)
        line = bytes(self._buffer[:end])
        del self._buffer[:end + 1]
        return line

    def _read_bytes(self, n: int, deadline: float) -> bytes:
        """`n` bytes (a size already checked), read straight into one buffer of that size: no more is taken
        from the pipe, and nothing is copied on the way but once at the end."""
        data = bytearray(n)
        with memoryview(data) as view:
            got = min(n, len(self._buffer))
            view[:got] = self._buffer[:got]
            del self._buffer[:got]
            while got < n:
                self._wait_readable(deadline)
                k = os.readv(self._reply_r, [view[got:got + READ_CHUNK]])
                if not k:
                    raise self._death()
                got += k
        return bytes(data)

    def _read_more(self, deadline: float) -> None:
        self._wait_readable(deadline)
        chunk = os.read(self._reply_r, READ_CHUNK)
        if not chunk:
            raise self._death()
        self._buffer += chunk
        if len(self._buffer) > MAX_LINE + READ_CHUNK:   # _read_line stops long before: a safety net only
            self._kill()
            raise KernelDied(TOO_LARGE)

    def _wait_readable(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self._reply_r], [], [], left)[0]:
            raise _Late

    def _death(self) -> Exception:
        """Why the kernel's end of a pipe closed: its exit status, read from the launcher (which student code
        cannot forge); the watchdog's kill is the submission's time running out."""
        try:
            code = self.proc.wait(timeout=self.limits.interrupt_grace)
        except subprocess.TimeoutExpired:   # it closed the pipe and lives on
            self._kill()
            self.proc.wait()
            return KernelDied("the kernel closed its pipe to the grader and was killed")
        self._drain.join(timeout=5)
        if self._expired:
            return SandboxTimeout(self.limits.submission_timeout, False, budget=True)
        if code == TAMPERED:
            return Tampered()
        if code == SETUP_FAILED:
            raise SandboxError("the sandbox could not be built: " + self.output.decode(errors="replace")[-2000:])
        if code < 0:
            code = 128 - code
        if code == 128 + signal.SIGKILL and cgroups.oom_killed(self.cgroups):
            return KernelDied(f"the kernel ran out of memory (the sandbox's limit is {self.limits.memory >> 20} MiB)",
                              signal.SIGKILL, limit=True)
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
