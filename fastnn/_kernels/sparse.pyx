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
