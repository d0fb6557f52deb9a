# BLAS gemm from SciPy for the Cython glue, on row-major arrays seen as column-major
# transposes (see fastnn/_kernels/dense.pyx): C = alpha op(A) op(B) + beta C.
from cython cimport floating
from libc.limits cimport INT_MAX
from scipy.linalg.cython_blas cimport sgemm, dgemm


cdef inline void gemm(char transa, char transb, int m, int n, int k, floating alpha,
                      const floating *a, int lda, const floating *b, int ldb, floating beta,
                      floating *c, int ldc) noexcept nogil:
    if floating is float:
        sgemm(&transa, &transb, &m, &n, &k, &alpha, <float *>a, &lda, <float *>b, &ldb,
              &beta, c, &ldc)
    else:
        dgemm(&transa, &transb, &m, &n, &k, &alpha, <double *>a, &lda, <double *>b, &ldb,
              &beta, c, &ldc)


cdef inline int blas_int(Py_ssize_t n) except -1:
    """n as a BLAS dimension (at least 1, as BLAS wants for leading dimensions)."""
    if n > INT_MAX:
        raise ValueError(f"dimension {n} exceeds what 32-bit BLAS accepts ({INT_MAX})")
    return <int>(n if n > 0 else 1)
