"""The check behind check_vjp, check_jvp and check_grads: does a VJP or a JVP agree with finite differences?

f maps x to out (float64 arrays, f's other arguments held fixed), with Jacobian J (out.size x x.size). The map
under test is either

    a VJP:  cotangent v (out's shape)  ->  v^T J  (x's shape: the gradient of <v, f(x)>)
    a JVP:  tangent u (x's shape)      ->  J u    (out's shape)

and three comparisons run, each entry by entry (report.compare), and each must pass:

1. the map on a random normal v (VJP) or u (JVP), against v^T J from finite-difference columns J e_j, or
   the finite-difference derivative along u. Random normal, never all ones: with an all-ones cotangent, a
   rule that forgets the upstream gradient (or sums it away) gives the right numbers.
2. the Jacobian itself: the map applied to each one-hot e_i (rows of J for a VJP, columns for a JVP) against
   the finite-difference columns. A single random projection can hide a wrong Jacobian (that is how PyTorch's
   fast gradcheck once passed a completely wrong gradient); comparing every entry cannot.
3. the dot-product test <v, J u> = <v^T J, u>: one number that involves every entry of x and of out, even
   where steps 1 and 2 look at a sample.

Steps 1 and 2 look at every entry of x (and of out) when there are at most `max_entries` of them, and at a
random sample of max_entries entries otherwise. The random numbers come from numpy's default_rng(seed).

Tolerance: report.compare's rtol, and an absolute tolerance per entry of J of

    atol * max|J|  +  10 eps max|f(x)| / h       (h = 7.4e-4 max(1, |x|), the Richardson step)

atol being relative to the Jacobian's largest entry (so that multiplying f by a constant changes no verdict),
and the second term the finite differences' own rounding error. For a sum of entries of J weighted by a seed
(v^T J, J u) it is multiplied by the seed's 2-norm: rounding errors add up like independent random errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import is_array, to_numpy
from .finite_differences import EPS, RELATIVE_STEP, NotNumbersError, derivative_along, evaluate, step
from .inputs import random_normal
from .report import ATOL, RTOL, CheckReport, check_form, compare, exception_words

MAX_ENTRIES = 64


def check_derivative(mode: str, apply: Callable, f: Callable, x: np.ndarray, *, kind: str, name: str = "",
                     argnum: int | str | None = None, rtol: float = RTOL, atol: float = ATOL, seed: int = 0,
                     max_entries: int = MAX_ENTRIES) -> CheckReport:
    """Check `apply`, a VJP (mode "vjp") or a JVP (mode "jvp") of f at x, as described in the module
    docstring. Whatever apply or f raise or return, the outcome is a report, never an exception."""
    labels = dict(kind=kind, name=name, argnum=argnum, rtol=rtol, atol=atol)
    try:
        return DerivativeCheck(mode, apply, f, x, labels, np.random.default_rng(seed), max_entries).run()
    except Exception as err:  # noqa: BLE001  (the function's error becomes the report)
        return CheckReport(False, what="output", error=failure(name or "f", err), **labels)


def failure(name: str, err: Exception) -> str:
    """A report's words for an exception from f: what f returned if that was not numbers, else what f raised."""
    return str(err) if isinstance(err, NotNumbersError) else f"{name} raised {exception_words(err)}"


class DerivativeCheck:
    """The finite-difference reference for one f and x, and the three comparisons against it."""

    def __init__(self, mode: str, apply: Callable, f: Callable, x: np.ndarray, labels: dict,
                 rng: np.random.Generator, max_entries: int) -> None:
        self.vjp = mode == "vjp"
        self.apply, self.f, self.x, self.labels = apply, f, x, labels
        self.out = evaluate(f, x, labels["name"])
        self.v, self.u = random_normal(self.out.shape, rng), random_normal(x.shape, rng)
        self.cols, self.rows = _sample(x.size, max_entries, rng), _sample(self.out.size, max_entries, rng)
        # finite-difference columns J e_j for the sampled entries j of x: shape (out.size, len(cols))
        self.J = np.zeros((self.out.size, len(self.cols)))
        for k, j in enumerate(self.cols):
            h = step(x.flat[j], "richardson")
            self.J[:, k] = derivative_along(f, x, _one_hot(x.shape, j), "richardson", h).reshape(-1)
        self.Ju = derivative_along(f, x, self.u, "richardson")
        # the absolute tolerance for one entry of J: atol relative to J's scale, plus the rounding error of
        # the finite differences
        noise = 10 * EPS * float(np.max(np.abs(self.out), initial=0.0)) / RELATIVE_STEP["richardson"]
        self.scale = float(np.abs(self.J).max(initial=0.0))
        self.entry_atol = labels["atol"] * self.scale + noise
        self.seed_name = "cotangent" if self.vjp else "tangent"
        self.what = "gradient" if self.vjp else "tangent"
        self.in_shape, self.out_shape = (self.out.shape, x.shape) if self.vjp else (x.shape, self.out.shape)
        self.details: list[str] = []

    def run(self) -> CheckReport:
        """The three comparisons in turn: the first that fails is the outcome; if none does, the first's. With
        no finite reference to compare against, the outcome is a failure that says so."""
        problem = self.not_finite()
        if problem is not None:
            return CheckReport(False, what="output", error=problem, **self.labels)
        outcome, got = self.random_projection()
        if outcome.ok:
            jacobian = self.jacobian()
            if not jacobian.ok:
                outcome = jacobian
            else:
                dot = self.dot_product(got)
                outcome = outcome if dot.ok else dot
        if not outcome.ok and outcome.error is None and outcome.hint is None:
            self.warn_if_not_smooth(outcome)
        outcome.details = self.details
        return outcome

    def not_finite(self) -> str | None:
        """What is wrong when f(x), or f a finite-difference step away from x, is NaN or infinite (x outside
        f's domain, at its edge, or where f overflows); None when every value is finite."""
        name, draw = self.labels["name"] or "f", "(random_inputs(shape, domain=...) draws such inputs)"
        if not np.isfinite(self.out).all():
            i = _first_not_finite(self.out)
            entry = i if self.out.shape == self.x.shape else None  # likely elementwise: output i from input i
            nan_or_inf = "NaN" if np.isnan(self.out.flat[i]) else "infinite"
            return f"{name} at {self.entry(entry)} is {nan_or_inf}: pick inputs inside the domain {draw}."
        if not np.isfinite(self.J).all():
            j = self.cols[_first_not_finite(self.J) % len(self.cols)]
            away = f"a step of {step(self.x.flat[j], 'richardson'):.2g} away"
        elif not np.isfinite(self.Ju).all():
            j, away = None, "a step away along a random direction"
        else:
            return None
        return (f"{name} is finite at {self.entry(j)} but not {away}, where the finite differences look: pick "
                f"inputs inside the domain, at least a step from its edge {draw}.")

    def entry(self, j: int | None) -> str:
        """Entry j of x in words ("-1" when x is a number, "x[0] = -1"); "this x" when j is None."""
        if self.x.size == 1:
            return f"{self.x.flat[0]:g}"
        if j is None:
            return "this x"
        return f"x[{', '.join(map(str, _unravel(j, self.x.shape)))}] = {self.x.flat[j]:g}"

    def warn_if_not_smooth(self, report: CheckReport) -> None:
        """Add to a failed report the entries of x near which f has a kink: there the finite differences,
        not the rule, may be wrong."""
        try:
            rough = [_unravel(j, self.x.shape) for j in self.cols if not self.smooth_along(j)]
        except Exception:  # noqa: BLE001  (only a warning: if f fails here, say nothing)
            return
        if rough:
            where = ", ".join(f"x[{', '.join(map(str, index))}]" for index in rough[:3])
            report.diagnosis = (report.diagnosis + " " if report.diagnosis else "") + (
                f"But beware: f is not smooth near {where} (a kink or a domain edge: relu, abs or max at 0 "
                f"or at a tie, log or sqrt near 0), so finite differences cannot judge there. Check at "
                f"inputs away from it (random_inputs draws such inputs).")

    def smooth_along(self, j: int) -> bool:
        """Is f smooth near x along entry j? The forward minus the backward difference,
        (f(x+h) - 2 f(x) + f(x-h)) / h, is h f''(x) where f is smooth, so it halves when h halves; across a
        kink it is the jump in slope, whatever h."""
        e, h = _one_hot(self.x.shape, j), step(self.x.flat[j], "richardson")

        def bend(h: float) -> np.ndarray:
            ahead, here, behind = (evaluate(self.f, self.x + s * e, "finite differences")
                                   for s in (h, 0.0, -h))
            return (ahead - 2 * here + behind) / h

        return np.abs(bend(h / 2) - bend(h) / 2).max(initial=0.0) <= 1e-4 * self.scale + self.entry_atol

    def random_projection(self) -> tuple[CheckReport, np.ndarray | None]:
        """1. The map of a random normal seed, entry by entry."""
        seed = self.v if self.vjp else self.u
        words = f"a random normal {self.seed_name}"
        got = _call(self.apply, seed, self.what, words, self.labels)
        if isinstance(got, CheckReport):
            return got, None
        expected, mask = self.reference(seed) if self.vjp else (self.Ju, None)
        report = compare(expected, got, what=self.what, mask=mask, **self.tolerance(seed))
        if report.entries is None:  # wrong type, shape, dtype, or NaN
            self.details.append(f"called with {words}")
            return report, None
        self.details.append(f"{self.what} for {words}: {report.entries} of {int(np.prod(self.out_shape))} "
                            f"entries, max rel error {report.max_rel_error:.2g}")
        if not report.ok and report.diagnosis is None and self.right_for_all_ones():
            v = "g" if self.vjp else "t"
            report.diagnosis = (f"right for an all-ones {self.seed_name} only: does the rule use the "
                                f"{self.seed_name} {v} entry by entry, rather than ignore it or sum it?")
        return report, _as_float64(got)

    def jacobian(self) -> CheckReport:
        """2. The Jacobian, entry by entry, from one-hot cotangents (its rows) or tangents (its columns)."""
        rows, cols = self.rows, self.cols
        lines = []
        for i in rows if self.vjp else cols:
            seed = _one_hot(self.in_shape, i)
            words = f"a one-hot {self.seed_name} (1 at index {_unravel(i, self.in_shape)}, 0 elsewhere)"
            line = _call(self.apply, seed, self.what, words, self.labels, self.out_shape)
            if isinstance(line, CheckReport):
                self.details.append(f"called with {words}")
                return line
            lines.append(line.reshape(-1)[cols if self.vjp else rows])
        mine = np.stack(lines, axis=0 if self.vjp else 1) if lines else np.zeros((len(rows), len(cols)))
        expected = self.J[rows]
        complete = (len(rows), len(cols)) == (self.out.size, self.x.size)
        if complete:  # shaped out.shape + x.shape, so that the report's indices read naturally
            expected = expected.reshape(self.out.shape + self.x.shape)
            mine = mine.reshape(expected.shape)
        report = compare(expected, mine, what="Jacobian, indexed [output entry, input entry]",
                         **{**self.labels, "atol": self.entry_atol})
        if report.worst_index is not None and not complete:
            r, c = report.worst_index
            report.worst_index = _unravel(rows[r], self.out.shape) + _unravel(cols[c], self.x.shape)
        size = f"{len(rows)} x {len(cols)}" + ("" if complete else ", sampled")
        self.details.append(f"Jacobian entry by entry ({size}) from one-hot {self.seed_name}s: max rel error "
                            f"{report.max_rel_error:.2g}")
        return report

    def dot_product(self, got: np.ndarray) -> CheckReport:
        """3. <v, J u>: for a VJP <v^T J, u>, for a JVP <v, J u>, against the finite differences along u."""
        v, u = self.v, self.u
        mine = float(np.vdot(got, u) if self.vjp else np.vdot(v, got))
        # the sum may cancel: allow rtol / 100 of the size of its terms, plus the finite differences' rounding
        size = float(np.abs(v * self.Ju).sum())
        atol = 1e-2 * self.labels["rtol"] * size + self.entry_atol * _weight(v) * _weight(u)
        report = compare(np.vdot(v, self.Ju), mine, what="dot product <v, J u>",
                         **{**self.labels, "atol": atol})
        self.details.append(f"dot-product test <v, J u>: expected {report.expected_value:.8g}, got "
                            f"{mine:.8g}, rel error {report.max_rel_error:.2g}")
        return report

    def reference(self, seed: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The finite-difference image of a cotangent (seed^T J) or tangent (J seed), and the mask of the
        entries it covers (None: all of them)."""
        if not self.vjp:
            return derivative_along(self.f, self.x, seed, "richardson"), None
        image, covered = np.zeros(self.x.size), np.zeros(self.x.size, dtype=bool)
        image[self.cols], covered[self.cols] = seed.reshape(-1) @ self.J, True
        return image.reshape(self.x.shape), None if covered.all() else covered.reshape(self.x.shape)

    def tolerance(self, seed: np.ndarray) -> dict:
        """compare's arguments for the image of `seed` (a sum of entries of J weighted by it)."""
        return {**self.labels, "atol": self.entry_atol * _weight(seed)}

    def right_for_all_ones(self) -> bool:
        """Would the map pass with an all-ones seed? (Then it mishandles the seed: the classic bug that an
        all-ones cotangent hides.)"""
        ones = np.ones(self.in_shape)
        got = _call(self.apply, ones, self.what, "ones", self.labels)
        try:
            expected, mask = self.reference(ones)
            return not isinstance(got, CheckReport) and compare(expected, got, what=self.what, mask=mask,
                                                                **self.tolerance(ones)).ok
        except Exception:  # noqa: BLE001  (only a diagnosis: if f fails here, or is not finite, the answer is "no")
            return False


def _call(apply: Callable, seed: np.ndarray, what: str, seed_words: str, labels: dict,
          shape: tuple | None = None) -> Any:
    """apply(seed); a failed report if it raises, or (when `shape` is given) if it returns anything but a
    finite float64 array of that shape, which is then returned as a numpy array."""
    try:
        with np.errstate(all="ignore"):  # a NaN or an overflow is reported, no need to warn
            got = apply(seed.copy())
    except Exception as err:  # noqa: BLE001  (the rule's error becomes the report)
        message = str(err) or "(its message is empty)"
        return CheckReport(False, what=what, **labels,
                           error=f"raised {type(err).__name__} when called with {seed_words}: {message}")
    if shape is None:
        return got
    return check_form(got, shape, np.float64, what=what, **labels) or _as_float64(got)


def _as_float64(x: Any) -> np.ndarray:
    return np.asarray(to_numpy(x) if is_array(x) else x, dtype=np.float64)


def _weight(seed: np.ndarray) -> float:
    """How a sum of entries of J weighted by `seed` scales their rounding errors, which add up like
    independent random errors: by the 2-norm of the weights."""
    return float(np.sqrt(np.sum(seed * seed)))


def _sample(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """All of range(n) if n <= k, else k of them drawn without replacement, sorted."""
    return np.arange(n) if n <= k else np.sort(rng.choice(n, size=k, replace=False))


def _first_not_finite(a: np.ndarray) -> int:
    """The flat index of a's first NaN or infinite entry."""
    return int(np.argmin(np.isfinite(a).reshape(-1)))


def _one_hot(shape: tuple, i: int) -> np.ndarray:
    e = np.zeros(int(np.prod(shape, dtype=int)))
    e[i] = 1.0
    return e.reshape(shape)


def _unravel(i: int, shape: tuple) -> tuple:
    return tuple(int(k) for k in np.unravel_index(int(i), shape))
