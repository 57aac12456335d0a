"""grad, value_and_grad, vjp, jvp, jacrev, jacfwd, hessian, hvp: signatures as in JAX, pytrees, nesting."""

import numpy as np
import pytest

import autodiff_lab as ad
import autodiff_lab.numpy as anp
from autodiff_lab import Dual, grad, hessian, hvp, jacfwd, jacrev, jvp, value_and_grad, vjp


def test_grad_argnums_and_value_and_grad(arr, close):
    f = lambda x, y: anp.sum(x * y**2)  # noqa: E731
    x, y = arr([1.0, 2.0]), arr([3.0, -1.0])
    assert close(grad(f)(x, y), y**2)
    assert close(grad(f, argnums=1)(x, y), 2 * x * y)
    assert close(grad(f, argnums=(0, 1))(x, y), (y**2, 2 * x * y))
    value, g = value_and_grad(f, argnums=-1)(x, y)
    assert close(value, 11.0) and close(g, 2 * x * y)


def test_grad_with_aux_and_keyword_arguments(arr, close):
    def loss(w, x, scale=1.0):
        y = anp.tanh(x @ w)
        return scale * anp.sum(y**2), {"y": y}

    w, x = arr([0.5, -0.5]), arr([[1.0, 2.0], [3.0, 4.0]])
    (g, aux) = grad(loss, has_aux=True)(w, x, scale=2.0)
    assert close(aux["y"], np.tanh(ad.to_numpy(x) @ ad.to_numpy(w)))
    assert close(g, jacrev(lambda w: loss(w, x, scale=2.0)[0])(w))


def test_grad_of_pytree_params_returns_the_same_structure(arr, close):
    params = [{"W": arr(np.ones((3, 2))), "b": arr(np.zeros(2))}, {"W": arr(np.ones((2, 1))), "b": arr([0.0])}]
    x = arr(np.arange(6.0).reshape(2, 3))

    def loss(params):
        h = x
        for layer in params:
            h = anp.tanh(h @ layer["W"] + layer["b"])
        return anp.sum(h)

    g = grad(loss)(params)
    assert isinstance(g, list) and set(g[0]) == {"W", "b"}
    assert g[0]["W"].shape == (3, 2) and g[1]["b"].shape == (1,)
    eps = 1e-6
    bumped = [dict(layer) for layer in params]
    bumped[1] = {"W": params[1]["W"], "b": params[1]["b"] + eps}
    assert close(g[1]["b"], (loss(bumped) - loss(params)) / eps, rtol=1e-4)


def test_vjp_returns_one_cotangent_per_primal(arr, close):
    x, y = arr([1.0, 2.0, 3.0]), arr([[1.0, 0.0, -1.0]])
    out, f_vjp = vjp(lambda x, y: x * y, x, y)
    assert out.shape == (1, 3)
    ct = f_vjp(arr([[1.0, 2.0, 3.0]]))
    assert isinstance(ct, tuple) and len(ct) == 2
    assert close(ct[0], [1.0, 0.0, -3.0]) and close(ct[1], [[1.0, 4.0, 9.0]])


def test_vjp_of_a_function_not_depending_on_an_input_gives_zeros(arr, close):
    _, f_vjp = vjp(lambda x, y: anp.sin(x), arr([1.0]), arr([2.0, 3.0]))
    ct = f_vjp(arr([1.0]))
    assert close(ct[1], [0.0, 0.0])


def test_jvp_with_pytrees(arr, close):
    primals = ({"a": arr([1.0, 2.0]), "b": arr(3.0)},)
    tangents = ({"a": arr([1.0, 0.0]), "b": arr(1.0)},)
    out, t = jvp(lambda p: {"s": anp.sum(p["a"] * p["b"])}, primals, tangents)
    assert close(out["s"], 9.0) and close(t["s"], 3.0 + 3.0)


def test_jacrev_and_jacfwd_agree_with_each_other_and_have_out_by_in_shape(arr, close):
    W = arr(np.arange(12.0).reshape(4, 3) / 10)
    f = lambda x: anp.tanh(W @ x)  # noqa: E731
    x = arr([0.1, -0.2, 0.3])
    Jr, Jf = jacrev(f)(x), jacfwd(f)(x)
    assert Jr.shape == Jf.shape == (4, 3)
    assert close(Jr, Jf)
    expected = (1 - np.tanh(ad.to_numpy(W) @ ad.to_numpy(x)) ** 2)[:, None] * ad.to_numpy(W)
    assert close(Jr, expected)


def test_jacobian_of_a_matrix_function_has_shape_out_plus_in(arr):
    X = arr(np.ones((2, 3)))
    assert jacrev(lambda X: X.T @ X)(X).shape == (3, 3, 2, 3)
    assert jacfwd(lambda X: anp.sum(X, axis=0))(X).shape == (3, 2, 3)


def test_jacobians_of_pytrees_have_the_output_structure_around_the_argument_structure(arr, close):
    W, b, x = arr([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]), arr([0.1, 0.2, 0.3]), arr([0.7, -0.8])

    def f(params, x):
        return {"y": anp.tanh(params["W"] @ x + params["b"]), "norm": anp.sum(x * x)}

    params = {"W": W, "b": b}
    for jac in (jacrev, jacfwd):
        J = jac(f)(params, x)
        assert {k: {p: v.shape for p, v in row.items()} for k, row in J.items()} == {
            "y": {"W": (3, 3, 2), "b": (3, 3)}, "norm": {"W": (3, 2), "b": (3,)}}
        slope = 1 - np.tanh(ad.to_numpy(W) @ ad.to_numpy(x) + ad.to_numpy(b)) ** 2
        assert close(J["y"]["b"], np.diag(slope))
        assert close(J["y"]["W"][1], np.outer([0.0, 1.0, 0.0], ad.to_numpy(x)) * slope[1])
        assert close(J["norm"]["W"], np.zeros((3, 2)))
        Jx = jac(f, argnums=(0, 1))(params, x)
        assert isinstance(Jx["norm"], tuple) and close(Jx["norm"][1], 2 * ad.to_numpy(x))
    assert close(jacrev(f)(params, x), jacfwd(f)(params, x))


def test_jacobians_of_tuple_outputs_and_empty_inputs(arr, close):
    x = arr([0.5, -1.0])
    g = lambda x: (anp.sin(x), anp.sum(x))  # noqa: E731
    for jac in (jacrev, jacfwd):
        J_sin, J_sum = jac(g)(x)
        assert close(J_sin, np.diag(np.cos(ad.to_numpy(x)))) and close(J_sum, [1.0, 1.0])
    assert jacfwd(anp.sum)(arr(np.zeros(0))).shape == (0,)
    assert jacrev(lambda v: 2 * v)(arr(np.zeros(0))).shape == (0, 0)


def test_hessian_of_a_dict_argument_is_a_dict_of_dicts(arr, close):
    x = arr([0.3, -0.4])
    f = lambda p: anp.sum(anp.tanh(p["W"] @ x + p["b"]))  # noqa: E731
    params = {"W": arr([[0.2, 0.1], [-0.3, 0.5]]), "b": arr([0.0, 0.1])}
    H = hessian(f)(params)
    assert H["W"]["b"].shape == (2, 2, 2) and H["b"]["W"].shape == (2, 2, 2)
    z = ad.to_numpy(params["W"]) @ ad.to_numpy(x) + ad.to_numpy(params["b"])
    second = -2 * np.tanh(z) * (1 - np.tanh(z) ** 2)  # d2/dz2 of tanh
    assert close(H["b"]["b"], np.diag(second))
    assert close(H["b"]["W"], np.moveaxis(H["W"]["b"], -1, 0))


def test_hessian_and_hvp(arr, close):
    A = arr([[2.0, 1.0], [1.0, 3.0]])
    f = lambda x: 0.5 * x @ A @ x + anp.sum(anp.sin(x))  # noqa: E731
    x, v = arr([0.3, -0.7]), arr([1.0, 2.0])
    H = A - np.diag(np.sin(ad.to_numpy(x)))
    assert close(hessian(f)(x), H)
    (hv,) = hvp(f, (x,), (v,))
    assert close(hv, H @ ad.to_numpy(v))
    g = lambda x, y: anp.sum(x**2 * y)  # noqa: E731
    hx, hy = hvp(g, (arr([1.0, 2.0]), arr([3.0, 4.0])), (arr([1.0, 0.0]), arr([0.0, 1.0])))
    assert close(hx, [6.0, 4.0]) and close(hy, [2.0, 0.0])


def test_transformations_nest(close):
    f = lambda x: anp.sin(x) * x**2  # noqa: E731
    d1 = lambda x: np.cos(x) * x**2 + 2 * x * np.sin(x)  # noqa: E731
    d2 = lambda x: -np.sin(x) * x**2 + 4 * x * np.cos(x) + 2 * np.sin(x)  # noqa: E731
    d3 = lambda x: -np.cos(x) * x**2 - 6 * x * np.sin(x) + 6 * np.cos(x)  # noqa: E731
    x = 0.7
    assert close(grad(f)(x), d1(x))
    assert close(grad(grad(f))(x), d2(x))
    assert close(grad(grad(grad(f)))(x), d3(x))
    assert close(jvp(grad(f), (x,), (1.0,))[1], d2(x))
    assert close(grad(lambda x: jvp(f, (x,), (1.0,))[1])(x), d2(x))
    assert close(jvp(lambda x: jvp(f, (x,), (1.0,))[1], (x,), (1.0,))[1], d2(x))


def test_grad_through_a_closure_over_an_outer_tracer():
    # d/dx [ d/dy (x * y) at y=1 ] = 1: the inner grad must not confuse x's and y's levels
    assert grad(lambda x: grad(lambda y: x * y)(1.0))(3.0) == 1.0
    assert grad(lambda x: x * grad(lambda y: x * y * y)(2.0))(3.0) == 2 * 4 * 3.0


def test_dual_numbers_by_hand():
    x = Dual(2.0, 1.0)
    y = anp.log(x) + x * 5.0 - anp.sin(5.0)
    assert round(float(y.primal), 3) == 11.652 and y.tangent == 5.5
    z = (x**3 / x - 1) * 2
    assert z.primal == 6.0 and z.tangent == 8.0
    with pytest.raises(ValueError, match="shape"):
        Dual(np.ones(3), np.ones(2))


UNARY = ["negative", "exp", "log", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "sqrt", "sum", "mean", "max",
         "logsumexp"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("x", [2.0, -1.5])
def test_every_rule_takes_python_numbers_as_numpy_scalars(name, x):
    """grad, jvp, a Dual and grad of grad at a Python float give what they give at numpy's float64 (relu, abs
    and max once raised AttributeError there: their rules asked a Python float for its dtype)."""
    if name in ("log", "sqrt") and x < 0:
        return
    f = getattr(anp, name)
    for transform in (grad(f), grad(grad(f)), lambda v: jvp(f, (v,), (1.0,))[1],
                      lambda v: f(Dual(v, 1.0)).tangent):
        assert float(transform(x)) == pytest.approx(float(transform(np.float64(x))), rel=1e-12)


def test_a_float32_input_gets_a_float32_gradient_even_through_float64_work():
    x = np.array([1.0, 2.0], np.float32)
    f = lambda x: anp.sum((x * np.array([1.0, 3.0])) ** 2)  # noqa: E731  (the float64 constant promotes)
    assert f(x).dtype == np.float64
    g = grad(f)(x)
    assert g.dtype == np.float32 and np.allclose(g, [2.0, 36.0])
    assert hessian(f)(x).dtype == np.float32
    g32 = grad(lambda x: anp.sum(anp.astype(x, "float64") ** 3))(x)
    assert g32.dtype == np.float32 and np.allclose(g32, 3 * x**2)


def test_astype_converts_and_its_rules_convert_back():
    x = np.array([1.5, -2.0])
    y, f_vjp = vjp(lambda v: anp.astype(v, np.float32) * 2, x)
    assert y.dtype == np.float32 and np.allclose(y, 2 * x)
    (g,) = f_vjp(np.ones(2, np.float32))
    assert g.dtype == np.float64 and np.allclose(g, 2.0)
    out, tangent = jvp(lambda v: v.astype(np.float32), (x,), (np.array([1.0, 3.0]),))
    assert tangent.dtype == np.float32 and np.allclose(tangent, [1.0, 3.0])
    assert float(grad(lambda v: anp.astype(v, np.float32) * 3.0)(2.0)) == 3.0


@pytest.mark.parametrize("f", [lambda a: a**0.5, anp.log, lambda a: 1.0 / a], ids=["sqrt", "log", "reciprocal"])
def test_python_floats_divide_by_zero_as_ieee_floats_do(f):
    """At 0.0 these derivatives are infinite: Python's floats would raise ZeroDivisionError inside the rules,
    numpy's give inf, and a Python float input now behaves as np.float64(0.0) does."""
    with np.errstate(divide="ignore", invalid="ignore"):
        assert grad(f)(0.0) == grad(f)(np.float64(0.0)) and np.isinf(grad(f)(0.0))
        assert jvp(f, (0.0,), (1.0,))[1] == jvp(f, (np.float64(0.0),), (np.float64(1.0),))[1]


def test_jacobians_of_empty_inputs_and_outputs_keep_float32():
    assert jacfwd(lambda x: x * 2)(np.zeros(0, np.float32)).dtype == np.float32
    jac = jacrev(lambda x: x[x > 0])(np.array([-1.0, -2.0], np.float32))
    assert jac.shape == (0, 2) and jac.dtype == np.float32


def test_duals_on_arrays(arr, close):
    x = Dual(arr([1.0, 2.0]), arr([1.0, 1.0]))
    y = anp.sum(anp.exp(x) * x)
    assert close(y.tangent, np.sum(np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0]))))


def test_traced_values_behave_like_arrays(arr, close):
    seen = {}

    def f(x):
        seen.update(shape=x.shape, ndim=x.ndim, dtype=x.dtype, T=x.T.shape, size=x.size, len=len(x))
        mask = x > 0
        assert not isinstance(mask, ad.tracing.Tracer) and str(mask.dtype) == "bool"
        return x.sum() + x.mean(axis=0).sum() + x.max() + x.reshape(6)[2] + x.reshape(3, 2).sum() + (-x)[0, 0]

    x = arr(np.arange(6.0).reshape(2, 3))
    g = grad(f)(x)
    assert seen == {"shape": (2, 3), "ndim": 2, "dtype": x.dtype, "T": (3, 2), "size": 6, "len": 2}
    expected = np.ones((2, 3)) + 0.5 + np.ones((2, 3))
    expected[1, 2] += 1  # max
    expected[0, 2] += 1  # reshape(6)[2]
    expected[0, 0] -= 1
    assert close(g, expected)


def test_indexing_slices_integer_arrays_with_repeats_and_masks(arr, close):
    x = arr([1.0, 2.0, 3.0, 4.0])
    assert close(grad(lambda x: anp.sum(x[1:3] ** 2))(x), [0, 4, 6, 0])
    idx = arr([0, 0, 3], dtype="int64")
    assert close(grad(lambda x: anp.sum(x[idx]))(x), [2, 0, 0, 1])
    assert close(grad(lambda x: anp.sum(x[x > 2.5]))(x), [0, 0, 1, 1])
    assert close(grad(lambda x: anp.sum(x[::2]))(x), [1, 0, 1, 0])  # select even elements
    assert close(hessian(lambda x: anp.sum(x[idx] ** 3))(x), np.diag([12.0, 0, 0, 24.0]))


@pytest.mark.skipif(not ad.get_backend().__name__.endswith("numpy"), reason="numpy interoperability")
def test_numpy_arrays_on_the_left_of_operators(arr, close):
    c = np.array([2.0, 3.0])
    assert close(grad(lambda x: anp.sum(c * x + c / x - c**x))(arr([1.0, 2.0])),
                 c - c / np.array([1.0, 4.0]) - c ** np.array([1.0, 2.0]) * np.log(c))


def test_subgradients_at_kinks_are_documented_choices(arr, close):
    zero = arr([0.0])
    assert close(grad(lambda x: anp.sum(anp.relu(x)))(zero), [0.0])
    assert close(grad(lambda x: anp.sum(anp.abs(x)))(zero), [0.0])
    assert close(grad(lambda x: anp.sum(anp.maximum(x, 0.0)))(zero), [0.5])
    assert close(grad(lambda x: anp.max(x))(arr([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])


def test_concatenate_stack_and_shape_functions(arr, close):
    a, b = arr([1.0, 2.0]), arr([3.0])

    def f(a, b):
        c = anp.concatenate([a, b, a])
        s = anp.stack([a, a * 2], axis=1)
        e = anp.squeeze(anp.expand_dims(a, 0)) * anp.broadcast_to(b, (2,))
        return anp.sum(c * anp.arange(5.0)) + anp.sum(s) + anp.sum(anp.transpose(s, (1, 0))[1]) + anp.sum(e)

    ga, gb = grad(f, argnums=(0, 1))(a, b)
    assert close(ga, np.array([0 + 3, 1 + 4]) + 3 + 2 + 3.0)
    assert close(gb, [2.0 + 3.0])


def test_softmax_family_is_stable_and_consistent(arr, close):
    x = arr([[1000.0, 1001.0, 1002.0], [-5.0, 0.0, 5.0]])
    s = anp.softmax(x)
    assert close(anp.sum(s, axis=-1), [1.0, 1.0])
    assert close(anp.log_softmax(x), np.log(ad.to_numpy(s)))
    assert close(anp.logsumexp(x, axis=1), [1002.0 + np.log(np.sum(np.exp([-2.0, -1.0, 0.0]))),
                                             np.log(np.sum(np.exp([-5.0, 0.0, 5.0])))])
    J = jacrev(lambda v: anp.softmax(v))(x[1])
    p = ad.to_numpy(s[1])
    assert close(J, np.diag(p) - np.outer(p, p))


def test_matmul_covers_vectors_and_stacks(arr, close):
    rng = np.random.default_rng(0)
    for xs, ys in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4))]:
        x, y = arr(rng.normal(size=xs)), arr(rng.normal(size=ys))
        gx, gy = grad(lambda x, y: anp.sum(anp.sin(x @ y)), argnums=(0, 1))(x, y)
        assert gx.shape == xs and gy.shape == ys
        assert close(jacfwd(lambda x, y=y: anp.sum(anp.sin(x @ y)))(x), gx)
    assert close(anp.dot(arr([1.0, 2.0]), arr([3.0, 4.0])), 11.0)


# --------------------------------------------------------------------------------------- freeing the graph
def test_vjp_fn_can_be_called_again_unless_the_graph_was_freed(arr, close):
    x = arr([1.0, 2.0])
    out, f_vjp = vjp(lambda x: anp.sin(x) * x, x)
    first = f_vjp(arr([1.0, 0.0]))
    assert close(f_vjp(arr([1.0, 0.0])), first)
    assert close(f_vjp(arr([0.0, 1.0]), retain_graph=False)[0], [0.0, np.cos(2.0) * 2 + np.sin(2.0)])
    with pytest.raises(RuntimeError, match="already called with retain_graph=False.*call vjp again"):
        f_vjp(arr([1.0, 0.0]))


def test_grad_frees_each_forward_array_once_its_gradient_is_passed_on(arr):
    """grad walks its graph once, so the forward pass's arrays are let go during the backward pass (the
    gradients reuse their memory) instead of all at the end. A probe at the start of the computation sees,
    when its own VJP finally runs, whether a later intermediate array is still alive."""
    import weakref

    from autodiff_lab import defvjp, primitive
    from autodiff_lab.tracing import raw

    seen = []

    @primitive
    def probe(x):
        return x * 1.0

    defvjp(probe, lambda g, ans, x: seen.append(intermediate() is not None) or g)

    def f(x):
        nonlocal intermediate
        h = anp.tanh(probe(x))
        intermediate = weakref.ref(raw(h))
        return anp.sum(h * h)

    intermediate = None
    x = arr(np.linspace(-1.0, 1.0, 1000))
    grad(f)(x)
    vjp(f, x)[1](1.0)
    assert seen == [False, True]  # grad freed it; vjp's reusable vjp_fn kept it


def test_a_dual_prints_plain_numbers():
    """numpy 2 writes a scalar as np.float64(1.5); a student printing a Dual reads 1.5."""
    from autodiff_lab.tracing import Dual

    assert repr(Dual(np.float64(1.5), np.float64(-2.0), 0)) == "Dual(primal=1.5, tangent=-2.0)"
    assert "array([1., 2.])" in repr(Dual(np.array([1.0, 2.0]), np.zeros(2), 0))
