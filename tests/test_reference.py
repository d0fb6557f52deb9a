"""The reference itself is the specification: check its gradients by finite differences
in float64, and its values against closed forms."""
import numpy as np
import pytest

from fastnn import reference as R


def numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def test_softmax_cross_entropy_gradient(rng):
    z = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, 5)
    w = rng.random(5) + 0.1
    for weights in (None, w):
        _, grad = R.softmax_cross_entropy(z, y, weights)
        num = numeric_grad(lambda t: R.softmax_cross_entropy(t, y, weights)[0], z.copy())
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-9)


def test_binary_cross_entropy_gradient(rng):
    z = rng.standard_normal(7) * 3
    t = rng.random(7)
    w = rng.random(7) + 0.1
    for weights in (None, w):
        _, grad = R.binary_cross_entropy_with_logits(z, t, weights)
        num = numeric_grad(lambda s: R.binary_cross_entropy_with_logits(s, t, weights)[0],
                           z.copy())
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-9)


def test_binary_cross_entropy_matches_definition(rng):
    z = rng.standard_normal(9)
    t = rng.random(9)
    p = 1 / (1 + np.exp(-z))
    want = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert R.binary_cross_entropy_with_logits(z, t)[0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("name, grad_of", [
    ("relu", lambda dout, x, y: R.relu_backward(dout, x)),
    ("tanh", lambda dout, x, y: R.tanh_backward(dout, y)),
    ("sigmoid", lambda dout, x, y: R.sigmoid_backward(dout, y)),
])
def test_activation_backward(rng, name, grad_of):
    f = getattr(R, name)
    x = rng.standard_normal(11)
    x[np.abs(x) < 1e-3] = 0.5  # relu's kink
    dout = rng.standard_normal(11)
    num = numeric_grad(lambda t: float(dout @ f(t)), x.copy())
    np.testing.assert_allclose(grad_of(dout, x, f(x)), num, rtol=1e-6, atol=1e-9)


def test_linear_backward(rng):
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)
    dout = rng.standard_normal((4, 5))
    dW, db, dx = R.linear_backward(dout, x, W)
    loss = lambda x_, W_, b_: float((dout * R.linear(x_, W_, b_)).sum())
    np.testing.assert_allclose(dW, numeric_grad(lambda t: loss(x, t, b), W.copy()), rtol=1e-6)
    np.testing.assert_allclose(db, numeric_grad(lambda t: loss(x, W, t), b.copy()), rtol=1e-6)
    np.testing.assert_allclose(dx, numeric_grad(lambda t: loss(t, W, b), x.copy()), rtol=1e-6)


def test_embedding_backward(rng):
    table = rng.standard_normal((6, 3))
    ids = np.array([[1, 2], [2, 2], [5, 0]])
    dout = rng.standard_normal((3, 6))
    num = numeric_grad(lambda t: float((dout * R.embedding(ids, t)).sum()), table.copy())
    np.testing.assert_allclose(R.embedding_backward(dout, ids, 6), num, rtol=1e-6, atol=1e-9)


def test_lm_windows_example():
    contexts, targets = R.lm_windows([5, 6, 7, 8], 2, 0)
    assert contexts.tolist() == [[0, 0], [0, 5], [5, 6], [6, 7]]
    assert targets.tolist() == [5, 6, 7, 8]


def test_sgd_reference_matches_pytorch_formulas():
    p, g, v = np.array([1.0]), np.array([0.5]), np.array([0.2])
    new_p, new_v = R.sgd_update(p, g, 0.1, v, momentum=0.9, nesterov=True, weight_decay=0.01)
    gd = 0.5 + 0.01 * 1.0
    vv = 0.9 * 0.2 + gd
    assert new_v[0] == pytest.approx(vv)
    assert new_p[0] == pytest.approx(1.0 - 0.1 * (gd + 0.9 * vv))
