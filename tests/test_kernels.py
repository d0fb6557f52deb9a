"""Every compiled kernel (through fastnn.functional) against fastnn.reference, float32
and float64, on 1 and 2 threads, on random and adversarial inputs."""
import numpy as np
import pytest

from fastnn import functional as F
from fastnn import reference as R

from conftest import assert_close

# (B, K): single row, single class, two classes, odd sizes, long rows, and sizes large
# enough that the kernels really split the work over 2 threads
SHAPES = [(1, 1), (1, 7), (3, 1), (5, 2), (17, 33), (64, 10), (4096, 10), (8, 10000),
          (300, 257)]


def logits_cases(rng, B, K, dtype):
    yield "normal", rng.standard_normal((B, K)).astype(dtype)
    yield "huge", (rng.choice([-1e4, 1e4], (B, K)) * rng.random((B, K))).astype(dtype)
    yield "equal", np.full((B, K), 3.5, dtype)
    yield "zeros", np.zeros((B, K), dtype)


@pytest.mark.parametrize("B, K", SHAPES)
def test_softmax_and_log_softmax(rng, dtype, n_threads, B, K):
    for case, z in logits_cases(rng, B, K, dtype):
        p = F.softmax(z, n_threads=n_threads)
        assert p.dtype == dtype and p.shape == z.shape
        assert_close(p, R.softmax(z), dtype)
        assert_close(F.log_softmax(z, n_threads=n_threads), R.log_softmax(z), dtype,
                     scale=max(1.0, float(np.abs(z).max())))


@pytest.mark.parametrize("B, K", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_cross_entropy(rng, dtype, n_threads, B, K, weighted):
    for case, z in logits_cases(rng, B, K, dtype):
        y = rng.integers(0, K, B)
        w = rng.random(B).astype(dtype) + 0.05 if weighted else None
        loss, grad = F.softmax_cross_entropy(z, y, w, n_threads=n_threads)
        want_loss, want_grad = R.softmax_cross_entropy(z, y, w)
        assert isinstance(loss, float) and grad.dtype == dtype
        assert loss == pytest.approx(want_loss, rel=1e-5 if dtype == np.float32 else 1e-12,
                                     abs=1e-6 if dtype == np.float32 else 1e-12)
        assert_close(grad, want_grad, dtype)


def test_softmax_other_axes_and_dims(rng, dtype):
    z = rng.standard_normal((3, 4, 5)).astype(dtype)
    for axis in (0, 1, 2, -1):
        assert_close(F.softmax(z, axis=axis), R.softmax(z, axis=axis), dtype)
        assert_close(F.log_softmax(z, axis=axis), R.log_softmax(z, axis=axis), dtype)
    v = rng.standard_normal(9).astype(dtype)
    assert_close(F.softmax(v), R.softmax(v), dtype)


def test_zero_weight_rows_do_not_count(rng, dtype):
    z = rng.standard_normal((6, 4)).astype(dtype)
    y = rng.integers(0, 4, 6)
    w = np.array([1, 0, 2, 0, 1, 1], dtype)
    loss, grad = F.softmax_cross_entropy(z, y, w)
    keep = w > 0
    sub_loss, sub_grad = F.softmax_cross_entropy(z[keep], y[keep], w[keep])
    assert loss == pytest.approx(sub_loss, rel=1e-6)
    assert_close(grad[keep], sub_grad, dtype)
    assert not grad[~keep].any()


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 300_001])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(rng, dtype, n_threads, n, weighted):
    z = (rng.standard_normal(n) * 5).astype(dtype)
    z[: n // 10] *= 1e3  # saturated tails
    t = rng.random(n).astype(dtype)
    t[::3] = np.round(t[::3])
    w = rng.random(n).astype(dtype) + 0.1 if weighted else None
    loss, grad = F.binary_cross_entropy_with_logits(z, t, w, n_threads=n_threads)
    want_loss, want_grad = R.binary_cross_entropy_with_logits(z, t, w)
    assert loss == pytest.approx(want_loss, rel=1e-5 if dtype == np.float32 else 1e-12)
    assert_close(grad, want_grad, dtype)


def test_binary_cross_entropy_keeps_shape(rng, dtype):
    z = rng.standard_normal((4, 3)).astype(dtype)
    t = (rng.random((4, 3)) > 0.5)
    loss, grad = F.binary_cross_entropy_with_logits(z, t)
    want_loss, want_grad = R.binary_cross_entropy_with_logits(z, t.astype(dtype))
    assert grad.shape == (4, 3)
    assert loss == pytest.approx(want_loss, rel=1e-5)
    assert_close(grad, want_grad, dtype)


def activation_inputs(rng, n, dtype):
    x = (rng.standard_normal(n) * 4).astype(dtype)
    special = np.array([0.0, -0.0, 1e-30, -1e-30, 1e-7, 0.55, -0.55, 0.5500001, 20, -20, 50,
                        -50, 100, -100, 1e4, -1e4, 3e38, -3e38], dtype)
    x[: len(special)] = special[:n]
    return x


@pytest.mark.parametrize("n", [1, 5, 33, 1000, 300_001])
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_activation_forward(rng, dtype, n_threads, n, name):
    x = activation_inputs(rng, n, dtype)
    got = getattr(F, name)(x, n_threads=n_threads)
    want = getattr(R, name)(x.astype(np.float64)).astype(dtype)
    assert got.dtype == dtype
    assert_close(got, want, dtype)
    # tails keep relative accuracy (sigmoid(-100) is ~3.7e-44, not 0, in float64)
    if name == "sigmoid" and dtype == np.float64:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("n", [1, 33, 300_001])
def test_activation_backward(rng, dtype, n_threads, n):
    x = activation_inputs(rng, n, dtype)
    dout = rng.standard_normal(n).astype(dtype)
    assert_close(F.relu_backward(dout, x, n_threads=n_threads), R.relu_backward(dout, x), dtype)
    y = np.tanh(x)
    assert_close(F.tanh_backward(dout, y, n_threads=n_threads), R.tanh_backward(dout, y), dtype)
    s = R.sigmoid(x)
    assert_close(F.sigmoid_backward(dout, s, n_threads=n_threads),
                 R.sigmoid_backward(dout, s), dtype)


def test_activations_keep_shape(rng, dtype):
    x = rng.standard_normal((3, 4, 5)).astype(dtype)
    for name in ("relu", "tanh", "sigmoid"):
        assert getattr(F, name)(x).shape == x.shape
    assert F.tanh_backward(x, x).shape == x.shape


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
@pytest.mark.parametrize("n", [1, 37, 200_003])
def test_sgd_update(rng, dtype, n_threads, momentum, nesterov, weight_decay, n):
    p = rng.standard_normal(n).astype(dtype)
    v = rng.standard_normal(n).astype(dtype) if momentum else None
    for step in range(3):
        g = rng.standard_normal(n).astype(dtype)
        want_p, want_v = R.sgd_update(p, g, 0.05, v, momentum, nesterov, weight_decay)
        F.sgd_update(p, g, 0.05, velocity=v, momentum=momentum, nesterov=nesterov,
                     weight_decay=weight_decay, n_threads=n_threads)
        assert_close(p, want_p, dtype)
        if momentum:
            assert_close(v, want_v, dtype)
        p, v = want_p.astype(dtype), None if want_v is None else want_v.astype(dtype)


def test_sgd_update_works_in_place_on_2d(rng, dtype):
    p = rng.standard_normal((4, 5)).astype(dtype)
    before, g = p.copy(), np.ones((4, 5), dtype)
    assert F.sgd_update(p, g, 0.5) is None
    assert_close(p, before - 0.5, dtype)


@pytest.mark.parametrize("B, n_in, n_out", [(1, 1, 1), (7, 3, 5), (64, 300, 17), (513, 129, 256)])
def test_linear(rng, dtype, n_threads, B, n_in, n_out):
    x = rng.standard_normal((B, n_in)).astype(dtype)
    W = rng.standard_normal((n_out, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    scale = np.sqrt(n_in)
    assert_close(F.linear(x, W, b, n_threads=n_threads), R.linear(x, W, b), dtype, scale)
    assert_close(F.linear(x, W, n_threads=n_threads), R.linear(x, W), dtype, scale)
    dout = rng.standard_normal((B, n_out)).astype(dtype)
    for got, want, k in zip(F.linear_backward(dout, x, W, n_threads=n_threads),
                            R.linear_backward(dout, x, W), (B, B, n_out)):
        assert got.dtype == dtype
        assert_close(got, want, dtype, 10 * np.sqrt(k))


@pytest.mark.parametrize("n", [1, 2, 5])
def test_lm_windows(rng, n_threads, n):
    ids = rng.integers(1, 50, 1000)
    for boundaries in (None, [0, 10, 11, 11, 500, 999], [3, 1000], []):
        got = F.lm_windows(ids, n, 0, boundaries, n_threads=n_threads)
        want = R.lm_windows(ids, n, 0, boundaries)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_lm_windows_example_and_large():
    contexts, targets = F.lm_windows(np.array([5, 6, 7, 8]), 2, 0)
    assert contexts.tolist() == [[0, 0], [0, 5], [5, 6], [6, 7]]
    assert targets.tolist() == [5, 6, 7, 8]
    ids = np.arange(1, 300_001)
    c1, _ = F.lm_windows(ids, 3, 0, [0, 1000, 150_000], n_threads=1)
    c2, _ = F.lm_windows(ids, 3, 0, [0, 1000, 150_000], n_threads=2)
    np.testing.assert_array_equal(c1, c2)
    assert c1[150_001].tolist() == [0, 0, 150_001]


@pytest.mark.parametrize("N, n, V, d", [(1, 1, 1, 1), (10, 3, 4, 5), (4096, 3, 50, 64),
                                        (300, 2, 7, 33)])
def test_embedding(rng, dtype, n_threads, N, n, V, d):
    table = rng.standard_normal((V, d)).astype(dtype)
    ids = rng.integers(0, V, (N, n))  # few rows, many repeats: scatter-add collides
    got = F.embedding(ids, table, n_threads=n_threads)
    np.testing.assert_array_equal(got, R.embedding(ids, table))
    dout = rng.standard_normal((N, n * d)).astype(dtype)
    assert_close(F.embedding_backward(dout, ids, V, n_threads=n_threads),
                 R.embedding_backward(dout, ids, V), dtype, scale=np.sqrt(N))


def test_embedding_one_dimensional_ids(rng, dtype):
    table = rng.standard_normal((5, 3)).astype(dtype)
    np.testing.assert_array_equal(F.embedding([4, 0, 4], table), table[[4, 0, 4]])


# The same input gives the same bits whatever the thread count.
def test_reductions_are_deterministic_across_threads(rng, dtype):
    z = rng.standard_normal((2048, 300)).astype(dtype)
    y = rng.integers(0, 300, 2048)
    w = rng.random(2048).astype(dtype)
    runs = [F.softmax_cross_entropy(z, y, w, n_threads=t) for t in (1, 2, 3)]
    assert runs[0][0] == runs[1][0] == runs[2][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    t = (rng.random(500_000) > 0.5)
    zz = rng.standard_normal(500_000).astype(dtype)
    bce = {F.binary_cross_entropy_with_logits(zz, t, n_threads=k)[0] for k in (1, 2, 3)}
    assert len(bce) == 1
    ids = rng.integers(0, 20, (20000, 3))
    dout = rng.standard_normal((20000, 3 * 64)).astype(dtype)
    grads = [F.embedding_backward(dout, ids, 20, n_threads=k) for k in (1, 2, 4)]
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[0], grads[2])
    x = rng.standard_normal((4000, 100)).astype(dtype)
    W = rng.standard_normal((10, 100)).astype(dtype)
    dbs = [F.linear_backward(x[:, :10], x, W, n_threads=k)[1] for k in (1, 2)]
    np.testing.assert_array_equal(dbs[0], dbs[1])


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_activations_write_into_out_and_in_place(rng, dtype, name):
    x = rng.standard_normal(200_001).astype(dtype)
    want = getattr(F, name)(x)
    out = np.empty_like(x)
    assert getattr(F, name)(x, out=out) is out
    np.testing.assert_array_equal(out, want)
    assert getattr(F, name)(x, out=x) is x
    np.testing.assert_array_equal(x, want)
    backward = {"relu": F.relu_backward, "tanh": F.tanh_backward,
                "sigmoid": F.sigmoid_backward}[name]
    dout = rng.standard_normal(x.shape).astype(dtype)
    want = backward(dout, x)
    assert backward(dout, x, out=dout) is dout
    np.testing.assert_array_equal(dout, want)
