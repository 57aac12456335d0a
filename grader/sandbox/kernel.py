"""The sandboxed kernel: runs a notebook's cells and harvests answers, inside the sandbox.

Started by launcher.py as an unprivileged process in its own namespaces; only the standard library, numpy,
IPython and the engine are importable. It executes cells with IPython's InteractiveShell (the same execution
engine as ipykernel, without ZeroMQ) and talks to the supervisor over two pipes (their descriptors are the
first two arguments; then the forbidden libraries, JSON, the engine's folder, and "guard" or "no-guard"). A
message is one JSON line, followed by `nbytes` raw bytes (an npz) when it says so:

    in     {"op": "run", "code": ..., "cell": grade_id, "id": ...}       run one cell
           {"op": "harvest", "items": [...], "nbytes": n, "id": ...}    + the inputs' npz (items: harvest.py)
    out    {"event": "ready"}, then one reply per request, with its id: {"ok": ..., "ename": ..., "evalue": ...},
           or {"ok": true, "results": {...}, "nbytes": n} + the harvested arrays' npz; each reply also lists
           under "engine" the engine's derivative makers the notebook's code ran meanwhile (guard.py)
           {"event": "broken", "reason": ...} instead of ready, then exit BROKEN: the kernel cannot start (the
           engine, IPython or numpy does not import); nothing of the student's has run yet
           {"event": "tampered", "door": ..., "cell": ..., "line": ...}, then exit guard.TAMPERED: student code
           opened a door to objects it did not create (guard.py)

The engine is the very package the grader imported, loaded from the folder the grader names (argument 4) by
a finder first on sys.meta_path, whatever the Python's own sys.path or an editable install's finder would find:
the grader may run another checkout of it (PYTHONPATH, a git worktree) than the one installed.

Nothing here decides a grade. The replies are untrusted data for the supervisor (arrays loaded without
pickle, checked, judged elsewhere). Before the first cell the kernel captures what the harvest needs, wraps
the engine's derivative makers, freezes the modules and arms the audit hook (guard.py); its own objects are
then reachable only through the doors the hook watches and answer_policy.py forbids.
The student's working folder comes last on sys.path, and only once the kernel's own modules are loaded, so that
files shipped with a submission (a harvest.py, a numpy/ folder) cannot stand in for them.
"""

import io
import json
import os
import signal
import sys
import traceback
from importlib.machinery import PathFinder
from importlib.util import spec_from_file_location

ENGINE = "autodiff_lab"
MAX_EVALUE = 2000
BROKEN = 113          # exit status of a kernel that could not start (supervisor.KernelBroken)
REPLIES = int(sys.argv[2])
harvest = None        # harvest.py, from this file's folder (sys.path[0]), once the engine is loaded


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


def run_harvest(shell, items: list, payload: bytes, capture, max_bytes: int | None = None) -> tuple[dict, bytes]:
    inputs = harvest.load_arrays(payload) if payload else {}
    results, arrays = harvest.collect(shell.user_ns, items, inputs, capture, max_bytes=max_bytes)
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


class Engine:
    """An import hook that finds autodiff_lab, and every module of it, in the grader's engine folder only.
    Without it the kernel would take whatever its Python finds first: the checkout an editable install names
    (not in the sandbox when the grader runs another one), or for a module the grader's copy lacks, that
    other checkout's."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def find_spec(self, fullname, path=None, target=None):
        if fullname == ENGINE:
            return spec_from_file_location(ENGINE, os.path.join(self.folder, "__init__.py"),
                                           submodule_search_locations=[self.folder])
        if fullname.startswith(ENGINE + "."):
            spec = PathFinder.find_spec(fullname, path)     # path: the parent package's, in the engine folder
            if spec is None:
                raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
            return spec
        return None


def broken(what: str, err: BaseException) -> None:
    """Tell the supervisor why the kernel cannot start, and exit (no student code has run: this is true)."""
    traceback.print_exception(err)
    sys.stderr.flush()
    send({"event": "broken", "reason": f"{what}: {type(err).__name__}: {str(err)[:MAX_EVALUE]}"})
    os._exit(BROKEN)


def start(engine: str):
    """Load the engine from `engine`, then the kernel's own modules; the IPython shell. Before any student code."""
    global harvest
    sys.meta_path.insert(0, Engine(engine))
    try:
        __import__(ENGINE)
    except BaseException as err:  # noqa: BLE001
        broken(f"cannot import the engine {ENGINE} from {engine}", err)
    try:
        import harvest
        from IPython.core.interactiveshell import InteractiveShell

        return InteractiveShell.instance(colors="nocolor")
    except BaseException as err:  # noqa: BLE001
        broken("cannot import its own modules (harvest.py, the reference functions, numpy, IPython)", err)


class Cells:
    """Which notebook cell an IPython cell file name (<ipython-input-N-hash>) belongs to: N is the shell's
    execution count when the grader's run request for that cell came."""

    def __init__(self) -> None:
        self.by_count: dict[int, str] = {}

    def __call__(self, filename: str) -> str:
        head = filename.removeprefix("<ipython-input-").partition("-")[0]
        if filename.startswith("<ipython-input-") and head.isdigit():
            return self.by_count.get(int(head), "")
        return "" if filename.startswith("<") else os.path.basename(filename)


def guarded(engine: str, cells: Cells, armed: bool = True):
    """Capture what the harvest needs, wrap the engine's derivative makers, freeze the modules and arm the
    audit hook (guard.py); then the kernel's own modules leave sys.modules. Returns (guard, capture).
    `armed=False` (the supervisor's guard=False, for tests of the sandbox's operating-system layer only):
    no frozen modules, no hook."""
    import functions  # noqa: F401  (loaded now, frozen with the rest)
    import guard as guard_module

    here = os.path.dirname(os.path.realpath(__file__))
    own = [os.path.join(here, name) for name in ("kernel.py", "harvest.py", "functions.py", "guard.py")]
    wrappers = own[-1]                                      # guard.py: its wrappers of the built-in rules
    own += starters()
    guard = guard_module.Guard(own, engine, alarm=lambda finding, reply=send: reply(finding), cell_of=cells)
    capture = harvest.Capture(engine_files=(wrappers,))
    guard.watch_engine()
    if armed:
        guard.freeze()
        for name in ("harvest", "functions", "guard"):
            sys.modules.pop(name, None)
        guard.arm()
    return guard, capture


def starters() -> list[str]:
    """The files of the frames that started this kernel, outside its own: none when Python ran kernel.py, the
    zygote's and launcher's (zygote.py) when the kernel was forked warm. They ran before any student code, and
    their frames stay below the kernel's loop: they are the kernel's, not the notebook's."""
    frame, found = sys._getframe(1), []
    while frame is not None:
        found.append(frame.f_code.co_filename)
        frame = frame.f_back
    return [name for name in found if not name.startswith("<")]


def main(send=send, run_cell=run_cell, run_harvest=run_harvest) -> None:
    """The request loop. What it calls is bound here, once: rebinding the module's names later changes nothing."""
    # A grader started in the background (`cmd &` without job control) hands its children SIGINT ignored, and
    # Python then raises no KeyboardInterrupt: the kernel's interrupt must work however the grader was started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    shell = start(sys.argv[4])
    sys.meta_path.insert(0, Forbidden(json.loads(sys.argv[3])))
    sys.path.append(os.getcwd())     # the student's own modules import, after everything installed
    cells = Cells()
    guard, capture = guarded(sys.argv[4], cells, armed=sys.argv[5] == "guard")
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
                cells.by_count[shell.execution_count] = str(msg.get("cell", ""))
                reply, data = run_cell(shell, msg["code"]), b""
            elif msg["op"] == "harvest":
                reply, data = run_harvest(shell, msg["items"], payload, capture, msg.get("max_bytes"))
            else:
                reply, data = {"ok": False, "ename": "ProtocolError", "evalue": f"unknown op {msg['op']!r}"}, b""
            reply["engine"] = guard.drain() + capture.notes
            capture.notes.clear()
            send(reply, data, rid=rid)
            sys.stdout.flush()
            sys.stderr.flush()
        except KeyboardInterrupt:
            send({"ok": False, "ename": "KeyboardInterrupt", "evalue": "interrupted", "engine": guard.drain()},
                 rid=rid)


if __name__ == "__main__":
    main()
