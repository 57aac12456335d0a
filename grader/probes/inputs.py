"""Input specs of a hidden test: the values they stand for (`make_input`) and how those values travel to the
sandbox's harvest (`to_spec`). A spec or value the grader cannot read is a `HiddenTestError`.

Specs, in a probe's `args`: a float (that number), a shape tuple (standard normal entries; () gives a float), or
{"normal": shape, "scale": s, "shift": m}, {"uniform": shape, "low": a, "high": b}, {"labels": n, "classes": c},
{"array": nested list}, {"list": [specs]}, {"dict": {name: spec}}.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class HiddenTestError(ValueError):
    """A hidden test that the grader cannot read: an instructor's mistake in a source notebook."""



def make_input(spec: Any, rng: np.random.Generator) -> Any:
    """The value an input spec stands for (see this module's docstring)."""
    if isinstance(spec, bool) or spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, (int, float)):
        return float(spec)
    if isinstance(spec, (tuple, list)) and all(isinstance(n, int) for n in spec):
        return _shaped(rng.normal(size=tuple(spec)))
    if isinstance(spec, dict) and len(spec) >= 1:
        kind = next(iter(spec))
        if kind == "normal":
            return _shaped(spec.get("shift", 0.0) + spec.get("scale", 1.0) * rng.normal(size=tuple(spec["normal"])))
        if kind == "uniform":
            return _shaped(rng.uniform(spec.get("low", 0.0), spec.get("high", 1.0), size=tuple(spec["uniform"])))
        if kind == "labels":
            return rng.integers(0, spec["classes"], size=spec["labels"])
        if kind == "array":
            return np.array(spec["array"], dtype=float)
        if kind == "list":
            return [make_input(s, rng) for s in spec["list"]]
        if kind == "dict":
            return {k: make_input(s, rng) for k, s in spec["dict"].items()}
    raise HiddenTestError(f"cannot read the input spec {spec!r}")


def _shaped(a: np.ndarray) -> Any:
    return float(a) if a.ndim == 0 else a


def to_spec(value: Any, inputs: dict, key: str) -> Any:
    """`value` as the sandbox's harvest reads it (harvest.from_spec): arrays go into `inputs` and are named."""
    if isinstance(value, np.ndarray):
        inputs[key] = value
        return {"$array": key}
    if isinstance(value, dict):
        return {"$dict": {str(k): to_spec(v, inputs, f"{key}.{k}") for k, v in value.items()}}
    if isinstance(value, list):
        return [to_spec(v, inputs, f"{key}.{i}") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"$tuple": [to_spec(v, inputs, f"{key}.{i}") for i, v in enumerate(value)]}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    raise HiddenTestError(f"cannot send {type(value).__name__} to the sandbox")
