# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Products of a CSR matrix (data, int32 indices, int64 indptr) with dense matrices.

`rows` (int64, or None for 0..B-1) picks the batch's rows of X without copying it.
"""
from cython cimport floating
from libc.stdint cimport int32_t, int64_t
from fastnn._kernels.cfastnn cimport *


def matmul(const floating[::1] data, const int32_t[::1] indices, const int64_t[::1] indptr,
           const int64_t[::1] rows, const floating[:, ::1] WT, floating[:, ::1] out,
           int n_threads):
    """out (B, K) = X[rows] @ WT, WT (F, K) a feature per row; overwritten."""
    cdef const int64_t *r = NULL if rows is None else &rows[0]
    cdef const floating *d = NULL if data.shape[0] == 0 else &data[0]
    cdef const int32_t *ind = NULL if indices.shape[0] == 0 else &indices[0]
    with nogil:
        if floating is float:
            fnn_csr_matmul_f32(&out[0, 0], d, ind, &indptr[0], r, &WT[0, 0], out.shape[0],
                               out.shape[1], n_threads)
        else:
            fnn_csr_matmul_f64(&out[0, 0], d, ind, &indptr[0], r, &WT[0, 0], out.shape[0],
                               out.shape[1], n_threads)


def t_matmul(const floating[::1] data, const int32_t[::1] indices, const int64_t[::1] indptr,
             const int64_t[::1] rows, const floating[:, ::1] G, floating[:, ::1] out,
             int n_threads):
    """out (F, K) += X[rows].T @ G, G (B, K); accumulated, deterministic."""
    cdef const int64_t *r = NULL if rows is None else &rows[0]
    cdef const floating *d = NULL if data.shape[0] == 0 else &data[0]
    cdef const int32_t *ind = NULL if indices.shape[0] == 0 else &indices[0]
    with nogil:
        if floating is float:
            fnn_csr_t_matmul_f32(&out[0, 0], d, ind, &indptr[0], r, &G[0, 0], G.shape[0],
                                 out.shape[0], out.shape[1], n_threads)
        else:
            fnn_csr_t_matmul_f64(&out[0, 0], d, ind, &indptr[0], r, &G[0, 0], G.shape[0],
                                 out.shape[0], out.shape[1], n_threads)


cdef inline floating *_or_null(floating[:, ::1] a) noexcept nogil:
    return NULL if a is None else &a[0, 0]


def lazy_catch_up(floating[:, ::1] W, floating[:, ::1] V, int32_t[::1] last,
                  const double[:, :, ::1] Q, int32_t now, const int32_t[::1] indices,
                  const int64_t[::1] indptr, const int64_t[::1] rows, int n_threads):
    """Bring the batch's features up to step `now`: (W, V)[f] <- Q[last[f]] (W, V)[f]."""
    cdef const int64_t *r = NULL if rows is None else &rows[0]
    cdef const int32_t *ind = NULL if indices.shape[0] == 0 else &indices[0]
    cdef Py_ssize_t B = indptr.shape[0] - 1 if rows is None else rows.shape[0]
    if now == 0 or ind == NULL:
        return      # nothing can be behind
    with nogil:
        if floating is float:
            fnn_csr_lazy_catch_up_f32(&W[0, 0], _or_null(V), &last[0], &Q[0, 0, 0], now, ind,
                                      &indptr[0], r, B, W.shape[0], W.shape[1], n_threads)
        else:
            fnn_csr_lazy_catch_up_f64(&W[0, 0], _or_null(V), &last[0], &Q[0, 0, 0], now, ind,
                                      &indptr[0], r, B, W.shape[0], W.shape[1], n_threads)


def lazy_step(floating[:, ::1] W, floating[:, ::1] V, int32_t[::1] last, const double[:, ::1] A,
              double eta, int32_t now, const floating[::1] data, const int32_t[::1] indices,
              const int64_t[::1] indptr, const int64_t[::1] rows, const floating[:, ::1] G,
              int n_threads):
    """Step `now` on the batch's features: the penalty/momentum map A, then the batch
    gradient X[rows]^T G (V += it, W -= eta times it)."""
    cdef const int64_t *r = NULL if rows is None else &rows[0]
    cdef const floating *d = NULL if data.shape[0] == 0 else &data[0]
    cdef const int32_t *ind = NULL if indices.shape[0] == 0 else &indices[0]
    if ind == NULL:
        return
    with nogil:
        if floating is float:
            fnn_csr_lazy_step_f32(&W[0, 0], _or_null(V), &last[0], &A[0, 0], eta, now, d, ind,
                                  &indptr[0], r, &G[0, 0], G.shape[0], W.shape[0], W.shape[1],
                                  n_threads)
        else:
            fnn_csr_lazy_step_f64(&W[0, 0], _or_null(V), &last[0], &A[0, 0], eta, now, d, ind,
                                  &indptr[0], r, &G[0, 0], G.shape[0], W.shape[0], W.shape[1],
                                  n_threads)


def lazy_fold(floating[:, ::1] W, floating[:, ::1] V, int32_t[::1] last,
              const double[:, :, ::1] Q, int32_t now, int n_threads):
    """Bring every feature up to step `now`."""
    if now == 0:
        return
    with nogil:
        if floating is float:
            fnn_lazy_fold_f32(&W[0, 0], _or_null(V), &last[0], &Q[0, 0, 0], now, W.shape[0],
                              W.shape[1], n_threads)
        else:
            fnn_lazy_fold_f64(&W[0, 0], _or_null(V), &last[0], &Q[0, 0, 0], now, W.shape[0],
                              W.shape[1], n_threads)
