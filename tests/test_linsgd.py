"""The fused SGD epoch kernel of the linear models (fastnn._kernels.linsgd) against its
NumPy reference (fastnn.reference.linear_sgd_epoch)."""
import numpy as np
import pytest

from fastnn import reference as ref
from fastnn._kernels import linsgd
from conftest import assert_close, assert_epoch_close


def _problem(rng, dtype, K, n=157, F=37, batch=50, spare_rows=5):
    X = rng.normal(size=(n + spare_rows, F)).astype(dtype)
    labels = rng.integers(0, max(K, 2), size=n + spare_rows).astype(np.int32)
    order = rng.permutation(n + spare_rows)[:n].astype(np.int64)   # not every row
    W = (0.1 * rng.normal(size=(K, F))).astype(dtype)
    b = rng.normal(size=K).astype(dtype)
    etas = rng.uniform(0.01, 0.1, size=-(-n // batch))
    return X, labels, order, W, b, etas


def _run(X, labels, order, sw, W, b, VW, Vb, etas, batch, momentum, l2, l1, nt,
         average=False):
    got = [None if a is None else a.copy() for a in (W, b, VW, Vb)]
    if average:
        got += [np.zeros_like(W), None if b is None else np.zeros_like(b)]
    else:
        got += [None, None]
    loss, bad = linsgd.dense_epoch(X, order, labels, sw, *got, etas, batch, momentum, l2, l1,
                                   nt)
    return (got if average else got[:4]), loss, bad


@pytest.mark.parametrize("K", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("variant", ["plain", "momentum_weights_l1", "no_intercept",
                                     "average"])
@pytest.mark.parametrize("F", [37, 3])  # vector blocks and a tail; fewer than one vector
def test_epoch_matches_reference(dtype, n_threads, rng, K, variant, F):
    X, labels, order, W, b, etas = _problem(rng, dtype, K, F=F)
    sw = VW = Vb = None
    momentum, l2, l1 = 0.0, 0.01, 0.0
    if variant == "momentum_weights_l1":
        sw = rng.uniform(0, 2, size=X.shape[0]).astype(dtype)
        sw[order[:3]] = 0       # zero-weight rows
        VW = (0.1 * rng.normal(size=W.shape)).astype(dtype)
        Vb = (0.1 * rng.normal(size=b.shape)).astype(dtype)
        momentum, l1 = 0.9, 0.02
    if variant == "no_intercept":
        b = None
    average = variant == "average"
    got, loss, bad = _run(X, labels, order, sw, W, b, VW, Vb, etas, 50, momentum, l2, l1,
                          n_threads, average)
    want = ref.linear_sgd_epoch(X, order, labels, sw, W, b, VW, Vb, etas, 50, momentum, l2,
                                l1, average)
    want_loss, want = want[4], want[:4] + want[5:]
    assert_epoch_close(got, loss, want, want_loss, dtype)
    assert not bad


@pytest.mark.parametrize("batch", [1, 7, 200, 1000])
def test_same_bits_on_any_thread_count_and_batch_edge_cases(dtype, rng, batch):
    X, labels, order, W, b, _ = _problem(rng, dtype, 5, n=1003, F=21, batch=batch)
    etas = np.full(-(-order.shape[0] // batch), 0.01)   # a stable step: no chaos
    VW, Vb = np.zeros_like(W), np.zeros_like(b)
    runs = [_run(X, labels, order, None, W, b, VW, Vb, etas, batch, 0.9, 1e-3, 0.0, nt)
            for nt in (1, 2, 3)]
    runs += [_run(X, labels, order, None, W, b, VW, Vb, etas, batch, 0.9, 1e-3, 0.0, nt,
                  average=True)[:2] + (None,) for nt in (1, 2)]
    for got, loss, _ in runs[1:3]:
        for g, w in zip(got, runs[0][0]):
            np.testing.assert_array_equal(g, w)
        assert loss == runs[0][1]
    for g, w in zip(runs[3][0][4:], runs[4][0][4:]):    # the averages too
        np.testing.assert_array_equal(g, w)
    want = ref.linear_sgd_epoch(X, order, labels, None, W, b, VW, Vb, etas, batch, 0.9, 1e-3,
                                0.0)
    assert_close(runs[0][0][0], want[0], dtype, scale=10)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_non_finite_input_is_flagged(n_threads, rng, value):
    X, labels, order, W, b, etas = _problem(rng, np.float64, 3)
    X[order[100], 5] = value
    _, _, bad = _run(X, labels, order, None, W, b, None, None, etas, 50, 0.0, 0.0, 0.0,
                     n_threads)
    assert bad
    X[order[100], 5] = 0.0
    _, _, bad = _run(X, labels, order, None, W, b, None, None, etas, 50, 0.0, 0.0, 0.0,
                     n_threads)
    assert not bad


@pytest.mark.parametrize("step", [1, 3, 10])
def test_row_sq_norms(dtype, n_threads, rng, step):
    X = rng.normal(size=(101, 13)).astype(dtype)
    out = np.empty(-(-101 // step))
    linsgd.row_sq_norms(X, step, out, n_threads)
    want = np.einsum("ij,ij->i", X[::step].astype(np.float64), X[::step].astype(np.float64))
    np.testing.assert_allclose(out, want, rtol=1e-12)


def test_running_mean(dtype, n_threads, rng):
    a = rng.normal(size=1000).astype(dtype)
    w = rng.normal(size=1000).astype(dtype)
    want = a.astype(np.float64) + (w.astype(np.float64) - a) * 0.25
    linsgd.running_mean(a, w, 0.25, n_threads)
    assert_close(a, want, dtype)


@pytest.mark.parametrize("n", [0, 1, 2, 1000])
def test_shuffled_order_is_a_seeded_permutation(n):
    order = linsgd.shuffled_order(n, 42)
    assert order.dtype == np.int64 and order.shape == (n,)
    assert np.array_equal(np.sort(order), np.arange(n))
    assert np.array_equal(order, linsgd.shuffled_order(n, 42))
    if n == 1000:
        assert not np.array_equal(order, linsgd.shuffled_order(n, 43))
        assert not np.array_equal(order, np.arange(n))


def test_shuffled_order_is_uniform():
    """Every one of the 24 orders of 4 items about equally often over 24,000 seeds
    (chi-square below its 0.1 % quantile for 23 degrees of freedom, 49.7)."""
    codes = np.array([int("".join(map(str, linsgd.shuffled_order(4, s)))) for s in range(24_000)])
    _, counts = np.unique(codes, return_counts=True)
    assert counts.shape == (24,)
    assert np.sum((counts - 1000.0) ** 2 / 1000.0) < 49.7
    with pytest.raises(ValueError, match="n must be"):
        linsgd.shuffled_order(-1, 0)
