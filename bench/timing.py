"""Timing that holds up on a busy machine: warm up, interleave the implementations being compared (so a
burst of load hits all of them alike), and keep the best of N rounds."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def best_times(candidates: dict[str, Callable[[], object]], rounds: int, calls: int = 1,
               warmup: int = 1) -> dict[str, float]:
    """Seconds per call of each candidate: the fastest of `rounds` rounds, a round timing `calls`
    back-to-back calls of each candidate in turn (the order rotates from round to round). The garbage
    collector stays on, as in real use; a full collection runs between candidates so that one
    candidate's garbage is not collected on another's clock."""
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    names = list(candidates)
    best = dict.fromkeys(names, float("inf"))
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn = candidates[name]
            gc.collect()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / calls)
    return best


def format_seconds(seconds: float) -> str:
    """1.23 s, 45.6 ms or 7.89 µs."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"
