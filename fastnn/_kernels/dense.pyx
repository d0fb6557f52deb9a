# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Dense layer y = x W^T + b on row-major arrays, products by BLAS gemm from SciPy.

Row-major X is column-major X^T, so each product below is the transposed one in BLAS
terms: y^T = W x^T, dW^T = x^T dout, dx^T = W^T dout^T.
"""
from cython cimport floating
from libc.limits cimport INT_MAX
from libc.stdint cimport int64_t
from scipy.linalg.cython_blas cimport sgemm, dgemm
from fastnn._kernels.cfastnn cimport *


cdef void gemm(char transa, char transb, int m, int n, int k, const floating *a, int lda,
               const floating *b, int ldb, floating beta, floating *c, int ldc) noexcept nogil:
    cdef floating one = 1
    if floating is float:
        sgemm(&transa, &transb, &m, &n, &k, &one, <float *>a, &lda, <float *>b, &ldb, &beta,
              c, &ldc)
    else:
        dgemm(&transa, &transb, &m, &n, &k, &one, <double *>a, &lda, <double *>b, &ldb, &beta,
              c, &ldc)


cdef int blas_int(Py_ssize_t n) except -1:
    if n > INT_MAX:
        raise ValueError(f"dimension {n} exceeds what 32-bit BLAS accepts ({INT_MAX})")
    return <int>(n if n > 0 else 1)


def forward(const floating[:, ::1] x, const floating[:, ::1] W, const floating[::1] b,
            floating[:, ::1] out, int n_threads):
    """out (B, out) = x (B, in) W (out, in)^T + b (out,); b may be None."""
    cdef int B = blas_int(x.shape[0]), n_in = blas_int(x.shape[1]), n_out = blas_int(W.shape[0])
    cdef floating beta = 0
    with nogil:
        if b is not None:
            beta = 1
            if floating is float:
                fnn_fill_rows_f32(&out[0, 0], &b[0], B, n_out, n_threads)
            else:
                fnn_fill_rows_f64(&out[0, 0], &b[0], B, n_out, n_threads)
        gemm(c'T', c'N', n_out, B, n_in, &W[0, 0], n_in, &x[0, 0], n_in, beta, &out[0, 0], n_out)


def backward(const floating[:, ::1] dout, const floating[:, ::1] x, const floating[:, ::1] W,
             floating[:, ::1] dW, floating[::1] db, floating[:, ::1] dx, int n_threads):
    """dW = dout^T x, db = column sums of dout, dx = dout W, each overwritten; any
    output may be None to skip it."""
    cdef int B = blas_int(dout.shape[0]), n_out = blas_int(dout.shape[1])
    cdef int n_in = blas_int(W.shape[1])
    with nogil:
        if dW is not None:
            gemm(c'N', c'T', n_in, n_out, B, &x[0, 0], n_in, &dout[0, 0], n_out, 0,
                 &dW[0, 0], n_in)
        if db is not None:
            if floating is float:
                fnn_column_sum_f32(&db[0], &dout[0, 0], B, n_out, n_threads)
            else:
                fnn_column_sum_f64(&db[0], &dout[0, 0], B, n_out, n_threads)
        if dx is not None:
            gemm(c'N', c'N', n_in, B, n_out, &W[0, 0], n_in, &dout[0, 0], n_out, 0,
                 &dx[0, 0], n_in)


def rows_matmul(const floating[:, ::1] X, const int64_t[::1] rows, const floating[:, ::1] W,
                floating[:, ::1] out, int n_threads):
    """out (B, K) = X[rows] W^T, the rows read in place (no gathered copy); overwritten."""
    with nogil:
        if floating is float:
            fnn_rows_matmul_f32(&out[0, 0], &X[0, 0], &rows[0], &W[0, 0], rows.shape[0],
                                X.shape[1], W.shape[0], n_threads)
        else:
            fnn_rows_matmul_f64(&out[0, 0], &X[0, 0], &rows[0], &W[0, 0], rows.shape[0],
                                X.shape[1], W.shape[0], n_threads)


def rows_t_matmul(const floating[:, ::1] X, const int64_t[::1] rows, const floating[:, ::1] G,
                  floating[:, ::1] out, int n_threads):
    """out (K, F) += G^T X[rows], G (B, K); accumulated, deterministic."""
    with nogil:
        if floating is float:
            fnn_rows_t_matmul_f32(&out[0, 0], &X[0, 0], &rows[0], &G[0, 0], rows.shape[0],
                                  X.shape[1], G.shape[1], n_threads)
        else:
            fnn_rows_t_matmul_f64(&out[0, 0], &X[0, 0], &rows[0], &G[0, 0], rows.shape[0],
                                  X.shape[1], G.shape[1], n_threads)
