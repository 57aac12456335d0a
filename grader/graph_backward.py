"""The backward pass of a Value graph that a harvest shipped (sandbox/harvest.py, op value_graph), run here in
the grader's process, so that no engine code in the student's kernel stands between the local derivatives the
student's rules wrote and the gradients that are graded.

    graph = {"data": (n,), "parents": (n, 2) indices or -1, "local": (n, 2), "leaves": per argument an index
             or a list of indices (-1: the output does not depend on it)}

Nodes come parents first and the output last; a graph that breaks this shape is refused (it is untrusted).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class BadGraph(ValueError):
    """What came back is not a graph of the shape the harvest sends."""


def leaf_gradients(graph: Any, n_args: int) -> list:
    """d output / d leaf for every argument's leaves: a float, or an array for a list argument."""
    data, parents, local, leaves = _checked(graph, n_args)
    g = np.zeros(len(data))
    g[-1] = 1.0
    for i in range(len(data) - 1, -1, -1):
        for k in (0, 1):
            if parents[i, k] >= 0:
                g[parents[i, k]] += local[i, k] * g[i]
    at = lambda j: float(g[j]) if j >= 0 else 0.0  # noqa: E731
    return [np.array([at(j) for j in leaf]) if isinstance(leaf, list) else at(leaf) for leaf in leaves]


def _checked(graph: Any, n_args: int) -> tuple:
    if not isinstance(graph, dict) or set(graph) != {"data", "parents", "local", "leaves"}:
        raise BadGraph("not a graph")
    data, parents, local = (np.asarray(graph[k]) for k in ("data", "parents", "local"))
    n = data.shape[0] if data.ndim == 1 else 0
    if n == 0 or parents.shape != (n, 2) or local.shape != (n, 2) or parents.dtype.kind not in "iu":
        raise BadGraph("the graph's arrays do not fit together")
    if np.any(parents >= np.arange(n)[:, None]) or np.any(parents < -1):
        raise BadGraph("a node comes before its parents")
    leaves = graph["leaves"]
    if not isinstance(leaves, list) or len(leaves) != n_args:
        raise BadGraph("one leaf per argument expected")
    for leaf in leaves:
        for j in leaf if isinstance(leaf, list) else [leaf]:
            if not isinstance(j, int) or not -1 <= j < n:
                raise BadGraph("a leaf is not a node of the graph")
    return data.astype(float), parents.astype(int), local.astype(float), leaves
