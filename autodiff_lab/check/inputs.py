"""Test inputs that finite differences can be trusted on.

A finite difference looks at f a step h ~ 1e-3 away from x (see finite_differences.py). If a kink (relu,
abs, max at a tie) or a domain edge (log and sqrt at 0, 1/x at 0) lies within that step, the difference
quotient averages two different slopes, or blows up, and a correct rule would "fail". So each domain keeps
its entries far, compared with the step, from the places where the functions of this course misbehave:

    domain            entries                                   for
    "real"            standard normal, clipped to [-3, 3]       exp, sin, tanh, sigmoid, softmax, matmul, ...
    "positive"        log-uniform in [0.5, 2]                   log, sqrt, the base of power, a divisor
    "away_from_zero"  +-[0.5, 2], random signs                  relu, abs, a divisor of either sign
    "near_zero"       uniform in [-0.25, 0.25]                  maximum(x, y), paired with "away_from_zero"
    "distinct"        shuffled, 0.2 apart (any two >= 0.1       max, a reduction: no ties
                      apart; the range grows with the size)
"""

from __future__ import annotations

import numpy as np

DOMAINS = ("real", "positive", "away_from_zero", "near_zero", "distinct")


def random_inputs(shape: tuple[int, ...] | int, domain: str = "real", seed: int = 0) -> np.ndarray:
    """A float64 array of `shape` drawn from `domain` (see the module docstring) with numpy's
    default_rng(seed): the same seed gives the same array."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return np.asarray(_draw(shape, domain, np.random.default_rng(seed)), dtype=np.float64)


def _draw(shape: tuple[int, ...], domain: str, rng: np.random.Generator) -> np.ndarray:
    if domain == "real":
        return np.clip(rng.standard_normal(shape), -3.0, 3.0)
    if domain == "positive":
        return np.exp(rng.uniform(np.log(0.5), np.log(2.0), shape))
    if domain == "away_from_zero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    if domain == "near_zero":
        return rng.uniform(-0.25, 0.25, shape)
    if domain == "distinct":
        # shuffled ranks 0.2 apart, centred on 0, each moved by at most 0.05: neighbours stay >= 0.1 apart
        n = int(np.prod(shape))
        ranks = rng.permutation(n) - (n - 1) / 2
        return (0.2 * ranks + rng.uniform(-0.05, 0.05, n)).reshape(shape)
    raise ValueError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")


def random_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Standard-normal float64 entries: the cotangents and tangents the checkers use. Never all ones: with
    an all-ones cotangent, a rule that forgets the upstream gradient looks right."""
    return np.asarray(rng.standard_normal(shape), dtype=np.float64)
