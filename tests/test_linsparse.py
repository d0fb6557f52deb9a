"""The CSR SGD epoch kernel of the linear models (fastnn._kernels.linsparse), in its
three modes (scaled states, lazy records, and the sweep, which alone takes L1), against
its eager NumPy reference (fastnn.reference.linear_sgd_epoch_csr)."""
import numpy as np
import pytest
import scipy.sparse as sp

from fastnn import reference as ref
from fastnn._kernels import linsparse
from conftest import assert_close, assert_epoch_close


def _problem(rng, dtype, K, n=157, F=60, density=0.08, spare_rows=5):
    rows = n + spare_rows
    X = sp.random(rows, F, density=density, random_state=int(rng.integers(1 << 30)),
                  format="csr", dtype=np.float64)
    X.data = rng.normal(size=X.data.shape)
    X = X.tolil()
    X[3, :] = 0                 # empty rows
    X[10, :] = 0
    X[:, 7] = 0                 # columns no row touches
    X[:, F - 1] = 0
    X = X.tocsr().astype(dtype)
    X.sort_indices()
    labels = rng.integers(0, max(K, 2), size=rows).astype(np.int32)
    order = rng.permutation(rows)[:n].astype(np.int64)   # not every row
    W = (0.1 * rng.normal(size=(K, F))).astype(dtype)
    b = rng.normal(size=K).astype(dtype)
    return X, labels, order, W, b


def _bounds(F, P=6):
    """P column blocks, some empty."""
    cuts = np.linspace(0, F, P - 1).astype(np.int32)
    return np.concatenate([cuts[:2], cuts[1:]]).astype(np.int32)


def _run(X, order, labels, sw, W, b, VW, Vb, etas, batch, momentum, l2, nt, average,
         bounds=None, window=128, mode="auto", l1=0.0):
    """The kernel on copies, in the reference's layout: (W, b, VW, Vb[, AW, Ab]), loss, bad."""
    WT = np.array(W.T, order="C")
    VT = None if VW is None else np.array(VW.T, order="C")
    b = None if b is None else b.copy()
    Vb = None if Vb is None else Vb.copy()
    AT = np.zeros_like(WT) if average else None
    Ab = np.zeros_like(b) if average and b is not None else None
    bounds = _bounds(X.shape[1]) if bounds is None else bounds
    loss, bad = linsparse.csr_epoch(X.data, X.indices, X.indptr.astype(np.int64), order,
                                    labels, sw, bounds, WT, b, VT, Vb, AT, Ab, etas, batch,
                                    momentum, l2, nt, mode=mode, window=window, grain=1,
                                    l1=l1)
    got = [WT.T, b, None if VT is None else VT.T, Vb]
    if average:
        got += [AT.T, Ab]
    return got, loss, bad


def _reference(X, order, labels, sw, W, b, VW, Vb, etas, batch, momentum, l2, average,
               l1=0.0):
    want = ref.linear_sgd_epoch_csr(X.data, X.indices, X.indptr, X.shape, order, labels, sw,
                                    W, b, VW, Vb, etas, batch, momentum, l2, average, l1)
    return list(want[:4]) + list(want[5:]), want[4]


MODES = ["lazy", "scaled", "sweep"]
VARIANTS = ["plain", "momentum_weights", "no_intercept", "average", "average_momentum",
            "no_penalty"]


def _setup(rng, dtype, K, variant, batch):
    X, labels, order, W, b = _problem(rng, dtype, K)
    sw = VW = Vb = None
    momentum, l2 = 0.0, 0.01
    if variant in ("momentum_weights", "average_momentum"):
        sw = rng.uniform(0, 2, size=X.shape[0]).astype(dtype)
        sw[order[:3]] = 0       # zero-weight rows
        VW = (0.1 * rng.normal(size=W.shape)).astype(dtype)
        Vb = (0.1 * rng.normal(size=b.shape)).astype(dtype)
        momentum = 0.9
    if variant == "no_intercept":
        b = None
    if variant == "no_penalty":
        l2 = 0.0
    etas = rng.uniform(0.01, 0.3, size=-(-order.shape[0] // batch))
    return X, labels, order, sw, W, b, VW, Vb, etas, momentum, l2, variant.startswith("average")


@pytest.mark.parametrize("K", [1, 2, 3, 5])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("nt", [1, 2, 3])
@pytest.mark.parametrize("mode", MODES)
def test_epoch_matches_reference(dtype, rng, K, variant, nt, mode):
    batch = 10
    X, labels, order, sw, W, b, VW, Vb, etas, momentum, l2, average = _setup(
        rng, dtype, K, variant, batch)
    got, loss, bad = _run(X, order, labels, sw, W, b, VW, Vb, etas, batch, momentum, l2, nt,
                          average, window=4, mode=mode)     # lazy, 16 steps: three catch-ups
    want, want_loss = _reference(X, order, labels, sw, W, b, VW, Vb, etas, batch, momentum,
                                 l2, average)
    assert not bad
    assert_epoch_close(got, loss, want, want_loss, dtype)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("variant", ["plain", "momentum_weights", "average",
                                     "average_momentum", "no_intercept"])
@pytest.mark.parametrize("nt", [1, 2, 3])
@pytest.mark.parametrize("mode", ["sweep", "auto"])
def test_l1_epoch_matches_reference(dtype, rng, K, variant, nt, mode):
    """L1 (a soft-threshold after each step) sweeps every weight each step; 'auto'
    takes the sweep for it.  Weights the reference zeroes are exactly 0 here too."""
    batch, l1 = 10, 0.05
    X, labels, order, sw, W, b, VW, Vb, etas, momentum, l2, average = _setup(
        rng, dtype, K, variant, batch)
    got, loss, bad = _run(X, order, labels, sw, W, b, VW, Vb, etas, batch, momentum, l2, nt,
                          average, mode=mode, l1=l1)
    want, want_loss = _reference(X, order, labels, sw, W, b, VW, Vb, etas, batch, momentum,
                                 l2, average, l1)
    assert not bad
    assert_epoch_close(got, loss, want, want_loss, dtype)
    zeros = want[0] == 0
    assert zeros.any() and not zeros.all()
    np.testing.assert_array_equal(got[0][zeros], 0)


def test_l1_same_bits_on_any_thread_count(rng):
    X, labels, order, sw, W, b, VW, Vb, etas, momentum, l2, average = _setup(
        rng, np.float64, 3, "average_momentum", 9)
    runs = [_run(X, order, labels, sw, W, b, VW, Vb, etas, 9, momentum, l2, nt, average,
                 bounds=np.array([0, 5, 11, 30, 31, 44, 60], np.int32), l1=0.02)
            for nt in (1, 2, 3, 6)]
    for got, loss, _ in runs[1:]:
        assert loss == runs[0][1]
        for g, g0 in zip(got, runs[0][0]):
            np.testing.assert_array_equal(g, g0)


@pytest.mark.parametrize("mode", ["lazy", "scaled"])
def test_l1_needs_the_sweep(rng, mode):
    X, labels, order, sw, W, b, VW, Vb, etas, momentum, l2, average = _setup(
        rng, np.float64, 1, "plain", 10)
    with pytest.raises(ValueError, match="l1 > 0 needs mode 'auto' or 'sweep'"):
        _run(X, order, labels, sw, W, b, VW, Vb, etas, 10, momentum, l2, 1, average,
             mode=mode, l1=0.1)


@pytest.mark.parametrize("momentum", [0.0, 0.3, 0.9])
def test_scaled_mode_folds_in_a_long_epoch(dtype, rng, momentum):
    """157 one-row steps: the scaled states are folded again and again (every ~7 steps
    at momentum 0.3, every few dozen at 0.9 or, without momentum, at l2 = 0.5) and
    still give the reference's model."""
    X, labels, order, sw, W, b, VW, Vb, etas, _, _, average = _setup(
        rng, dtype, 2, "average_momentum", 1)
    if momentum == 0:
        VW = Vb = None
    sw = rng.uniform(0.5, 2, size=X.shape[0]).astype(dtype)   # no zero-weight batch
    etas = np.repeat(rng.uniform(0.05, 0.3, size=16), 10)[:order.shape[0]]
    l2 = 0.5 if momentum == 0 else 0.05
    for nt in (1, 2):
        got, loss, _ = _run(X, order, labels, sw, W, b, VW, Vb, etas, 1, momentum, l2, nt,
                            average, mode="scaled")
        want, want_loss = _reference(X, order, labels, sw, W, b, VW, Vb, etas, 1, momentum,
                                     l2, average)
        assert_epoch_close(got, loss, want, want_loss, dtype)


def test_scaled_mode_folds_a_shrinking_rotation(dtype, rng):
    """Momentum 0.5 with eta l2 = 0.5: the steps' maps have complex eigenvalues, so M
    shrinks like a rotation (|det M| = 0.5^t) without losing its condition; 400 steps
    would take y = M^-1 (w, v) out of float32's range (NaN before the fix)."""
    X, labels, order, W, b = _problem(rng, dtype, 1, n=400, F=30, density=0.2)
    VW, Vb = np.zeros_like(W), np.zeros_like(b)
    etas = np.full(order.shape[0], 0.5)
    got, loss, bad = _run(X, order, labels, None, W, b, VW, Vb, etas, 1, 0.5, 1.0, 2, True,
                          mode="scaled")
    want, want_loss = _reference(X, order, labels, None, W, b, VW, Vb, etas, 1, 0.5, 1.0,
                                 True)
    assert not bad
    assert_epoch_close(got, loss, want, want_loss, dtype)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_step_that_zeroes_the_weights(rng, momentum):
    """eta l2 = 1 makes a step's map singular (without momentum: w = 0 before the
    gradient); the scaled mode folds instead of inverting it."""
    X, labels, order, sw, W, b, VW, Vb, etas, _, _, _ = _setup(
        rng, np.float64, 1, "average_momentum", 10)
    if momentum == 0:
        VW = Vb = None
    etas = np.full(etas.shape, 0.5)
    got, loss, _ = _run(X, order, labels, sw, W, b, VW, Vb, etas, 10, momentum, 2.0, 2,
                        True, mode="scaled")
    want, want_loss = _reference(X, order, labels, sw, W, b, VW, Vb, etas, 10, momentum,
                                 2.0, True)
    assert_epoch_close(got, loss, want, want_loss, np.float64)


@pytest.mark.parametrize("window", [1, 2, 5, 128])
def test_catch_up_window_changes_round_off_only(rng, window):
    X, labels, order, sw, W, b, VW, Vb, etas, momentum, l2, average = _setup(
        rng, np.float64, 2, "average_momentum", 7)
    got, _, _ = _run(X, order, labels, sw, W, b, VW, Vb, etas, 7, momentum, l2, 2, average,
                     window=window, mode="lazy")
    want, _ = _reference(X, order, labels, sw, W, b, VW, Vb, etas, 7, momentum, l2, average)
    for g, w in zip(got, want):
        assert_close(g, w, np.float64, scale=10)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("variant", ["plain", "momentum_weights", "average_momentum"])
@pytest.mark.parametrize("mode", MODES)
def test_same_bits_on_any_thread_count(dtype, rng, K, variant, mode):
    X, labels, order, sw, W, b, VW, Vb, etas, momentum, l2, average = _setup(
        rng, dtype, K, variant, 9)
    runs = [_run(X, order, labels, sw, W, b, VW, Vb, etas, 9, momentum, l2, nt, average,
                 bounds=np.array([0, 5, 11, 30, 31, 44, 60], np.int32), window=3, mode=mode)
            for nt in (1, 2, 3, 6)]
    for got, loss, _ in runs[1:]:
        assert loss == runs[0][1]
        for g, g0 in zip(got, runs[0][0]):
            if g is not None:
                np.testing.assert_array_equal(g, g0)


@pytest.mark.parametrize("mode", MODES)
def test_one_block_and_one_big_batch(rng, mode):
    X, labels, order, sw, W, b, VW, Vb, etas, momentum, l2, average = _setup(
        rng, np.float64, 1, "average_momentum", 1000)
    got, _, _ = _run(X, order, labels, sw, W, b, VW, Vb, etas, 1000, momentum, l2, 2,
                     average, bounds=np.array([0, X.shape[1]], np.int32), mode=mode)
    want, _ = _reference(X, order, labels, sw, W, b, VW, Vb, etas, 1000, momentum, l2,
                         average)
    for g, w in zip(got, want):
        assert_close(g, w, np.float64, scale=10)


@pytest.mark.parametrize("mode", MODES)
def test_duplicate_column_entries_add_up(rng, mode):
    """A row naming a column twice (non-canonical CSR, sorted) acts as their sum."""
    X, labels, order, W, b = _problem(rng, np.float64, 1, n=40, F=12, density=0.3)
    data, indices, indptr = X.data, X.indices, X.indptr
    dup = sp.csr_matrix((np.repeat(data, 2) / 2, np.repeat(indices, 2), indptr * 2),
                        shape=X.shape)
    assert not dup.has_canonical_format
    etas = np.full(4, 0.1)
    a, _, _ = _run(dup, order, labels, None, W, b, None, None, etas, 10, 0.0, 0.01, 2, True,
                   mode=mode)
    c, _, _ = _run(X, order, labels, None, W, b, None, None, etas, 10, 0.0, 0.01, 2, True,
                   mode=mode)
    for g, w in zip(a, c):
        if g is not None:
            assert_close(g, w, np.float64)


@pytest.mark.parametrize("mode", MODES)
def test_nonfinite_values_are_flagged(rng, mode):
    X, labels, order, sw, W, b, VW, Vb, etas, momentum, l2, average = _setup(
        rng, np.float64, 1, "plain", 10)
    X = X.copy()
    X.data[X.indptr[order[20]]] = np.inf
    _, _, bad = _run(X, order, labels, sw, W, b, VW, Vb, etas, 10, momentum, l2, 2, average,
                     mode=mode)
    assert bad


def test_empty_order_is_a_no_op(rng):
    X, labels, order, W, b = _problem(rng, np.float64, 1)
    got, loss, bad = _run(X, order[:0], labels, None, W, b, None, None, np.zeros(1), 10,
                          0.0, 0.0, 1, False)
    assert loss == 0 and not bad
    np.testing.assert_array_equal(got[0], W)


@pytest.mark.parametrize("step", [1, 3, 1000])
def test_csr_row_sq_norms(dtype, n_threads, rng, step):
    X, _, _, _, _ = _problem(rng, dtype, 1)
    out = np.empty(-(-X.shape[0] // step))
    linsparse.csr_row_sq_norms(X.data, X.indptr.astype(np.int64), step, out, n_threads)
    want = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()[::step]
    assert_close(out, want, dtype)


@pytest.mark.parametrize("mode", MODES)
def test_many_outputs_chunked_logits(rng, mode):
    """K = 20 > 16: the forward pass sums the logits 16 at a time."""
    X, labels, order, sw, W, b, VW, Vb, etas, momentum, l2, average = _setup(
        rng, np.float64, 20, "average_momentum", 10)
    got, loss, _ = _run(X, order, labels, sw, W, b, VW, Vb, etas, 10, momentum, l2, 2,
                        average, window=4, mode=mode)
    want, want_loss = _reference(X, order, labels, sw, W, b, VW, Vb, etas, 10, momentum,
                                 l2, average)
    for g, w in zip(got, want):
        assert_close(g, w, np.float64, scale=10)
    assert_close(loss, want_loss, np.float64, scale=100)


def test_auto_mode_is_one_of_the_two(rng):
    """'auto' scales unless the columns are many and the momentum small (frequent folds):
    the same model as that mode, bit for bit."""
    for F, mode in ((60, "scaled"), (5000, "lazy")):
        X, labels, order, W, b = _problem(rng, np.float64, 1, F=F, density=0.01 * 60 / F * 8)
        VW, Vb = np.zeros_like(W), np.zeros_like(b)
        etas = np.full(-(-order.shape[0] // 10), 0.1)
        auto, _, _ = _run(X, order, labels, None, W, b, VW, Vb, etas, 10, 0.1, 0.01, 1, True)
        want, _, _ = _run(X, order, labels, None, W, b, VW, Vb, etas, 10, 0.1, 0.01, 1, True,
                          mode=mode)
        for g, w in zip(auto, want):
            np.testing.assert_array_equal(g, w)


def test_unknown_mode_is_refused(rng):
    X, labels, order, W, b = _problem(rng, np.float64, 1)
    with pytest.raises(ValueError, match="mode"):
        _run(X, order, labels, None, W, b, None, None, np.full(16, 0.1), 10, 0.0, 0.0, 1,
             False, mode="eager")
