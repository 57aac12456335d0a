"""The worked examples of the slide decks (shared/seeds/README.md), reproduced by the engine."""

import math

import numpy as np

import autodiff_lab.numpy as anp
from autodiff_lab import Dual, Value, grad, jvp, vjp


def ln_example(x1, x2):
    return anp.log(x1) + x1 * x2 - anp.sin(x2)


def test_ln_sin_example_both_modes():
    assert round(float(ln_example(2.0, 5.0)), 3) == 11.652
    d1, d2 = grad(ln_example, argnums=(0, 1))(2.0, 5.0)
    assert round(float(d1), 3) == 5.5 and round(float(d2), 3) == 1.716
    value, tangent = jvp(ln_example, (2.0, 5.0), (1.0, 0.0))
    assert round(float(value), 3) == 11.652 and round(float(tangent), 3) == 5.5
    y = ln_example(Dual(2.0, 0.0), Dual(5.0, 1.0))
    assert round(float(y.tangent), 3) == 1.716


def test_log_ab_example_scalar_and_array_engines(close):
    a, b = Value(2.0, "a"), Value(3.0, "b")
    f = (a * b).log()
    f.backward()
    assert abs(f.data - 1.791) < 1e-3 and abs(a.grad - 0.5) < 1e-3 and abs(b.grad - 0.333) < 1e-3
    assert close(grad(lambda a, b: anp.log(a * b), argnums=(0, 1))(2.0, 3.0), (0.5, 1 / 3))


def test_x_plus_y_times_z():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    q = (x + y) * z
    q.backward()
    assert (q.data, x.grad, y.grad, z.grad) == (-12.0, -4.0, -4.0, 3.0)


def test_logistic_loss_neuron_chain_of_local_gradients():
    # deck 000: dL/dw1 = dL/dp * dp/dv * dv/dq * dq/dz1 * dz1/dw1 = -3.7 * 0.2 * 1 * 1 * 2 = -1.48,
    # for L = -log(p), p = sigmoid(v), v = y * q, q = z1 + z2, z1 = w1 * x1 with w1 = -1, x1 = 2, y = 1 and
    # z2 = 1, so p = sigmoid(-1) = 0.27 (-1/p = -3.7, p(1 - p) = 0.2); one step with rate 1 gives w1 = 0.48.
    w1, x1, z2, y = Value(-1.0, "w1"), Value(2.0, "x1"), Value(1.0, "z2"), Value(1.0, "y")
    z1 = w1 * x1
    q = z1 + z2
    v = y * q
    p = v.sigmoid()
    loss = -p.log()
    loss.backward()
    chain = [-1 / p.data, p.local_grads[0], v.local_grads[1], q.local_grads[0], z1.local_grads[0]]
    assert [round(c, 1) for c in chain] == [-3.7, 0.2, 1.0, 1.0, 2.0]
    assert math.isclose(w1.grad, math.prod(chain))
    slide_gradient = round(math.prod(round(c, 1) for c in chain), 2)  # the slide rounds each factor first
    assert slide_gradient == -1.48 and round(w1.data - 1.0 * slide_gradient, 2) == 0.48
    assert round(w1.grad, 2) == -1.46  # unrounded factors


def test_sum_of_sigmoid_gradient(arr, close):
    g = grad(lambda u: anp.sum(anp.sigmoid(u)))(arr([[1, 2], [3, 4]]))
    assert close(g, np.array([[0.1966, 0.1050], [0.0452, 0.0177]]), atol=5e-5)


def test_matrix_product_vjp(arr, close):
    x = arr([[2, 1, -3], [-3, 4, 2]])
    w = arr([[3, 2, 1, -1], [2, 1, 3, 2], [3, 2, 1, -2]])
    _, f_vjp = vjp(lambda x: x @ w, x)
    (dx,) = f_vjp(arr([[2, 3, -3, 9], [-8, 1, 4, 6]]))
    assert close(dx, np.array([[0, 16, -9], [-24, 9, -30]]))


def two_outputs(x1, x2):
    v1 = x1 * x2
    v2 = anp.log(x2)
    return anp.sin(v1), v1 + v2


def test_two_outputs_forward_and_reverse_mode(close):
    (y1, y2), (t1, t2) = jvp(two_outputs, (2.0, 3.0), (1.0, 0.0))
    assert close((y1, y2), (math.sin(6), 6 + math.log(3)))
    assert close((t1, t2), (3 * math.cos(6), 3.0))  # column 1 of the Jacobian from one forward pass
    _, f_vjp = vjp(two_outputs, 2.0, 3.0)
    assert close(f_vjp((1.0, 0.0)), (3 * math.cos(6), 2 * math.cos(6)))  # row 1 from one backward pass
    assert close(f_vjp((0.0, 1.0)), (3.0, 2 + 1 / 3))


def test_logistic_map_autodiff_matches_symbolic_derivative():
    def logistic_map(x, n):
        for _ in range(n):
            x = 4 * x * (1 - x)
        return x

    x0 = 0.3
    for n in range(1, 5):
        d = grad(logistic_map)(x0, n)
        h = 1e-6
        assert math.isclose(d, (logistic_map(x0 + h, n) - logistic_map(x0 - h, n)) / (2 * h), rel_tol=1e-6)
