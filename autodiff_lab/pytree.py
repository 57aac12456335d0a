"""Nested containers of arrays ("pytrees", as JAX calls them).

`grad(loss)(params)` works when `params` is a list, tuple or dict of arrays, nested to any depth: the
transformations flatten the container into a list of leaves, work on the leaves, and rebuild the same
structure around the results. None is an empty container; anything else is a leaf.
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Callable
from typing import Any

# A structure ("treedef") is a plain tuple (kind, keys, children): the container's type (None for a leaf), its
# dict keys in order (or ()) and the structures of its children. Plain tuples compare by value, so two trees
# have the same structure exactly when their treedefs are equal, and they cost little to build.
TreeDef = tuple

LEAF: TreeDef = (None, (), ())
NONE: TreeDef = (type(None), (), ())
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
    defs, only_leaves = [], True
    for child in children:  # known leaves are handled here rather than in a call of their own: flattening is hot
        if type(child) in _LEAF_TYPES:
            leaves.append(child)
            defs.append(LEAF)
        else:
            defs.append(_flatten(child, leaves))
            only_leaves = False
    return type(tree), keys, _leaf_row(len(defs)) if only_leaves else tuple(defs)


@functools.lru_cache(maxsize=256)
def _leaf_row(n: int) -> tuple:
    """(LEAF,) * n, one shared tuple per n: _build knows a container of leaves by this identity. (A row pushed
    out of the cache only sends the treedefs holding it down _build's general path.)"""
    return (LEAF,) * n


def tree_unflatten(treedef: TreeDef, leaves: list) -> Any:
    """The inverse of tree_flatten: put `leaves` back into the structure `treedef`."""
    return _build(treedef, iter(leaves))


def _build(treedef: TreeDef, leaves: Any) -> Any:
    kind, keys, children = treedef
    if kind is None:
        return next(leaves)
    if kind is type(None):
        return None
    if children is _leaf_row(len(children)):  # only leaves inside (a layer's params): taken in one step
        if kind is dict:
            return dict(zip(keys, leaves))  # zip asks `keys` first, so it takes no leaf too many
        items = list(itertools.islice(leaves, len(children)))
    else:
        items = [next(leaves) if child is LEAF else _build(child, leaves) for child in children]
    return _container(kind, keys, items)


def _container(kind: type, keys: tuple, items: list) -> Any:
    """A container of type `kind` holding `items` (under `keys` for a dict)."""
    if kind is dict:  # the common kinds first, without an issubclass call
        return dict(zip(keys, items))
    if kind is list or kind is tuple:
        return kind(items)
    if issubclass(kind, defaultdict):  # its first argument is the default factory, which is not kept
        return kind(None, zip(keys, items))
    if issubclass(kind, dict):
        return kind(zip(keys, items))
    if hasattr(kind, "_fields"):  # a namedtuple
        return kind(*items)
    return kind(items)


def tree_map(f: Callable, tree: Any, *rest: Any) -> Any:
    """f applied leaf by leaf: a tree of `tree`'s structure holding f(leaf, *matching leaves of `rest`). The
    trees in `rest` must have exactly tree's structure; a ValueError shows both structures when they do not.

    The trees are walked side by side once, rather than flattened and rebuilt: an optimizer does this on
    every step."""
    try:
        return _map(f, tree, rest)
    except _Mismatch:
        treedef = tree_flatten(tree)[1]
        other = next(d for d in (tree_flatten(r)[1] for r in rest) if d != treedef)
        raise StructureMismatch(f"tree structures differ: {describe(treedef)} vs {describe(other)}") from None


class StructureMismatch(ValueError):
    """tree_map was given trees of different structures."""


class _Mismatch(Exception):
    """Raised inside the walk where the trees part ways; tree_map turns it into a StructureMismatch."""


def _map(f: Callable, tree: Any, rest: tuple) -> Any:
    kind = type(tree)
    if isinstance(tree, dict):
        keys, columns = tuple(tree), [tree.values()]
        for r in rest:
            if type(r) is not kind or tuple(r) != keys:
                raise _Mismatch
            columns.append(r.values())
    elif isinstance(tree, (list, tuple)):
        keys, columns = (), [tree]
        for r in rest:
            if type(r) is not kind or len(r) != len(tree):
                raise _Mismatch
            columns.append(r)
    elif tree is None:
        for r in rest:
            if r is not None:
                raise _Mismatch
        return None
    else:  # a leaf
        for r in rest:
            if isinstance(r, (dict, list, tuple)) or r is None:
                raise _Mismatch
        _LEAF_TYPES.add(kind)
        return f(tree, *rest)
    items = []
    for xs in zip(*columns):  # children that are all known leaves are mapped here, not in a call of their own
        items.append(f(*xs) if _LEAF_TYPES.issuperset(map(type, xs)) else _map(f, xs[0], xs[1:]))
    return _container(kind, keys, items)


def describe(treedef: TreeDef) -> str:
    """A short readable form of a structure, e.g. `[*, {'w': *, 'b': *}]`."""
    kind, keys, children = treedef
    if kind is None:
        return "*"
    if kind is type(None):
        return "None"
    inner = [describe(c) for c in children]
    if issubclass(kind, dict):
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(keys, inner)) + "}"
    if issubclass(kind, list):
        return "[" + ", ".join(inner) + "]"
    return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
