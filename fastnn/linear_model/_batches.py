"""Mini-batch products of the training matrix with the weights, on the compiled kernels.

Two layouts, one per input kind, so that each kernel reads its weights contiguously:
dense X keeps W as (K, F) for the BLAS `dense` kernel; CSR X keeps W as (F, K) (a
feature per row) for the `sparse` kernels, which gather the batch's rows of X by index
without copying or densifying them.
"""
import numpy as np
import scipy.sparse as sp

from fastnn._kernels import dense as _dense
from fastnn._kernels import linsgd as _linsgd
from fastnn._kernels import linsparse as _linsparse
from fastnn._kernels import sparse as _sparse
from fastnn._validation import csr_parts


# up to this many outputs, batches are multiplied in place by the `rows` kernels (each
# picked row of X read once, the weights in cache); more outputs go to BLAS on a copy
_IN_PLACE_MAX_OUTPUTS = 32


class DenseRows:
    """Dense C-contiguous X (n, F): logits and weight gradients of row batches."""

    sparse = False

    def __init__(self, X, batch_size, nt):
        self.X = np.ascontiguousarray(X)
        self.n_samples, self.n_features = self.X.shape
        self.nt = nt
        self._xbuf = None
        self._batch_size = min(batch_size, self.n_samples)
        self._rows = self._x = None

    def weights_from_coef(self, coef):
        """The (K, F) working copy of coef_ (K, F)."""
        return np.array(coef, dtype=self.X.dtype, order="C")

    def coef_from_weights(self, W):
        return W.copy()

    def logits(self, rows, W, b, out):
        """out (B, K) = X[rows] W^T + b; rows None means every row (then B = n)."""
        if W.shape[0] <= _IN_PLACE_MAX_OUTPUTS:
            # every row in place too: for few outputs faster than BLAS (24 against 42 ms
            # on 100k x 300, 5 outputs, 2 threads), and no OpenBLAS thread is left
            # spinning against the next epoch's OpenMP threads (early stopping's
            # validation made the next dense epoch take 110-130 ms instead of 35)
            if rows is None:
                rows = np.arange(self.n_samples, dtype=np.int64)
            self._rows, self._x = rows, None
            _dense.rows_matmul(self.X, rows, W, out, self.nt)
            if b is not None:
                out += b
            return
        if rows is None:
            self._x = self.X
        else:
            if self._xbuf is None:
                self._xbuf = np.empty((self._batch_size, self.n_features), self.X.dtype)
            self._x = self._xbuf[:rows.shape[0]]
            np.take(self.X, rows, axis=0, out=self._x)
        _dense.forward(self._x, W, b, out, self.nt)

    def gradients(self, dz, W, dW, db):
        """dW (K, F) = dz^T x and db = column sums of dz, for the batch of the last
        `logits` call (db None: no intercept)."""
        if self._x is not None:
            _dense.backward(dz, self._x, W, dW, db, None, self.nt)
            return
        dW.fill(0)      # rows_t_matmul accumulates
        _dense.rows_t_matmul(self.X, self._rows, dz, dW, self.nt)
        if db is not None:
            np.sum(dz, axis=0, out=db)

    def squared_row_norms(self, step=1, rows=None):
        """||x_i||^2 of every `step`-th row (of the rows `rows`, when given), float64."""
        X = self.X if rows is None else np.ascontiguousarray(self.X[rows])
        out = np.empty(-(-X.shape[0] // step))
        _linsgd.row_sq_norms(X, step, out, self.nt)
        return out


class SparseRows:
    """CSR X (n, F), never densified: logits and weight gradients of row batches."""

    sparse = True

    def __init__(self, X, batch_size, nt, sort=False):
        # NaN / inf: checked by the callers (the estimator, or the epoch kernel)
        if sort and sp.issparse(X) and X.format == "csr" and not X.has_sorted_indices:
            X = X.sorted_indices()      # a copy: the caller's X is left alone
        self.data, self.indices, self.indptr, shape = csr_parts(X, "X", check_finite=False)
        self.n_samples, self.n_features = shape
        self.nt = nt
        self._rows = None

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

    def column_blocks(self, P, sample=16_384):
        """(P + 1,) int32 bounds cutting the features into P runs of about equal
        non-zero counts (estimated from an even sample of the non-zeros: 16k put the
        two halves of 8 blocks within 0.3 % of each other on the benchmark's and on
        SMS spam's bag of words; 100k samples cost 1 ms more per fit, cold): the
        parallel split of the CSR epoch kernel, a function of X only."""
        F = self.n_features
        step = max(1, self.indices.shape[0] // sample)
        counts = np.bincount(self.indices[::step], minlength=F).astype(np.float64)
        cum = np.cumsum(counts + 1e-3)     # empty columns still spread over the blocks
        cuts = np.searchsorted(cum, cum[-1] * np.arange(1, P) / P, side="right")
        return np.concatenate([[0], cuts, [F]]).astype(np.int32)

    def squared_row_norms(self, step=1, rows=None):
        """||x_i||^2 of every `step`-th row (of the rows `rows`, when given), float64."""
        data, indptr = self.data, self.indptr
        if rows is not None:
            X = sp.csr_matrix((data, self.indices, indptr),
                              shape=(self.n_samples, self.n_features))[rows]
            data, indptr = X.data, X.indptr.astype(np.int64)
        out = np.empty(-(-(indptr.shape[0] - 1) // step))
        _linsparse.csr_row_sq_norms(data, indptr, step, out, self.nt)
        return out


def make_rows(X, batch_size, nt, sort=False):
    """DenseRows or SparseRows for a validated X (sort: CSR indices sorted within each
    row, as the CSR epoch kernel needs; a sorted copy only when they are not)."""
    if sp.issparse(X):
        return SparseRows(X, batch_size, nt, sort)
    return DenseRows(X, batch_size, nt)
