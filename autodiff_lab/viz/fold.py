"""Folding a named sub-graph (a sigmoid, a layer) into one node, so that a big drawing fits the page.

    find_groups(g)                  {"σ": [ids], "layer 1": [ids], ...}: the sigmoids written out as
                                    1 / (1 + exp(−z)) and the layers act(X @ W + b) that the graph contains
    fold(g, {"σ": ["n", "e", "d", "p"]})
                                    a new Graph where each group is one node; node.inner holds the sub-graph
                                    (drawn when the folded node is opened)

A group has one exit: the only node of it that is used outside it. The folded node carries the exit's value and
gradient. On the edge from an outside parent P to the folded node:

    upstream    dL/d exit
    downstream  the sum of the shares P received from the group's nodes  (= dL/dP through the group)
    local       d exit / dP = Σ over P's edges into the group of local(P → s) · d exit/d s, where d exit/d s
                is accumulated backwards through the group's own local derivatives (numbers only; None for
                arrays, whose Jacobians are never built)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..backend import shape
from ..graph import Edge, Graph, Node
from .text import op_text

SIGMOID_LAST = {"**-1", "/", "divide", "reciprocal", "power"}
ACTIVATIONS = {"tanh", "relu", "sigmoid"}
MATMUL = {"matmul", "@", "dot"}
ADD = {"add", "+"}


# ------------------------------------------------------------------------------------------- finding them
def find_groups(graph: Graph) -> dict[str, list[int]]:
    """The sub-graphs worth folding, named as a lecture names them: each sigmoid written out as
    1 / (1 + exp(−z)) is "σ" (σ, σ₂, ... when there are several), each affine map followed by its activation
    (X @ W + b, then tanh / relu / sigmoid, if any) is "layer k", in the order the computation runs them. A
    layer owns its weights and bias (leaves that only it uses): they fold with it and show when it is opened."""
    groups: dict[str, list[int]] = {}
    taken: set[int] = set()
    for node in graph.nodes:
        found = _sigmoid_at(graph, node.id)
        if found and not taken & set(found):
            count = sum(k.startswith("σ") for k in groups)
            name = f"σ{count + 1}" if count else "σ"
            groups[name] = found
            taken |= set(found)
    layer = 0
    for node in graph.nodes:
        found = _layer_at(graph, node.id)
        if found and not taken & set(found):
            layer += 1
            groups[f"layer {layer}"] = found
            taken |= set(found)
    return groups


def _consumers(graph: Graph) -> dict[int, list[int]]:
    used: dict[int, list[int]] = {}
    for edge in graph.edges:
        used.setdefault(edge.parent, []).append(edge.child)
    return used


def _only_consumer(graph: Graph, node_id: int, used: dict[int, list[int]]) -> int | None:
    children = used.get(node_id, [])
    return children[0] if len(set(children)) == 1 and graph.nodes[node_id].kind != "output" else None


def _const_parents(graph: Graph, node_id: int) -> list[int]:
    return [graph.edges[k].parent for k in graph.edges_into(node_id)
            if graph.nodes[graph.edges[k].parent].kind == "const"]


def _is_const(graph: Graph, node_id: int, value: float) -> bool:
    node = graph.nodes[node_id]
    return node.kind == "const" and shape(node.value) == () and float(node.value) == value


def _sigmoid_at(graph: Graph, start: int) -> list[int] | None:
    """[neg, exp, 1 + ·, 1 / · (with their constants)] when the chain starting at `start` is a sigmoid."""
    used = _consumers(graph)
    if graph.nodes[start].op not in {"neg", "negative"}:
        return None
    chain = [start]
    for ops in ({"exp"}, ADD, SIGMOID_LAST):
        nxt = _only_consumer(graph, chain[-1], used)
        if nxt is None or graph.nodes[nxt].op not in ops:
            return None
        chain.append(nxt)
    plus, last = graph.nodes[chain[2]], graph.nodes[chain[3]]
    if not any(_is_const(graph, c, 1.0) for c in _const_parents(graph, plus.id)):
        return None
    if last.op in {"/", "divide"}:
        numerator = [graph.edges[k].parent for k in graph.edges_into(last.id) if graph.edges[k].argnum == 0]
        if not numerator or not _is_const(graph, numerator[0], 1.0):
            return None
    if last.op == "power" and not any(_is_const(graph, c, -1.0) for c in _const_parents(graph, last.id)):
        return None
    return sorted(chain + _absorbed_constants(graph, chain, used))


def _layer_at(graph: Graph, start: int) -> list[int] | None:
    """[W, b, X @ W, · + b, activation] (the activation when there is one; W and b when they are leaves only
    this layer uses) starting at a matrix product."""
    used = _consumers(graph)
    if graph.nodes[start].op not in MATMUL:
        return None
    plus = _only_consumer(graph, start, used)
    if plus is None or graph.nodes[plus].op not in ADD:
        return None
    group = [start, plus]
    act = _only_consumer(graph, plus, used)
    if act is not None and graph.nodes[act].op in ACTIVATIONS:
        group.append(act)
    weights = [graph.edges[k].parent for k in graph.edges_into(start) if graph.edges[k].argnum == 1]
    bias = [graph.edges[k].parent for k in graph.edges_into(plus) if graph.edges[k].parent != start]
    own = [p for p in weights + bias
           if not graph.edges_into(p) and graph.nodes[p].kind in ("input", "param") and set(used[p]) <= set(group)]
    return sorted(group + own + _absorbed_constants(graph, group, used))


def _absorbed_constants(graph: Graph, group: list[int], used: dict[int, list[int]]) -> list[int]:
    """The constants that only the group's nodes use (the 1 of 1 + e): they fold with it."""
    inside = set(group)
    return [c for n in group for c in _const_parents(graph, n) if set(used.get(c, [])) <= inside]


# -------------------------------------------------------------------------------------------------- fold
def resolve(graph: Graph, groups: Mapping[str, Sequence[int | str]]) -> dict[str, list[int]]:
    """Groups given by node ids or labels, as ids; a ValueError names an unknown label or a group that is not
    one piece with one exit."""
    labels = {node.label: node.id for node in graph.nodes if node.label}
    out: dict[str, list[int]] = {}
    for name, members in groups.items():
        if isinstance(members, (str, int)):
            raise ValueError(f"fold={{{name!r}: ...}} needs a list of node labels or ids, got {members!r}")
        ids = []
        for m in members:
            if isinstance(m, str):
                if m not in labels:
                    raise ValueError(f"fold: group {name!r} names {m!r}, which no node is labelled; the labels are "
                                     f"{', '.join(sorted(labels)) or '(none)'}")
                ids.append(labels[m])
            elif isinstance(m, int) and 0 <= m < len(graph.nodes):
                ids.append(m)
            else:
                raise ValueError(f"fold: group {name!r} has {m!r}, which is neither a node label nor a node id "
                                 f"(0 to {len(graph.nodes) - 1})")
        used = _consumers(graph)
        ids = sorted(set(ids) | set(_absorbed_constants(graph, ids, used)))
        _exit(graph, name, ids, used)
        out[name] = ids
    taken: list[int] = [i for ids in out.values() for i in ids]
    if len(taken) != len(set(taken)):
        raise ValueError("fold: a node belongs to two groups; each node can be folded into one group only")
    return out


def _exit(graph: Graph, name: str, ids: list[int], used: dict[int, list[int]]) -> int:
    inside = set(ids)
    exits = [i for i in ids if graph.nodes[i].kind == "output" or not set(used.get(i, [])) <= inside]
    if len(exits) != 1:
        raise ValueError(f"fold: group {name!r} must have exactly one node used outside it (its result); it has "
                         f"{len(exits)}. Fold a piece of the computation that hands on one value.")
    return exits[0]


def fold(graph: Graph, groups: Mapping[str, Sequence[int | str]]) -> Graph:
    """`graph` with each group replaced by one node named for it (its `inner` is the group's own graph)."""
    groups = resolve(graph, groups)
    used = _consumers(graph)
    member = {i: name for name, ids in groups.items() for i in ids}
    exits = {name: _exit(graph, name, ids, used) for name, ids in groups.items()}
    new_id: dict[int, int] = {}
    nodes: list[Node] = []
    for node in graph.nodes:  # a group takes the place of its exit, so the order stays topological
        name = member.get(node.id)
        if name is not None and node.id != exits[name]:
            continue
        copy = Node(len(nodes), node.op, node.label, node.kind, node.value, node.grad, node.tangent)
        if name is not None:
            copy.op, copy.inner = name, inner_graph(graph, groups[name], name)
        nodes.append(copy)
        new_id[node.id] = copy.id
    for name, ids in groups.items():
        for i in ids:
            new_id[i] = new_id[exits[name]]
    edges: list[Edge] = []
    for name, ids in groups.items():
        edges += _edges_into_group(graph, ids, exits[name], new_id)
    for edge in graph.edges:
        if edge.child not in member:
            edges.append(Edge(new_id[edge.parent], new_id[edge.child], edge.argnum, edge.local, edge.upstream,
                              edge.downstream, edge.tangent))
    edges.sort(key=lambda e: (e.child, e.argnum))
    seeds = {new_id[k]: v for k, v in graph.seeds.items()}
    folded = Graph(nodes, edges, title=graph.title, seeds=seeds, notes=list(graph.notes))
    folded.notes.append("folded: " + ", ".join(f"{name} ({len(ids)} nodes)" for name, ids in groups.items()))
    return folded


def _edges_into_group(graph: Graph, ids: list[int], exit_id: int, new_id: dict[int, int]) -> list[Edge]:
    """One edge per outside parent of the group, with the chain rule through the group (module docstring)."""
    inside = set(ids)
    d_exit = _exit_derivatives(graph, ids, exit_id)
    by_parent: dict[int, list[Edge]] = {}
    for i in ids:
        for k in graph.edges_into(i):
            edge = graph.edges[k]
            if edge.parent not in inside:
                by_parent.setdefault(edge.parent, []).append(edge)
    upstream = graph.nodes[exit_id].grad
    out = []
    for argnum, (parent, into) in enumerate(by_parent.items()):
        downs = [e.downstream for e in into]
        downstream = None if any(d is None for d in downs) else sum(downs[1:], downs[0])
        local = None
        if d_exit is not None and all(e.local is not None and shape(e.local) == () for e in into):
            local = sum(float(e.local) * d_exit[e.child] for e in into)
        tangent = None
        p_tangent = graph.nodes[parent].tangent
        if local is not None and p_tangent is not None:
            tangent = local * p_tangent
        out.append(Edge(new_id[parent], new_id[exit_id], argnum, local,
                        upstream if downstream is not None else None, downstream, tangent))
    return out


def _exit_derivatives(graph: Graph, ids: list[int], exit_id: int) -> dict[int, float] | None:
    """d exit / d s for each node s of the group, accumulated backwards through the group's local derivatives;
    None when one of them is not a number."""
    inside = set(ids)
    d = {i: 0.0 for i in ids}
    d[exit_id] = 1.0
    for i in sorted(ids, reverse=True):
        for k in graph.edges_into(i):
            edge = graph.edges[k]
            if edge.parent in inside:
                if edge.local is None or shape(edge.local) != ():
                    return None
                d[edge.parent] += float(edge.local) * d[i]
    return d


def inner_graph(graph: Graph, ids: list[int], name: str) -> Graph:
    """The group with its outside parents as leaves: what opening the folded node shows."""
    inside = set(ids)
    outside = sorted({graph.edges[k].parent for i in ids for k in graph.edges_into(i)} - inside)
    order = outside + sorted(ids)
    new_id = {old: new for new, old in enumerate(order)}
    nodes = []
    for old in order:
        node = graph.nodes[old]
        kind = node.kind if old in inside else ("const" if node.kind == "const" else
                                                node.kind if node.kind in ("input", "param") else "input")
        label = node.label or (f"({node.op})" if old not in inside else "")
        nodes.append(Node(new_id[old], node.op if old in inside else "", label, kind, node.value, node.grad,
                          node.tangent))
    edges = [Edge(new_id[e.parent], new_id[e.child], e.argnum, e.local, e.upstream, e.downstream, e.tangent)
             for e in graph.edges if e.child in inside]
    own = [graph.nodes[i].label for i in sorted(ids) if not graph.nodes[i].op and graph.nodes[i].label]
    ops = " ".join(op_text(graph.nodes[i].op) for i in sorted(ids) if graph.nodes[i].op)
    holds = "⊞ folds " + (", ".join(own) + ": " if own else "") + ops
    return Graph(nodes, edges, title=f"{name}, opened", notes=[holds])
