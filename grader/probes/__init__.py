"""Hidden tests as data: each is harvested in the sandbox and judged outside it.

In a source notebook, the hidden part of a test cell is a list of calls on `grade`:

    ### BEGIN HIDDEN TESTS
    from grader.probes import grade
    grade.vjp(my_multiply, "multiply", args=[(3, 1), (1, 4)])
    ### END HIDDEN TESTS

The grader never executes these lines: `parse_hidden` reads them as data. Each call names a kind of check, the
student's function (a bare name, or the text of a lambda over the student's names), a reference function of
grader/sandbox/functions.py, and the inputs, all literals (input specs: see inputs.py). Grading splits every
check in two:

    harvest   in the sandbox, the student's function runs on the grader's inputs; only what it returns comes
              back, as plain arrays (`items`: data, never code, read by sandbox/harvest.py)
    judge     here, where no student code runs: the expected values (finite differences of the reference,
              or exact values) are compared with what came back by autodiff_lab.check.compare

Run in a notebook instead (plain nbgrader, or an instructor running the source notebook), `grade.<kind>(...)`
does both steps in the kernel and raises AssertionError with the same report.

    check.py               Check, one verdict
    inputs.py              input specs and the values they stand for; HiddenTestError
    finite_differences.py  the expected gradients and VJPs
    base.py                Probe, the base of every kind of check
    kinds.py               the kinds of check (grade.vjp, grade.jvp, ...) and KINDS
    hidden.py              reading a test cell's hidden part; salted inputs
    notebook.py            grade, both steps in a notebook's kernel; rebuild
"""

from ..student_text import clip, student_error  # student_text's, imported from here by pipeline.py and tests
from .base import ATOL, RTOL, Probe
from .check import Check
from .finite_differences import as_array, fd_vjp, substitute
from .hidden import BEGIN_HIDDEN, END_HIDDEN, hidden_region, parse_hidden, salted
from .inputs import HiddenTestError, make_input, to_spec
from .kinds import JVP, KINDS, VJP, Accuracy, DualNumbers, Exact, Jacobian, NoJacobian, ValueAndGrad, ValueGraph
from .notebook import grade, rebuild

__all__ = [
    "ATOL", "BEGIN_HIDDEN", "END_HIDDEN", "JVP", "KINDS", "RTOL", "VJP", "Accuracy", "Check", "DualNumbers", "Exact",
    "HiddenTestError", "Jacobian", "NoJacobian", "Probe", "ValueAndGrad", "ValueGraph", "as_array", "clip", "fd_vjp",
    "grade", "hidden_region", "make_input", "parse_hidden", "rebuild", "salted", "student_error", "substitute",
    "to_spec",
]
