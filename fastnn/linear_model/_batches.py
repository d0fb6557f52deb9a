"""Mini-batch products of the training matrix with the weights, on the compiled kernels.

Two layouts, one per input kind, so that each kernel reads its weights contiguously:
dense X keeps W as (K, F) for the BLAS `dense` kernel; CSR X keeps W as (F, K) (a
feature per row) for the `sparse` kernels, which gather the batch's rows of X by index
without copying or densifying them.
"""
import numpy as np
import scipy.sparse as sp

from fastnn._kernels import dense as _dense
from fastnn._kernels import sparse as _sparse
from fastnn._validation import csr_parts


class DenseRows:
    """Dense C-contiguous X (n, F): logits and weight gradients of row batches."""

    sparse = False

    def __init__(self, X, batch_size, nt):
        self.X = np.ascontiguousarray(X)
        self.n_samples, self.n_features = self.X.shape
        self.nt = nt
        self._xbuf = np.empty((min(batch_size, self.n_samples), self.n_features), X.dtype)
        self._x = None

    def weights_from_coef(self, coef):
        """The (K, F) working copy of coef_ (K, F)."""
        return np.array(coef, dtype=self.X.dtype, order="C")

    def coef_from_weights(self, W):
        return W.copy()

    def logits(self, rows, W, b, out):
        """out (B, K) = X[rows] W^T + b; rows None means every row (then B = n)."""
        if rows is None:
            x = self.X
        else:
            x = self._xbuf[:rows.shape[0]]
            np.take(self.X, rows, axis=0, out=x)
        self._x = x
        _dense.forward(x, W, b, out, self.nt)

    def gradients(self, dz, W, dW, db):
        """dW (K, F) = dz^T x and db = column sums of dz, for the batch of the last
        `logits` call (db None: no intercept)."""
        _dense.backward(dz, self._x, W, dW, db, None, self.nt)

    def squared_row_norms(self, step=1):
        """||x_i||^2 of every `step`-th row, float64."""
        X = self.X[::step]
        return np.einsum("ij,ij->i", X, X, dtype=np.float64)


class SparseRows:
    """CSR X (n, F), never densified: logits and weight gradients of row batches."""

    sparse = True

    def __init__(self, X, batch_size, nt):
        self.data, self.indices, self.indptr, shape = csr_parts(X, "X")
        self.n_samples, self.n_features = shape
        self.nt = nt
        self._rows = None
        self._matrix = X

    def weights_from_coef(self, coef):
        """The (F, K) working copy of coef_ (K, F)."""
        return np.array(np.asarray(coef).T, dtype=self.data.dtype, order="C")

    def coef_from_weights(self, WT):
        return np.ascontiguousarray(WT.T)

    def logits(self, rows, WT, b, out):
        self._rows = rows
        _sparse.matmul(self.data, self.indices, self.indptr, rows, WT, out, self.nt)
        if b is not None:
            out += b

    def gradients(self, dz, WT, dWT, db):
        dWT.fill(0)     # t_matmul accumulates
        _sparse.t_matmul(self.data, self.indices, self.indptr, self._rows, dz, dWT, self.nt)
        if db is not None:
            np.sum(dz, axis=0, out=db)

    def squared_row_norms(self, step=1):
        """||x_i||^2 of every `step`-th row, float64."""
        row_of = np.repeat(np.arange(self.n_samples), np.diff(self.indptr))
        sums = np.bincount(row_of, weights=np.square(self.data, dtype=np.float64),
                           minlength=self.n_samples)
        return sums[::step]


def make_rows(X, batch_size, nt):
    """DenseRows or SparseRows for a validated X."""
    if sp.issparse(X):
        return SparseRows(X, batch_size, nt)
    return DenseRows(X, batch_size, nt)
