"""matplotlib pictures: which entries of a Jacobian are nonzero, and how finite differences err.

    plot_jacobian_sparsity(autodiff_lab.jacrev(f)(x))       the pattern of d out[i] / d x[j]
    plot_jacobian_gallery()                                  elementwise, W x w.r.t. W, sum, select-even
    plot_fd_error(np.sin, 1.0, np.cos(1.0))                  error of forward and central differences vs h

A finite difference errs twice: truncation (the Taylor terms it drops: O(h) forward, O(h²) central) shrinks
with h, round-off (f computed to about machine epsilon ε, divided by h) grows as h shrinks. The total is
smallest near h ≈ √ε ≈ 1e-8 for forward and h ≈ ε^(1/3) ≈ 6e-6 for central differences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import numpy as anp
from ..backend import to_numpy
from ..transforms import jacrev


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    """The given Axes, or those of a new figure of `size` inches laid out to fit its labels."""
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=size, layout="constrained").add_subplot()
    return ax


def jacobian_matrix(J: Any, out_ndim: int | None = None) -> np.ndarray:
    """J (shape out.shape + x.shape) as a matrix: one row per output element, one column per input element.
    out_ndim: how many leading axes belong to the output (default: 0 for a 1-d J, else 1)."""
    J = to_numpy(J)
    if out_ndim is None:
        out_ndim = min(1, J.ndim - 1) if J.ndim else 0
    if not 0 <= out_ndim <= J.ndim:
        raise ValueError(f"out_ndim={out_ndim} does not fit a Jacobian with {J.ndim} axes")
    rows = int(np.prod(J.shape[:out_ndim], dtype=int))
    cols = int(np.prod(J.shape[out_ndim:], dtype=int))
    return J.reshape(rows, cols)  # not (rows, -1): numpy cannot work out the -1 of an empty J


def plot_jacobian_sparsity(J: Any, ax: Any = None, title: str | None = None, *,
                           out_ndim: int | None = None) -> Any:
    """Draw which entries of the Jacobian J are nonzero (dark) and which are zero (white); returns the Axes.
    A VJP never builds J: this picture shows how much of it would be zeros."""
    M = jacobian_matrix(J, out_ndim)
    if M.size == 0:
        raise ValueError(f"the Jacobian is empty (shape {to_numpy(J).shape}: an input or output with no "
                         f"elements), so there is no pattern to draw")
    ax = _axes(ax, (4.5, 4))
    nonzero = M != 0
    ax.imshow(nonzero, cmap="Blues", vmin=0, vmax=1.25, interpolation="nearest", aspect="equal")
    rows, cols = M.shape
    if max(rows, cols) <= 40:  # cell borders help only while cells are large enough to see
        ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
        ax.grid(which="minor", color="#d1d5db", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(0, cols, -(-cols // 10)))  # at most ten labelled indices per axis
    ax.set_yticks(range(0, rows, -(-rows // 10)))
    ax.set_xlabel("input element j")
    ax.set_ylabel("output element i")
    default = f"{rows}×{cols} Jacobian: {int(nonzero.sum())} of {M.size} entries nonzero"
    ax.set_title(default if title is None else f"{title}\n{default}", fontsize=10)
    return ax


def jacobian_examples(n: int = 6) -> dict[str, tuple[Any, int]]:
    """{title: (Jacobian, out_ndim)} for the four patterns of the lectures, each computed with jacrev."""
    x = anp.linspace(-1.0, 1.0, n)
    W = anp.ones((3, n))
    return {
        "elementwise tanh(x): diagonal": (jacrev(anp.tanh)(x), 1),
        "y = W x, w.r.t. W: block rows": (jacrev(lambda W: W @ x)(W), 1),
        "sum(x): a row of ones": (jacrev(anp.sum)(x), 0),
        "x[::2], select even elements": (jacrev(lambda x: x[::2])(x), 1),
    }


def plot_jacobian_gallery(n: int = 6) -> Any:
    """The four sparsity patterns of `jacobian_examples` side by side; returns the Figure."""
    import matplotlib.pyplot as plt

    examples = jacobian_examples(n)
    fig, axes = plt.subplots(1, len(examples), figsize=(4 * len(examples), 3.6))
    for ax, (title, (J, out_ndim)) in zip(axes, examples.items(), strict=True):
        plot_jacobian_sparsity(J, ax=ax, title=title, out_ndim=out_ndim)
    fig.tight_layout()
    return fig


def fd_errors(f: Callable, x: Any, exact: Any, hs: Any) -> dict[str, np.ndarray]:
    """{"forward": errors, "central": errors}, one per step size in hs: the largest |finite difference -
    exact| over the elements of x. f maps x (a number or array) to a number; exact is its gradient."""
    x = np.asarray(to_numpy(x), dtype=float)
    exact = np.asarray(to_numpy(exact), dtype=float)
    if exact.shape != x.shape:
        raise ValueError(f"exact has shape {exact.shape} but x has shape {x.shape}: pass the gradient at x")
    hs = np.asarray(hs, dtype=float)
    fx = float(f(x))
    forward, central = np.empty(hs.shape), np.empty(hs.shape)
    for k, h in enumerate(hs):
        fwd, ctr = np.empty(x.shape), np.empty(x.shape)
        for i in np.ndindex(x.shape):
            e = np.zeros(x.shape)
            e[i] = h
            up, down = float(f(x + e)), float(f(x - e))
            fwd[i], ctr[i] = (up - fx) / h, (up - down) / (2 * h)
        forward[k], central[k] = np.max(np.abs(fwd - exact)), np.max(np.abs(ctr - exact))
    return {"forward": forward, "central": central}


def plot_fd_error(f: Callable, x: Any, exact: Any, hs: Any = None, ax: Any = None) -> Any:
    """Error of forward and central differences against the step size h (log-log), with the best h of each
    marked; returns the Axes. hs defaults to 10^-16 … 10^0."""
    hs = np.logspace(-16, 0, 65) if hs is None else np.asarray(hs, dtype=float)
    errors = fd_errors(f, x, exact, hs)
    ax = _axes(ax, (6.5, 4.5))
    styles = {"forward": ("o-", "forward (f(x+h) − f(x)) / h"),
              "central": ("s-", "central (f(x+h) − f(x−h)) / 2h")}
    for kind, err in errors.items():
        shown = np.where(err > 0, err, np.nan)  # an exact 0 has no place on a log axis
        marker, label = styles[kind]
        line, = ax.loglog(hs, shown, marker, markersize=3, linewidth=1.2, label=label)
        if np.isfinite(shown).any():
            best = int(np.nanargmin(shown))
            ax.plot(hs[best], shown[best], "*", color=line.get_color(), markersize=13)
            ax.annotate(f"best h ≈ {hs[best]:.0e}", (hs[best], shown[best]), textcoords="offset points",
                        xytext=(9, -3), fontsize=8, color=line.get_color())
    ax.text(0.03, 0.3, "← round-off ∝ ε/h", transform=ax.transAxes, fontsize=9, color="#4b5563")
    ax.text(0.97, 0.3, "truncation ∝ h, h² →", transform=ax.transAxes, fontsize=9, ha="right",
            color="#4b5563")
    ax.set_xlabel("step size h")
    ax.set_ylabel("|finite difference − exact derivative|")
    ax.set_title("Finite-difference error: truncation vs round-off", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(True, which="major", color="#e5e7eb", linewidth=0.6)
    return ax
