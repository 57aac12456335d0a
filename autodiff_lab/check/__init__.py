"""autodiff_lab.check: finite differences, and checkers for derivatives that are strict enough to grade.

    from autodiff_lab.check import numerical_grad, check_vjp, check_jvp, check_grads, compare, random_inputs

    numerical_grad(f, x, method="central")   # the gradient of scalar f from function values alone
    numerical_jacobian(f, x)                  # shape out.shape + x.shape
    check_vjp(f, rule, args, argnum=0)        # a defvjp-style rule(g, ans, *args) against finite differences
    check_jvp(f, rule, args, argnum=0)        # a defjvp-style rule(t, ans, *args)
    check_grads(f, args, order=2)             # the engine's jvp and vjp of f (and their derivatives)
    compare(expected, got)                    # the entry-by-entry comparison they all use (runs no user code)
    random_inputs(shape, domain="positive")   # test inputs away from kinks and domain edges
    check_value(got, expected)                # what a lecture's exercise cells call (exercise.py), also
    check_function, check_rule, check_gradient, check_equal, check_topological_order, check_choice, check_all:
                                              # a "✓ ..." / "✗ ..." report on the student's own answer

Each check returns a CheckReport: `.ok` (a bool), and on failure what was wrong (shape, worst entry, a
diagnosis such as "sign flipped"); print it, or let a notebook display it. assert_vjp, assert_jvp and
assert_grads raise an AssertionError carrying the report.

Why the checks can grade (a wrong rule never passes, a right one never fails):
- references are finite differences with Richardson extrapolation, in float64: at worst 7e-8 relative
  error in 30,000 random checks (finite_differences.py), while the tolerance is rtol = 1e-5 (report.py). A
  rule off by 0.1 % is off by a hundred times the tolerance.
- cotangents and tangents are random normal with a fixed seed, never all ones (an all-ones cotangent lets a
  rule that forgets the upstream gradient pass);
- besides the dot-product test <v, J u>, every entry of the Jacobian is compared (a single random
  projection can hide a completely wrong gradient) -- see derivative_check.py;
- random_inputs keeps test points away from kinks and domain edges (inputs.py).

Files: finite_differences.py, inputs.py, report.py (CheckReport, compare), derivative_check.py (the three
comparisons), rules.py (check_vjp, check_jvp), grads.py (check_grads), arguments.py, exercise.py (the
lectures' exercise checks).
"""

from .derivative_check import MAX_ENTRIES
from .exercise import (
    ExerciseReport,
    check_all,
    check_choice,
    check_equal,
    check_function,
    check_gradient,
    check_rule,
    check_topological_order,
    check_value,
)
from .finite_differences import derivative_along, numerical_grad, numerical_jacobian
from .grads import assert_grads, check_grads
from .inputs import DOMAINS, random_inputs
from .report import ATOL, RTOL, CheckReport, compare
from .rules import assert_jvp, assert_vjp, check_jvp, check_vjp

__all__ = [
    "ATOL", "DOMAINS", "MAX_ENTRIES", "RTOL", "CheckReport", "ExerciseReport", "assert_grads", "assert_jvp",
    "assert_vjp", "check_all", "check_choice", "check_equal", "check_function", "check_gradient", "check_grads",
    "check_jvp", "check_rule", "check_topological_order", "check_value", "check_vjp", "compare", "derivative_along",
    "numerical_grad", "numerical_jacobian", "random_inputs",
]
