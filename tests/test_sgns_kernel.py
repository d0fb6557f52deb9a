"""The word2vec kernel (fastnn._kernels.sgns) against the NumPy reference, the alias
table's distribution, and whole-epoch training: bitwise reproducible on one thread,
learning on two."""
import numpy as np
import pytest

from conftest import assert_close
from fastnn import reference
from fastnn._kernels import sgns

V, D = 30, 17


def _tables(rng, dtype, scale=0.5):
    syn0 = (rng.standard_normal((V, D)) * scale).astype(dtype)
    syn1 = (rng.standard_normal((V, D)) * scale).astype(dtype)
    return syn0, syn1


@pytest.mark.parametrize("scale", [0.3, 3.0], ids=["small", "saturating"])
def test_sg_update_matches_reference(dtype, rng, scale):
    syn0, syn1 = _tables(rng, dtype, scale)
    negs = np.array([3, 7, 5, 7, 11], dtype=np.int32)      # a repeat, and the center below
    for center, context in [(5, 2), (9, 9), (0, 29)]:
        want0, want1 = syn0.copy(), syn1.copy()
        want_loss = reference.sgns_update(want0, want1, context, center, negs, 0.025)
        got_loss = sgns.sg_update(syn0, syn1, context, center, negs, 0.025, True)
        assert_close(syn0, want0, dtype)
        assert_close(syn1, want1, dtype)
        assert got_loss == pytest.approx(want_loss, rel=1e-5)
        syn0, syn1 = want0, want1


def test_sg_update_saturates_but_still_updates(dtype):
    syn0 = np.zeros((4, 3), dtype=dtype)
    syn1 = np.zeros((4, 3), dtype=dtype)
    syn0[1] = 10.0
    syn1[2] = 10.0                                          # f = 300 for the true word
    syn1[3] = -10.0                                         # f = -300 for the negative
    before = syn1.copy()
    sgns.sg_update(syn0, syn1, 1, 2, np.array([3], np.int32), 0.5, False)
    np.testing.assert_array_equal(syn1, before)            # label - 1 = 0, 0 - 0 = 0
    syn1[3] = 10.0                                          # a confident wrong negative
    sgns.sg_update(syn0, syn1, 1, 2, np.array([3], np.int32), 0.5, False)
    np.testing.assert_allclose(syn1[3], 10.0 - 0.5 * 10.0)  # g = (0 - 1) alpha, not skipped


@pytest.mark.parametrize("cbow_mean", [True, False], ids=["mean", "sum"])
def test_cbow_update_matches_reference(dtype, rng, cbow_mean):
    syn0, syn1 = _tables(rng, dtype)
    contexts = np.array([1, 4, 4, 8], dtype=np.int32)       # a repeated context word
    negs = np.array([2, 6, 6, 13], dtype=np.int32)
    want0, want1 = syn0.copy(), syn1.copy()
    want_loss = reference.cbow_update(want0, want1, contexts, 6, negs, 0.05, cbow_mean)
    got_loss = sgns.cbow_update(syn0, syn1, contexts, 6, negs, 0.05, cbow_mean, True)
    assert_close(syn0, want0, dtype)
    assert_close(syn1, want1, dtype)
    assert got_loss == pytest.approx(want_loss, rel=1e-5)


def test_loss_is_zero_when_not_asked(rng):
    syn0, syn1 = _tables(rng, np.float64)
    assert sgns.sg_update(syn0, syn1, 1, 2, np.array([3], np.int32), 0.1, False) == 0.0


def test_alias_table_reproduces_the_weights(rng):
    w = rng.random(1000) ** 3
    w[[5, 17]] = 0.0
    prob = np.empty(1000, np.uint32)
    alias = np.empty(1000, np.int32)
    sgns.alias_build(w, prob, alias)
    keep = prob.astype(np.float64) / 2.0 ** 32
    implied = keep + np.bincount(alias, weights=1 - keep, minlength=1000)
    np.testing.assert_allclose(implied / 1000, w / w.sum(), atol=1e-8)
    assert implied[5] < 1e-8 and implied[17] < 1e-8


def _corpus(rng, n_sent=400, length=20, n_words=50):
    """Sentences drawn from two disjoint topics: words 0..24 and 25..49."""
    ids, starts = [], [0]
    for s in range(n_sent):
        base = 0 if s % 2 == 0 else n_words // 2
        ids.extend(base + rng.integers(0, n_words // 2, length))
        starts.append(len(ids))
    return np.array(ids, np.int32), np.array(starts, np.int64)


def _train(ids, starts, sg, n_threads, epochs=3, seed=7, dtype=np.float32, hot_rows=None):
    r = np.random.default_rng(0)
    syn0 = ((r.random((50, 16)) - 0.5) / 16).astype(dtype)
    syn1 = np.zeros((50, 16), dtype)
    keep = np.full(50, 0.9)
    prob = np.empty(50, np.uint32)
    alias = np.empty(50, np.int32)
    sgns.alias_build(np.bincount(ids, minlength=50) ** 0.75, prob, alias)
    losses = []
    for e in range(epochs):
        a0, a1 = 0.05 * (1 - e / epochs), 0.05 * (1 - (e + 1) / epochs) + 1e-4
        loss, words = sgns.epoch(syn0, syn1, ids, starts, keep, prob, alias, sg, True, 4, True,
                                 5, a0, a1, seed + e, True, n_threads, hot_rows)
        assert 0.85 * len(ids) < words < 0.95 * len(ids)    # keep = 0.9
        losses.append(loss / words)
    return syn0, syn1, losses


@pytest.mark.parametrize("sg", [1, 0], ids=["skipgram", "cbow"])
def test_one_thread_training_is_bitwise_reproducible(rng, sg):
    ids, starts = _corpus(rng)
    a = _train(ids, starts, sg, 1)
    b = _train(ids, starts, sg, 1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]
    c = _train(ids, starts, sg, 1, seed=8)
    assert not np.array_equal(a[0], c[0])
    # private copies of hot rows are a multi-thread device: one thread ignores them
    d = _train(ids, starts, sg, 1, hot_rows=np.arange(0, 50, 3, dtype=np.int32))
    np.testing.assert_array_equal(a[0], d[0])
    np.testing.assert_array_equal(a[1], d[1])


@pytest.mark.parametrize("hot", ["none", "some", "all"])
@pytest.mark.parametrize("sg", [1, 0], ids=["skipgram", "cbow"])
@pytest.mark.parametrize("dtype_", [np.float32, np.float64], ids=["f32", "f64"])
def test_two_thread_training_learns_the_topics(rng, sg, dtype_, hot):
    """Hogwild on 2 threads, with none, some or all output rows trained in per-thread
    copies (merged every ~1k words and at the end of the epoch)."""
    ids, starts = _corpus(rng)
    hot_rows = {"none": None, "some": np.array([3, 30, 7, 41, 0], np.int32),
                "all": np.arange(50, dtype=np.int32)[::-1].copy()}[hot]
    syn0, syn1, losses = _train(ids, starts, sg, 2, epochs=4, dtype=dtype_, hot_rows=hot_rows)
    assert np.isfinite(syn1).all() and np.abs(syn1).max() > 0.05
    assert losses[-1] < losses[0]
    u = syn0 / np.linalg.norm(syn0, axis=1, keepdims=True)
    sim = u @ u.T
    same = np.r_[sim[:25, :25][~np.eye(25, dtype=bool)], sim[25:, 25:][~np.eye(25, dtype=bool)]]
    cross = sim[:25, 25:].ravel()
    assert same.mean() > cross.mean() + 0.3, (same.mean(), cross.mean())


def test_reference_update_is_a_gradient_step(rng):
    """The reference's update is -alpha times the gradient of its loss (finite differences,
    distinct rows, no saturation), so kernel == reference checks the right thing."""
    syn0, syn1 = _tables(rng, np.float64, 0.3)
    context, center, negs, alpha = 3, 8, np.array([1, 4, 12], np.int32), 0.1

    def loss(s0, s1):
        return reference.sgns_update(s0.copy(), s1.copy(), context, center, negs, 0.0)

    new0, new1 = syn0.copy(), syn1.copy()
    reference.sgns_update(new0, new1, context, center, negs, alpha)
    eps = 1e-6
    for table, new, other in [(syn0, new0, "in"), (syn1, new1, "out")]:
        for r in ([context] if other == "in" else [center, 1, 4, 12]):
            for j in (0, 5, 16):
                plus, minus = table.copy(), table.copy()
                plus[r, j] += eps
                minus[r, j] -= eps
                args = (plus, syn1) if other == "in" else (syn0, plus)
                args_m = (minus, syn1) if other == "in" else (syn0, minus)
                grad = (loss(*args) - loss(*args_m)) / (2 * eps)
                assert new[r, j] - table[r, j] == pytest.approx(-alpha * grad, rel=1e-5, abs=1e-9)


def test_two_threads_merge_their_private_rows_exactly(rng):
    """Two threads whose shares use disjoint words (so no input row is shared) and whose
    output rows are all private: the epoch must end with the initial weights plus both
    threads' changes, each equal to training that share alone on one thread (thread t
    draws from seed ^ C (t + 1); shares are under the ~1k-word merge interval, so the
    threads meet only in the final merge)."""
    ids0, st0 = _corpus(rng, n_sent=30, length=20)
    ids0 = np.where(ids0 >= 25, ids0 - 25, ids0).astype(np.int32)     # words 0..24
    ids = np.r_[ids0, ids0 + 25].astype(np.int32)                      # then 25..49
    starts = np.r_[st0, st0[1:] + st0[-1]].astype(np.int64)
    r = np.random.default_rng(1)
    w0 = (r.random((50, 16)) - 0.5) / 16
    w1 = (r.random((50, 16)) - 0.5) / 16
    keep = np.full(50, 0.9)
    prob, alias = np.empty(50, np.uint32), np.empty(50, np.int32)
    sgns.alias_build(np.ones(50), prob, alias)
    C, mask, seed = 0xD1B54A32D192ED03, 2 ** 64 - 1, 12345

    def run(ids_, starts_, seed_, nt):
        s0, s1 = w0.copy(), w1.copy()
        sgns.epoch(s0, s1, ids_, starts_, keep, prob, alias, True, True, 3, True, 4,
                   0.05, 0.01, seed_, False, nt, np.arange(50, dtype=np.int32))
        return s0, s1

    got0, got1 = run(ids, starts, seed, 2)
    half = len(ids0)
    a0, a1 = run(ids[:half], starts[:31], seed, 1)
    b0, b1 = run(ids[half:], starts[30:] - half, seed ^ ((C * 2) & mask) ^ C, 1)
    np.testing.assert_allclose(got0, a0 + b0 - w0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got1, a1 + b1 - w1, rtol=0, atol=1e-12)
    assert not np.allclose(a1, w1) and not np.allclose(b1, w1)
