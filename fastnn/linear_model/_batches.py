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
        self._rows, self._x = rows, None
        if rows is not None and W.shape[0] <= _IN_PLACE_MAX_OUTPUTS:
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

    def squared_row_norms(self, step=1):
        """||x_i||^2 of every `step`-th row, float64."""
        out = np.empty(-(-self.n_samples // step))
        _linsgd.row_sq_norms(self.X, step, out, self.nt)
        return out


class SparseRows:
    """CSR X (n, F), never densified: logits and weight gradients of row batches."""

    sparse = True

    def __init__(self, X, batch_size, nt):
        self.data, self.indices, self.indptr, shape = csr_parts(X, "X")
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

    def mean_row_nnz(self):
        return self.indices.shape[0] / max(self.n_samples, 1)

    def squared_row_norms(self, step=1):
        """||x_i||^2 of every `step`-th row, float64."""
        starts, ends = self.indptr[:-1:step], self.indptr[1::step]
        lengths = ends - starts
        # positions of the picked rows' non-zeros in data: only those are read
        first = np.cumsum(lengths) - lengths
        positions = np.arange(lengths.sum()) + np.repeat(starts - first, lengths)
        squares = np.square(self.data[positions], dtype=np.float64)
        row_of = np.repeat(np.arange(lengths.shape[0]), lengths)
        return np.bincount(row_of, weights=squares, minlength=lengths.shape[0])


class LazySparseSGD:
    """SGD steps with an L2 penalty and momentum over CSR batches, touching only the
    batch's features: each step costs the batch's non-zeros, not a pass over all F x K
    weights.  Exactly the eager update (W <- W - eta v, v <- m v + g + l2 W), the
    untouched features catching up later by the product of the steps they missed (see
    csrc/sparse.inc).  Call `fold` before reading the weights."""

    WINDOW = 64     # steps between full catch-ups: bounds the per-step product update

    def __init__(self, rows, WT, momentum, l2):
        self.rows, self.WT, self.m, self.l2 = rows, WT, float(momentum), float(l2)
        self.V = np.zeros_like(WT) if momentum > 0 else None
        self.last = np.zeros(WT.shape[0], np.int32)
        self.Q = np.empty((self.WINDOW, 2, 2))
        self.now = 0

    def catch_up(self, batch):
        """Bring the features of the batch's rows up to date (before its logits)."""
        r = self.rows
        _sparse.lazy_catch_up(self.WT, self.V, self.last, self.Q, self.now, r.indices,
                              r.indptr, batch, r.nt)

    def step(self, dz, eta):
        """One step with the batch gradient X[batch]^T dz of the last `logits` call."""
        r = self.rows
        A = np.array([[1.0 - eta * self.l2, -eta * self.m], [self.l2, self.m]])
        _sparse.lazy_step(self.WT, self.V, self.last, A, eta, self.now, r.data, r.indices,
                          r.indptr, r._rows, dz, r.nt)
        if self.now:
            np.matmul(A, self.Q[:self.now], out=self.Q[:self.now])
        self.Q[self.now] = A
        self.now += 1
        if self.now == self.WINDOW:
            self.fold()

    def fold(self):
        """Bring every feature up to date."""
        _sparse.lazy_fold(self.WT, self.V, self.last, self.Q, self.now, self.rows.nt)
        self.last.fill(0)
        self.now = 0


def make_rows(X, batch_size, nt):
    """DenseRows or SparseRows for a validated X."""
    if sp.issparse(X):
        return SparseRows(X, batch_size, nt)
    return DenseRows(X, batch_size, nt)
