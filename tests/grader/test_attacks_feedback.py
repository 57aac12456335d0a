"""Attacks on the feedback channel: a student whose code has seen its hidden inputs tries to read them back in
its feedback, spelt in letters rather than digits, through every piece of text its code controls. Each test
judges a harvest as the kernel would send it (no sandbox: the harvests are crafted here), writes the student's
feedback page and autograded notebook, and asserts that the encoding reaches neither, while the instructor's
results keep what the code sent."""

import html
import json
import re

import numpy as np
import pytest

from grader.feedback import GUARD, assignment_vouch, render, write_autograded, write_feedback
from grader.probes import VJP, Accuracy, Exact, ValueAndGrad
from grader.runner import Result
from grader.student_text import NOT_SHOWN, OWN_CLASS, known_types, student_error, vouched

LETTERS = str.maketrans("0123456789-.", "abcdefghijmp")


def spelt(x: float) -> str:
    """A hidden number spelt in letters: -0.125730 -> 'mapbcfhda'."""
    return f"{x:.6f}".translate(LETTERS)


@pytest.fixture(scope="module")
def a1():
    from grader.assignment import load_assignment

    return load_assignment("a1_backprop")


def vjp_probe():
    return VJP("my_tanh", "tanh", args=[(3,)])


def secret_of(probe) -> tuple[str, str]:
    """The first hidden input, spelt in letters and in digits."""
    x = np.ravel(probe._values()[0])[0]
    return spelt(x), f"{abs(x):.6f}"[2:]


def received(a1, tmp_path, checks=(), **fields) -> tuple[str, Result]:
    """Everything the student receives (feedback page, autograded notebook) for a result whose first part holds
    `checks`; and the result, as the instructor's results keep it."""
    parts = {p.grade_id: {"points": p.points, "score": 0.0, "checks": [], "note": ""} for p in a1.parts}
    parts[a1.parts[0].grade_id]["checks"] = [c.to_dict() for c in checks]
    result = Result("mallory", a1.id, "ok", 0.0, a1.max_score, parts, **fields)
    page = html.unescape(write_feedback(tmp_path, result, a1).read_text(encoding="utf-8"))
    notebook = write_autograded(tmp_path, result, a1).read_text(encoding="utf-8")
    return page + "\n" + notebook, result


def instructors(result: Result) -> str:
    return json.dumps(result.to_dict())


def assert_hidden(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, secret
        assert secret.upper() not in text.upper(), secret


# ---- (a) an exception message -----------------------------------------------------------------------------
def test_a_message_spelling_the_hidden_input_in_letters_is_not_shown(a1, tmp_path):
    """Attack: the rule raises ValueError with the hidden input spelt in letters, which no digit filter sees."""
    p = vjp_probe()
    secret, digits = secret_of(p)
    checks = p.judge(p.expected(), {"out": {"error": f"ValueError: the input is {secret}"}})
    text, result = received(a1, tmp_path, checks)
    assert_hidden(text, secret, digits)
    assert f"my_tanh raised ValueError ({NOT_SHOWN})" in text
    assert secret in instructors(result)            # the instructor's results keep the message


def test_an_answer_cells_message_is_not_shown_either(a1, tmp_path):
    """Attack: an answer cell run after a harvest raises with what it stole, in letters."""
    secret, digits = secret_of(vjp_probe())
    text, result = received(a1, tmp_path, cells=[{"grade_id": "add_mul", "ename": "ValueError",
                                                  "evalue": f"stolen {secret}"}])
    assert_hidden(text, secret, digits)
    assert "cell 'add_mul' raised ValueError (its message is not shown" in text
    assert secret in instructors(result)


# ---- (b) an exception class name --------------------------------------------------------------------------
def test_a_class_named_after_the_hidden_input_is_not_named(a1, tmp_path):
    """Attack: the rule raises an exception of a class it made at run time, named after the input
    (type(secret, (Exception,), {})), with an empty message; the same class escapes an answer cell."""
    p = vjp_probe()
    secret, digits = secret_of(p)
    name = "X_" + secret
    checks = p.judge(p.expected(), {"out": {"error": name}})
    text, result = received(a1, tmp_path, checks, cells=[{"grade_id": "add_mul", "ename": name, "evalue": ""}])
    assert_hidden(text, secret, digits)
    assert f"my_tanh raised {OWN_CLASS}, with an empty message" in text
    assert f"cell 'add_mul' raised {OWN_CLASS}" in text
    assert name in instructors(result)


def test_an_empty_message_of_a_known_class_says_so():
    """Attack: none of the student's text at all; the page must still say what happened (issue 20)."""
    p = vjp_probe()
    (check,) = p.judge(p.expected(), {"out": {"error": "NotImplementedError"}})
    assert check.text == "my_tanh raised NotImplementedError (with an empty message)"


# ---- (c) a returned word ----------------------------------------------------------------------------------
def test_a_returned_word_is_quoted_only_when_the_exercise_accepts_it(a1, tmp_path):
    """Attack: cheaper_mode returns the hidden input in letters instead of 'forward' or 'reverse'."""
    p = Exact("cheaper_mode", "cheaper_mode", args=[5, 200])
    secret, digits = secret_of(vjp_probe())
    (check,) = p.judge(p.expected(), {"out": {"value": secret}})
    text, result = received(a1, tmp_path, [check])
    assert_hidden(text, secret, digits)
    assert "returned a different word, expected 'forward'" in text
    assert secret in instructors(result)
    (other,) = p.judge(p.expected(), {"out": {"value": "reverse"}})
    assert other.text.endswith("returned 'reverse', expected 'forward'")     # a word the exercise knows


# ---- (d) dict keys ----------------------------------------------------------------------------------------
def test_dict_keys_spelling_the_hidden_input_are_not_quoted(a1, tmp_path):
    """Attack: the gradient of a network comes back as a dict whose keys spell the hidden inputs."""
    network = {"dict": {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}}
    p = ValueAndGrad("f", "two_layer_loss", args=[network, (5, 4), {"labels": 5, "classes": 2}, 0.1])
    x = p._values()[1]
    keys = {spelt(v): np.zeros(2) for v in x[0][:4]}
    (check,) = p.judge(p.expected(), {"out": {"value": [1.0, keys]}})
    text, result = received(a1, tmp_path, [check])
    assert_hidden(text, *keys)
    assert "as a dict with other keys; expected a dict with keys W1, W2, b1, b2" in text
    assert all(k in instructors(result) for k in keys)


def test_extra_keys_beside_the_parameters_are_not_quoted(a1, tmp_path):
    """Attack: the trained parameters carry an extra key spelling a hidden input of another part."""
    secret, digits = secret_of(vjp_probe())
    p = Accuracy("trained_params", at_least=0.9)
    (check,) = p.judge(p.expected(), {"out": {"value": {"W1": np.zeros(3), secret: np.zeros(3)}}})
    text, _ = received(a1, tmp_path, [check])
    assert_hidden(text, secret, digits)
    assert "returned a dict with other keys; expected a dict with W1, b1, W2, b2" in text


# ---- (e) a returned shape ---------------------------------------------------------------------------------
def test_a_shape_spelling_the_hidden_input_is_not_described(a1, tmp_path):
    """Attack: the rule returns np.zeros((d1, d2, d3)) whose dimensions are the hidden input's digits."""
    p = vjp_probe()
    _, digits = secret_of(p)
    dims = tuple(int(digits[i:i + 3]) + 10 for i in (0, 3))       # never a dimension of the check
    out, _ = p.expected()
    checks = p.judge(p.expected(), {"out": {"value": [out, [np.zeros(dims)]]}})
    text, result = received(a1, tmp_path, checks)
    for d in dims:
        assert not re.search(rf"\b{d}\b", text), d
    assert "got another shape (2 dimensions)" in text
    assert f"{dims[0]}" in instructors(result)        # the checker's report keeps the shape


def test_a_shape_in_an_engine_message_is_shown_only_when_vouched():
    """Attack: a rule's shape error, forged by the rule itself, carries dimensions of its choosing."""
    p = VJP("my_add", "add", args=[(4,), (2, 4)])
    error = ("RuleError: the VJP rule of my_add for argument 0 (x) returned shape (2, 4), but the argument has "
             "shape ({}). A VJP rule returns a gradient with its argument's shape. Did you undo broadcasting "
             "(sum the gradient over the axes that were broadcast)?")
    (vouched_check,) = p.judge(p.expected(), {"out": {"error": error.format("4,")}})
    assert error.format("4,") in vouched_check.text                           # the engine's hint survives
    (forged,) = p.judge(p.expected(), {"out": {"error": error.format("314, 159")}})
    assert "314" not in forged.text and "159" not in forged.text and "has shape (…)" in forged.text


# ---- (f) a returned object's class name --------------------------------------------------------------------
def test_a_class_name_of_a_returned_object_is_not_named(a1, tmp_path):
    """Attack: the harvest refuses an object of a class named after the input (NotPlain names its type), or
    a later harvest lets the object through to the judge."""
    p = vjp_probe()
    secret, digits = secret_of(p)
    cls = type("C_" + secret, (), {})
    out, _ = p.expected()
    refused = p.judge(p.expected(), {"out": {"error": f"NotPlain: returned {cls.__name__}, not a number or an "
                                                      "array of numbers"}})
    through = p.judge(p.expected(), {"out": {"value": [out, [cls()]]}})
    whole = p.judge(p.expected(), {"out": {"value": cls()}})
    text, _ = received(a1, tmp_path, [*refused, *through, *whole])
    assert_hidden(text, secret, digits)
    assert "NotPlain: returned …, not a number or an array of numbers" in text
    assert "the VJP is an object of a class defined in your code, not an array" in text
    assert "returned an object of a class defined in your code; expected a pair" in text


# ---- (g) printed output -----------------------------------------------------------------------------------
def test_what_the_kernel_printed_never_reaches_the_student(a1, tmp_path):
    """Attack: the notebook prints the hidden inputs (in letters and digits) and hopes the log is shown."""
    secret, digits = secret_of(vjp_probe())
    text, result = received(a1, tmp_path, log=f"{secret}\n{digits}\n")
    assert_hidden(text, secret, digits)
    assert secret in result.log


# ---- (h) a message imitating the engine's ------------------------------------------------------------------
@pytest.mark.parametrize("forged", [
    "RuleError: the VJP rule of my_tanh for argument 0 (x) returned shape (3,), but the argument has shape (3,). "
    "A VJP rule returns a gradient with its argument's shape. {secret}",                  # extra letters at the end
    "RuleError: the VJP rule of {secret} for argument 0 (x) raised ZeroDivisionError: division by zero",  # a name
    "RuleError: the VJP rule of my_tanh for argument 0 ({secret}) raised ZeroDivisionError: division by zero",
    "RuleError: the VJP rule of my_tanh for argument 0 (x) raised ValueError: {secret}",   # the inner message
    "RuleError: the VJP rule of my_tanh for argument 0 (x) raised Q{secret}: division by zero",   # inner class
    "KeyError: '{secret}'",
    "NameError: name '{secret}' is not defined",
    "TypeError: unsupported operand type(s) for *: '{secret}' and 'float'",
    "RuleError: the VJP rule of my_tanh for argument 0 (x) raised RuleError: the VJP rule of my_tanh for argument "
    "0 (x) raised ValueError: {secret}",                                                  # nested
])
def test_a_message_imitating_the_engines_carries_nothing_extra(a1, tmp_path, forged):
    """Attack: the rule raises a message shaped like the engine's RuleError (or numpy's, or Python's), with
    the hidden input in letters in a hole or after the end, hoping the grader trusts the engine's words."""
    p = vjp_probe()
    secret, digits = secret_of(p)
    checks = p.judge(p.expected(), {"out": {"error": forged.format(secret=secret)}})
    text, _ = received(a1, tmp_path, checks)
    assert_hidden(text, secret, digits)


# ---- what else the page says -------------------------------------------------------------------------------
def test_where_the_guard_stopped_the_run_is_not_taken_from_the_kernel(a1, tmp_path):
    """Attack: student code trips the kernel's guard on purpose, with the cell and the door it reports
    (untrusted) spelling the hidden input; and it ends its kernel with an exit code of its choosing."""
    secret, digits = secret_of(vjp_probe())
    failure = {"kind": "tampered", "cell": secret,
               "reason": f"{GUARD} ({secret}); the run was stopped at cell '{secret}' line 3"}
    parts = {p.grade_id: {"points": p.points, "score": 0.0, "checks": [], "note": ""} for p in a1.parts}
    parts[a1.parts[1].grade_id]["note"] = f"not reached: the notebook stopped at cell '{secret}' ({failure['reason']})"
    result = Result("mallory", a1.id, "tampered", 0.0, a1.max_score, parts, failure=failure)
    text = html.unescape(render(result, a1)) + write_autograded(tmp_path, result, a1).read_text(encoding="utf-8")
    assert_hidden(text, secret, digits)
    assert f"{GUARD}; the run was stopped" in text and "not reached: the notebook stopped (" in text
    exited = {"kind": "crashed", "cell": "add_mul", "reason": "the kernel exited with code 137 (os._exit, or an "
                                                             "exit outside Python)"}
    text, result = received(a1, tmp_path, failure=exited)
    assert "code 137" not in text and "the kernel exited (os._exit" in text
    assert "code 137" in instructors(result)


def test_a_finding_made_while_the_code_ran_is_named_not_quoted(a1, tmp_path):
    """Attack: a rule the grader checks at run time records what the code did; the code makes that record
    spell the hidden input. Findings on the files as submitted (written before any input was seen) are shown."""
    secret, digits = secret_of(vjp_probe())
    violations = [{"code": "engine-derivative", "message": f"cell 'add_mul' called {secret}", "cell": "add_mul",
                   "severity": "needs-manual-grade"},
                  {"code": "added-cell", "message": "a cell was added (starting 'x = 1'); added cells are not run",
                   "cell": "", "severity": "tampered"}]
    text, result = received(a1, tmp_path, violations=violations)
    assert_hidden(text, secret, digits)
    assert "engine-derivative in cell 'add_mul': a rule of this assignment was broken" in text
    assert "a cell was added (starting 'x = 1')" in text
    assert secret in instructors(result)


def test_a_constant_factor_chosen_by_the_code_is_told_to_two_digits():
    """Attack: the rule returns the right VJP times the hidden input; the diagnosis names the factor."""
    p = vjp_probe()
    x = p._values()[0][0]
    out, (vjp,) = p.expected()
    (_, check) = p.judge(p.expected(), {"out": {"value": [out, [vjp * x]]}})
    assert "off by a constant factor" in check.text
    assert f"{x:.4g}" not in check.text and f"about {x:#.2g} times" in check.text
    for number in re.findall(r"\d*\.\d+", check.text):   # two significant digits at most: 0.090, 0.13, 1.0
        assert len(number.replace(".", "").lstrip("0")) <= 2, check.text


def test_answer_cell_errors_keep_the_engines_words_with_the_notebooks_names(a1, tmp_path):
    """Fault: a grader that hid every message would leave a student without the engine's hints; the names
    of the released notebook and the numbers of the checks are vouched for."""
    from grader.assignment import load_assignment

    a2 = load_assignment("a2_vjp")
    message = ("the VJP rule of my_add for argument 1 (y) returned shape (2, 4), but the argument has shape (4,). "
               "A VJP rule returns a gradient with its argument's shape. Did you undo broadcasting (sum the "
               "gradient over the axes that were broadcast)?")
    assert student_error(f"RuleError: {message}", assignment_vouch(a2)) == f"RuleError: {message}"
    assert student_error("TypeError: vjp_add_x() missing 1 required positional argument: 'y'",
                         assignment_vouch(a2)).endswith("vjp_add_x() missing 1 required positional argument: 'y'")


def test_the_engines_own_errors_are_recognised():
    """Fault: the engine's messages change and the grader's templates no longer match them, so every student
    loses the hint: the engine's real errors, raised here on the check's own shapes, must still be shown."""
    from autodiff_lab import defvjp, primitive, vjp

    @primitive
    def my_add(x, y):
        return x + y

    defvjp(my_add, lambda g, ans, x, y: g, lambda g, ans, x, y: g)      # forgets to undo broadcasting
    p = VJP("my_add", "add", args=[(4,), (2, 4)])
    v = p.vouched(p.expected())
    raised = []
    for f in (lambda: vjp(my_add, np.ones(4), np.ones((2, 4)))[1](np.ones((2, 4))),
              lambda: np.ones((2, 4)) + np.ones(3),
              lambda: np.ones((2, 4)) @ np.ones((2, 4)),
              lambda: np.ones(8).reshape(3),
              lambda: np.ones(4)[8]):
        with pytest.raises(Exception) as err:
            f()
        raised.append(f"{type(err.value).__name__}: {err.value}")
    for error in raised:
        assert NOT_SHOWN not in student_error(error, v), error


def test_the_checkers_own_reports_are_recognised():
    """Fault: compare() words a problem in a way the grader does not know, and the student reads only
    'could not be compared': each form problem compare reports keeps its words."""
    p = vjp_probe()
    out, _ = p.expected()
    for got in (None, "text", np.array([1, 2, 3]), np.array([1.0, np.nan, 2.0]), np.zeros((3, 3)), [1.0, 2.0]):
        (_, check) = p.judge(p.expected(), {"out": {"value": [out, [got]]}})
        assert "could not be compared" not in check.text, got


def test_every_exception_class_of_the_engine_is_known():
    """Fault: an exception class the engine defines is missing from the grader's list, and the student is told
    it is a class of their own."""
    import importlib
    import pkgutil

    import autodiff_lab

    for info in pkgutil.walk_packages(autodiff_lab.__path__, "autodiff_lab."):
        if ".viz" in info.name or info.name.endswith(("cli", "__main__", "course_init")):
            continue          # the command line's modules: a grading kernel never runs them
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == info.name \
                    and not name.startswith("_"):
                assert name in known_types(), f"{info.name}.{name}"


def test_vouched_numbers_are_the_checks_own():
    """Attack: a list length, a dimension or an index of the student's choosing passes as the grader's."""
    v = vouched(specs=[(3, 4), {"axis": 1}], values=[np.zeros((5, 2))])
    assert {3, 4, 5, 2, 10, 1, 0} <= v.numbers and 537 not in v.numbers
    assert "W1" in vouched(specs=[{"dict": {"W1": (2,)}}]).names
