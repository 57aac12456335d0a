"""One neutral computational graph that every drawing reads: nodes carry values (and gradients, tangents),
edges carry the three numbers of the chain rule.

For an edge parent -> child (the parent is argument `argnum` of the child's operation):

    local       d child / d parent            known in the forward pass, right next to the value
    upstream    dL / d child                  the gradient arriving at the child from the output
    downstream  dL / d parent (this share)    = upstream x local; a parent's gradient sums its edges' shares
    tangent     d child (this share)          forward mode: local x the parent's tangent

For arrays the local derivative is a Jacobian, which reverse mode never builds: the downstream share is the
VJP rule applied to the upstream gradient. `local` is then filled only where one rule call gives the whole
Jacobian: a single row (the child is one number: the VJP of 1) or, in forward mode, a single column (the
parent is one number: the JVP of 1); elsewhere it is None.

Three builders:

    from_value(v)                              a scalar `Value` graph (after v.backward(), with gradients)
    trace(f, *args)                            an anp computation, recorded with Boxes, then run backwards
    forward_trace(f, primals, tangents)        the same recording, with tangents pushed forward per node
"""

from __future__ import annotations

import inspect
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .backend import namespace, shape
from .pytree import tree_flatten, tree_unflatten
from .scalar import Value
from .tracing import Box, Dual, Tracer, new_level, raw, tape_of
from .transforms import _check_differentiable, _ieee, backward_pass

KINDS = ("input", "param", "const", "op", "output")


@dataclass
class Node:
    """One value of the computation. `id` is its position in topological order (parents first); `op` is the
    operation that made it ("" for a leaf); `kind` is one of KINDS. A node that stands for a folded sub-graph
    (a sigmoid, a layer: viz/fold.py) keeps that sub-graph in `inner`."""

    id: int
    op: str
    label: str
    kind: str
    value: Any
    grad: Any = None
    tangent: Any = None
    inner: Graph | None = None


@dataclass
class Edge:
    """parent -> child, where the parent is argument `argnum` of the child's operation (see the module
    docstring for the four numbers)."""

    parent: int
    child: int
    argnum: int
    local: Any = None
    upstream: Any = None
    downstream: Any = None
    tangent: Any = None


@dataclass
class Graph:
    """Nodes in topological order (node.id == position in `nodes`) and the edges between them. `seeds` holds
    the gradient the backward pass fed into each output, `notes` what a drawing or table should point out."""

    nodes: list[Node]
    edges: list[Edge]
    title: str = ""
    seeds: dict[int, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _into: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for i, node in enumerate(self.nodes):
            if node.id != i:
                raise ValueError(f"node {node.label or node.op!r} has id {node.id}, but sits at position {i}")
        for k, edge in enumerate(self.edges):
            self._into.setdefault(edge.child, []).append(k)

    @property
    def has_grads(self) -> bool:
        """True once a backward pass has filled the gradients."""
        return any(node.grad is not None for node in self.nodes)

    @property
    def has_tangents(self) -> bool:
        return any(node.tangent is not None for node in self.nodes)

    @property
    def outputs(self) -> list[int]:
        return [node.id for node in self.nodes if node.kind == "output"]

    def seed(self, node_id: int) -> Any:
        """The gradient the backward pass fed into the output node_id, before other outputs that depend on it
        added theirs. A Value graph has one output, which nothing else adds to: its seed is its gradient."""
        return self.seeds.get(node_id, self.nodes[node_id].grad)

    def edges_into(self, node_id: int) -> list[int]:
        """Indices (into `edges`) of the edges from node_id's parents, in argument order."""
        return self._into.get(node_id, [])

    def op_counts(self, ids: Sequence[int] | None = None) -> Counter:
        """How many nodes each operation made (leaves counted by kind)."""
        chosen = self.nodes if ids is None else (self.nodes[i] for i in ids)
        return Counter(node.op or node.kind for node in chosen)

    def __repr__(self) -> str:
        what = "gradients" if self.has_grads else "tangents" if self.has_tangents else "values only"
        return f"<Graph {self.title!r}: {len(self.nodes)} nodes, {len(self.edges)} edges, {what}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """A Graph shows itself drawn in Jupyter, by the drawer that autodiff_lab.viz registers when imported
        (this layer knows nothing of drawing); without one, as its repr."""
        if _DISPLAY is None:
            return {"text/plain": repr(self)}
        return _DISPLAY(self, include, exclude)


_DISPLAY: Callable[[Graph, Any, Any], dict] | None = None


def set_display(drawer: Callable[[Graph, Any, Any], dict] | None) -> None:
    """How a Graph shows itself in Jupyter: drawer(graph, include, exclude) -> a MIME bundle (viz registers
    one on import)."""
    global _DISPLAY
    _DISPLAY = drawer


# ------------------------------------------------------------------------------------------ scalar Values
def from_value(v: Value, *, params: Sequence[str] = ()) -> Graph:
    """The graph of everything `v` depends on. Leaves named in `params` are parameters, other named leaves
    inputs, unnamed leaves constants. Gradients appear only after v.backward()."""
    if not isinstance(v, Value):
        raise TypeError(f"from_value needs a Value, got {type(v).__name__}. {_hint(v)}")
    order = v.topological_order()
    position = {id(u): i for i, u in enumerate(order)}
    backward_done = v.grad != 0
    nodes, edges = [], []
    for i, u in enumerate(order):
        if u is v:
            kind = "output"
        elif u.parents:
            kind = "op"
        else:
            kind = "param" if u.label and u.label in params else "input" if u.label else "const"
        nodes.append(Node(i, u.op, u.label, kind, u.data, u.grad if backward_done else None))
        for argnum, (parent, local) in enumerate(zip(u.parents, u.local_grads, strict=True)):
            edge = Edge(position[id(parent)], i, argnum, local=local)
            if backward_done:
                edge.upstream, edge.downstream = u.grad, u.grad * local
            edges.append(edge)
    graph = Graph(nodes, edges, title=v.label or "Value graph")
    accumulated = _accumulated_leaves(graph) if backward_done else []
    if accumulated:
        graph.notes.append(f"gradients accumulated over several backward() calls ({'; '.join(accumulated)}): "
                           f"zero them with {v.label or 'v'}.zero_grad() before backward() to start again")
    return graph


def _accumulated_leaves(graph: Graph) -> list[str]:
    """A line for each leaf whose gradient is not the sum of its edges' shares: leaves keep adding up over
    several backward() calls (as in PyTorch), while the edges show the latest pass only."""
    shares: dict[int, list[float]] = {}
    for edge in graph.edges:
        shares.setdefault(edge.parent, []).append(edge.downstream)
    names = []
    for node_id, parts in shares.items():
        node = graph.nodes[node_id]
        rounding = 1e-9 * sum(map(abs, parts))  # the shares may have been added in another order
        if not graph.edges_into(node_id) and abs(node.grad - sum(parts)) > rounding:
            name = node.label or f"the constant {node.value:g}"
            names.append(f"{name} has {node.grad:g}, its edges add up to {sum(parts):g}")
    return names


# ------------------------------------------------------------------------------------ traced computations
def trace(f: Callable, *args: Any, names: Sequence[str] | None = None, params: Sequence[str] = (),
          seed: Any = None, backward: bool = True) -> Graph:
    """Run f(*args) on Boxes and return the recorded graph, after the backward pass: every node's gradient
    dL/d node, every edge's upstream, local and downstream gradient.

    args may be floats, arrays, or lists / tuples / dicts of them. `names` names the arguments (default: f's
    parameter names); arguments named in `params` are drawn as parameters. `seed` is the gradient fed into
    the output (default 1; ones for an array output, i.e. the gradient of its sum). backward=False records
    the values only."""
    return _build(f, args, names, params, "trace", seed=seed, backward=backward)


def forward_trace(f: Callable, primals: Sequence, tangents: Sequence, names: Sequence[str] | None = None,
                  params: Sequence[str] = ()) -> Graph:
    """Record f(*primals) and push `tangents` forward node by node with the JVP rules: each node's tangent,
    and on each edge the parent's contribution to the child's tangent (local x parent tangent)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("forward_trace takes primals and tangents as tuples: forward_trace(f, (x,), (t,))")
    return _build(f, tuple(primals), names, params, "forward_trace", tangents=tuple(tangents), backward=False)


def _build(f: Callable, args: tuple, names: Sequence[str] | None, params: Sequence[str], caller: str, *,
           seed: Any = None, tangents: tuple | None = None, backward: bool = True) -> Graph:
    """Record f(*args) with Boxes, then fill gradients (backward) and / or tangents into a Graph."""
    if not callable(f):
        raise TypeError(f"{caller} needs a function first, got {type(f).__name__}: {caller}(f, *args)")
    for leaf in tree_flatten(args)[0]:
        if isinstance(leaf, (Value, Tracer)):
            raise TypeError(f"{caller} traces functions of plain numbers and arrays; got a "
                            f"{type(leaf).__name__} as an argument. {_hint(leaf)}")
    _check_differentiable(args, caller, range(len(args)))
    leaf_names = _leaf_names(f, args, names, caller)
    tangent_leaves = None if tangents is None else _ieee(_tangent_leaves(args, tangents))
    leaves, treedef = tree_flatten(args)
    with new_level() as level:
        inputs = [Box(x, level) for x in _ieee(leaves)]  # floats divide by zero as IEEE floats do
        out = f(*tree_unflatten(treedef, inputs))
        recorded = tape_of(level)
    _check_no_outer_tracers(recorded, caller)
    outputs = [o for o in tree_flatten(out)[0] if isinstance(o, Box) and o.level == level]
    if not outputs:
        raise ValueError(f"{caller}: f's output does not depend on its inputs (it returned "
                         f"{type(out).__name__}), so there is no graph to draw. Compute it from the "
                         f"arguments with operators and anp functions.")
    needed = _needed_by(outputs, recorded)
    recorder = _Recorder(set(outputs), recorded)
    for x, name in zip(inputs, leaf_names, strict=True):
        recorder.leaf(x, name, "param" if _base_name(name) in params or name in params else "input")
    for box in recorded:
        if box.parents and box in needed:
            recorder.operation(box)
    if backward:
        recorder.fill_gradients(outputs, seed)
    if tangent_leaves is not None:
        recorder.fill_tangents(inputs, tangent_leaves)
    title = getattr(f, "__name__", "f")
    return Graph(recorder.nodes, recorder.edges, title="computation" if title == "<lambda>" else title,
                 seeds=recorder.seeds)


def _check_no_outer_tracers(recorded: list[Box], caller: str) -> None:
    """A value traced by an enclosing transformation (grad, jvp, ...) that f uses without taking it as an
    argument would turn every value it touches into a tracer: refuse it instead of drawing tracers."""
    if any(isinstance(box.value, Tracer) for box in recorded):
        raise TypeError(
            f"{caller}: f uses a value traced by an enclosing transformation (grad, jvp, ...) without taking it "
            f"as an argument, as x in grad(lambda x: ... {caller}(lambda y: x * y, 2.0)). A graph records plain "
            f"numbers: call {caller} outside the transformation, or pass that value to f as an argument."
        )


def _needed_by(outputs: list[Box], recorded: list[Box]) -> set[Box]:
    """The boxes the outputs depend on: the tape read backwards, each needed box adding its parents."""
    needed = set(outputs)
    for box in reversed(recorded):
        if box in needed:
            needed.update(box.parents)
    return needed


class _Recorder:
    """Turns Boxes (and the constants among their arguments) into Nodes and Edges."""

    def __init__(self, outputs: set, recorded: list[Box]) -> None:
        self.outputs = outputs
        self.recorded = recorded
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.node_of: dict[int, int] = {}  # id(box or constant) -> node id
        self.boxes: dict[int, Box] = {}    # node id -> box
        self.seeds: dict[int, Any] = {}    # output node id -> the gradient fed into it

    def leaf(self, box: Box, name: str, kind: str) -> None:
        self._add(box, "", name, "output" if box in self.outputs else kind, box.value)

    def _add(self, key: Any, op: str, label: str, kind: str, value: Any) -> int:
        node_id = len(self.nodes)
        self.nodes.append(Node(node_id, op, label, kind, value))
        self.node_of[id(key)] = node_id
        if isinstance(key, Box):
            self.boxes[node_id] = key
        return node_id

    def operation(self, box: Box) -> None:
        """The box's node, after a node for each constant argument that the primitive could differentiate
        (a number or array, not an axis or an index: those have no VJP rule)."""
        primitive, traced = box.primitive, dict(zip(box.argnums, box.parents, strict=True))
        parents = {}
        for argnum, arg in enumerate(box.args):
            if argnum in traced:
                parents[argnum] = self.node_of[id(traced[argnum])]
            elif argnum in primitive.vjps or primitive.any_arg_vjp is not None:
                if id(arg) not in self.node_of:
                    self._add(arg, "", "", "const", arg)
                parents[argnum] = self.node_of[id(arg)]
        child = self._add(box, primitive.name, "", "output" if box in self.outputs else "op", box.value)
        for argnum, parent in parents.items():
            self.edges.append(Edge(parent, child, argnum))

    def _traced_edges(self) -> list[tuple[Edge, Box]]:
        """(edge, child box) for the edges whose parent is a Box: the ones the engine differentiates."""
        return [(e, self.boxes[e.child]) for e in self.edges if e.parent in self.boxes]

    def fill_gradients(self, outputs: list[Box], seed: Any) -> None:
        if seed is not None and len(outputs) > 1:
            raise ValueError("seed= is for a function with one output; this one has several")
        seeds = [(o, _ones_like(o.value) if seed is None else _as_seed(seed, o.value)) for o in outputs]
        for o, s in seeds:  # an output returned twice is seeded twice
            node_id = self.node_of[id(o)]
            self.seeds[node_id] = s if node_id not in self.seeds else self.seeds[node_id] + s
        cotangents = backward_pass(seeds, self.recorded, keep_all=True)
        for node_id, box in self.boxes.items():
            self.nodes[node_id].grad = cotangents[box] if box in cotangents else _zeros_like(box.value)
        for edge, child in self._traced_edges():
            prim, ans, args, kwargs = child.primitive, child.value, child.args, child.kwargs
            edge.upstream = cotangents[child]
            edge.downstream = prim.apply_vjp_rule(edge.argnum, edge.upstream, ans, args, kwargs)
            if math.prod(shape(ans)) == 1:  # the Jacobian is a single row: the VJP of 1 is the local derivative
                edge.local = prim.apply_vjp_rule(edge.argnum, _ones_like(ans), ans, args, kwargs)

    def fill_tangents(self, inputs: list[Box], tangents: list) -> None:
        """Edges sit in their children's order, so a parent's tangent is complete before it is pushed on."""
        for box, t in zip(inputs, tangents, strict=True):
            self.nodes[self.node_of[id(box)]].tangent = t
        for edge, child_box in self._traced_edges():
            prim, ans, args = child_box.primitive, child_box.value, child_box.args
            kwargs = child_box.kwargs or {}
            parent_t = self.nodes[edge.parent].tangent
            edge.tangent = prim.apply_jvp_rule(edge.argnum, parent_t, ans, args, kwargs)
            child = self.nodes[edge.child]
            child.tangent = edge.tangent if child.tangent is None else child.tangent + edge.tangent
            if edge.local is None and math.prod(shape(parent_t)) == 1:  # a single column: the JVP of 1 is the local one
                edge.local = prim.apply_jvp_rule(edge.argnum, _ones_like(parent_t), ans, args, kwargs)


def _tangent_leaves(primals: tuple, tangents: tuple) -> list:
    p_leaves, p_def = tree_flatten(primals)
    t_leaves, t_def = tree_flatten(tangents)
    if p_def != t_def:
        raise ValueError("tangents must have the structure of the primals: one tangent per primal")
    for p, t in zip(p_leaves, t_leaves, strict=True):
        if shape(p) != shape(t):
            raise ValueError(f"a tangent has shape {shape(t)} but its primal has shape {shape(p)}; "
                             f"they must match")
    return t_leaves


# ---------------------------------------------------------------------------------------------- helpers
def _leaf_names(f: Callable, args: tuple, names: Sequence[str] | None, caller: str) -> list[str]:
    """One name per leaf: the argument's name (given, or f's parameter name), with [key] for nested leaves."""
    if names is None:
        names = _parameter_names(f, len(args))
    elif isinstance(names, str) or len(names) != len(args):
        raise ValueError(f"{caller}: names= needs one name per argument ({len(args)}), got {names!r}")
    out: list[str] = []
    for arg, name in zip(args, names, strict=True):
        _walk_names(arg, str(name), out)
    return out


def _parameter_names(f: Callable, n: int) -> list[str]:
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        p = params[i] if i < len(params) else (params[-1] if params else None)
        if p is None or p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD):
            names.append(f"x{i}")
        elif p.kind == p.VAR_POSITIONAL or i >= len(params):
            names.append(f"{p.name}{i - params.index(p)}")
        else:
            names.append(p.name)
    return names


def _walk_names(tree: Any, prefix: str, out: list[str]) -> None:
    """Names in tree_flatten's order."""
    if isinstance(tree, dict):
        for key, child in tree.items():
            _walk_names(child, f"{prefix}[{key!r}]", out)
    elif isinstance(tree, (list, tuple)):
        for i, child in enumerate(tree):
            _walk_names(child, f"{prefix}[{i}]", out)
    elif tree is not None:
        out.append(prefix)


def _base_name(name: str) -> str:
    return name.split("[", 1)[0]


def _ones_like(x: Any) -> Any:
    x = raw(x)
    xp = namespace(x)
    return xp.ones_like(xp.asarray(x))


def _zeros_like(x: Any) -> Any:
    x = raw(x)
    xp = namespace(x)
    return xp.zeros_like(xp.asarray(x))


def _as_seed(seed: Any, like: Any) -> Any:
    xp = namespace(raw(like))
    s = xp.asarray(seed, dtype=xp.asarray(like).dtype)
    if shape(s) != shape(like):
        if shape(s) == ():
            return s * _ones_like(like)
        raise ValueError(f"seed has shape {shape(s)}, but the output has shape {shape(like)}; "
                         f"they must match")
    return s


def _hint(obj: Any) -> str:
    """How to get a graph from what the user has."""
    if isinstance(obj, Dual):
        return ("Duals carry tangents but record no graph: record the computation with "
                "graph.forward_trace(f, primals, tangents).")
    if isinstance(obj, Tracer):
        return "That is a traced value inside a transformation; draw graph.trace(f, *args) instead."
    if isinstance(obj, Value):
        return "A Value records its own graph: use graph.from_value(v) (or viz.draw(v))."
    if callable(obj):
        return "For a function, record it first: graph.trace(f, *args)."
    return ("Drawings are made from a Value (scalar engine) or from a recorded computation: "
            "graph.trace(f, *args) or graph.forward_trace(f, primals, tangents).")


def as_graph(obj: Any, *, params: Sequence[str] = ()) -> Graph:
    """A Graph from what a drawing function was given: a Graph itself or a Value."""
    if isinstance(obj, Graph):
        return obj
    if isinstance(obj, Value):
        return from_value(obj, params=params)
    raise TypeError(f"cannot draw a {type(obj).__name__}. {_hint(obj)}")
