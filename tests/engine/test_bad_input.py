"""Every mistake a student can make gets a message that names the problem and the fix."""

import array_api_strict
import numpy as np
import pytest

import autodiff_lab as ad
import autodiff_lab.numpy as anp
from autodiff_lab import RuleError, defjvp, defvjp, grad, jvp, primitive, vjp


def test_grad_of_a_non_scalar_output(arr):
    with pytest.raises(TypeError, match=r"grad needs f to return a scalar.*shape \(2,\).*jacrev"):
        grad(lambda x: x * 2)(arr([1.0, 2.0]))
    with pytest.raises(TypeError, match="returned a tuple"):
        grad(lambda x: (x, x))(1.0)


@primitive
def double(x):
    return x * 2


def test_vjp_rule_returning_the_wrong_shape_names_primitive_argument_and_shapes(arr):
    defvjp(double, lambda g, ans, x: anp.sum(g))
    with pytest.raises(RuleError) as err:
        grad(lambda x: anp.sum(double(x)))(arr([1.0, 2.0, 3.0]))
    message = str(err.value)
    assert "VJP rule of double for argument 0 (x)" in message
    assert "returned shape ()" in message and "has shape (3,)" in message


@primitive
def add_bias(x, b):
    return x + b


def test_forgetting_to_undo_broadcasting_gets_a_hint(arr):
    defvjp(add_bias, lambda g, ans, x, b: g, lambda g, ans, x, b: g)
    with pytest.raises(RuleError, match=r"argument 1 \(b\) returned shape \(2, 3\).*undo broadcasting"):
        grad(lambda b: anp.sum(add_bias(arr(np.ones((2, 3))), b)))(arr([1.0, 2.0, 3.0]))


@primitive
def matvec(A, x):
    return A @ x


def test_transposed_gradient_gets_a_hint(arr):
    defvjp(matvec, lambda g, ans, A, x: anp.transpose(anp.expand_dims(g, 1) * x), None)
    with pytest.raises(RuleError, match=r"transpose of the expected shape"):
        grad(lambda A: anp.sum(matvec(A, arr([1.0, 2.0, 3.0]))))(arr(np.ones((2, 3))))


def test_jvp_rule_returning_the_wrong_shape(arr):
    defjvp(add_bias, lambda t, ans, x, b: t, lambda t, ans, x, b: t)
    with pytest.raises(RuleError, match=r"JVP rule of add_bias for argument 1 \(b\) returned shape \(3,\).*"
                                        r"output has shape \(2, 3\)"):
        jvp(lambda b: add_bias(arr(np.ones((2, 3))), b), (arr([1.0, 2.0, 3.0]),), (arr([1.0, 0.0, 0.0]),))


def test_a_rule_that_raises_is_reported_with_its_primitive(arr):
    defvjp(double, lambda g, ans, x: g @ g @ g)
    with pytest.raises(RuleError, match=r"VJP rule of double for argument 0 \(x\) raised"):
        grad(lambda x: anp.sum(double(x)))(arr([1.0, 2.0]))


@primitive
def no_rules(x, y):
    return x * y


def test_a_missing_rule_says_how_to_add_one(arr):
    with pytest.raises(RuleError, match=r"no_rules has no VJP rule for argument 1 \(y\).*defvjp\(no_rules"):
        grad(lambda y: anp.sum(no_rules(2.0, y)))(arr([1.0]))
    with pytest.raises(RuleError, match=r"no JVP rule for argument 0 \(x\).*defjvp"):
        jvp(lambda x: no_rules(x, 2.0), (1.0,), (1.0,))


def test_defvjp_needs_a_primitive():
    with pytest.raises(TypeError, match="@primitive"):
        defvjp(lambda x: x, lambda g, ans, x: g)


@pytest.mark.parametrize("bad", [2, True, np.array([1, 2]), np.array([True])])
def test_integer_and_boolean_inputs_to_grad(bad):
    with pytest.raises(TypeError, match=r"argument 0 .*only floating-point inputs can be differentiated.*2\.0"):
        grad(lambda x: anp.sum(x * 1.0))(bad)


def test_a_plain_numpy_function_on_a_traced_value(arr):
    with pytest.raises(TypeError, match=r"numpy\.exp was called on a traced value.*use anp\.exp"):
        grad(lambda x: np.sum(np.exp(x)))(arr([1.0]))
    with pytest.raises(TypeError, match=r"numpy\.sum was called on a traced value.*use anp\.sum"):
        grad(lambda x: np.sum(x))(arr([1.0]))
    with pytest.raises(TypeError, match=r"numpy\.log1p .*anp has no log1p"):
        grad(lambda x: np.log1p(x))(arr([1.0]))
    with pytest.raises(TypeError, match=r"cannot be turned into a plain numpy array"):
        grad(lambda x: anp.sum(np.asarray(x)))(arr([1.0]))


def test_arrays_of_two_libraries_mixed():
    x = np.ones(2)
    y = array_api_strict.asarray([1.0, 2.0])
    with pytest.raises(TypeError, match=r"mixes arrays of two libraries \(numpy and array_api_strict\).*to_numpy"):
        grad(lambda x: anp.sum(anp.multiply(x, y)))(x)


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match=r"argnums=2 asks for argument 2.*called with 2 positional arguments"):
        grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)


def test_argnums_naming_an_argument_twice():
    with pytest.raises(ValueError, match=r"argnums=\(0, 0\) names an argument twice"):
        grad(lambda x, y: x * y, argnums=(0, 0))(2.0, 3.0)
    with pytest.raises(ValueError, match=r"names an argument twice"):
        ad.jacrev(lambda x, y: x * y, argnums=(1, -1))(2.0, 3.0)


def test_hvp_takes_tuples_like_jvp():
    with pytest.raises(TypeError, match=r"hvp\(f, \(x,\), \(v,\)\)"):
        ad.hvp(lambda x: anp.sum(x**3), np.array([2.0]), np.array([1.0]))
    assert np.allclose(ad.hvp(lambda x: anp.sum(x**3), (np.array([2.0]),), (np.array([1.0]),))[0], [12.0])


def test_traced_values_passed_by_keyword_are_traced():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    out, tangent = jvp(lambda x, y: anp.multiply(x, y=y), (a, b), (np.ones(2), np.zeros(2)))
    assert np.allclose(out, a * b) and np.allclose(tangent, b)
    ga, gb = grad(lambda x, y: anp.sum(anp.where(x > 1.5, x, y=y)), argnums=(0, 1))(a, b)
    assert np.allclose(ga, [0, 1]) and np.allclose(gb, [1, 0])
    assert np.allclose(grad(lambda x: anp.sum(x=x * x, axis=0))(a), 2 * a)

    @primitive
    def scale(x, *, k):
        return x * k

    defvjp(scale, lambda g, ans, x, *, k: g * k)
    assert np.allclose(grad(lambda x: anp.sum(scale(x, k=3.0)))(a), [3.0, 3.0])
    with pytest.raises(TypeError, match="scale cannot differentiate through its keyword-only argument.* k"):
        grad(lambda k: anp.sum(scale(a, k=k)))(3.0)


def test_a_number_as_cotangent_is_taken_in_the_output_dtype():
    for dtype in ("float32", "float64"):
        (g,) = vjp(lambda x: x[0], np.array([1.0, 2.0], dtype))[1](1.0)
        assert g.dtype == dtype and np.array_equal(g, [1.0, 0.0])


def test_len_of_a_traced_number_is_a_type_error_as_in_numpy():
    with pytest.raises(TypeError, match="len"):
        len(ad.Dual(2.0, 1.0))
    with pytest.raises(TypeError, match="len"):
        len(ad.Dual(np.array(2.0), np.array(1.0)))
    assert len(ad.Dual(np.ones(3), np.ones(3))) == 3


def test_cotangent_of_the_wrong_shape_or_structure(arr):
    _, f_vjp = vjp(lambda x: x * 2, arr([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"cotangent .* has shape \(3,\).*output has shape \(2,\)"):
        f_vjp(arr([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"structure"):
        f_vjp((arr([1.0, 2.0]), arr([1.0])))


def test_jvp_argument_mistakes(arr):
    with pytest.raises(TypeError, match=r"jvp\(f, \(x,\), \(t,\)\)"):
        jvp(lambda x: x, 1.0, 1.0)
    with pytest.raises(ValueError, match=r"tangent has shape \(3,\) but its primal has shape \(2,\)"):
        jvp(lambda x: x, (arr([1.0, 2.0]),), (arr([1.0, 2.0, 3.0]),))


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown backend 'torch'"):
        ad.set_backend("torch")


def test_a_traced_value_used_after_its_transformation_returned(arr):
    kept = []

    def f(x):
        kept.append(x * 2)  # a Box escapes through a list
        return anp.sum(x)

    grad(f)(arr([1.0, 2.0]))
    with pytest.raises(RuntimeError, match=r"used after its transformation had returned.*Return what you need"):
        anp.sin(kept[0])


def test_work_the_output_does_not_depend_on_is_left_alone(arr, close):
    """Boxes on the tape that the output does not depend on get no gradient and run no rule."""
    from autodiff_lab import defvjp, primitive

    @primitive
    def untouchable(x):
        return x * 1.0

    defvjp(untouchable, lambda g, ans, x: 1 / 0)  # would raise if the backward pass ever called it

    def f(x):
        untouchable(x)  # recorded, but the output does not use it
        return anp.sum(x * x)

    assert close(grad(f)(arr([1.0, 2.0])), [2.0, 4.0])


@pytest.mark.parametrize("op", [anp.add, anp.subtract, anp.multiply, anp.divide])
def test_arithmetic_on_lists_and_numbers_works_elementwise(op):
    """Two arrays of one library meet through the operator; lists, tuples and numbers must not (+ would join
    two lists), so they become arrays first."""
    expected = op(np.array([1.0, 2.0]), np.array([4.0, 8.0]))
    for x, y in (([1.0, 2.0], [4.0, 8.0]), ((1.0, 2.0), (4.0, 8.0)), ([1.0, 2.0], np.array([4.0, 8.0]))):
        np.testing.assert_array_equal(op(x, y), expected)
    assert np.asarray(op(3, 2)).shape == () and float(op(3.0, 2.0)) == float(op(np.float64(3.0), np.float64(2.0)))
