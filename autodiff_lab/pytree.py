"""Nested containers of arrays ("pytrees", as JAX calls them).

`grad(loss)(params)` works when `params` is a list, tuple or dict of arrays, nested to any depth: the
transformations flatten the container into a list of leaves, work on the leaves, and rebuild the same
structure around the results. None is an empty container; anything else is a leaf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class TreeDef(NamedTuple):
    """The shape of a container: its type, its dict keys (if any) and the TreeDefs of its children.
    A leaf has kind None."""

    kind: type | None
    keys: tuple = ()
    children: tuple = ()


LEAF = TreeDef(None)
NONE = TreeDef(type(None))
_LEAF_TYPES: set[type] = set()  # the types met as leaves so far: testing `type(x) in` it is quicker than isinstance


def tree_flatten(tree: Any) -> tuple[list, TreeDef]:
    """(leaves in order, structure) of a nested list/tuple/dict."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list) -> TreeDef:
    if isinstance(tree, dict):
        keys, children = tuple(tree), tree.values()
    elif isinstance(tree, (list, tuple)):
        keys, children = (), tree
    elif tree is None:
        return NONE
    else:
        _LEAF_TYPES.add(type(tree))
        leaves.append(tree)
        return LEAF
    defs = []
    for child in children:  # known leaves are handled here rather than in a call of their own: flattening is hot
        if type(child) in _LEAF_TYPES:
            leaves.append(child)
            defs.append(LEAF)
        else:
            defs.append(_flatten(child, leaves))
    return _new_treedef(TreeDef, (type(tree), keys, tuple(defs)))


_new_treedef = tuple.__new__  # TreeDef(...) without the Python-level __new__ that NamedTuple adds


def tree_unflatten(treedef: TreeDef, leaves: list) -> Any:
    """The inverse of tree_flatten: put `leaves` back into the structure `treedef`."""
    return _build(treedef, iter(leaves))


def _build(treedef: TreeDef, leaves: Any) -> Any:
    kind, keys, children = treedef
    if kind is None:
        return next(leaves)
    if kind is dict:
        return {key: next(leaves) if child is LEAF else _build(child, leaves) for key, child in zip(keys, children)}
    if kind is type(None):
        return None
    items = [next(leaves) if child is LEAF else _build(child, leaves) for child in children]
    if kind is list or kind is tuple:
        return kind(items)
    if issubclass(kind, dict):
        return kind(zip(keys, items))
    if hasattr(kind, "_fields"):  # a namedtuple
        return kind(*items)
    return kind(items)


def tree_map(f: Callable, tree: Any, *rest: Any) -> Any:
    """Apply f to each leaf (and the matching leaves of `rest`, which must have the same structure)."""
    leaves, treedef = tree_flatten(tree)
    others = [tree_flatten(r) for r in rest]
    for _, other_def in others:
        if other_def != treedef:
            raise ValueError(f"tree structures differ: {describe(treedef)} vs {describe(other_def)}")
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *(o[0] for o in others))])


def describe(treedef: TreeDef) -> str:
    """A short readable form of a structure, e.g. `[*, {'w': *, 'b': *}]`."""
    kind = treedef.kind
    if kind is None:
        return "*"
    if kind is type(None):
        return "None"
    inner = [describe(c) for c in treedef.children]
    if issubclass(kind, dict):
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(treedef.keys, inner)) + "}"
    if issubclass(kind, list):
        return "[" + ", ".join(inner) + "]"
    return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
