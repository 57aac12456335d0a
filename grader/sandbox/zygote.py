"""A warm start for sandboxes: a process that has loaded the kernel's heavy libraries once and forks a launcher
for each sandbox, so that a kernel starts without importing numpy and IPython again (most of its start-up).

Run by the grader as `python -s zygote.py` with the kernel's environment, one per grading process (supervisor.
Zygote). It never runs student code and never reads a submission. Each request, on a Unix socket, is the
launcher's configuration (launcher.py) with four descriptors: the kernel's command and reply pipes, its output,
and a pipe on which this process writes the launcher's exit status when it ends. For each, it forks a child
that closes every other descriptor, starts a session of its own and runs launcher.launch: new namespaces, a
private root, cgroups, rlimits, an unprivileged uid, no_new_privs, seccomp, exactly as for an exec'd launcher;
only the last step differs, where the kernel's process, instead of exec'ing a fresh Python, runs kernel.py from
the sandbox's own copy in the interpreter it inherited. What it inherits is the libraries this process
imported before any request (PRELOAD, from the same read-only files the sandbox shows) and nothing of any
other sandbox: configurations are dropped once forked, and each child's random generators are seeded anew.

    in    one SOCK_SEQPACKET message: the configuration (JSON), with the 4 descriptors (SCM_RIGHTS)
    out   {"pid": launcher pid} or {"error": text}; later, on the status pipe: the exit status, then EOF
    hello {"preloaded": [top-level modules loaded]} once at start, so that the grader can tell whether a
          sandbox's forbidden libraries are among them (then it starts that sandbox the exec'd way)
"""

import json
import os
import runpy
import signal
import socket
import sys

import launcher

# What kernel.py imports, and what IPython's shell imports when the kernel makes one (its magics, completer,
# inspector, history database): about nine tenths of a cold kernel's start-up.
PRELOAD = ("numpy", "array_api_compat.numpy", "IPython.core.interactiveshell", "IPython.core.magics",
           "IPython.core.completer", "IPython.core.completerlib", "IPython.core.oinspect", "IPython.core.application",
           "IPython.core.crashhandler", "sqlite3", "importlib.resources.readers", "glob")
MAX_REQUEST = 1 << 20
children: dict[int, int] = {}      # launcher pid -> the write end of its status pipe


def reap(*_) -> None:
    """SIGCHLD: write each ended launcher's status to its pipe and close it."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = children.pop(pid, None)
        if fd is not None:
            try:
                os.write(fd, str(launcher.exit_code(status)).encode())
            except OSError:
                pass
            os.close(fd)


def run_kernel(cfg: dict) -> None:
    """In the kernel's process, inside the finished sandbox: become `python -s kernel.py ARGS` with the
    configured environment, and exit with its status. Never returns."""
    import random

    import numpy

    for name in ("launcher", "zygote"):
        sys.modules.pop(name, None)
    os.environ.clear()
    os.environ.update(cfg["env"])
    random.seed()
    numpy.random.seed()
    script = cfg["argv"][2]
    sys.argv = cfg["argv"][2:]
    sys.path[0] = os.path.dirname(script)
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001  (as Python would: the traceback on stderr, status 1)
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(code)


def child(cfg: dict, fds: list[int], server: socket.socket) -> None:
    """The launcher's process: its descriptors set up, then launcher.launch. Never returns."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        server.close()
        os.setsid()
        cmd_r, reply_w, out_w, status_w = fds
        os.close(status_w)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        keep = {0, 1, 2, cmd_r, reply_w}
        for name in os.listdir("/proc/self/fd"):
            if int(name) not in keep:
                try:
                    os.close(int(name))
                except OSError:
                    pass
        cfg["argv"][3:5] = [str(cmd_r), str(reply_w)]
        cfg["keep_fds"] = [cmd_r, reply_w]
        launcher.launch(cfg, run_kernel)
    except BaseException as err:  # noqa: BLE001
        os.write(2, f"sandbox setup failed: {err}\n".encode())
    os._exit(112)    # supervisor.SETUP_FAILED, as launcher.py exits when the sandbox cannot be built


def serve(server: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, reap)
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(server, MAX_REQUEST, 4)
        except ConnectionError:
            return
        if not data:
            return
        try:
            cfg = json.loads(data)
            if len(fds) != 4:
                raise ValueError(f"expected 4 descriptors, got {len(fds)}")
        except ValueError as err:
            for fd in fds:
                os.close(fd)
            server.send(json.dumps({"error": str(err)}).encode())
            continue
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})   # its status needs its pipe recorded first
        try:
            pid = os.fork()
            if pid == 0:
                child(cfg, fds, server)
            children[pid] = fds[3]
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        for fd in fds[:3]:
            os.close(fd)
        del cfg, data
        server.send(json.dumps({"pid": pid}).encode())


def main() -> None:
    launcher.libc.prctl(launcher.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)   # dies with the grader
    server = socket.socket(fileno=int(sys.argv[1]))
    for name in PRELOAD:
        __import__(name)
    server.send(json.dumps({"preloaded": sorted({m.split(".")[0] for m in sys.modules})}).encode())
    serve(server)


if __name__ == "__main__":
    main()
