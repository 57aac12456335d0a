"""The assignment policy over a student's answer cells, read statically: the code is parsed here, never run.

Three kinds of findings, each quoting the line (structure.py turns them into Violations):

    escape              tampered: a door to objects the answer did not create. exec, eval, compile, open,
                        get_ipython (IPython magics and shell lines included), dunder names and attributes
                        outside the data model, frames and tracebacks, sys / os / gc / inspect / ctypes / ...,
                        imports beyond ALLOWED_MODULES, private names or other modules reached through a
                        module's attributes (np.lib.npyio.os), attribute stores on anything but `self`,
                        stores into or in-place changes of what a module holds, modules passed around
    forbidden-import    needs-manual-grade: a library the course forbids (Grader.forbidden_modules)
    engine-derivative   needs-manual-grade: a derivative maker the assignment forbids (Grader.forbidden_functions),
                        however it is reached (aliases, submodules, attribute chains, getattr with a literal,
                        names the template imported), the engine's built-in rules (.vjps, apply_vjp_rule, ...),
                        and, in the cells named by Grader.own_rules, Value's own arithmetic where the answer
                        must build Value(data, parents=..., local_grads=...) itself

What names and attribute chains stand for is found by answer_names.py, on the real modules (only allowed
ones are imported, and no attribute's code runs). A cell too long (MAX_CELL) or nested too deeply to read is
an escape too: nothing an answer needs hides there. Answers to these assignments never need an escape door,
so a false positive on an honest answer is a bug of this file: the solutions and the sample class are tested
to give none (tests/grader/test_attacks_static.py). The sandbox's run-time guard is the counterpart for what
no static reading can see (code built at run time, which needs one of the doors above to run).
"""

from __future__ import annotations

import ast
import types
from collections.abc import Iterable
from functools import lru_cache

from .answer_names import Names, dunder, engine_objects, module_allowed, public_names, walk

BANNED_NAMES = frozenset({"eval", "exec", "compile", "globals", "locals", "vars", "setattr", "delattr", "open",
                          "breakpoint", "input", "help", "exit", "quit", "get_ipython", "memoryview"})
_OPS = ("add sub mul matmul truediv floordiv mod divmod pow lshift rshift and xor or").split()
SAFE_DUNDERS = frozenset({f"__{p}{op}__" for op in _OPS for p in ("", "r", "i")} | {f"__{n}__" for n in (
    "init repr str len getitem setitem contains iter next float int complex bool index round abs neg pos invert "
    "eq ne lt le gt ge hash call name doc qualname version array_priority").split()})
CLASS_DUNDERS = frozenset({"__slots__", "__array_priority__"})   # dunder names a class body may assign
INTERNALS = frozenset((
    "sys os gc ctypes ctypeslib builtins importlib inspect modules f_back f_locals f_globals f_builtins f_code "
    "f_trace tb_frame tb_next gi_frame gi_code cr_frame cr_code ag_frame ag_code co_code subprocess pickle "
    "marshal shutil signal io threading multiprocessing weakref types IPython harvest kernel guard").split())
DOORS = frozenset((   # read or write files, raw memory, or evaluate text as code, whatever the object
    "load loads save savez savez_compressed savetxt loadtxt genfromtxt fromfile tofile fromregex memmap dump "
    "dumps DataSource as_strided get_type_hints singledispatch singledispatchmethod Formatter get_field cffi "
    "system popen").split())
IPYTHON_NAMES = frozenset({"In", "Out", "_oh", "_ih", "_dh", "_i", "_ii", "_iii", "__", "___"})   # and _3, _i3
RULE_TABLES = frozenset({"vjps", "jvps"})
RULE_DEFINERS = frozenset({"defvjp", "defjvp", "defvjp_any_arg", "defjvp_any_arg"})
MUTABLE = (dict, list, set, bytearray)
CONTAINER_TYPES = frozenset({"dict", "list", "set", "bytearray", "object", "type"})
MUTATORS = frozenset(("update clear pop popitem append extend insert remove setdefault add discard sort reverse "
                      "fill put resize itemset setflags __setitem__ __delitem__").split())
# engine names flagged on any object when forbidden (a Value's .grad is data, so `grad` only through the engine)
RULE_NAMES = frozenset(("vjps jvps any_arg_vjp any_arg_jvp apply_vjp_rule apply_jvp_rule backward value_and_grad "
                        "vjp jvp jacfwd jacrev hessian hvp numerical_grad numerical_jacobian derivative_along").split())
VALUE_METHODS = frozenset({"exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "backward", "__neg__",
                           "__pos__", "__abs__"} | {f"__{p}{op}__" for op in _OPS for p in ("", "r", "i")})
VALUE_BUILTINS = frozenset({"sum", "max", "min", "abs", "pow", "round", "divmod", "sorted", "map"})
MAX_CELL = 100_000          # characters of one answer cell read here (the solutions' longest: under 2,000)
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
              ast.Pow: "**", ast.MatMult: "@", ast.USub: "-", ast.UAdd: "+", ast.Invert: "~",
              ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^"}


def answer_findings(source: str, gid: str, *, forbidden_modules: Iterable[str] = (),
                    forbidden: Iterable[str] = (), own_rules: bool = False, scaffold: str = "",
                    outer: dict | None = None) -> list[tuple[str, str]]:
    """(code, message) for each line of an answer cell that breaks the policy. `forbidden`: the engine names
    this cell may not use; `own_rules`: the cell must build its Values itself; `scaffold`: the template's
    answer cell (its functions take Values); `outer`: module_bindings of the notebook's other cells."""
    if len(source) > MAX_CELL:
        why = f"is {len(source):,} characters long, more than the grader reads ({MAX_CELL:,})"
        return [("escape", _message("escape", gid, [why], 1, _quote(source[:200].splitlines(), 1)))]
    parsed = _parse(source)
    if parsed is None:
        return []
    tree, lines = parsed
    try:
        checker = _Checker(tree, set(forbidden_modules), frozenset(forbidden), outer or {})
        checker.check()
        if own_rules:
            checker.check_own_rules(_defined_functions(scaffold))
        findings = checker.found
    except RecursionError:    # Python runs it, but no reader follows it: nothing an answer needs hides so deep
        findings = [("escape", 1, "is nested too deeply for the grader to read it")]
    found: dict[tuple[str, int], list[str]] = {}
    for code, line, why in findings:
        whys = found.setdefault((code, line), [])
        if why not in whys:
            whys.append(why)
    return [(code, _message(code, gid, whys, line, _quote(lines, line))) for (code, line), whys in
            sorted(found.items(), key=lambda item: (item[0][1], item[0][0]))]


def module_bindings(source: str, outer: dict | None = None) -> dict[str, list[tuple]]:
    """The names a cell binds at its top level to modules or to what modules hold (imports, and `m = np.lib`),
    as {name: [path]} with paths such as ("numpy", "lib"), added to `outer`: what other cells reach by name."""
    parsed = _parse(source) if len(source) <= MAX_CELL else None
    out = {name: list(paths) for name, paths in (outer or {}).items()}
    try:
        checker = _Checker(parsed[0], set(), frozenset(), outer or {}) if parsed else None
    except RecursionError:
        checker = None    # flagged by answer_findings when it is an answer; nothing to add
    if checker is None:
        return out
    for name in checker.names.module.names:
        for path in checker.names.paths_of(name, checker.names.module):
            out.setdefault(name, [])
            if path not in out[name]:
                out[name].append(path)
    return out


@lru_cache(maxsize=4096)
def _parse(source: str):
    """(AST, lines to quote) of the cell as IPython runs it (magics become get_ipython() calls); None when it does
    not parse (the kernel raises SyntaxError before anything runs)."""
    try:
        code = _transformer().transform_cell(source)
    except Exception:  # noqa: BLE001  (IPython's own failure: read the cell as plain Python)
        code = source
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = source.splitlines()     # a cell magic becomes one line: its first line is the one to quote
    same = len(lines) == len(code.splitlines()) or source.lstrip().startswith("%%")
    return tree, lines if same else code.splitlines()


@lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def _quote(lines: list[str], n: int) -> str:
    text = lines[n - 1].strip() if 0 < n <= len(lines) else ""
    return text if len(text) <= 100 else text[:97] + "..."


def _message(code: str, gid: str, whys: list[str], line: int, quote: str) -> str:
    text = f"cell '{gid}' {'; '.join(whys)}"
    if code == "escape":
        text += " (answers never need this: the notebook is graded as tampered)"
    return f"{text} (line {line}: {quote})"


def _ipython_name(name: str) -> bool:
    """IPython's history of inputs and outputs (In, Out, _3, _i3, ...): what earlier cells displayed."""
    return name in IPYTHON_NAMES or (name[:1] == "_" and name.lstrip("_i").isdigit() and name != "_i")


def _rule_table(node) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in RULE_TABLES


@lru_cache(maxsize=1)
def _ndarray() -> type:
    import numpy

    return numpy.ndarray


def _plain_methods(tree: ast.AST) -> dict[str, set[str]]:
    """{class defined in the cell: its methods that take self} (not static or class methods)."""
    plain = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            plain[node.name] = {f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                                and not any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")
                                            for d in f.decorator_list)}
    return plain


def _defined_functions(source: str) -> frozenset[str]:
    parsed = _parse(source) if source else None
    return frozenset(n.name for n in ast.walk(parsed[0]) if isinstance(n, ast.FunctionDef)) if parsed else frozenset()


class _Checker:
    """The escape and engine checks over one parsed cell; findings collect in .found as (code, line, why)."""

    def __init__(self, tree: ast.AST, forbidden_modules: set, forbidden: frozenset, outer: dict):
        self.tree, self.forbidden_modules, self.forbidden, self.outer = tree, forbidden_modules, forbidden, outer
        self.names = Names(tree, outer)
        self.found: list[tuple[str, int, str]] = []
        self.methods = _plain_methods(tree)

    def add(self, code: str, node: ast.AST, why: str) -> None:
        self.found.append((code, getattr(node, "lineno", 0), why))

    # --- the checks --------------------------------------------------------------------------------------------
    def check(self) -> None:
        for node in ast.walk(self.tree):
            handler = getattr(self, "_" + type(node).__name__, None)
            if handler is not None:
                handler(node)

    def check_path(self, node: ast.AST, path: tuple, *, use: str = "") -> None:
        """A module path the code reaches: private names and other modules are escapes; so are a module used as
        a value (use "value": not through its attributes), and a module's dict, list or array handed on (not
        read by index: use "index"). The engine's forbidden derivative makers are engine-derivative."""
        objs, problem = walk(path)
        whole = len(objs) == len(path)
        if problem:
            self.add("escape", node, problem)
        elif use == "value" and whole and isinstance(objs[-1], types.ModuleType):
            self.add("escape", node, f"uses the module {'.'.join(path)} as a value")
        elif use == "value" and whole and isinstance(objs[-1], (*MUTABLE, _ndarray())):
            self.add("escape", node, f"hands on {'.'.join(path)}, which a module holds, where it can be changed")
        if path[0] == "autodiff_lab" and self.forbidden:
            ids = engine_objects(self.forbidden)
            names = [link for link in path[1:] if link in self.forbidden]
            names += [path[i] for i, obj in enumerate(objs) if i and id(obj) in ids and path[i] not in names]
            for name in names[:1]:
                self.add("engine-derivative", node, f"uses the engine's {name}, which this assignment asks you to "
                         "write yourself")

    def _maximal(self, node) -> bool:
        parent = self.names.parent.get(id(node))
        return not (isinstance(parent, ast.Attribute) and parent.value is node)

    def _use(self, node) -> str:
        """How a chain's value is used: "alias" (assigned to names, which then stand for it), "index" (read by
        subscript), else "value"."""
        parent = self.names.parent.get(id(node))
        if isinstance(parent, ast.Assign) and parent.value is node and all(isinstance(t, ast.Name)
                                                                           for t in parent.targets):
            return "alias"
        return "index" if isinstance(parent, ast.Subscript) and parent.value is node else "value"

    def _Name(self, node: ast.Name) -> None:
        name, scope = node.id, self.names.scope_of(node)
        if not isinstance(node.ctx, ast.Load):
            if dunder(name) and not (scope.kind == "class" and name in CLASS_DUNDERS | SAFE_DUNDERS):
                self.add("escape", node, f"assigns the name {name}")     # __radd__ = __add__ in a class is fine
            return
        if dunder(name) and name not in SAFE_DUNDERS:
            self.add("escape", node, f"uses {name}")
        elif (name in BANNED_NAMES or _ipython_name(name)) and not self.names.own(node):
            self.add("escape", node, f"uses {name}")
        elif name == "getattr" and not self.names.own(node):
            parent = self.names.parent.get(id(node))
            if not (isinstance(parent, ast.Call) and parent.func is node):
                self.add("escape", node, "uses getattr as a value")
        if self._maximal(node):
            for path in self.names.paths_of(name, scope):
                self.check_path(node, path, use=self._use(node))

    def attribute_name(self, node: ast.AST, attr: str) -> None:
        if dunder(attr) and attr not in SAFE_DUNDERS:
            self.add("escape", node, f"reads the attribute {attr}")
        elif attr in INTERNALS:
            self.add("escape", node, f"reaches interpreter internals through .{attr}")
        elif attr in DOORS:
            self.add("escape", node, f"uses .{attr}, which reads or writes files or memory, or runs text as code")

    def _Attribute(self, node: ast.Attribute) -> None:
        self.attribute_name(node, node.attr)
        base = node.value
        if isinstance(base, ast.Name) and node.attr in self.methods.get(base.id, ()) or (
                isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "type"):
            self.add("escape", node, f"takes the method .{node.attr} from a class, where it can be called on any "
                     "object (an engine class, a module) as its self")
        if not isinstance(node.ctx, ast.Load) and not self.names.is_self(node.value):
            verb = "sets" if isinstance(node.ctx, ast.Store) else "deletes"
            self.add("escape", node, f"{verb} the attribute .{node.attr} of an object it did not create")
        if self._maximal(node):
            for path in self.names.chain_paths(node):
                self.check_path(node, path, use=self._use(node))
        if node.attr in MUTATORS and self.names.chain_paths(node.value):
            self.add("escape", node, f"changes what a module holds in place (.{node.attr})")
        if node.attr in RULE_NAMES and node.attr in self.forbidden and not self.names.chain_paths(node.value):
            self.add("engine-derivative", node, f"uses .{node.attr}, the engine's own derivative, which this "
                     "assignment asks you to write yourself")

    def _Subscript(self, node: ast.Subscript) -> None:
        base = node.value
        while isinstance(base, ast.Subscript):
            base = base.value
        if not isinstance(node.ctx, ast.Load) and (self.names.chain_paths(base) or _rule_table(base)):
            self.add("escape", node, "writes into what a module holds" if self.names.chain_paths(base) else
                     "writes into a primitive's rule table (give rules with defvjp / defjvp)")

    def _Call(self, node: ast.Call) -> None:
        func, args = node.func, node.args
        if isinstance(func, ast.Name) and func.id == "getattr" and not self.names.own(func):
            literal = len(args) >= 2 and isinstance(args[1], ast.Constant) and isinstance(args[1].value, str)
            if not literal:
                self.add("escape", node, "uses getattr with a computed name")
            else:
                self._Attribute(self._synthetic(node, args[0], args[1].value))
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name == "import_module":
            self.add("escape", node, "imports a module by name at run time")
        if name in ("__import__", "import_module") and args and isinstance(args[0], ast.Constant) \
                and isinstance(args[0].value, str) and args[0].value.split(".")[0] in self.forbidden_modules:
            self.add("forbidden-import", node, f"imports {args[0].value.split('.')[0]}, which this assignment "
                     "does not allow")
        unbound = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
            and func.value.id in CONTAINER_TYPES and not self.names.own(func.value)      # dict.update(d, ...)
        if isinstance(func, ast.Attribute) and func.attr in MUTATORS and (_rule_table(func.value) or (
                unbound and args and (self.names.chain_paths(args[0]) or _rule_table(args[0])))):
            self.add("escape", node, f"changes a rule table or what a module holds in place (.{func.attr})")
        if name in RULE_DEFINERS and args and self.names.chain_paths(args[0]):
            self.add("escape", node, f"replaces the rules of the engine's own function with {name}")

    def _synthetic(self, call: ast.Call, base: ast.AST, attr: str) -> ast.Attribute:
        """getattr(x, "name") read as x.name."""
        node = ast.copy_location(ast.Attribute(value=base, attr=attr, ctx=ast.Load()), call)
        self.names.parent[id(node)] = call
        self.names.scope[id(node)] = self.names.scope_of(call)
        return node

    def _MatchClass(self, node: ast.MatchClass) -> None:
        for attr in node.kwd_attrs:
            self.attribute_name(node, attr)

    def _FunctionDef(self, node) -> None:
        if dunder(node.name) and self.names.scope_of(node).kind != "class":
            self.add("escape", node, f"defines the name {node.name}")
    _AsyncFunctionDef = _FunctionDef

    def _ClassDef(self, node) -> None:
        if dunder(node.name):
            self.add("escape", node, f"defines the name {node.name}")

    def import_module(self, node: ast.AST, name: str) -> bool:
        top = name.split(".")[0]
        if top in self.forbidden_modules:
            self.add("forbidden-import", node, f"imports {top}, which this assignment does not allow")
        elif not module_allowed(name) or any(p.startswith("_") for p in name.split(".")):
            self.add("escape", node, f"imports {name}")
        else:
            return True
        return False

    def _Import(self, node: ast.Import) -> None:
        for a in node.names:
            if self.import_module(node, a.name):
                self.check_path(node, tuple(a.name.split(".")))

    def _ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            self.add("escape", node, "uses a relative import")
            return
        if not self.import_module(node, node.module):
            return
        base = tuple(node.module.split("."))
        for a in node.names:
            if a.name != "*":
                self.check_path(node, base + (a.name,))
            elif base[0] == "autodiff_lab":
                for name in sorted(set(public_names(base)) & self.forbidden)[:1]:
                    self.add("engine-derivative", node, f"imports the engine's {name} (with *), which this "
                             "assignment asks you to write yourself")

    # --- a1's rules: Value's own arithmetic where the answer must build the node itself -------------------------
    def check_own_rules(self, scaffold: frozenset[str]) -> None:
        """In a cell whose functions are Value rules, flag what makes the engine compute a derivative for the
        answer: operators and Value methods applied to Values (parameters of the rule functions and of what
        they call, Value(...) and rule results), and Values passed to library functions or sum/max/..."""
        values = _ValueNames(self, scaffold)
        for node in ast.walk(self.tree):
            what = ""
            if isinstance(node, ast.BinOp) and (values.holds(node.left) or values.holds(node.right)):
                what = f"the operator {_OPERATORS.get(type(node.op), '?')}"
            elif isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Not) and values.holds(node.operand):
                what = f"the unary {_OPERATORS.get(type(node.op), '?')}"
            elif isinstance(node, ast.Compare) and any(values.holds(x) for x in (node.left, *node.comparators)) \
                    and not all(isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) for op in node.ops):
                what = "a comparison"
            elif isinstance(node, ast.AugAssign) and (values.holds(node.value) or values.holds(node.target)):
                what = f"the operator {_OPERATORS.get(type(node.op), '?')}="
            elif isinstance(node, ast.Attribute) and node.attr in VALUE_METHODS \
                    and not self.names.is_module(node.value):
                what = f"Value's method {node.attr}"
            elif isinstance(node, ast.Call) and values.passes_value(node):
                what = "a library function given a Value"
            if what:
                self.add("engine-derivative", node, f"builds its result with {what} on Values, so the engine "
                         "supplies the local gradients; build Value(data, op=..., parents=(...), "
                         "local_grads=(...)) yourself")


class _ValueNames:
    """Which expressions of a rule cell hold Values: the rule functions' parameters (functions named in the
    scaffold, lambdas passed around, and any function of the cell given a Value), names bound from Value(...)
    or from a rule, and the results of Value arithmetic."""

    def __init__(self, checker: _Checker, scaffold: frozenset[str]):
        self.checker, self.scaffold = checker, scaffold
        scopes = checker.names
        self.defined = {name: inner for _fn, name, inner in reversed(scopes.functions) if name}
        self.value_scopes: set[int] = set()
        nodes = list(ast.walk(checker.tree))
        calls = [n for n in nodes if isinstance(n, ast.Call)]
        passed = self._passed_around(nodes)
        for _fn, name, inner in scopes.functions:
            if not name or name in scaffold or name in passed:
                self.value_scopes.add(id(inner))
        changed = True
        while changed:
            changed = False
            for call in calls:
                callee = self._callee(call)
                if callee is not None and id(callee) not in self.value_scopes \
                        and any(self.holds(a) for a in self._arguments(call)):
                    self.value_scopes.add(id(callee))
                    changed = True

    def _passed_around(self, nodes: list[ast.AST]) -> set[str]:
        """The names used other than by calling them (a function given to map, reduce, ...)."""
        out = set()
        for node in nodes:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                parent = self.checker.names.parent.get(id(node))
                if not (isinstance(parent, ast.Call) and parent.func is node):
                    out.add(node.id)
        return out

    def _callee(self, call: ast.Call) -> object:
        return self.defined.get(call.func.id) if isinstance(call.func, ast.Name) else None

    @staticmethod
    def _arguments(call: ast.Call) -> list[ast.AST]:
        out = []
        for a in [*call.args, *(k.value for k in call.keywords)]:
            a = a.value if isinstance(a, ast.Starred) else a
            out += list(a.elts) if isinstance(a, (ast.Tuple, ast.List, ast.Set)) else [a]
        return out

    def is_value_class(self, func: ast.AST) -> bool:
        return isinstance(func, ast.Name) and (func.id == "Value" or any(
            p[0] == "autodiff_lab" and p[-1] == "Value" for p in self.checker.names.chain_paths(func)))

    def holds(self, node: ast.AST, depth: int = 0) -> bool:
        if depth > 8:
            return False
        if isinstance(node, ast.Name):
            for how in self.checker.names.lookup(node.id, self.checker.names.scope_of(node))[1]:
                if how[0] == "param" and id(how[1]) in self.value_scopes:
                    return True
                if how[0] == "assign" and self.holds(how[1], depth + 1):
                    return True
            return False
        if isinstance(node, ast.Call):
            return self.is_value_class(node.func) or (isinstance(node.func, ast.Name) and node.func.id in self.scaffold)
        if isinstance(node, ast.IfExp):
            return self.holds(node.body, depth + 1) or self.holds(node.orelse, depth + 1)
        if isinstance(node, (ast.BinOp, ast.UnaryOp)) and not isinstance(getattr(node, "op", None), ast.Not):
            parts = (node.left, node.right) if isinstance(node, ast.BinOp) else (node.operand,)
            return any(self.holds(p, depth + 1) for p in parts)
        if isinstance(node, ast.Subscript):
            return self.holds(node.value, depth + 1)
        if isinstance(node, ast.Attribute):
            return node.attr in ("a", "b", "parents") and self.holds(node.value, depth + 1)
        return False

    def passes_value(self, call: ast.Call) -> bool:
        """A Value given to a library function (np.exp(a) calls a.exp()) or to sum / max / abs / ..."""
        func = call.func
        if self.is_value_class(func) or self._callee(call) is not None:
            return False
        keyed = any(k.arg == "key" for k in call.keywords)        # max(a, b, key=lambda v: v.data) compares floats
        library = bool(self.checker.names.chain_paths(func)) or (isinstance(func, ast.Name) and not keyed
                                                                 and func.id in VALUE_BUILTINS
                                                                 and not self.checker.names.own(func))
        return library and any(self.holds(a) for a in self._arguments(call))
