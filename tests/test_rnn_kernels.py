"""Elman RNN kernels (fastnn._kernels.rnn) against the NumPy reference: forward over a
window, backpropagation through time, a whole LM window with the output layer, and
global-norm clipping; plus a finite-difference check of the reference itself."""
import numpy as np
import pytest

from fastnn import reference as ref
from fastnn._kernels import dense, embedding, rnn, softmax

ACTS = {"tanh": rnn.TANH, "relu": rnn.RELU}
# gemm sums in another order than NumPy's matmul: float32 results agree to a few ulp of
# the largest term, float64 ones to round-off
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def close(got, want, dtype):
    np.testing.assert_allclose(got, want, **TOL[np.dtype(dtype).type])


def make_params(rng, V, E, Hd, dtype, scale=0.4):
    p = {"emb": rng.standard_normal((V, E)), "W_x": rng.standard_normal((Hd, E)) * scale,
         "W_h": rng.standard_normal((Hd, Hd)) * scale / np.sqrt(Hd),
         "b": rng.standard_normal(Hd) * 0.1, "U": rng.standard_normal((V, Hd)) * scale,
         "c": rng.standard_normal(V) * 0.1}
    return {k: np.ascontiguousarray(v, dtype=dtype) for k, v in p.items()}


def make_keep(rng, T, B, masked):
    """None, or a (T, B) uint8 restart mask with about a third zeros (column 0 all 0,
    column 1 all 1 when B > 1)."""
    if not masked:
        return None
    keep = (rng.random((T, B)) > 0.33).astype(np.uint8)
    keep[:, 0] = 0
    if B > 1:
        keep[:, 1] = 1
    return keep


def run_forward(p, X, h0, act, T, B, nt, keep=None):
    H = np.empty((T + 1, B, h0.shape[1]), dtype=X.dtype)
    P = None if keep is None else np.full((T, B, h0.shape[1]), np.nan, dtype=X.dtype)
    rnn.forward(X.reshape(T * B, -1), p["W_x"], p["W_h"], p["b"], h0, keep, ACTS[act], H, P,
                nt)
    return H, P


@pytest.mark.parametrize("masked", [False, True], ids=["carry", "restarts"])
@pytest.mark.parametrize("act", ["tanh", "relu"])
@pytest.mark.parametrize("T,B,E,Hd", [(1, 1, 1, 1), (5, 3, 4, 6), (7, 2, 9, 33)])
def test_forward_matches_reference(dtype, n_threads, rng, act, T, B, E, Hd, masked):
    p = make_params(rng, 4, E, Hd, dtype)
    X = rng.standard_normal((T, B, E)).astype(dtype)
    h0 = rng.standard_normal((B, Hd)).astype(dtype) * 0.5
    keep = make_keep(rng, T, B, masked)
    H, P = run_forward(p, X, h0, act, T, B, n_threads, keep)
    close(H, ref.rnn_forward(X, p["W_x"], p["W_h"], p["b"], h0, act, keep), dtype)
    if masked:
        close(P, ref._prev_states(H, keep), dtype)


def test_restart_ignores_the_previous_state(rng):
    """A stream restarted at step t computes the same as a fresh stream from step t."""
    T, B, E, Hd = 6, 2, 3, 5
    p = make_params(rng, 4, E, Hd, np.float64)
    X = rng.standard_normal((T, B, E))
    keep = np.ones((T, B), np.uint8)
    keep[3, 0] = 0
    H, _ = run_forward(p, X, rng.standard_normal((B, Hd)), "tanh", T, B, 1, keep)
    fresh, _ = run_forward(p, np.ascontiguousarray(X[3:, :1]), np.zeros((1, Hd)), "tanh",
                           T - 3, 1, 1)
    np.testing.assert_allclose(H[4:, 0], fresh[1:, 0], rtol=1e-12, atol=1e-14)
    assert np.abs(H[4:, 1] - fresh[1:, 0]).max() > 1e-3   # the other stream differs


@pytest.mark.parametrize("masked", [False, True], ids=["carry", "restarts"])
@pytest.mark.parametrize("act", ["tanh", "relu"])
@pytest.mark.parametrize("T,B,E,Hd", [(1, 1, 1, 1), (5, 3, 4, 6), (7, 2, 9, 33)])
@pytest.mark.parametrize("with_dx", [True, False])
def test_backward_matches_reference(dtype, n_threads, rng, act, T, B, E, Hd, with_dx, masked):
    p = make_params(rng, 4, E, Hd, dtype)
    X = rng.standard_normal((T, B, E)).astype(dtype)
    h0 = rng.standard_normal((B, Hd)).astype(dtype) * 0.5
    keep = make_keep(rng, T, B, masked)
    H, P = run_forward(p, X, h0, act, T, B, n_threads, keep)
    dH = rng.standard_normal((T, B, Hd)).astype(dtype)
    want = ref.rnn_backward(dH, H, X, p["W_x"], p["W_h"], act, keep)
    dA = dH.reshape(T * B, Hd).copy()
    dW_x, dW_h = np.full((Hd, E), np.nan, dtype), np.full((Hd, Hd), np.nan, dtype)
    db, dh0 = np.full(Hd, np.nan, dtype), np.full((B, Hd), np.nan, dtype)
    dX = np.full((T * B, E), np.nan, dtype) if with_dx else None
    rnn.backward(dA, H, P, X.reshape(T * B, E), p["W_x"], p["W_h"], keep, ACTS[act], dW_x,
                 dW_h, db, dX, dh0, n_threads)
    close(dA.reshape(T, B, Hd), want["dA"], dtype)
    for name, got in (("dW_x", dW_x), ("dW_h", dW_h), ("db", db), ("dh0", dh0)):
        close(got, want[name], dtype)
    if with_dx:
        close(dX.reshape(T, B, E), want["dX"], dtype)


def window_loss_grad(p, ids, targets, h0, act, nt, keep=None, weights=None):
    """One LM window on the compiled kernels: embedding gather, the recurrence, one
    output gemm over all T B states, the fused softmax cross-entropy, backward gemms,
    BPTT and the embeddings' scatter-add."""
    T, B = ids.shape
    dtype = p["emb"].dtype
    V, E = p["emb"].shape
    Hd = p["W_h"].shape[0]
    flat = np.ascontiguousarray(ids.reshape(-1, 1), dtype=np.int32)
    X = np.empty((T * B, E), dtype)
    embedding.gather(p["emb"], flat, X, nt)
    H, P = np.empty((T + 1, B, Hd), dtype), np.empty((T, B, Hd), dtype)
    rnn.forward(X, p["W_x"], p["W_h"], p["b"], h0, keep, ACTS[act], H, P, nt)
    hs = H[1:].reshape(T * B, Hd)
    logits, dlogits = np.empty((T * B, V), dtype), np.empty((T * B, V), dtype)
    dense.forward(hs, p["U"], p["c"], logits, nt)
    w = None if weights is None else np.ascontiguousarray(weights.reshape(-1), dtype)
    loss = softmax.softmax_xent(logits, np.ascontiguousarray(targets.reshape(-1), np.int32),
                                w, dlogits, nt)
    g = {k: np.empty_like(v) for k, v in p.items()}
    dhs = np.empty((T * B, Hd), dtype)
    dense.backward(dlogits, hs, p["U"], g["U"], g["c"], dhs, nt)
    dX, g["h0"] = np.empty((T * B, E), dtype), np.empty((B, Hd), dtype)
    rnn.backward(dhs, H, P, X, p["W_x"], p["W_h"], keep, ACTS[act], g["W_x"], g["W_h"],
                 g["b"], dX, g["h0"], nt)
    g["emb"][:] = 0
    embedding.scatter_add(g["emb"], dX, flat, nt)
    return loss, g, H


@pytest.mark.parametrize("masked", [False, True], ids=["carry", "restarts+weights"])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_lm_window_matches_reference(dtype, n_threads, rng, act, masked):
    T, B, V, E, Hd = 6, 4, 13, 5, 8
    p = make_params(rng, V, E, Hd, dtype)
    ids = rng.integers(0, V, (T, B))
    ids[0, 0] = ids[3, 1] = 2                       # repeated ids: the scatter-add sums
    targets = rng.integers(0, V, (T, B))
    h0 = (rng.standard_normal((B, Hd)) * 0.3).astype(dtype)
    keep = make_keep(rng, T, B, masked)
    weights = None if not masked else (rng.random((T, B)) > 0.2).astype(dtype)
    loss, g, H = window_loss_grad(p, ids, targets, h0, act, n_threads, keep, weights)
    want_loss, want_g, want_H = ref.rnn_lm_loss_grad(ids, targets, h0, p, act, keep, weights)
    assert loss == pytest.approx(want_loss, rel=TOL[np.dtype(dtype).type]["rtol"])
    close(H, want_H, dtype)
    for k in want_g:
        close(g[k], want_g[k], dtype)


@pytest.mark.parametrize("masked", [False, True], ids=["carry", "restarts+weights"])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_reference_gradients_by_finite_differences(rng, act, masked):
    T, B, V, E, Hd = 4, 2, 7, 3, 5
    p = make_params(rng, V, E, Hd, np.float64, scale=0.8)
    ids, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    h0 = rng.standard_normal((B, Hd)) * 0.5
    keep = np.array([[1, 1], [0, 1], [1, 1], [1, 0]], np.uint8) if masked else None
    w = np.array([[1, 0], [1, 1], [0.5, 1], [1, 2]]) if masked else None

    def loss_of():
        return ref.rnn_lm_loss_grad(ids, targets, h0, p, act, keep, w)[0]

    _, grads, H = ref.rnn_lm_loss_grad(ids, targets, h0, p, act, keep, w)
    if act == "relu":                      # no pre-activation within eps of the kink
        assert np.min(np.abs(H[1:][H[1:] > 0])) > 1e-4
    eps = 1e-6
    for name in list(p) + ["h0"]:
        arr = h0 if name == "h0" else p[name]
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            up = loss_of()
            arr[idx] = old - eps
            down = loss_of()
            arr[idx] = old
            numeric = (up - down) / (2 * eps)
            assert abs(numeric - grads[name][idx]) <= 1e-7 + 1e-5 * abs(numeric), (name, idx)


def test_finite_differences_notice_a_wrong_gradient(rng):
    """The check above can fail: a perturbed analytic gradient is caught."""
    T, B, V, E, Hd = 3, 2, 5, 3, 4
    p = make_params(rng, V, E, Hd, np.float64)
    ids, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    h0 = np.zeros((B, Hd))
    _, grads, _ = ref.rnn_lm_loss_grad(ids, targets, h0, p, "tanh")
    eps, i = 1e-6, (1, 2)
    p["W_h"][i] += eps
    up = ref.rnn_lm_loss_grad(ids, targets, h0, p, "tanh")[0]
    p["W_h"][i] -= 2 * eps
    down = ref.rnn_lm_loss_grad(ids, targets, h0, p, "tanh")[0]
    numeric = (up - down) / (2 * eps)
    assert abs(numeric - grads["W_h"][i]) < 1e-7
    assert abs(numeric - 1.01 * grads["W_h"][i]) > 1e-7   # 1 % off is visible


# ---- global-norm clipping -----------------------------------------------------------

def grad_list(rng, dtype, scale):
    return [(rng.standard_normal(n) * scale).astype(dtype) for n in (1, 7, 3000, 20000)]


@pytest.mark.parametrize("scale,max_norm", [(1e-3, 5.0), (1.0, 5.0), (10.0, 0.5)])
def test_clip_matches_reference(dtype, n_threads, rng, scale, max_norm):
    grads = grad_list(rng, dtype, scale)
    want, want_norm = ref.clip_grad_norm(grads, max_norm)
    norm = rnn.clip_grad_norm(grads, max_norm, n_threads)
    assert norm == pytest.approx(want_norm, rel=1e-12)
    for g, w in zip(grads, want):
        close(g, w, dtype)
    after = np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))
    if want_norm > max_norm:
        assert after == pytest.approx(max_norm, rel=1e-5 if dtype == np.float32 else 1e-12)
    else:
        assert after == pytest.approx(want_norm, rel=1e-12)


def test_clip_below_threshold_leaves_bits_alone(dtype, rng):
    grads = grad_list(rng, dtype, 1e-2)
    before = [g.copy() for g in grads]
    norm = rnn.clip_grad_norm(grads, 1e3, 2)
    assert 0 < norm < 1e3
    for g, b in zip(grads, before):
        np.testing.assert_array_equal(g, b)


def test_clip_zeros_and_empty(dtype):
    grads = [np.zeros(5, dtype), np.zeros(0, dtype), np.zeros(100_000, dtype)]
    assert rnn.clip_grad_norm(grads, 1.0, 2) == 0.0
    assert all(not g.any() for g in grads)
    flat = np.zeros(10, dtype)
    assert rnn.clip_grad_norm(flat, 0.0, 1) == 0.0
    assert not flat.any()


def test_clip_flat_buffer_equals_list(dtype, rng):
    grads = grad_list(rng, dtype, 3.0)
    flat = np.concatenate(grads)
    n_list = rnn.clip_grad_norm(grads, 1.0, 2)
    n_flat = rnn.clip_grad_norm(flat, 1.0, 2)
    assert n_list == pytest.approx(n_flat, rel=1e-12)
    rtol = 1e-6 if dtype == np.float32 else 1e-12    # the same factor up to its last bit
    np.testing.assert_allclose(np.concatenate(grads), flat, rtol=rtol)


def test_sum_squares_is_double_and_thread_invariant(rng):
    x = rng.standard_normal(1_000_003).astype(np.float32) * 1e3
    want = float(np.sum(x.astype(np.float64) ** 2))
    s1, s2 = rnn.sum_squares(x, 1), rnn.sum_squares(x, 2)
    assert s1 == s2                                       # same bits on any thread count
    assert s1 == pytest.approx(want, rel=1e-12)           # accumulated in double
    big = np.full(4, 3e19, np.float32)                    # squares overflow float32
    assert rnn.sum_squares(big, 1) == pytest.approx(4 * 9e38, rel=1e-6)
