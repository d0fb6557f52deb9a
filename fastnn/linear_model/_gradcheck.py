"""`check_gradients`: the kernels' gradient of the training objective against central
finite differences, in float64.

A weight W[k, j] moves only logit column k, by h * X[:, j], so each difference costs
O(n K) instead of a full forward pass; per-sample loss differences are summed (not the
two totals subtracted) to keep the round-off small next to the gradient.
"""
import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp

from fastnn.linear_model._batches import make_rows
from fastnn.linear_model._epochs import batch_loss

_STEP = 1e-5


def _per_sample_loss(z, labels):
    """Loss of each row of the logits z (n, K): BCE from one logit, else softmax CE."""
    if z.shape[1] == 1:
        t = z[:, 0]
        return np.logaddexp(0.0, t) - t * labels
    return logsumexp(z, axis=1) - z[np.arange(z.shape[0]), labels]


def gradient_error(est, X, labels, sw):
    """max|analytic - numeric| / max(max|numeric|, 1e-8) over coef_ and intercept_."""
    X = X.astype(np.float64) if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    C, l1_ratio = est._penalty_split()
    S = n if sw is None else float(sw.sum())
    alpha = 0.0 if np.isinf(C) else 1.0 / (C * S)
    l2, l1 = alpha * (1.0 - l1_ratio), alpha * l1_ratio
    w = np.ones(n) if sw is None else sw * (n / S)
    K = est._n_outputs()

    # analytic: the training loop's own kernels on one batch holding every row
    rows = make_rows(X, n, 1)
    W = rows.weights_from_coef(np.asarray(est.coef_, dtype=np.float64))
    b = np.array(est.intercept_, dtype=np.float64)
    z = np.empty((n, K))
    dz = np.empty((n, K))
    rows.logits(np.arange(n, dtype=np.int64), W, b if est.fit_intercept else None, z)
    targets = labels.astype(np.float64) if K == 1 else None
    batch_loss(z, dz, labels, targets, None if sw is None else w,
               np.arange(n, dtype=np.int64), K)
    gW, gb = np.empty_like(W), np.empty_like(b)
    rows.gradients(dz, W, gW, gb)
    coef = rows.coef_from_weights(W)
    gW = rows.coef_from_weights(gW) + l2 * coef + l1 * np.sign(coef)
    analytic = np.concatenate([gW.ravel(), gb.ravel() if est.fit_intercept else []])

    # numeric
    Xc = X.tocsc() if sp.issparse(X) else X
    h = _STEP
    numeric_W = np.empty_like(coef)
    for j in range(coef.shape[1]):
        col = Xc[:, [j]].toarray().ravel() if sp.issparse(Xc) else Xc[:, j]
        for k in range(K):
            zp, zm = z.copy(), z.copy()
            zp[:, k] += h * col
            zm[:, k] -= h * col
            d = np.dot(w, _per_sample_loss(zp, labels) - _per_sample_loss(zm, labels)) / n
            c = coef[k, j]
            pen = l2 * 0.5 * ((c + h) ** 2 - (c - h) ** 2) + l1 * (abs(c + h) - abs(c - h))
            numeric_W[k, j] = (d + pen) / (2 * h)
    numeric = [numeric_W.ravel()]
    if est.fit_intercept:
        numeric_b = np.empty(K)
        for k in range(K):
            zp, zm = z.copy(), z.copy()
            zp[:, k] += h
            zm[:, k] -= h
            numeric_b[k] = np.dot(w, _per_sample_loss(zp, labels)
                                  - _per_sample_loss(zm, labels)) / n / (2 * h)
        numeric.append(numeric_b)
    numeric = np.concatenate(numeric)
    return float(np.max(np.abs(analytic - numeric)) / max(np.max(np.abs(numeric)), 1e-8))
