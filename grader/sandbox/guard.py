"""The kernel's run-time guard, set up before the notebook's first cell (the static half is answer_policy.py).

    guard = Guard(trusted_files, alarm=...)
    guard.watch_engine()     # note each run of the engine's derivative makers, with the notebook line behind it
    guard.freeze()           # the engine's, numpy's and the kernel's modules refuse attribute assignment
    guard.arm()              # an audit hook, which nothing can remove, ends the kernel at any door

A door is a way to objects the student's code did not create: the garbage collector's lists, ctypes, new code
or function objects, tracing hooks and files under /proc or /dev (the kernel's own pipes and memory) count
whenever code of the notebook (any file that is not Python's, the engine's or the kernel's) is on the stack;
frames (sys._getframe, a traceback's tb_frame, a generator's gi_frame), a changed __code__ or __class__, exec,
compile and marshal count when the notebook's code itself asks (the import system and libraries use them on
its behalf). Events the kernel's own code raises never count. At a door `alarm`
reports where, and the kernel exits with TAMPERED, a status no student code can undo. Processes and sockets
reach out of the process, not into it: the operating system's sandbox contains them, so they are only noted.

What the guard holds lives in this object and its closures only; the kernel keeps it in a local variable and
takes this module out of sys.modules, so student code has no name that leads to it.
"""

from __future__ import annotations

import functools
import os
import sys
import types
from collections.abc import Callable

TAMPERED = 114        # exit status of a kernel the guard stopped (supervisor.Tampered)

# Doors wherever student code is on the stack: nothing a notebook needs ever opens them.
DOORS = frozenset({
    "sys._current_frames", "sys._current_exceptions", "sys.settrace", "sys.setprofile", "gc.get_objects",
    "gc.get_referrers", "gc.get_referents", "code.__new__", "function.__new__", "builtins.input",
})
DOOR_PREFIXES = ("ctypes.", "cpython.")
# Reaching out of the process: the operating system's sandbox contains it (no network, its own PID namespace
# and limits), so the run goes on, but each one is noted as a `tampered` finding with its line.
OUTWARD = frozenset({"os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.kill",
                     "os.killpg", "subprocess.Popen"})
OUTWARD_PREFIXES = ("socket.", "_posixsubprocess.")
# Doors when student code itself opens them (Python's import system and libraries use them on its behalf).
OWN_DOORS = frozenset({
    "sys._getframe", "object.__setattr__", "object.__delattr__", "exec", "compile", "marshal.load",
    "marshal.loads", "pickle.find_class",
})
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "gi_code", "cr_code", "ag_code"})
PRIVATE_FILES = ("/proc", "/dev/fd", "/dev/mem", "/dev/kmem", "/dev/port")

# The engine's derivative makers, by the name a finding gives them: the transformations, finite differences
# and the Value arithmetic (each of its operations makes a node through scalar._node).
ENGINE_MAKERS = {
    "autodiff_lab.transforms": ("grad", "value_and_grad", "vjp", "jvp", "jacfwd", "jacrev", "hessian", "hvp"),
    "autodiff_lab.check.finite_differences": ("numerical_grad", "numerical_jacobian", "derivative_along"),
}
VALUE_ARITHMETIC = "Value arithmetic"
MODULE_CHANGES = ("changed ", "deleted ")     # how a note of a change to a frozen module begins
OUTWARD_NOTE = "reached out of the sandbox: "
BUILT_IN_RULE = "built-in rule"
FROZEN = ("numpy", "autodiff_lab", "array_api_compat", "math", "cmath", "harvest", "functions", "guard", "json",
          "io", "zipfile", "itertools", "functools", "collections", "copy", "random", "statistics", "numbers",
          "typing", "string", "time", "operator", "types", "inspect", "os", "posixpath", "gc", "importlib",
          "abc", "struct", "pickle", "marshal", "ctypes", "weakref", "threading", "contextlib", "enum", "re")


def _is_function(x) -> bool:
    return isinstance(x, (types.FunctionType, functools.partial))


class Guard:
    """`trusted`: the kernel's own files (exact paths); Python's and the engine's folders are trusted too.
    `alarm(finding)` is called once, at the first door, before the kernel exits."""

    def __init__(self, kernel_files: list[str], engine_dir: str, alarm: Callable[[dict], None],
                 cell_of: Callable[[str], str]) -> None:
        self.kernel_files = frozenset(os.path.realpath(f) for f in kernel_files)
        folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, engine_dir}
        self.trusted_dirs = tuple(os.path.join(os.path.realpath(d), "") for d in folders)
        self.alarm, self.cell_of = alarm, cell_of
        self.notes: list[dict] = []      # engine derivative makers run since the last drain
        self._noted: set = set()
        self._depth = 0                  # > 0 inside a watched engine function
        self._busy = False
        self._trusted: dict[str, bool] = {}

    # --- whose code is running -------------------------------------------------------------------------
    def trusted(self, filename: str) -> bool:
        if filename not in self._trusted:
            self._trusted[filename] = (filename in self.kernel_files or filename.startswith("<frozen ")
                                       or os.path.realpath(filename).startswith(self.trusted_dirs))
        return self._trusted[filename]

    def student_frame(self, frame):
        """The innermost frame of the notebook's code from `frame` outwards, or None."""
        while frame is not None:
            if not self.trusted(frame.f_code.co_filename):
                return frame
            frame = frame.f_back
        return None

    def where(self, frame) -> dict:
        return {"cell": self.cell_of(frame.f_code.co_filename), "line": frame.f_lineno}

    # --- the audit hook --------------------------------------------------------------------------------
    def arm(self) -> None:
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if event in OUTWARD or event.startswith(OUTWARD_PREFIXES):
            return self._outward(event)
        own = event in OWN_DOORS or (event == "object.__getattr__" and len(args) > 1 and args[1] in FRAME_ATTRIBUTES)
        if self._busy or not (own or self._is_door(event, args)):
            return
        self._busy = True
        try:
            caller = sys._getframe(1)
            if caller.f_code.co_filename in self.kernel_files:
                return                     # the kernel itself (it never runs student code meanwhile)
            if own:                        # only the notebook's own call counts: no need to look further out
                culprit = None if self.trusted(caller.f_code.co_filename) else caller
            else:
                culprit = self.student_frame(caller)
            if culprit is None:
                return                     # Python, IPython or the engine on their own, or on the student's behalf
            what = f"{event} {args[1]}" if event == "object.__getattr__" else event
            self.alarm({"event": "tampered", "door": what, **self.where(culprit)})
        finally:
            self._busy = False
        os._exit(TAMPERED)

    def _outward(self, event: str) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            culprit = self.student_frame(sys._getframe(2))
            if culprit is not None:
                note = {"fn": f"{OUTWARD_NOTE}{event}", **self.where(culprit)}
                if (note["fn"], note["cell"], note["line"]) not in self._noted:
                    self._noted.add((note["fn"], note["cell"], note["line"]))
                    self.notes.append(note)
        finally:
            self._busy = False

    @staticmethod
    def _is_door(event: str, args: tuple) -> bool:
        if event in DOORS or event.startswith(DOOR_PREFIXES):
            return True
        if event == "open" and args:
            path = args[0]
            if isinstance(path, int):
                return True                # an inherited descriptor: the kernel's pipes
            try:
                named = os.path.abspath(os.fsdecode(path))
                return named.startswith(PRIVATE_FILES) or os.path.realpath(named).startswith(PRIVATE_FILES)
            except (TypeError, ValueError):
                return True
        return False

    # --- the engine's derivative makers ------------------------------------------------------------------
    def watch_engine(self) -> None:
        """Wrap each derivative maker wherever the engine's modules name it, the built-in VJP and JVP rules
        of every anp primitive, and the Value arithmetic, so that a run outside another one is noted."""
        modules = [m for name, m in list(sys.modules.items()) if name.split(".")[0] == "autodiff_lab"
                   and isinstance(m, types.ModuleType)]
        for module_name, names in ENGINE_MAKERS.items():
            module = sys.modules.get(module_name)
            for name in names if module else ():
                self._replace_everywhere(modules, getattr(module, name), name)
        scalar = sys.modules.get("autodiff_lab.scalar")
        if scalar is not None:
            scalar._node = self._watched(scalar._node, VALUE_ARITHMETIC)
        from autodiff_lab import Primitive

        seen = set()
        for module in modules:
            for value in list(vars(module).values()):
                if type(value) is Primitive and id(value) not in seen:
                    seen.add(id(value))
                    self._watch_rules(value)

    def _replace_everywhere(self, modules: list, original, name: str) -> None:
        watched = self._watched(original, name)
        for module in modules:
            for key, value in list(vars(module).items()):
                if value is original:
                    setattr(module, key, watched)

    def _watch_rules(self, primitive) -> None:
        label = f"{BUILT_IN_RULE} of {primitive.name}"
        for table in (primitive.vjps, primitive.jvps):
            for argnum, rule in list(table.items()):
                table[argnum] = self._watched(rule, label)
        for attr in ("any_arg_vjp", "any_arg_jvp"):
            rule = getattr(primitive, attr)
            if rule is not None:
                setattr(primitive, attr, self._watched(rule, label))

    def _watched(self, fn, name: str):
        """fn, noting each call made outside another watched one; what it returns that can be called (the
        function grad(f) makes, the pullback vjp returns) is watched under the same name."""
        guard = self

        @functools.wraps(fn)
        def watched(*args, **kwargs):
            if guard._depth == 0:
                guard._note(name)
            guard._depth += 1
            try:
                out = fn(*args, **kwargs)
            finally:
                guard._depth -= 1
            if isinstance(out, tuple):
                return tuple(guard._watched(o, name) if _is_function(o) else o for o in out)
            return guard._watched(out, name) if _is_function(out) else out

        return watched

    def _note(self, name: str) -> None:
        culprit = self.student_frame(sys._getframe(2))
        if culprit is None:
            return
        note = {"fn": name, **self.where(culprit)}
        key = (note["fn"], note["cell"], note["line"])
        if key not in self._noted:
            self._noted.add(key)
            self.notes.append(note)

    def drain(self) -> list[dict]:
        notes, self.notes = self.notes, []
        return notes

    # --- read-only modules -------------------------------------------------------------------------------
    def freeze(self) -> None:
        """From now on the notebook's code cannot change these modules: an assignment or deletion it makes
        itself is ignored and noted (a `tampered` finding, with the line); libraries still manage their own."""
        guard = self

        def setattr_(module, name: str, value) -> None:
            if not guard._student_asks(f"changed {module.__name__}.{name}"):
                types.ModuleType.__setattr__(module, name, value)

        def delattr_(module, name: str) -> None:
            if not guard._student_asks(f"deleted {module.__name__}.{name}"):
                types.ModuleType.__delattr__(module, name)

        frozen = type("FrozenModule", (types.ModuleType,), {"__setattr__": setattr_, "__delattr__": delattr_,
                                                             "__slots__": ()})
        for name, module in list(sys.modules.items()):
            if type(module) is types.ModuleType and name.split(".")[0] in FROZEN:
                module.__class__ = frozen

    def _student_asks(self, what: str) -> bool:
        """Whether the caller two frames up (of setattr_ or delattr_) is the notebook's code; if so, noted."""
        caller = sys._getframe(2)
        if self.trusted(caller.f_code.co_filename):
            return False
        self.notes.append({"fn": what[:100], **self.where(caller)})
        return True
