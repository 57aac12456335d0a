"""Checkpointing's memory: the gradient of a deep tanh network, each layer stored, against checkpointed blocks.

    h_0 = x,  h_(i+1) = tanh(h_i @ W_i),  loss = sum(h_n^2),  n = 64 layers, h of shape (1024, 64), float64

Without checkpointing, reverse mode stores every layer's h_i @ W_i and tanh(...) until the backward pass: the
peak is reached at the end of the forward pass. With the layers cut into blocks of 8, each run under
autodiff_lab.checkpoint, only the 8 block inputs are stored, and one block's 8 layers while it is recomputed.
Two measures, side by side:

- tracemalloc's peak of what numpy allocates during grad (arrays alive at once, W and x excluded: they exist
  before and after);
- the engine's own count, tape_memory: Boxes on the tape and the bytes of the arrays they hold. It is exact
  and the same on every run.

Time is the best of 5 rounds, the two run in turn (the recomputation costs about one more forward pass).

    python bench/checkpoint_memory.py          # prints both and their ratios
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

LAYERS, BLOCK, WIDTH, BATCH = 64, 8, 64, 1024


def network(seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, WIDTH))
    weights = [rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH) for _ in range(LAYERS)]
    return x, weights


def loss(x, weights: list, block: int | None = None):
    """sum(h_n^2) of the tanh network; with `block`, each run of `block` layers is one checkpoint."""
    import autodiff_lab.numpy as anp
    from autodiff_lab.checkpoint import checkpoint

    def layers(h, *ws):
        for w in ws:
            h = anp.tanh(h @ w)
        return h

    step = len(weights) if block is None else block
    run = layers if block is None else checkpoint(layers)
    h = x
    for start in range(0, len(weights), step):
        h = run(h, *weights[start:start + step])
    return anp.sum(h * h)


def measure(block: int | None, seed: int = 0) -> dict:
    """Peak bytes (tracemalloc), tape steps and bytes (tape_memory), and the gradients of x and W_0."""
    from autodiff_lab import grad
    from autodiff_lab.tape_memory import tape_memory

    x, weights = network(seed)
    tape = tape_memory(lambda x, ws: loss(x, ws, block), x, weights)
    tracemalloc.start()
    try:
        gx, gws = grad(lambda x, ws: loss(x, ws, block), argnums=(0, 1))(x, weights)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"peak_bytes": peak, "tape_steps": tape.steps, "tape_bytes": tape.bytes, "gx": gx, "gw0": gws[0]}


def best_seconds(rounds: int, seed: int = 0) -> dict:
    """The best time of each (stored, checkpointed) over `rounds` rounds run in turn, without tracemalloc."""
    from autodiff_lab import grad

    x, weights = network(seed)
    best = {None: float("inf"), BLOCK: float("inf")}
    for _ in range(rounds):
        for block in best:
            start = time.perf_counter()
            grad(lambda x, ws, block=block: loss(x, ws, block), argnums=(0, 1))(x, weights)
            best[block] = min(best[block], time.perf_counter() - start)
    return {"stored": best[None], "checkpointed": best[BLOCK]}


def compare(seed: int = 0, rounds: int = 5) -> dict:
    """Both runs, checked to give the same gradients, with the ratios stored over checkpointed."""
    stored, recomputed = measure(None, seed), measure(BLOCK, seed)
    seconds = best_seconds(rounds, seed)
    stored["seconds"], recomputed["seconds"] = seconds["stored"], seconds["checkpointed"]
    same = np.allclose(stored["gx"], recomputed["gx"]) and np.allclose(stored["gw0"], recomputed["gw0"])
    return {"stored": stored, "checkpointed": recomputed, "same_gradients": bool(same),
            "peak_ratio": stored["peak_bytes"] / recomputed["peak_bytes"],
            "tape_ratio": stored["tape_bytes"] / recomputed["tape_bytes"],
            "time_ratio": recomputed["seconds"] / stored["seconds"]}


def main(rounds: int = 5) -> dict:
    """Print the comparison; return compare()'s result."""
    r = compare(rounds=rounds)
    if not r["same_gradients"]:
        raise AssertionError("checkpointing changed the gradients")
    print(f"grad of a {LAYERS}-layer tanh network, h of shape ({BATCH}, {WIDTH}) float64, blocks of {BLOCK}\n")
    print(f"{'':26}{'every layer stored':>20}{'checkpointed':>16}{'ratio':>9}")
    for label, key, unit in (("peak allocated (MiB)", "peak_bytes", 2**20), ("tape (MiB)", "tape_bytes", 2**20)):
        a, b = r["stored"][key] / unit, r["checkpointed"][key] / unit
        print(f"{label:26}{a:20.1f}{b:16.1f}{a / b:8.2f}x")
    print(f"{'tape steps':26}{r['stored']['tape_steps']:20d}{r['checkpointed']['tape_steps']:16d}")
    print(f"{'time (s)':26}{r['stored']['seconds']:20.3f}{r['checkpointed']['seconds']:16.3f}"
          f"{r['time_ratio']:8.2f}x  (checkpointed / stored, best of {rounds})")
    return r


if __name__ == "__main__":
    main()
