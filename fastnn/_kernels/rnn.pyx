# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Elman RNN over a window of T steps of B parallel streams, and global-norm clipping.

    a_t = X_t W_x^T + h_{t-1} W_h^T + b,   h_t = g(a_t),   g = relu or tanh

H (T + 1, B, Hd) holds h_0 (the carried state) and the T outputs; X (T * B, E) the
inputs, step t in rows [t B, (t + 1) B).  An optional mask keep (T, B) restarts a
stream (zero previous state) where it is 0: a new sentence.  One gemm projects all T * B inputs, then each
step adds h_{t-1} W_h^T by gemm and applies g in place.  The backward pass walks the
steps in reverse for the pre-activation gradients, then forms dW_h, dW_x, db and dX
with one product each over all steps.  Contract: T >= 1, C-contiguous, one dtype.
"""
from cython cimport floating
from libc.stdint cimport uint8_t
from libc.string cimport memcpy
from fastnn._kernels.cfastnn cimport *
from fastnn._kernels._blas cimport gemm, blas_int

RELU, TANH = FNN_RNN_RELU, FNN_RNN_TANH


def forward(const floating[:, ::1] X, const floating[:, ::1] W_x, const floating[:, ::1] W_h,
            const floating[::1] b, const floating[:, ::1] h0, const uint8_t[:, ::1] keep,
            int act, floating[:, :, ::1] H, floating[:, :, ::1] P, int n_threads):
    """H[0] = h0, H[t + 1] = g(X[t B:(t + 1) B] W_x^T + P[t] W_h^T + b), t < T, where the
    previous state P[t] = H[t] with the rows b where keep[t, b] == 0 zeroed (a stream
    starting afresh: a new sentence).  keep (T, B) may be None (no resets): then P is
    not used (may be None) and P[t] is H[t] itself; otherwise P (T, B, Hd) is written."""
    cdef Py_ssize_t T = H.shape[0] - 1, B = H.shape[1], Hd = H.shape[2], t
    cdef int nb = blas_int(B), nh = blas_int(Hd), ne = blas_int(X.shape[1])
    cdef int nall = blas_int(T * B)
    cdef bint masked = keep is not None
    cdef floating *h
    cdef floating *prev
    with nogil:
        memcpy(&H[0, 0, 0], &h0[0, 0], B * Hd * sizeof(floating))
        if floating is float:
            fnn_fill_rows_f32(&H[1, 0, 0], &b[0], T * B, Hd, n_threads)
        else:
            fnn_fill_rows_f64(&H[1, 0, 0], &b[0], T * B, Hd, n_threads)
        gemm(c'T', c'N', nh, nall, ne, 1, &W_x[0, 0], ne, &X[0, 0], ne, 1, &H[1, 0, 0], nh)
        for t in range(T):
            h = &H[t + 1, 0, 0]
            prev = &H[t, 0, 0]
            if masked:
                if floating is float:
                    fnn_rnn_mask_rows_f32(&P[t, 0, 0], prev, &keep[t, 0], B, Hd)
                else:
                    fnn_rnn_mask_rows_f64(&P[t, 0, 0], prev, &keep[t, 0], B, Hd)
                prev = &P[t, 0, 0]
            gemm(c'T', c'N', nh, nb, nh, 1, &W_h[0, 0], nh, prev, nh, 1, h, nh)
            if floating is float:
                (fnn_tanh_f32 if act == FNN_RNN_TANH else fnn_relu_f32)(h, h, B * Hd, n_threads)
            else:
                (fnn_tanh_f64 if act == FNN_RNN_TANH else fnn_relu_f64)(h, h, B * Hd, n_threads)


def backward(floating[:, ::1] dH, const floating[:, :, ::1] H, const floating[:, :, ::1] P,
             const floating[:, ::1] X, const floating[:, ::1] W_x, const floating[:, ::1] W_h,
             const uint8_t[:, ::1] keep, int act, floating[:, ::1] dW_x,
             floating[:, ::1] dW_h, floating[::1] db, floating[:, ::1] dX,
             floating[:, ::1] dh0, int n_threads):
    """Backpropagation through the T steps of `forward` (same H, P, keep).

    dH (T * B, Hd): d loss / d H[1:], overwritten with d loss / d a (all steps).
    dW_x (Hd, E), dW_h (Hd, Hd), db (Hd,), dh0 (B, Hd) (d loss / d h_0, also the
    workspace carrying d h_{t-1} between steps) are overwritten; dX (T * B, E) too,
    unless None.
    """
    cdef Py_ssize_t T = H.shape[0] - 1, B = H.shape[1], Hd = H.shape[2], t
    cdef int nb = blas_int(B), nh = blas_int(Hd), ne = blas_int(X.shape[1])
    cdef int nall = blas_int(T * B)
    cdef bint masked = keep is not None
    cdef floating *da
    cdef floating *carry = &dh0[0, 0]
    cdef const floating *prev = &P[0, 0, 0] if masked else &H[0, 0, 0]
    with nogil:
        for t in range(T - 1, -1, -1):
            da = &dH[t * B, 0]
            if floating is float:
                fnn_rnn_act_backward_f32(da, da, carry if t < T - 1 else NULL, &H[t + 1, 0, 0],
                                         B * Hd, act, n_threads)
            else:
                fnn_rnn_act_backward_f64(da, da, carry if t < T - 1 else NULL, &H[t + 1, 0, 0],
                                         B * Hd, act, n_threads)
            gemm(c'N', c'N', nh, nb, nh, 1, &W_h[0, 0], nh, da, nh, 0, carry, nh)
            if masked:
                if floating is float:
                    fnn_rnn_mask_rows_f32(carry, carry, &keep[t, 0], B, Hd)
                else:
                    fnn_rnn_mask_rows_f64(carry, carry, &keep[t, 0], B, Hd)
        gemm(c'N', c'T', nh, nh, nall, 1, prev, nh, &dH[0, 0], nh, 0, &dW_h[0, 0], nh)
        gemm(c'N', c'T', ne, nh, nall, 1, &X[0, 0], ne, &dH[0, 0], nh, 0, &dW_x[0, 0], ne)
        if floating is float:
            fnn_column_sum_f32(&db[0], &dH[0, 0], T * B, Hd, n_threads)
        else:
            fnn_column_sum_f64(&db[0], &dH[0, 0], T * B, Hd, n_threads)
        if dX is not None:
            gemm(c'N', c'N', ne, nall, nh, 1, &W_x[0, 0], ne, &dH[0, 0], nh, 0, &dX[0, 0], ne)


def sum_squares(const floating[::1] x, int n_threads):
    """Sum of x**2 in double (the same bits on any thread count)."""
    cdef double s
    with nogil:
        if floating is float:
            s = fnn_sum_squares_f32(&x[0], x.shape[0], n_threads)
        else:
            s = fnn_sum_squares_f64(&x[0], x.shape[0], n_threads)
    return s


def scale(floating[::1] x, double alpha, int n_threads):
    """x *= alpha in place."""
    with nogil:
        if floating is float:
            fnn_scale_f32(&x[0], x.shape[0], alpha, n_threads)
        else:
            fnn_scale_f64(&x[0], x.shape[0], alpha, n_threads)


def clip_grad_norm(grads, double max_norm, int n_threads):
    """Global-norm clipping: grads is one flat array or a sequence of flat arrays; when
    their joint 2-norm exceeds max_norm, every array is scaled in place by
    max_norm / norm.  Returns the norm before clipping."""
    if not isinstance(grads, (list, tuple)):
        grads = (grads,)
    total = 0.0
    for g in grads:
        if g.shape[0]:
            total += sum_squares(g, n_threads)
    norm = total ** 0.5
    if norm > max_norm:
        for g in grads:
            if g.shape[0]:
                scale(g, max_norm / norm, n_threads)
    return norm
