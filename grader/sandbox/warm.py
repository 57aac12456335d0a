"""The grader's side of zygote.py: one warm process per grading process, started on first use, that forks the
launcher of each sandbox with the kernel's libraries already loaded (the sandbox itself is built as for an
exec'd launcher: launcher.launch). `ENABLED = False` starts every sandbox the exec'd way (bench/grading.py
compares the two)."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
from pathlib import Path

ZYGOTE = Path(__file__).resolve().parent / "zygote.py"
ENABLED = True
_lock = threading.Lock()
_zygote: Zygote | None = None


class Forked:
    """A launcher the zygote forked, seen as the supervisor sees a Popen: pid, poll(), wait(timeout), and its
    exit status (the launcher's, 128 + signal when killed), which the zygote reads with waitpid and writes on
    a pipe only the grader reads."""

    stdin = None

    def __init__(self, pid: int, status: int) -> None:
        self.pid, self._status, self.returncode = pid, status, None
        self._lock = threading.Lock()      # the watchdog's kill and the supervisor's wait may ask at once

    def _read(self) -> None:
        with self._lock:
            if self.returncode is not None:
                return
            data = b""
            while chunk := os.read(self._status, 64):
                data += chunk
            self.returncode = int(data) if data.isdigit() else 128 + 9     # no status: the zygote itself died

    def __del__(self) -> None:
        os.close(self._status)    # only now: another thread may still select on it (it reads as ended)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._status], [], [], 0)[0]:
            self._read()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._status], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(str(ZYGOTE), timeout)
            self._read()
        return self.returncode


class Zygote:
    """The zygote process and the socket to it. Started from a thread that lives as long as the grader: the
    zygote dies with the thread that started it (PDEATHSIG), and a worker thread of a pool does not live long."""

    def __init__(self, env: dict) -> None:
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        started = threading.Event()

        self.proc: subprocess.Popen | None = None

        def keeper() -> None:
            try:
                self.proc = subprocess.Popen([sys.executable, "-s", str(ZYGOTE), str(theirs.fileno())],
                                             pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, start_new_session=True)
            finally:
                started.set()
            self.proc.wait()

        threading.Thread(target=keeper, name="sandbox-zygote", daemon=True).start()
        started.wait()
        theirs.close()
        if self.proc is None:
            raise OSError("the sandbox zygote could not be started")
        self.sock.settimeout(60)
        hello = json.loads(self.sock.recv(1 << 16))
        self.preloaded = set(hello["preloaded"])
        self.sock.settimeout(None)
        self.lock = threading.Lock()

    def spawn(self, cfg: dict, fds: list[int]) -> Forked:
        """Fork a launcher for `cfg` with the kernel's pipes `fds` (command, reply, output)."""
        status_r, status_w = os.pipe()
        try:
            with self.lock:
                socket.send_fds(self.sock, [json.dumps(cfg).encode()], [*fds, status_w])
                reply = json.loads(self.sock.recv(1 << 16) or b"{}")
        except BaseException:
            os.close(status_r)
            raise
        finally:
            os.close(status_w)
        if "pid" not in reply:
            os.close(status_r)
            raise OSError(f"the sandbox zygote could not fork a launcher: {reply.get('error', 'it has gone')}")
        return Forked(reply["pid"], status_r)


def spawn(cfg: dict, fds: list[int], env: dict, forbidden: list[str]) -> Forked | None:
    """A launcher forked by this process's zygote (started, or restarted once when it has died), or None when
    the sandbox must start the exec'd way: warm starts disabled, or a forbidden library among the preloaded."""
    global _zygote
    if not ENABLED:
        return None
    for attempt in (1, 2):
        with _lock:
            if _zygote is None or _zygote.proc.poll() is not None:
                _zygote = Zygote(env)
            zygote = _zygote
        if set(forbidden) & zygote.preloaded:
            return None
        try:
            return zygote.spawn(cfg, fds)
        except OSError:
            if attempt == 2:
                raise
            with _lock:
                if _zygote is zygote:
                    _zygote = None
    return None
