"""A wrong rule never passes: a catalogue of planted bugs, each of which must fail, with the right diagnosis
where one applies."""

import numpy as np
import pytest

from autodiff_lab.check import check_jvp, check_vjp, compare, derivative_along, random_inputs

X = random_inputs((3, 4), seed=1)
SQUARE = random_inputs((3, 3), seed=2)
POSITIVE = random_inputs((3, 4), "positive", seed=3)
B = random_inputs((4,), seed=4)
Y = random_inputs((4, 5), seed=5)


def sum_rows(x):
    return np.sum(x, axis=0)


def mean_rows(x):
    return np.mean(x, axis=0)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# (id, f, rule, args, argnum, what the report must say: {field: substring}); None: no particular diagnosis
VJP_BUGS = [
    ("sign flipped", np.exp, lambda g, ans, x: -g * ans, (X,), 0, {"diagnosis": "sign flipped"}),
    ("factor 2", np.sin, lambda g, ans, x: 2 * g * np.cos(x), (X,), 0, {"diagnosis": "2 times"}),
    ("forgot the 2 of x^2", np.square, lambda g, ans, x: g * x, (X,), 0, {"diagnosis": "1/2 times"}),
    ("off by 0.1%", np.exp, lambda g, ans, x: 1.001 * g * ans, (X,), 0, {"diagnosis": "0.1% too large"}),
    ("mean divides by the wrong count", mean_rows, lambda g, ans, x: np.broadcast_to(g / x.shape[1], x.shape),
     (X,), 0, {"diagnosis": "0.75 times"}),
    ("forgot to unbroadcast", np.add, lambda g, ans, x, y: g, (X, B), 1,
     {"hint": "did you undo broadcasting", "diagnosis": "summing your result over the extra axes"}),
    ("transposed matmul factor", np.matmul, lambda g, ans, x, y: g.T @ x, (X, Y), 1,
     {"hint": "transposed", "diagnosis": "transposed"}),
    ("sum broadcast along the wrong axis (square)", sum_rows,
     lambda g, ans, x: np.broadcast_to(g[:, None], x.shape), (SQUARE,), 0, {"diagnosis": "transposed"}),
    ("sum broadcast along the wrong axis", sum_rows,
     lambda g, ans, x: np.broadcast_to(g[:, None], x.shape[::-1]), (X,), 0, {"hint": "transposed"}),
    ("right for an all-ones cotangent only", sum_rows, lambda g, ans, x: np.ones_like(x) * g.sum() / g.size,
     (X,), 0, {"diagnosis": "all-ones cotangent only"}),
    ("ignores the cotangent", sum_rows, lambda g, ans, x: np.ones_like(x), (X,), 0,
     {"diagnosis": "all-ones cotangent only"}),
    ("missing term of the product rule", lambda x: x * np.sin(x), lambda g, ans, x: g * np.sin(x), (X,), 0,
     None),
    ("x used where ans was needed", sigmoid, lambda g, ans, x: g * x * (1 - x), (X,), 0, None),
    ("sqrt: x used where ans was needed", np.sqrt, lambda g, ans, x: g / (2 * x), (POSITIVE,), 0, None),
    ("only some entries wrong", np.exp, lambda g, ans, x: np.where(x > 0.8, 0.0, g * ans), (X,), 0,
     {"diagnosis": "only some entries"}),
    ("zero gradient", np.exp, lambda g, ans, x: np.zeros_like(x), (X,), 0, {"diagnosis": "zero gradient"}),
    ("returns NaN", np.log, lambda g, ans, x: g / (x - x), (POSITIVE,), 0, {"error": "NaN"}),
    ("raises", np.log, lambda g, ans, x: g / undefined_name, (POSITIVE,), 0,  # noqa: F821
     {"error": "NameError"}),
    ("wrong shape", np.exp, lambda g, ans, x: (g * ans).ravel(), (X,), 0,
     {"diagnosis": "wrong shape: reshape to (3, 4)"}),
    ("summed away", np.exp, lambda g, ans, x: np.sum(g * ans), (X,), 0, {"hint": "smaller than expected"}),
    ("wrong dtype", np.exp, lambda g, ans, x: (g * ans).astype(np.float32), (X,), 0, {"error": "float32"}),
    ("integer dtype", np.exp, lambda g, ans, x: (g * ans).astype(np.int64), (X,), 0, {"error": "int64"}),
    ("not an array", np.exp, lambda g, ans, x: (g * ans).tolist(), (X,), 0, {"error": "list, not an array"}),
    ("forgot to return", np.exp, lambda g, ans, x: None, (X,), 0, {"error": "forget to `return`"}),
    ("second argument's rule for the first", np.multiply, lambda g, ans, x, y: g * x, (X, X[::-1]), 0, None),
]


JVP_BUGS = [
    ("sign flipped", np.exp, lambda t, ans, x: -t * ans, (X,), 0, {"diagnosis": "sign flipped"}),
    ("factor 2", np.sin, lambda t, ans, x: 2 * t * np.cos(x), (X,), 0, {"diagnosis": "2 times"}),
    ("off by 0.1%", np.tanh, lambda t, ans, x: 0.999 * t * (1 - ans**2), (X,), 0,
     {"diagnosis": "0.1% too small"}),
    ("tangent not broadcast to the output", np.add, lambda t, ans, x, y: t, (X, B), 1,
     {"hint": "a tangent has the output's shape", "diagnosis": "broadcasting your result"}),
    ("transposed matmul factor", np.matmul, lambda t, ans, x, y: x @ t.T, (SQUARE, SQUARE[::-1]), 1,
     None),
    ("right for an all-ones tangent only", sum_rows, lambda t, ans, x: np.full(ans.shape, t.sum() / ans.size),
     (X,), 0, {"diagnosis": "all-ones tangent only"}),
    ("NaN", np.sqrt, lambda t, ans, x: t / (0 * ans), (POSITIVE,), 0, {"error": "NaN"}),
    ("raises", np.sqrt, lambda t, ans, x: t.reshape(5), (POSITIVE,), 0, {"error": "ValueError"}),
    ("gradient's shape instead of the output's", sum_rows, lambda t, ans, x: t, (X,), 0,
     {"hint": "sum your result over the axes that the function reduces", "diagnosis": "summing your result"}),
]


CATALOGUE = [(check_vjp, bug) for bug in VJP_BUGS] + [(check_jvp, bug) for bug in JVP_BUGS]


@pytest.mark.parametrize(("checker", "bug"), CATALOGUE,
                         ids=[f"{c.__name__.removeprefix('check_')}: {bug[0]}" for c, bug in CATALOGUE])
def test_wrong_rules_fail_with_the_right_diagnosis(checker, bug):
    _, f, rule, args, argnum, says = bug
    report = checker(f, rule, args, argnum)
    assert report.ok is False
    for key, text in (says or {}).items():
        assert text in (getattr(report, key) or ""), str(report)
    assert str(report).startswith("FAILED")
    if checker is check_vjp:
        assert "not smooth" not in (report.diagnosis or "")  # these functions are smooth at these inputs


def test_the_right_rules_of_the_catalogue_pass():
    """The same functions with right rules pass (so the failures above are the bugs, not the set-up)."""
    assert check_vjp(np.add, lambda g, ans, x, y: g.sum(axis=0), (X, B), 1).ok
    assert check_vjp(np.matmul, lambda g, ans, x, y: x.T @ g, (X, Y), 1).ok
    assert check_vjp(sum_rows, lambda g, ans, x: np.broadcast_to(g, x.shape), (X,), 0).ok
    assert check_vjp(mean_rows, lambda g, ans, x: np.broadcast_to(g / x.shape[0], x.shape), (X,), 0).ok
    assert check_vjp(sigmoid, lambda g, ans, x: g * ans * (1 - ans), (X,), 0).ok
    assert check_jvp(np.add, lambda t, ans, x, y: np.broadcast_to(t, ans.shape), (X, B), 1).ok
    assert check_jvp(sum_rows, lambda t, ans, x: t.sum(axis=0), (X,), 0).ok


def test_an_all_ones_cotangent_would_have_let_the_bug_pass():
    """Why the cotangent is random: with g = ones, the rule that ignores g gives the right numbers."""
    ones = np.ones(4)
    assert compare(np.ones_like(X), np.ones_like(X) * ones.sum() / ones.size).ok  # the all-ones check passes
    assert not check_vjp(sum_rows, lambda g, ans, x: np.ones_like(x) * g.sum() / g.size, (X,)).ok


def test_an_error_hidden_from_the_dot_product_test_is_caught_entry_by_entry():
    """A rule whose error is orthogonal to the tangent u passes <v, J u> exactly (the single random
    projection of a fast gradcheck), yet the entry-by-entry comparison catches it."""
    x = random_inputs((6,), seed=7)
    rng = np.random.default_rng(0)  # the checker's draws, in its order: v (output's shape), then u (x's)
    v, u = rng.standard_normal(6), rng.standard_normal(6)
    d = np.zeros(6)
    d[0], d[1] = u[1], -u[0]  # <d, u> = 0

    def busted(g, ans, x):
        return g * np.cos(x) + g.sum() * d

    dot_only = compare(np.vdot(v, derivative_along(np.sin, x, u)), np.vdot(busted(v, None, x), u),
                       what="dot product")
    assert dot_only.ok  # the projection alone is fooled
    report = check_vjp(np.sin, busted, (x,))
    assert not report.ok
    assert report.wrong_entries == 2


def test_a_bug_outside_the_sampled_entries_is_caught_by_the_dot_product_test():
    x = random_inputs((200,), seed=8)

    def wrong_at_17(g, ans, x):
        grad = g * np.cos(x)
        grad[17] *= 1.01
        return grad

    report = check_vjp(np.sin, wrong_at_17, (x,), max_entries=8)
    assert not report.ok
    assert check_vjp(np.sin, lambda g, ans, x: g * np.cos(x), (x,), max_entries=8).ok


def test_a_rule_that_writes_into_its_inputs_cannot_spoil_later_calls():
    def in_place(g, ans, x):
        ans *= g  # overwrites ans: later calls would see a wrong ans if it were shared
        return ans

    assert check_vjp(np.exp, in_place, (X,)).ok


def test_a_right_rule_at_a_kink_fails_with_a_warning_about_the_input():
    """At x = 0 relu has no derivative, and finite differences see the average slope 1/2: the report says
    that the input is to blame, and which entry."""
    x = np.array([-1.0, 0.0, 2.0])
    report = check_vjp(lambda x: np.maximum(x, 0), lambda g, ans, x: np.where(x > 0, g, 0.0), (x,))
    assert not report.ok
    assert "not smooth near x[1]" in report.diagnosis
    away = random_inputs((3,), "away_from_zero")
    assert check_vjp(lambda x: np.maximum(x, 0), lambda g, ans, x: np.where(x > 0, g, 0.0), (away,)).ok


@pytest.mark.parametrize("scale", [1e-8, 1.0, 1e8])
def test_verdicts_do_not_depend_on_the_scale_of_f(scale):
    """atol is relative to the Jacobian's size: a 0.1 % bug fails however small or large f is."""
    def f(x):
        return scale * np.sin(x)

    for check in (check_vjp, check_jvp):
        assert check(f, lambda s, ans, x: scale * s * np.cos(x), (X,)).ok
        assert not check(f, lambda s, ans, x: 1.001 * scale * s * np.cos(x), (X,)).ok
