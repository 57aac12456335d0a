"""The sandboxed kernel: runs a notebook's cells and harvests answers, inside the sandbox.

Started by launcher.py as an unprivileged process in its own namespaces; only the standard library, numpy,
IPython and the engine are importable. It executes cells with IPython's InteractiveShell (the same execution
engine as ipykernel, without ZeroMQ) and talks to the supervisor over two pipes (their descriptors are the
first two arguments). A message is one JSON line, followed by `nbytes` raw bytes (an npz) when it says so:

    in     {"op": "run", "code": ..., "id": ...}                        run one cell
           {"op": "harvest", "items": [...], "nbytes": n, "id": ...}    + the inputs' npz
    out    {"event": "ready"}, then one reply per request, with its id: {"ok": ..., "ename": ..., "evalue": ...},
           or {"ok": true, "results": {...}, "nbytes": n} + the harvested arrays' npz

Nothing here decides a grade. Student code can tamper with anything in this process, including these
replies; the supervisor treats them as untrusted data (arrays loaded without pickle, checked, judged elsewhere).
The student's working folder comes last on sys.path, and only once the kernel's own modules are loaded, so that
files shipped with a submission (a harvest.py, a numpy/ folder) cannot stand in for them.
"""

import io
import json
import os
import sys

import harvest  # from this file's folder, sys.path[0]

MAX_EVALUE = 2000
REPLIES = int(sys.argv[2])


def send(obj: dict, payload: bytes = b"", rid: str | None = None) -> None:
    """Reply to request `rid` (the supervisor skips replies to earlier requests, and stops at any other)."""
    obj["id"] = rid
    if payload:
        obj["nbytes"] = len(payload)
    data = (json.dumps(obj) + "\n").encode() + payload
    view = memoryview(data)
    while view:
        view = view[os.write(REPLIES, view):]


def run_cell(shell, code: str) -> dict:
    result = shell.run_cell(code, store_history=True)
    err = result.error_before_exec or result.error_in_exec
    if err is None:
        return {"ok": True}
    return {"ok": False, "ename": type(err).__name__, "evalue": str(err)[:MAX_EVALUE]}


def run_harvest(shell, items: list, payload: bytes) -> tuple[dict, bytes]:
    inputs = harvest.load_arrays(payload) if payload else {}
    results, arrays = harvest.collect(shell.user_ns, items, inputs)
    buf = io.BytesIO()
    harvest.save_arrays(buf, arrays)
    return {"ok": True, "results": results}, buf.getvalue()


class Forbidden:
    """An import hook that refuses the assignment's forbidden libraries with a clear message. (Their folders
    are also hidden by the sandbox, so removing this hook gains nothing.)"""

    def __init__(self, names: list) -> None:
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"{fullname} is not allowed in this assignment (see its rules)")
        return None


def main() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    sys.meta_path.insert(0, Forbidden(json.loads(sys.argv[3]) if len(sys.argv) > 3 else []))
    shell = InteractiveShell.instance(colors="nocolor")
    sys.path.append(os.getcwd())     # the student's own modules import, after everything installed
    commands = os.fdopen(int(sys.argv[1]), "rb")
    send({"event": "ready"})
    rid = None      # the request being answered, or the last one (an interrupt may come just after its reply)
    while True:
        try:
            line = commands.readline()
            if not line:
                return
            msg = json.loads(line)
            rid = msg.get("id")
            payload = commands.read(msg["nbytes"]) if msg.get("nbytes") else b""
            if msg["op"] == "run":
                send(run_cell(shell, msg["code"]), rid=rid)
            elif msg["op"] == "harvest":
                send(*run_harvest(shell, msg["items"], payload), rid=rid)
            else:
                send({"ok": False, "ename": "ProtocolError", "evalue": f"unknown op {msg['op']!r}"}, rid=rid)
            sys.stdout.flush()
            sys.stderr.flush()
        except KeyboardInterrupt:
            send({"ok": False, "ename": "KeyboardInterrupt", "evalue": "interrupted"}, rid=rid)


if __name__ == "__main__":
    main()
