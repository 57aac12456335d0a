"""The engine never calls numpy directly: the same rules run on array-api-strict (a minimal, strict
implementation of the array API standard that rejects anything else), and keep float32 as float32."""

import array_api_compat.numpy as compat
import array_api_strict as xps
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import autodiff_lab as ad
import autodiff_lab.numpy as anp
from autodiff_lab import backend_numpy, grad, jvp
from autodiff_lab.backend import namespace

rng = np.random.default_rng(0)
W23 = rng.normal(size=(2, 3))

# name -> (function of traced inputs, input arrays as numpy float64). Inputs avoid kinks and domain edges.
OPS = {
    "add": (lambda x, y: x + y, [rng.normal(size=(2, 3)), rng.normal(size=(3,))]),
    "subtract": (lambda x, y: anp.subtract(x, y), [rng.normal(size=(2, 1)), rng.normal(size=(1, 3))]),
    "multiply": (lambda x, y: x * y, [rng.normal(size=(2, 3)), rng.normal(size=(2, 1))]),
    "divide": (lambda x, y: x / y, [rng.normal(size=(3,)), rng.uniform(1, 2, size=(2, 3))]),
    "negative": (lambda x: -x, [rng.normal(size=(3,))]),
    "power": (lambda x, y: x**y, [rng.uniform(0.5, 2, size=(3,)), rng.uniform(0.5, 2, size=(3,))]),
    "power_number": (lambda x: x**3, [rng.normal(size=(3,))]),
    "exp": (anp.exp, [rng.normal(size=(2, 2))]),
    "log": (anp.log, [rng.uniform(0.5, 2, size=(2, 2))]),
    "sin": (anp.sin, [rng.normal(size=(3,))]),
    "cos": (anp.cos, [rng.normal(size=(3,))]),
    "tanh": (anp.tanh, [rng.normal(size=(3,))]),
    "sigmoid": (anp.sigmoid, [rng.normal(size=(3,))]),
    "relu": (anp.relu, [np.array([-1.5, -0.5, 0.5, 2.0])]),
    "abs": (anp.abs, [np.array([-1.5, -0.5, 0.5, 2.0])]),
    "sqrt": (anp.sqrt, [rng.uniform(0.5, 2, size=(3,))]),
    "maximum": (anp.maximum, [np.array([1.0, -2.0, 3.0]), np.array([0.0, 1.0, 2.0])]),
    "logaddexp": (anp.logaddexp, [rng.normal(size=(3,)), rng.normal(size=(2, 3))]),
    "where": (lambda x, y: anp.where(x > 0, x, y), [rng.normal(size=(4,)), rng.normal(size=(4,))]),
    "matmul": (lambda x, y: x @ y, [rng.normal(size=(2, 3)), rng.normal(size=(3, 4))]),
    "matmul_vector": (lambda x, y: x @ y, [rng.normal(size=(3,)), rng.normal(size=(3, 2))]),
    "sum": (lambda x: anp.sum(x, axis=1, keepdims=True), [rng.normal(size=(2, 3))]),
    "mean": (lambda x: anp.mean(x, axis=0), [rng.normal(size=(2, 3))]),
    "max": (lambda x: anp.max(x, axis=1), [W23]),
    "reshape": (lambda x: anp.reshape(x, (3, 2)), [rng.normal(size=(2, 3))]),
    "transpose": (lambda x: anp.transpose(x, (1, 0)), [rng.normal(size=(2, 3))]),
    "broadcast_to": (lambda x: anp.broadcast_to(x, (2, 3)), [rng.normal(size=(3,))]),
    "expand_dims": (lambda x: anp.expand_dims(x, 1), [rng.normal(size=(3,))]),
    "squeeze": (lambda x: anp.squeeze(x), [rng.normal(size=(1, 3))]),
    "concatenate": (lambda x, y: anp.concatenate([x, y], axis=1), [rng.normal(size=(2, 1)), rng.normal(size=(2, 2))]),
    "stack": (lambda x, y: anp.stack([x, y], axis=-1), [rng.normal(size=(3,)), rng.normal(size=(3,))]),
    "slice": (lambda x: x[1:, ::2], [rng.normal(size=(3, 4))]),
    "mask": (lambda x: x[x > 0], [rng.normal(size=(5,))]),
    "logsumexp": (lambda x: anp.logsumexp(x, axis=1), [rng.normal(size=(2, 3))]),
    "softmax": (lambda x: anp.softmax(x, axis=0), [rng.normal(size=(2, 3))]),
    "log_softmax": (lambda x: anp.log_softmax(x), [rng.normal(size=(2, 3))]),
}


def weighted_sum(f, out_weight_seed=1):
    def loss(*args):
        out = f(*args)
        w = np.random.default_rng(out_weight_seed).normal(size=out.shape)
        return anp.sum(out * ad.asarray(w) if isinstance(ad.tracing.raw(out), np.ndarray)
                       else out * xps.asarray(w))
    return loss


def all_grads(f, args):
    return grad(weighted_sum(f), argnums=tuple(range(len(args))))(*args)


@pytest.mark.parametrize("name", OPS)
def test_first_order_transformations_run_on_array_api_strict(name):
    f, inputs = OPS[name]
    expected = all_grads(f, [ad.asarray(a) for a in inputs])
    strict = [xps.asarray(a) for a in inputs]
    got = all_grads(f, strict)
    for e, g in zip(expected, got):
        assert type(g).__module__.startswith("array_api_strict")
        np.testing.assert_allclose(ad.to_numpy(g), ad.to_numpy(e), rtol=1e-10, atol=1e-12)
    tangents = tuple(xps.asarray(np.ones_like(a)) for a in inputs)
    out, t = jvp(f, tuple(strict), tangents)
    _, t_np = jvp(f, tuple(ad.asarray(a) for a in inputs), tuple(ad.asarray(np.ones_like(a)) for a in inputs))
    np.testing.assert_allclose(ad.to_numpy(t), ad.to_numpy(t_np), rtol=1e-10, atol=1e-12)


def test_integer_array_indexing_gradient_needs_scatter_add_which_strict_lacks():
    x = xps.asarray([1.0, 2.0, 3.0])
    with pytest.raises(ad.RuleError, match="getitem.*no scatter-add.*use numpy or cupy"):
        grad(lambda x: anp.sum(x[xps.asarray([0, 0])]))(x)


@pytest.mark.parametrize("name", OPS)
def test_backward_and_forward_passes_keep_float32(name):
    f, inputs = OPS[name]
    args = [ad.asarray(a.astype("float32")) for a in inputs]
    for g in grad(lambda *a: anp.sum(f(*a)), argnums=tuple(range(len(args))))(*args):
        assert g.dtype == args[0].dtype, f"{name}: gradient became {g.dtype}"
    _, t = jvp(f, tuple(args), tuple(ad.asarray(np.ones_like(a, dtype="float32")) for a in inputs))
    assert t.dtype == args[0].dtype


def test_default_backend_converts_and_reports():
    assert ad.get_backend().__name__.endswith(("numpy", "cupy"))
    previous = ad.get_backend().__name__.removeprefix("array_api_compat.")
    try:
        xp = ad.set_backend("array_api_strict")
        a = anp.array([1.0, 2.0])
        assert type(a).__module__.startswith("array_api_strict") and xp is ad.get_backend()
        assert isinstance(ad.to_numpy(a), np.ndarray)
        assert type(ad.asarray(np.ones(2))).__module__.startswith("array_api_strict")
    finally:
        ad.set_backend(previous)


def test_cupy_backend_is_explained_when_missing():
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="backend 'cupy' is not installed.*set_backend\\('numpy'\\)"):
            ad.set_backend("cupy")
    else:
        pytest.skip("cupy is installed: the whole suite runs on it with AUTODIFF_LAB_BACKEND=cupy")


def test_asarray_like_moves_data_to_another_arrays_library():
    strict = xps.asarray([1.0, 2.0])
    moved = ad.asarray(np.array([3.0, 4.0]), like=strict)
    assert type(moved) is type(strict) and ad.to_numpy(moved).tolist() == [3.0, 4.0]
    back = ad.asarray(moved, dtype=np.float32, like=np.zeros(1))
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    with pytest.raises(TypeError, match=r"asarray\(x, like=y\) to y's library"):
        ad.backend.namespace(np.ones(1), strict)


# ---- the numpy namespace's quicker reductions give numpy's own results ----------------------------------
@st.composite
def arrays_and_axes(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int8, np.int64, np.bool_]))
    x = draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
                        elements={"allow_nan": False} if dtype in (np.float32, np.float64) else None))
    axes = st.one_of(st.none(), st.just(()), st.integers(-x.ndim, x.ndim - 1),
                     st.lists(st.integers(0, x.ndim - 1), unique=True).map(tuple)) if x.ndim else st.none()
    return x, draw(axes), draw(st.booleans())


@settings(max_examples=200)
@given(case=arrays_and_axes())
def test_numpy_namespace_reductions_equal_numpys(case):
    x, axis, keepdims = case
    for name, reference in (("sum", np.sum), ("max", np.max), ("all", np.all), ("count_nonzero", compat.count_nonzero)):
        ours = getattr(backend_numpy.namespace, name)
        try:
            expected = reference(x, axis=axis, keepdims=keepdims)
        except ValueError:  # max of an empty axis
            with pytest.raises(ValueError):
                ours(x, axis=axis, keepdims=keepdims)
            continue
        got = ours(x, axis=axis, keepdims=keepdims)
        assert np.asarray(got).dtype == np.asarray(expected).dtype and np.shape(got) == np.shape(expected)
        np.testing.assert_array_equal(got, expected)


@st.composite
def matrices_and_axes(draw):
    """Float matrices of the shapes a training step reduces (many short rows, batches of columns), with
    infinities and NaNs among the entries."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(st.tuples(st.sampled_from([0, 1, 3, 64, 130]), st.sampled_from([0, 1, 10, 32, 33, 129, 140])))
    elements = st.floats(-1e3, 1e3, width=32) | st.sampled_from([np.inf, -np.inf, np.nan])
    x = draw(hnp.arrays(dtype, shape, elements=elements if draw(st.booleans()) else st.floats(-1e3, 1e3, width=32)))
    if draw(st.booleans()):
        x = np.asarray(x.T.copy().T)  # Fortran order: the products still see the right numbers
    return x, draw(st.sampled_from([0, 1, -1, -2])), draw(st.booleans())


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf - inf, in both
@settings(max_examples=150)
@given(case=matrices_and_axes())
@example(case=(np.full((130, 10), 1.9, np.float32), 0, False))  # numpy's column sum is off by 9 eps here
def test_numpy_namespace_matrix_reductions_agree_with_numpy(case):
    """The sum over one axis of a float matrix is a product with ones: numpy's result up to rounding, within
    the bound for adding n numbers (n eps times the sum of their sizes) of the exact sum (numpy's own sum of a
    column is off by up to that much too). The maximum of short rows reduces the transposed copy: exactly
    numpy's result."""
    x, axis, keepdims = case
    xp = backend_numpy.namespace
    expected = np.sum(x, axis=axis, keepdims=keepdims)
    got = xp.sum(x, axis=axis, keepdims=keepdims)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    finite, infinite = np.isfinite(expected), np.isinf(expected)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(got[infinite], expected[infinite])
    exact = np.sum(x.astype(np.longdouble), axis=axis, keepdims=keepdims)
    n, eps = x.shape[axis], float(np.finfo(x.dtype).eps)
    bound = n * eps * np.sum(np.abs(x.astype(np.longdouble)), axis=axis, keepdims=keepdims)
    assert np.all(np.abs(got[finite] - exact[finite]) <= bound[finite] + np.finfo(x.dtype).tiny)
    try:
        expected_max = np.max(x, axis=axis, keepdims=keepdims)
    except ValueError:  # the maximum of an empty row
        with pytest.raises(ValueError):
            xp.max(x, axis=axis, keepdims=keepdims)
        return
    got_max = xp.max(x, axis=axis, keepdims=keepdims)
    assert got_max.dtype == expected_max.dtype and got_max.shape == expected_max.shape
    np.testing.assert_array_equal(got_max, expected_max)


def test_numpy_namespace_sums_leave_no_shared_state():
    """The short vectors of ones behind the sums are kept read-only, long ones are not kept; every result is a
    fresh, writable array."""
    xp, x = backend_numpy.namespace, np.ones((4, 3))
    first = xp.sum(x, axis=0)
    first[:] = 7.0
    np.testing.assert_array_equal(xp.sum(x, axis=0), [4.0, 4.0, 4.0])
    with pytest.raises(ValueError, match="read-only"):
        backend_numpy._ones(4, x.dtype)[0] = 2.0
    assert backend_numpy._ones(4, x.dtype) is backend_numpy._ones(4, x.dtype)
    assert backend_numpy._ones(5000, x.dtype) is not backend_numpy._ones(5000, x.dtype)  # long: not kept
    np.testing.assert_array_equal(xp.sum(np.ones((5000, 2)), axis=0), [5000.0, 5000.0])


@pytest.mark.parametrize("axis", [2, -3])
def test_numpy_namespace_matrix_reductions_refuse_a_missing_axis(axis):
    x = np.ones((40, 3))
    for name in ("sum", "max"):
        with pytest.raises(np.exceptions.AxisError):
            getattr(backend_numpy.namespace, name)(x, axis=axis)


def test_numpy_namespace_reshape_and_astype():
    xp, x = backend_numpy.namespace, np.arange(6.0)
    assert xp.reshape(x, (2, 3)).shape == (2, 3) and np.shares_memory(xp.reshape(x, (2, 3)), x)
    assert xp.reshape(2.0, (1,)).shape == (1,)  # a Python number, as numpy.reshape allows
    assert xp.astype(x, np.float32).dtype == np.float32
    assert xp.astype(x, np.float64, copy=False) is x
    assert namespace(x) is xp and xp.__name__ == "array_api_compat.numpy"


@pytest.mark.parametrize("name, args", [
    ("arange", (5,)), ("arange", (1, 7, 2)), ("zeros", ((2, 3),)), ("ones", (4,)), ("full", ((2,), 3.5)),
    ("empty", ((0, 2),)),
])
def test_numpy_namespace_creation_matches_compat_and_still_checks_devices(name, args):

    ours, theirs = getattr(backend_numpy.namespace, name), getattr(compat, name)
    for kwargs in ({}, {"dtype": np.float32}, {"device": "cpu"}):
        got, expected = ours(*args, **kwargs), theirs(*args, **kwargs)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        if name != "empty":
            np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="Unsupported device"):
        ours(*args, device="gpu")


def test_a_dtype_is_not_an_array():
    """numpy.float64 (the class) has __array_namespace__ like an array; asking it for a namespace would fail."""
    from autodiff_lab.backend import is_array

    assert not is_array(np.float64) and not is_array(np.dtype("float32"))
    assert is_array(np.ones(2)) and is_array(xps.ones(2))
