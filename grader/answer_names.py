"""What the names of an answer cell stand for, read statically: Python's scopes (module, class, function,
lambda, comprehension; global and nonlocal), names bound to modules or to what they hold (imports, `m = np.lib`),
and what a chain of module attributes reaches, found on the real modules without running code: only modules
on the allowed list are imported, and attributes are read from a module's dict or with inspect.getattr_static.
answer_policy.py decides what is allowed; this file only says what a name is.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
import types
from functools import lru_cache

ALLOWED_MODULES = frozenset({"numpy", "math", "cmath", "autodiff_lab", "itertools", "functools", "collections",
                             "typing", "numbers", "random", "copy", "time", "statistics", "string"})
NUMPY_PACKAGES = ("numpy.linalg", "numpy.random", "numpy.fft", "numpy.polynomial", "numpy.ma")   # and below
NUMPY_MODULES = frozenset({"numpy", "numpy.lib", "numpy.lib.stride_tricks", "numpy.lib.scimath", "numpy.emath",
                           "numpy.lib.array_utils", "numpy.lib.mixins", "numpy.exceptions", "numpy.dtypes",
                           "numpy.typing", "numpy.version", "numpy.strings", "numpy.char", "numpy.rec",
                           "numpy.matrixlib", *NUMPY_PACKAGES})
ENGINE_DENIED = ("autodiff_lab.cli",)                      # runs commands and writes files
ENGINE_MODULES = ("autodiff_lab", "autodiff_lab.transforms", "autodiff_lab.check",
                  "autodiff_lab.check.finite_differences", "autodiff_lab.nn", "autodiff_lab.primitive")
FUNCTION_KINDS = ("function", "comprehension")
_MISSING = object()


def module_allowed(name: str) -> bool:
    """Whether answers may import or reach the module `name` (allowed list, numpy's public numerical parts)."""
    parts = name.split(".")
    if parts[0] not in ALLOWED_MODULES:
        return False
    if parts[0] == "numpy":
        return name in NUMPY_MODULES or name.startswith(tuple(p + "." for p in NUMPY_PACKAGES))
    return not any(name == d or name.startswith(d + ".") for d in ENGINE_DENIED)


def dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def chain(node):
    """(root Name, attribute names) of a pure chain such as np.lib.npyio, else None."""
    links = []
    while isinstance(node, ast.Attribute):
        links.append(node.attr)
        node = node.value
    return (node, tuple(reversed(links))) if isinstance(node, ast.Name) else None


@lru_cache(maxsize=4096)
def walk(path: tuple) -> tuple[tuple, str | None]:
    """The objects along `path` (a top-level module name, then attribute names) as far as they are found, and
    why the path is an escape, if it is: a private name, or a module outside the allowed set."""
    if path[0] not in ALLOWED_MODULES:
        return (), None
    obj = importlib.import_module(path[0])
    objs = [obj]
    for i, link in enumerate(path[1:], 1):
        here = ".".join(path[:i + 1])
        if dunder(link):
            break
        if link.startswith("_"):
            return tuple(objs), f"reads the private name {here}"
        nxt = _member(obj, link)
        if nxt is _MISSING:
            break
        name = nxt.name if isinstance(nxt, _Unloaded) else nxt.__name__ if isinstance(nxt, types.ModuleType) else None
        if name is not None and not module_allowed(name):
            return tuple(objs), f"reaches the module {name} through {here}"
        if isinstance(nxt, _Unloaded):
            break
        objs.append(nxt)
        obj = nxt
    return tuple(objs), None


class _Unloaded:
    """A submodule that is not imported (and will not be: it is not allowed)."""

    def __init__(self, name: str):
        self.name = name


def _member(obj, link: str):
    """obj.link without running code: a module's own dict, a submodule (imported only if allowed, else its
    name), or inspect.getattr_static; _MISSING when there is none."""
    if isinstance(obj, types.ModuleType):
        if link in vars(obj):
            return vars(obj)[link]
        full = f"{obj.__name__}.{link}"
        if full in sys.modules:
            return sys.modules[full]
        if hasattr(obj, "__path__"):
            try:
                spec = importlib.util.find_spec(full)
            except (ImportError, ValueError):
                spec = None
            if spec is not None and module_allowed(full):
                try:
                    return importlib.import_module(full)
                except Exception:  # noqa: BLE001  (an allowed module that does not import here: nothing to read)
                    return _MISSING
            if spec is not None:
                return _Unloaded(full)
        return _MISSING
    try:
        return inspect.getattr_static(obj, link)
    except AttributeError:
        return _MISSING


@lru_cache(maxsize=64)
def engine_objects(names: frozenset) -> frozenset[int]:
    """ids of the engine's objects bearing a forbidden name (so that a re-export under another name is caught)."""
    ids = set()
    for module in ENGINE_MODULES:
        space = vars(importlib.import_module(module))
        ids.update(id(space[n]) for n in names if n in space and (callable(space[n])
                                                                   or isinstance(space[n], types.ModuleType)))
    return frozenset(ids)


def public_names(path: tuple) -> list[str]:
    objs, problem = walk(path)
    if problem or len(objs) != len(path) or not isinstance(objs[-1], types.ModuleType):
        return []
    names = getattr(objs[-1], "__all__", None)
    return [n for n in (names if names is not None else vars(objs[-1])) if not n.startswith("_")]


class Scope:
    """A scope of the cell (module, class, function, lambda or comprehension) and the names bound in it:
    name -> [("local",) | ("param", scope) | ("self",) | ("alias", path) | ("assign", value node)]."""

    def __init__(self, kind: str, parent: Scope | None):
        self.kind, self.parent = kind, parent
        self.names: dict[str, list] = {}
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.self_name = ""

    def module(self) -> Scope:
        return self if self.parent is None else self.parent.module()

    def bind(self, name: str, how: tuple) -> None:
        target = self
        if name in self.globals:
            target = self.module()
        elif name in self.nonlocals:
            target = self.parent
            while target.parent is not None and (target.kind == "class" or name not in target.names):
                target = target.parent
        target.names.setdefault(name, []).append(how)


class _Scopes:
    """Each node's scope and parent, and what every scope binds (Python's own scoping rules, simplified
    conservatively: a name bound anywhere in a scope is that scope's)."""

    def __init__(self, tree: ast.AST):
        self.module = Scope("module", None)
        self.scope: dict[int, Scope] = {}
        self.parent: dict[int, ast.AST] = {}
        self.functions: list[tuple[ast.AST, str, Scope]] = []     # (def or lambda, its name or "", its scope)
        self.visit(tree, self.module)

    def visit(self, node: ast.AST, scope: Scope) -> None:
        self.scope[id(node)] = scope
        for child in ast.iter_child_nodes(node):
            self.parent[id(child)] = node
        handler = getattr(self, "_" + type(node).__name__, None)
        if handler is not None:
            handler(node, scope)
        else:
            for child in ast.iter_child_nodes(node):
                self.visit(child, scope)

    def _FunctionDef(self, node, scope):
        scope.bind(node.name, ("local",))
        inner = self._function(node, scope, node.name)
        for stmt in node.body:
            self.visit(stmt, inner)
        if inner.self_name and len(inner.names.get(inner.self_name, ())) == 1:
            inner.names[inner.self_name] = [("self",)]     # never rebound: always the instance
    _AsyncFunctionDef = _FunctionDef

    def _Lambda(self, node, scope):
        parent = self.parent.get(id(node))
        named = isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)
        inner = self._function(node, scope, parent.targets[0].id if named else "")
        self.visit(node.body, inner)

    def _function(self, node, scope: Scope, name: str) -> Scope:
        args = node.args
        outer_parts = [*getattr(node, "decorator_list", []), *args.defaults, *[d for d in args.kw_defaults if d]]
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *[a for a in (args.vararg, args.kwarg) if a]]
        outer_parts += [a.annotation for a in every if a.annotation]
        if getattr(node, "returns", None):
            outer_parts.append(node.returns)
        for part in outer_parts:
            self.visit(part, scope)
        inner = Scope("function", scope)
        for a in every:
            self.scope[id(a)] = inner
            inner.names[a.arg] = [("param", inner)]
        positional = [*args.posonlyargs, *args.args]
        decorators = {d.id for d in getattr(node, "decorator_list", []) if isinstance(d, ast.Name)}
        if scope.kind == "class" and positional and not decorators & {"staticmethod", "classmethod"} \
                and not isinstance(node, ast.Lambda):
            inner.self_name = positional[0].arg
        self.functions.append((node, name, inner))
        return inner

    def _ClassDef(self, node, scope):
        scope.bind(node.name, ("local",))
        for part in (*node.decorator_list, *node.bases, *node.keywords):
            self.visit(part, scope)
        inner = Scope("class", scope)
        for stmt in node.body:
            self.visit(stmt, inner)

    def _comprehension_scope(self, node, scope, results):
        inner = Scope("comprehension", scope)
        for i, gen in enumerate(node.generators):
            self.scope[id(gen)] = inner
            for child in ast.iter_child_nodes(gen):
                self.parent[id(child)] = gen
            self.visit(gen.iter, scope if i == 0 else inner)
            self.visit(gen.target, inner)
            for cond in gen.ifs:
                self.visit(cond, inner)
        for result in results:
            self.visit(result, inner)

    def _ListComp(self, node, scope):
        self._comprehension_scope(node, scope, [node.elt])
    _SetComp = _GeneratorExp = _ListComp

    def _DictComp(self, node, scope):
        self._comprehension_scope(node, scope, [node.key, node.value])

    def _Name(self, node, scope):
        if isinstance(node.ctx, ast.Load):
            return
        parent = self.parent.get(id(node))
        if isinstance(parent, ast.NamedExpr):
            while scope.kind == "comprehension":
                scope = scope.parent
        assigned = isinstance(parent, ast.Assign) and any(t is node for t in parent.targets)
        scope.bind(node.id, ("assign", parent.value) if assigned else ("local",))

    def _Import(self, node, scope):
        for a in node.names:
            path = tuple(a.name.split("."))
            scope.bind(a.asname or path[0], ("alias", path if a.asname else path[:1]))

    def _ImportFrom(self, node, scope):
        base = tuple(node.module.split(".")) if node.module and not node.level else None
        for a in node.names:
            if a.name == "*":
                for name in public_names(base) if base else ():
                    scope.bind(name, ("alias", base + (name,)))
            else:
                scope.bind(a.asname or a.name, ("alias", base + (a.name,)) if base else ("local",))

    def _Global(self, node, scope):
        scope.globals.update(node.names)

    def _Nonlocal(self, node, scope):
        scope.nonlocals.update(node.names)

    def _bind_and_visit(self, node, scope, name):
        if name:
            scope.bind(name, ("local",))
        for child in ast.iter_child_nodes(node):
            self.visit(child, scope)

    def _ExceptHandler(self, node, scope):
        self._bind_and_visit(node, scope, node.name)

    def _MatchAs(self, node, scope):
        self._bind_and_visit(node, scope, node.name)
    _MatchStar = _MatchAs

    def _MatchMapping(self, node, scope):
        self._bind_and_visit(node, scope, node.rest)


class Names(_Scopes):
    """What each name and attribute chain of a parsed cell stands for: the scope that binds a name, and the
    module paths (("numpy", "lib"), ("autodiff_lab", "vjp")) it may reach; `outer` holds the names that the
    other cells bind to modules ({name: [path]})."""

    def __init__(self, tree: ast.AST, outer: dict):
        super().__init__(tree)
        self.outer = outer

    def lookup(self, name: str, scope: Scope) -> tuple[str, list]:
        """(kind of the scope that binds `name` as seen from `scope`, how it is bound there). Names bound by the
        cell's top level or by the notebook's other cells both count ("module"); "builtin" when none binds it."""
        first = True
        while scope.parent is not None:
            if name in scope.globals:
                break
            if (first or scope.kind != "class") and name in scope.names:
                return scope.kind, scope.names[name]
            first, scope = False, scope.parent
        found = list(self.module.names.get(name, [])) + [("alias", p) for p in self.outer.get(name, ())]
        return ("module" if found else "builtin"), found

    def scope_of(self, node: ast.AST) -> Scope:
        return self.scope.get(id(node), self.module)

    def own(self, node: ast.Name) -> bool:
        """Whether the name is bound in a function of the cell (a parameter or local), so not a builtin."""
        return self.lookup(node.id, self.scope_of(node))[0] in FUNCTION_KINDS

    def paths_of(self, name: str, scope: Scope, depth: int = 0) -> list[tuple]:
        """The module paths `name` may stand for: imports, and names assigned a pure chain of them."""
        out = []
        for how in self.lookup(name, scope)[1]:
            if how[0] == "alias":
                out.append(how[1])
            elif how[0] == "assign" and depth < 8 and (found := chain(how[1])):
                root, links = found
                out += [p + links for p in self.paths_of(root.id, self.scope_of(root), depth + 1)]
        return out

    def chain_paths(self, node) -> list[tuple]:
        found = chain(node)
        if found is None:
            return []
        root, links = found
        return [p + links for p in self.paths_of(root.id, self.scope_of(root))]

    def is_self(self, node: ast.AST) -> bool:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return isinstance(node, ast.Name) and self.lookup(node.id, self.scope_of(node))[1] == [("self",)]

    def is_module(self, node) -> bool:
        return any(len(objs) == len(p) and isinstance(objs[-1], types.ModuleType)
                   for p in self.chain_paths(node) for objs in [walk(p)[0]])

