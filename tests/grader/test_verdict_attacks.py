"""Verdicts on hostile harvests: whatever a student's kernel sends back, the grader's checks stay plain JSON,
small, bounded in memory, and do not quote the hidden inputs (no sandbox: the harvests are crafted here)."""

import json
import re
import tracemalloc

import numpy as np
import pytest

from grader.probes import VJP, Accuracy, Check, Exact, NoJacobian, ValueAndGrad, clip, student_error
from grader.student_text import NOT_SHOWN, Vouched

BIG = 8 * 2**20


def as_json(checks):
    return json.dumps([c.to_dict() for c in checks])


# ---- one submission must not abort the class: every Check is plain JSON ---------------------------------
def test_a_string_array_for_an_exact_word_fails_as_a_plain_check():
    p = Exact("cheaper_mode", "cheaper_mode", args=[5, 200])
    (check,) = p.judge(p.expected(), {"out": {"value": np.array(["forward"])}})
    assert check.ok is False
    assert "forward" in json.loads(as_json([check]))[0]["text"]


def test_the_right_word_still_passes():
    p = Exact("cheaper_mode", "cheaper_mode", args=[5, 200])
    assert [c.ok for c in p.judge(p.expected(), {"out": {"value": "forward"}})] == [True]


@pytest.mark.parametrize("ok", [np.array([True]), np.array([True, True]), "yes", 1, [True]])
def test_a_check_passes_only_on_a_real_true(ok):
    check = Check(ok, "title", np.array(["text"]))
    assert check.ok is False and isinstance(check.text, str)
    json.dumps(check.to_dict())


def test_numpy_true_is_true():
    assert Check(np.bool_(True), "t", "x").ok is True


# ---- broadcasting: the accuracy check runs only on the network's shapes ---------------------------------
def accuracy_of(params):
    p = Accuracy("trained_params", at_least=0.9)
    return p.judge(p.expected(), {"out": {"value": params}})


def test_parameters_that_broadcast_into_gigabytes_are_refused_cheaply():
    params = {"W1": np.zeros((64, 1)), "b1": np.zeros((100, 1, 1)), "W2": np.zeros((1, 5600)), "b2": np.zeros(5600)}
    tracemalloc.start()
    try:
        (check,) = accuracy_of(params)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert check.ok is False and "W1 (64, H), b1 (H,), W2 (H, 10), b2 (10,)" in check.text
    assert "b1: an array of another shape (3 dimensions)" in check.text     # 100 is no dimension of the grader's
    assert peak < 20 * 2**20


@pytest.mark.parametrize("shapes", [
    {"W1": (64, 5000), "b1": (5000,), "W2": (5000, 10), "b2": (10,)},      # too many hidden units
    {"W1": (64, 8), "b1": (1, 8), "W2": (8, 10), "b2": (10,)},             # b1 is a row, not (H,)
    {"W1": (64, 8), "b1": (8,), "W2": (9, 10), "b2": (10,)},               # H disagrees
    {"W1": (64, 8), "b1": (8,), "W2": (8, 10), "b2": (1,)},                # b2 would broadcast
])
def test_wrong_network_shapes_are_a_failed_check(shapes):
    (check,) = accuracy_of({k: np.zeros(s) for k, s in shapes.items()})
    assert check.ok is False and "do not fit the network" in check.text


def test_right_shapes_are_scored():
    (check,) = accuracy_of({"W1": np.zeros((64, 8)), "b1": np.zeros(8), "W2": np.zeros((8, 10)),
                            "b2": np.zeros(10)})
    assert check.ok is False and "test accuracy 0." in check.text


def test_strings_for_parameters_are_a_failed_check():
    params = {"W1": np.array(["a"]), "b1": np.zeros(8), "W2": np.zeros((8, 10)), "b2": np.zeros(10)}
    (check,) = accuracy_of(params)
    assert check.ok is False and "do not fit the network" in check.text


def test_a_large_input_vjp_of_the_wrong_shape_is_not_broadcast():
    p = NoJacobian("my_matmul", "matmul", args=[(30, 20), (20, 10)])
    expected = p.expected()
    huge = np.zeros((1, 1))            # would broadcast against u: the check must compare shapes instead
    checks = p.judge(expected, {"out": {"value": [np.zeros((30, 10)), [huge, huge]]}})
    assert not any(c.ok for c in checks)
    assert all("shape" in c.text for c in checks)


# ---- student text is cut short wherever it enters a verdict --------------------------------------------
def vjp_probe():
    return VJP("my_tanh", "tanh", args=[(3,)])


def total_text(checks):
    return sum(len(c.title) + len(c.text) for c in checks)


def test_huge_returned_structures_are_cut_short():
    p = vjp_probe()
    keys = {f"k{i}" + "x" * 1000: np.zeros(3) for i in range(2000)}        # a dict where a list belongs
    checks = p.judge(p.expected(), {"out": {"value": [np.zeros(3), keys]}})
    assert not all(c.ok for c in checks) and total_text(checks) < 3000
    assert "a dict with other keys" in " ".join(c.text for c in checks)       # the keys are the student's
    assert "characters cut" in " ".join(str(c.report) for c in checks)        # the instructor's, clipped


def test_a_huge_exception_message_is_cut_short():
    p = vjp_probe()
    checks = p.judge(p.expected(), {"out": {"error": "ValueError: " + "A" * BIG}})
    assert total_text(checks) < 1000 and "ValueError" in checks[0].text


def test_a_huge_wrong_word_is_cut_short():
    p = Exact("cheaper_mode", "cheaper_mode", args=[5, 200])
    checks = p.judge(p.expected(), {"out": {"value": "A" * BIG}})
    assert total_text(checks) < 3000 and "a different word" in checks[0].text
    assert "characters cut" in checks[0].report["returned"]


def test_a_huge_dict_of_gradients_is_cut_short():
    network = {"dict": {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}}
    p = ValueAndGrad("f", "two_layer_loss", args=[network, (5, 4), {"labels": 5, "classes": 2}, 0.1])
    grads = {"W1" + "x" * 1000 * i: np.zeros(2) for i in range(1, 1000)}
    checks = p.judge(p.expected(), {"out": {"value": [1.0, grads]}})
    assert total_text(checks) < 3000


def test_clip_says_how_much_it_cut_and_keeps_text_writable():
    assert clip("abc") == "abc"
    assert clip("x" * 1500) == "x" * 1000 + "… (500 characters cut)"
    assert clip("\udc80 lone surrogate").encode("utf-8")


def test_a_surrogate_in_an_error_does_not_break_the_pages():
    p = vjp_probe()
    (check,) = p.judge(p.expected(), {"out": {"error": "ValueError: \udc80"}})
    check.text.encode("utf-8")


# ---- hidden inputs stay hidden --------------------------------------------------------------------------
RULE_ERROR = ("RuleError: the VJP rule of my_add for argument 1 (arrays[1]) returned shape (128, 10), but the "
              "argument has shape (10,). A VJP rule returns a gradient with its argument's shape. Did you undo "
              "broadcasting (sum the gradient over the axes that were broadcast)?")


def precise_numbers(text):
    """The numbers in `text` written with more than two significant digits."""
    return [n for n in re.findall(r"\d*\.\d+|\d+", text) if len(n.replace(".", "").lstrip("0")) > 2]


def test_an_exception_quoting_the_hidden_inputs_does_not_show_them():
    p = vjp_probe()
    (x,) = p._values()
    g = p.cotangent()
    error = "ValueError: hidden input x=" + repr(x.tolist()) + " cotangent g=" + repr(g.tolist())
    texts = " ".join(c.text for c in p.judge(p.expected(), {"out": {"error": error}}))
    assert "ValueError" in texts
    assert not re.search(r"\d\d\d", texts), texts


VOUCHED = Vouched(frozenset({0, 1, 3, 4, 5, 10, 128}), frozenset({"W1", "my_add"}))


@pytest.mark.parametrize("error, shown", [
    ("ZeroDivisionError: division by zero", "ZeroDivisionError: division by zero"),
    ("ValueError: operands could not be broadcast together with shapes (3,4) (5,)",
     "ValueError: operands could not be broadcast together with shapes (3,4) (5,)"),
    ("KeyError: 'W1'", "KeyError: 'W1'"),
    ("NotImplementedError", "NotImplementedError (with an empty message)"),
    ("ValueError: labels [3, 1, 4, 1, 5, 9]", f"ValueError ({NOT_SHOWN})"),
    ("ValueError: x = 0.125730221 and 12573022", f"ValueError ({NOT_SHOWN})"),
    ("ValueError: first line\nx = [0.1, 0.2]", f"ValueError ({NOT_SHOWN})"),
    ("IndexError: y = array([3, 1, 2])", f"IndexError ({NOT_SHOWN})"),
    (RULE_ERROR, RULE_ERROR),                                                       # indices, shapes, hints
    ("IndexError: index 3 is out of bounds for axis 0 with size 3",
     "IndexError: index 3 is out of bounds for axis 0 with size 3"),
    ("KeyError: ['W1', 'b1']", f"KeyError ({NOT_SHOWN})"),
    ("RuleError: the VJP rule of my_add for argument 1 (arrays[1]) returned shape (537, 10), but the argument has "
     "shape (10,). A VJP rule returns a gradient with its argument's shape.",
     "RuleError: the VJP rule of my_add for argument 1 (arrays[1]) returned shape (…), but the argument has "
     "shape (10,). A VJP rule returns a gradient with its argument's shape."),      # 537: no dimension of the check
])
def test_student_errors_keep_what_the_grader_vouches_for(error, shown):
    """Messages the engine, numpy and Python write are shown with their shapes and names when the check
    vouches for them; any other message is not shown (it could spell the hidden inputs in any encoding)."""
    assert student_error(error, VOUCHED) == shown


def test_a_function_that_returns_its_hidden_input_cannot_read_it_in_the_report():
    """The checker's worst entry quotes the expected and the returned value: returning the input itself
    would show one of its entries per check. The student reads the index and the size of the error."""
    p = vjp_probe()
    (x,) = p._values()
    checks = p.judge(p.expected(), {"out": {"value": [x, [x]]}})
    texts = "\n".join(c.title + "\n" + c.text for c in checks)
    assert [c.ok for c in checks] == [False, False] and "argument 0 (x)" in texts
    assert re.search(r"worst entry +index \(\d,\), off by \d", texts) and "max abs" in texts
    assert not precise_numbers(texts), texts
    assert checks[1].report["got_value"] in x.tolist()         # the instructor's results keep the numbers


def test_a_nan_placed_at_an_index_does_not_read_the_expected_entry_there():
    p = vjp_probe()
    out, (vjp,) = p.expected()
    planted = vjp.copy()
    planted[2] = np.nan
    (check,) = [c for c in p.judge(p.expected(), {"out": {"value": [out, [planted]]}}) if not c.ok]
    assert "NaN" in check.text and "index (2,)" in check.text
    assert not precise_numbers(check.text), check.text


def test_the_feedback_page_shows_no_value_computed_from_the_hidden_inputs(a1):
    from grader.feedback import render

    p = vjp_probe()
    (x,) = p._values()
    out, (vjp,) = p.expected()
    result = result_with(a1)
    result.parts[a1.parts[0].grade_id]["checks"] = [c.to_dict() for c in p.judge((out, [vjp]), {"out": {
        "value": [x, [x]]}})]
    page = render(result, a1)
    assert "worst entry" in page and "off by" in page
    for value in [*x, *out, *vjp]:
        assert f"{value:.4g}" not in page, value


@pytest.mark.parametrize("probe, returned", [
    (ValueAndGrad("f", "tanh", args=[()]), 0.12573022),                                   # not a pair
    (ValueAndGrad("f", "two_layer_loss", args=[{"dict": {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}},
                                               (5, 4), {"labels": 5, "classes": 2}, 0.1]),
     [1.0, {"0.12573022": np.zeros(2), "[3, 1, 2]": np.zeros(2)}]),                       # keys spelling inputs
    (Exact("cheaper_mode", "cheaper_mode", args=[5, 200]), "x = 0.12573022, y = [3, 1, 2]"),
    (Accuracy("trained_params", at_least=0.9), {"W1": "x = 0.12573022", "b1": 0, "W2": 0, "b2": 0}),
])
def test_what_comes_back_in_the_wrong_form_is_described_not_quoted(probe, returned):
    """A function can return (or put into keys and words) anything it has seen, the hidden inputs included."""
    (check,) = probe.judge(probe.expected(), {"out": {"value": returned}})
    assert not check.ok and check.report        # the instructor's results say what came back
    assert "12573022" not in check.text and "3, 1, 2" not in check.text, check.text


def test_a_large_input_error_is_redacted_too():
    p = NoJacobian("my_matmul", "matmul", args=[(30, 20), (20, 10)])
    (check,) = p.judge(p.expected(), {"out": {"error": "ValueError: x=[0.12573022, 0.58392011, 0.1, 0.2]"}})
    assert not re.search(r"\d\d\d", check.text) and "ValueError" in check.text


# ---- the pages built from a result ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def a1():
    from grader.assignment import load_assignment

    return load_assignment("a1_backprop")


def result_with(a1, **fields):
    from grader.runner import Result

    parts = {p.grade_id: {"points": p.points, "score": 0.0, "checks": [], "note": ""} for p in a1.parts}
    return Result("mallory", a1.id, "ok", 0.0, a1.max_score, parts, **fields)


def test_an_answer_cell_quoting_stolen_inputs_does_not_show_them(a1):
    from grader.feedback import render

    cells = [{"grade_id": "add_mul", "ename": "ValueError", "evalue": "stolen [0.12573022, -0.13210486, 0.6404]"}]
    page = render(result_with(a1, cells=cells), a1)
    assert f"ValueError ({NOT_SHOWN})" in page and "stolen" not in page and "12573022" not in page


def test_text_that_utf8_cannot_encode_does_not_stop_the_pages(a1, tmp_path):
    from grader.feedback import write_autograded, write_feedback

    result = result_with(a1, cells=[{"grade_id": "add_mul", "ename": "ValueError", "evalue": "\udc80"}],
                         answers={"add_mul": "x = '\udc80'\n"})
    assert "raised ValueError" in write_feedback(tmp_path, result, a1).read_text(encoding="utf-8")
    json.loads(write_autograded(tmp_path, result, a1).read_text(encoding="utf-8"))


@pytest.mark.parametrize("error, hint", [
    ("_ArrayMemoryError: Unable to allocate 3.2 GiB for an array with shape (300, 200, 300, 200)", "out of memory"),
    ("MemoryError", "out of memory"),
    ("KeyboardInterrupt", "did not finish within 10 s"),
])
def test_a_large_input_failure_still_gets_its_hint(error, hint):
    p = NoJacobian("my_matmul", "matmul", args=[(30, 20), (20, 10)])
    (check,) = p.judge(p.expected(), {"out": {"error": error}})
    assert hint in check.text
