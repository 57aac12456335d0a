"""Pytrees: flatten and unflatten are inverses for every container the engine accepts."""

from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest

from autodiff_lab.pytree import StructureMismatch, describe, tree_flatten, tree_map, tree_unflatten

Pair = namedtuple("Pair", "a b")


@pytest.mark.parametrize("tree, structure, leaves", [
    (1.0, "*", [1.0]),
    (None, "None", []),
    ([1, (2, 3), {"x": 4, "y": None}], "[*, (*, *), {'x': *, 'y': None}]", [1, 2, 3, 4]),
    (OrderedDict(b=1, a=[2]), "{'b': *, 'a': [*]}", [1, 2]),
    (Pair(1, [2, 3]), "(*, [*, *])", [1, 2, 3]),
    ({"k": Pair(None, (1,))}, "{'k': (None, (*,))}", [1]),
    ([[], {}, ()], "[[], {}, ()]", []),
])
def test_flatten_then_unflatten_gives_the_tree_back(tree, structure, leaves):
    got_leaves, treedef = tree_flatten(tree)
    assert got_leaves == leaves and describe(treedef) == structure
    rebuilt = tree_unflatten(treedef, got_leaves)
    assert rebuilt == tree and type(rebuilt) is type(tree)


def test_tree_map_over_two_trees_and_a_mismatch():
    assert tree_map(lambda a, b: a + b, {"w": [1, 2]}, {"w": [10, 20]}) == {"w": [11, 22]}
    with pytest.raises(ValueError, match=r"tree structures differ: \{'w': \[\*, \*\]\} vs \{'w': \[\*\]\}"):
        tree_map(lambda a, b: a + b, {"w": [1, 2]}, {"w": [10]})


SAME_STRUCTURE = [
    ([1, (2, 3), {"x": 4, "y": None}], [10, (20, 30), {"x": 40, "y": None}]),
    (OrderedDict(b=1, a=[2]), OrderedDict(b=10, a=[20])),
    (Pair(1, [2, 3]), Pair(10, [20, 30])),
    ({"k": Pair(None, (1,))}, {"k": Pair(None, (10,))}),
    ([[], {}, ()], [[], {}, ()]),
    (1.0, 10.0),
]
OTHER_STRUCTURE = [
    ([1, 2], (1, 2)),                       # list vs tuple
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}),   # the same keys in another order
    ({"a": 1}, OrderedDict(a=1)),           # dict vs a dict subclass
    ([1, 2], [1, [2]]),                     # a leaf vs a container
    ([1, [2]], [1, 2]),
    ([1, None], [1, 2]),                    # None vs a leaf
    ([1, 2], [1, None]),
    ([None], [np.ones(3)]),                 # (an array must not be compared with None elementwise)
    ([np.ones(3)], [None]),
    (Pair(1, 2), (1, 2)),                   # a namedtuple vs a tuple
    ([1, 2], [1, 2, 3]),
]


@pytest.mark.parametrize("a, b", SAME_STRUCTURE)
def test_tree_map_walks_trees_of_one_structure_side_by_side(a, b):
    mapped = tree_map(lambda x, y: f"{x}|{y}", a, b)
    assert tree_flatten(mapped)[1] == tree_flatten(a)[1]
    assert tree_flatten(mapped)[0] == [f"{x}|{y}" for x, y in zip(tree_flatten(a)[0], tree_flatten(b)[0])]


@pytest.mark.parametrize("a, b", OTHER_STRUCTURE)
def test_tree_map_refuses_trees_whose_treedefs_differ(a, b):
    """tree_map walks the trees itself instead of comparing treedefs: it must refuse exactly what
    tree_flatten tells apart, and say so with both structures."""
    assert tree_flatten(a)[1] != tree_flatten(b)[1]
    with pytest.raises(StructureMismatch, match="tree structures differ: .* vs .*"):
        tree_map(lambda x, y: x, a, b)


def test_containers_are_never_remembered_as_leaves():
    """Flattening remembers the types it met as leaves; a container type must never be among them, even a
    subclass met after its leaves, or its contents would vanish into one leaf."""
    from autodiff_lab import pytree

    trees = [[1.0, "s", b"b"], {"a": OrderedDict(x=Pair(1, 2))}, (Pair([3], None),)]
    for tree in trees:
        tree_flatten(tree)
    assert not {dict, list, tuple, OrderedDict, Pair, type(None)} & pytree._LEAF_TYPES
    assert tree_flatten([OrderedDict(x=1), Pair(2, 3)])[0] == [1, 2, 3]


def test_unflatten_still_works_when_the_row_of_leaves_was_forgotten():
    """tree_unflatten rebuilds a container of leaves in one step when it recognizes the shared row of LEAF
    markers; a treedef whose row has left the cache takes the general path, with the same result."""
    from autodiff_lab import pytree

    tree = [{"W": 1.0, "b": 2.0}, (3.0, 4.0)]
    leaves, treedef = tree_flatten(tree)
    pytree._leaf_row.cache_clear()
    assert tree_unflatten(treedef, leaves) == tree


def test_a_defaultdict_is_a_container_rebuilt_without_its_default_factory():
    tree = defaultdict(float, a=np.array([1.0, 2.0]), b=3.0)
    leaves, structure = tree_flatten(tree)
    back = tree_unflatten(structure, leaves)
    assert type(back) is defaultdict and back.default_factory is None and list(back) == ["a", "b"]
    doubled = tree_map(lambda x: x * 2, tree)
    assert np.array_equal(doubled["a"], [2.0, 4.0]) and doubled["b"] == 6.0
