"""`import autodiff_lab.numpy as anp`: numpy-like functions that the engine can differentiate.

Each function is a primitive with a VJP and a JVP rule, defined next to it in the file for its kind:

    elementwise.py     exp log sin cos tanh sigmoid relu abs sqrt maximum where logaddexp astype
    arithmetic.py      add subtract multiply divide negative power  (+ - * / ** on traced values)
    linear_algebra.py  matmul dot
    reductions.py      sum mean max, broadcast_to, and unbroadcast (used by every broadcasting VJP)
    softmax.py         logsumexp softmax log_softmax
    shapes.py          reshape transpose expand_dims squeeze concatenate stack
    indexing.py        x[index]: slices, integers, integer arrays, boolean masks
    creation.py        array zeros ones arange linspace eye zeros_like ones_like (constants)
    tracer_methods.py  makes traced values behave like arrays
"""

import math as _math

from . import tracer_methods  # noqa: F401  (gives traced values their array interface)
from .arithmetic import add, divide, multiply, negative, power, subtract
from .creation import arange, array, eye, linspace, ones, ones_like, zeros, zeros_like
from .elementwise import abs, astype, cos, exp, log, logaddexp, maximum, relu, sigmoid, sign, sin, sqrt, tanh, where
from .indexing import getitem, untake
from .linear_algebra import dot, matmul
from .reductions import broadcast_to, max, mean, sum, unbroadcast
from .shapes import concatenate, expand_dims, matrix_transpose, reshape, squeeze, stack, transpose
from .softmax import log_softmax, logsumexp, softmax

pi = _math.pi
e = _math.e

__all__ = [
    "abs", "add", "arange", "astype", "array", "broadcast_to", "concatenate", "cos", "divide", "dot", "e", "exp",
    "expand_dims", "eye", "getitem", "linspace", "log", "log_softmax", "logaddexp", "logsumexp",
    "matmul", "matrix_transpose", "max", "maximum", "mean", "multiply", "negative", "ones", "ones_like",
    "pi", "power", "relu", "reshape", "sigmoid", "sign", "sin", "softmax", "sqrt", "squeeze", "stack",
    "subtract", "sum", "tanh", "transpose", "unbroadcast", "untake", "where", "zeros", "zeros_like",
]
