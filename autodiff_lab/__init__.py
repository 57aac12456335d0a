"""autodiff_lab: automatic differentiation you can read, draw and grade.

    from autodiff_lab import Value, Dual, grad, vjp, jvp, jacrev, jacfwd, hessian, hvp
    import autodiff_lab.numpy as anp

The package by layer (each imports only the ones listed before it):

    backend_numpy.py  numpy's array-API namespace (array-api-compat's, with quicker reductions)
    backend.py      which array library (numpy, cupy, array-api-strict) a computation runs on
    pytree.py       nested lists / tuples / dicts of arrays
    tracing.py      levels, and the tracers that record a computation: Box (reverse), Dual (forward)
    primitive.py    Primitive = implementation + one VJP and one JVP rule per argument; defvjp, defjvp
    numpy/          the `anp` functions, each a primitive with its rules next to it
    transforms.py   grad, value_and_grad, vjp, jvp, jacrev, jacfwd, hessian, hvp (the backward pass)
    stop_gradient.py, checkpoint.py, tape_memory.py   a constant to every transformation; recompute instead
                    of store; what a recording keeps
    scalar.py       Value, the scalar engine
    check/          finite differences, and checkers for VJP / JVP rules that can grade
    nn/, data/      layers, losses, SGD, and a small digits dataset
    graph.py, viz/  one neutral graph of a computation, and its drawings (import autodiff_lab.viz)
    cli.py          `autodiff-lab draw ...`, `autodiff-lab grade ...`
"""

from . import numpy  # noqa: F401  (import order: the anp functions before the transformations)
from .backend import asarray, get_backend, set_backend, to_numpy
from .checkpoint import checkpoint
from .primitive import Primitive, RuleError, defjvp, defvjp, primitive
from .pytree import tree_flatten, tree_map, tree_unflatten
from .scalar import Value
from .stop_gradient import stop_gradient
from .tracing import Dual
from .transforms import grad, hessian, hvp, jacfwd, jacrev, jvp, value_and_grad, vjp

__version__ = "0.1.0"

__all__ = [
    "Dual", "Primitive", "RuleError", "Value", "asarray", "checkpoint", "defjvp", "defvjp", "get_backend", "grad",
    "hessian", "hvp", "jacfwd", "jacrev", "jvp", "primitive", "set_backend", "to_numpy", "tree_flatten",
    "stop_gradient", "tree_map", "tree_unflatten", "value_and_grad", "vjp",
]
