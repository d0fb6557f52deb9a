"""One SGD epoch of the linear classifiers: the training state (weights, velocities,
averages) and the three ways an epoch runs.

- dense X with at most 32 outputs: one call of the fused kernel
  (`fastnn._kernels.linsgd.dense_epoch`, csrc/linsgd.inc);
- CSR X: one call of the CSR kernel (`fastnn._kernels.linsparse.csr_epoch`,
  csrc/linsparse.inc: without L1 each batch costs its non-zeros, not a pass over the
  weights; with L1 each step also sweeps the weights);
- anything else: the batch loop here, on the product kernels of `_batches`.
"""
import numpy as np

from fastnn._kernels import linsgd as _linsgd
from fastnn._kernels import linsparse as _linsparse
from fastnn._kernels import softmax as _sm
from fastnn._kernels import update as _update
from fastnn.linear_model._batches import _IN_PLACE_MAX_OUTPUTS

COLUMN_BLOCKS = 8   # the CSR epoch kernel's parallel split (so at most 8 threads)


def fused_epochs(sparse, K):
    """True when every epoch is one kernel call (see the module docstring)."""
    return sparse or K <= _IN_PLACE_MAX_OUTPUTS


class EpochRunner:
    """The SGD state of one fit and its epochs.

    W, b: the iterate (W in the layout of `rows`); vW, vb: velocities (None without
    momentum); aW, ab: the mean of the last epoch's iterates (W, b themselves when
    average is False) -- the model.
    """

    def __init__(self, rows, labels, sw_norm, K, batch, W, b, *, fit_intercept, momentum,
                 average, l2, l1, fused, nt):
        self.rows, self.labels, self.sw_norm, self.K, self.batch = rows, labels, sw_norm, K, batch
        self.fit_intercept, self.momentum, self.average = fit_intercept, momentum, average
        self.l2, self.l1, self.fused, self.nt = l2, l1, fused, nt
        self.W, self.b = W, b
        self.vW = np.zeros_like(W) if momentum > 0 else None
        self.vb = np.zeros_like(b) if momentum > 0 else None
        # average: the model is the mean of each epoch's iterates (the SGD path itself
        # goes on from the last iterate W, b)
        self.aW, self.ab = (np.zeros_like(W), np.zeros_like(b)) if average else (W, b)
        self.blocks = rows.column_blocks(COLUMN_BLOCKS) if fused and rows.sparse else None
        if not fused:
            dtype = W.dtype
            self.gW, self.gb = np.empty_like(W), np.empty_like(b)
            self.z = np.empty((batch, K), dtype)
            self.dz = np.empty((batch, K), dtype)
            self.targets = labels.astype(dtype) if K == 1 else None

    def run(self, order, schedule):
        """One epoch over the rows `order`; returns (summed weighted loss, True when a
        fused kernel met a NaN / inf logit)."""
        if self.average:
            self.aW.fill(0)
            self.ab.fill(0)
        if self.fused:
            return self._fused(order, schedule)
        return self._batch_loop(order, schedule), False

    def penalty(self):
        """The penalty's value at the iterate W."""
        value = 0.0
        if self.l2:     # not np.dot: BLAS would wake its threads for one product
            value += 0.5 * self.l2 * float(np.square(self.W).sum())
        if self.l1:
            value += self.l1 * float(np.abs(self.W).sum())
        return value

    def finite(self):
        """True when no weight is NaN / inf."""
        return all(np.isfinite(a).all() for a in (self.W, self.b, self.aW, self.ab))

    def _fused(self, order, schedule):
        rows, batch = self.rows, self.batch
        etas = schedule.steps(-(-order.shape[0] // batch))
        icpt, avg = self.fit_intercept, self.average
        state = (self.W, self.b if icpt else None, self.vW, self.vb if icpt else None,
                 self.aW if avg else None, self.ab if avg and icpt else None, etas, batch,
                 self.momentum, self.l2)
        order = order.astype(np.int64, copy=False)
        if rows.sparse:
            return _linsparse.csr_epoch(rows.data, rows.indices, rows.indptr, order,
                                        self.labels, self.sw_norm, self.blocks, *state,
                                        self.nt, l1=self.l1)
        return _linsgd.dense_epoch(rows.X, order, self.labels, self.sw_norm, *state, self.l1,
                                   self.nt)

    def _batch_loop(self, order, schedule):
        rows, W, b, nt = self.rows, self.W, self.b, self.nt
        icpt, total = self.fit_intercept, 0.0
        for start in range(0, order.shape[0], self.batch):
            idx = np.ascontiguousarray(order[start:start + self.batch], dtype=np.int64)
            m = idx.shape[0]
            zb, db_ = self.z[:m], self.dz[:m]
            rows.logits(idx, W, b if icpt else None, zb)
            total += batch_loss(zb, db_, self.labels, self.targets, self.sw_norm, idx, self.K)
            eta = schedule.step()
            rows.gradients(db_, W, self.gW, self.gb if icpt else None)
            _update.sgd_update(W.reshape(-1), self.gW.reshape(-1),
                               None if self.vW is None else self.vW.reshape(-1),
                               eta, self.momentum, False, self.l2, nt)
            if icpt:
                _update.sgd_update(b, self.gb, self.vb, eta, self.momentum, False, 0.0, nt)
            if self.l1 > 0:      # proximal step of the L1 part: soft-threshold
                np.copyto(W, np.sign(W) * np.maximum(np.abs(W) - eta * self.l1, 0))
            if self.average:    # running mean of the epoch's iterates
                frac = 1.0 / (start // self.batch + 1)
                _linsgd.running_mean(self.aW.reshape(-1), W.reshape(-1), frac, nt)
                _linsgd.running_mean(self.ab, b, frac, 1)
        return total


def batch_loss(z, dz, labels, targets, sw_norm, idx, K):
    """dz = gradient of the batch's summed normalised-weight loss / batch size;
    returns that summed loss (the loss kernels run on one thread so that the value,
    and so the stopping test, is the same for every n_jobs)."""
    m = idx.shape[0]
    w = None if sw_norm is None else sw_norm[idx]
    wsum = float(m) if w is None else float(w.sum(dtype=np.float64))
    if wsum == 0:   # only zero-weight rows: no data gradient
        dz.fill(0)
        return 0.0
    if K == 1:
        mean = _sm.bce_with_logits(z.reshape(-1), targets[idx], w, dz.reshape(-1), 1)
    else:
        mean = _sm.softmax_xent(z, labels[idx], w, dz, 1)
    if w is not None:   # the kernels divide by the batch's weight sum; we want / m
        dz *= wsum / m
    return mean * wsum
