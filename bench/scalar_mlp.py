"""Workload 3: micrograd's demo training step, run by one scalar MLP written once and parametrized by the
Value class, so autodiff_lab.Value and micrograd.engine.Value do exactly the same arithmetic.

The step: MLP(2, [16, 16, 1]) with ReLU on 100 two-moons points, the max-margin (SVM) loss
mean(relu(1 - y * score)) plus 1e-4 * sum(p^2), backward, and an SGD update: about 65k graph nodes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np


class Neuron:
    def __init__(self, Value: type, n_in: int, relu: bool, rng: random.Random) -> None:
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(n_in)]
        self.b = Value(0.0)
        self.relu = relu

    def __call__(self, x: list) -> Any:
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.relu() if self.relu else act

    def parameters(self) -> list:
        return self.w + [self.b]


class MLP:
    """Layers of Neurons; ReLU everywhere except on the output."""

    def __init__(self, Value: type, n_in: int, sizes: list[int], seed: int = 1337) -> None:
        rng = random.Random(seed)
        dims = [n_in] + sizes
        self.layers = [
            [Neuron(Value, dims[i], i < len(sizes) - 1, rng) for _ in range(dims[i + 1])]
            for i in range(len(sizes))
        ]

    def __call__(self, x: list) -> Any:
        for layer in self.layers:
            x = [neuron(x) for neuron in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list:
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]


def two_moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in 2-D with labels -1 / +1 (like scikit-learn's make_moons)."""
    rng = np.random.default_rng(seed)
    n_top = n // 2
    t_top, t_bottom = np.linspace(0, math.pi, n_top), np.linspace(0, math.pi, n - n_top)
    top = np.stack([np.cos(t_top), np.sin(t_top)], axis=1)
    bottom = np.stack([1 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)], axis=1)
    X = np.concatenate([top, bottom]) + noise * rng.normal(size=(n, 2))
    y = np.concatenate([-np.ones(n_top), np.ones(n - n_top)])
    return X, y


def make_step(Value: type, lr: float = 0.05,
              alpha: float = 1e-4) -> tuple[Callable[[], float], Callable[[], int]]:
    """(step, count_nodes) for one Value class: step() runs forward, backward and the update, returning the
    loss; count_nodes() builds the graph once and returns how many Values it has."""
    X, y = two_moons()
    model = MLP(Value, 2, [16, 16, 1])
    params = model.parameters()

    def loss() -> Any:
        inputs = [[Value(float(a)) for a in row] for row in X]
        scores = [model(row) for row in inputs]
        losses = [(1 + -float(yi) * score).relu() for yi, score in zip(y, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = alpha * sum(p * p for p in params)
        return data_loss + reg_loss

    def step() -> float:
        total = loss()
        for p in params:
            p.grad = 0.0
        total.backward()
        for p in params:
            p.data -= lr * p.grad
        return total.data

    def count_nodes() -> int:
        seen, stack = set(), [loss()]
        while stack:
            v = stack.pop()
            if id(v) not in seen:
                seen.add(id(v))
                stack.extend(getattr(v, "parents", None) or getattr(v, "_prev", ()))
        return len(seen)

    return step, count_nodes
