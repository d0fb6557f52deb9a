"""The SGD training loop of the linear classifiers: set-up, epochs, stopping test.

Training objective (scikit-learn's, with s_i the sample times class weight, S = sum s_i):

    J(W, b) = (1/S) sum_i s_i loss_i  +  1/(C S) * ((1 - l1_ratio)/2 ||W||^2 + l1_ratio ||W||_1)

(the intercept is not penalised).  Each update steps along an unbiased mini-batch estimate
of grad J: (1/B) sum_batch (n s_i / S) grad loss_i + the penalty's gradient (L2 through the
weight decay of the SGD step, L1 by a proximal soft-threshold after the step).  With
average=True the model is the mean of each epoch's iterates.  How one epoch runs: `_epochs`.
"""
import time
import warnings
from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from fastnn._kernels.linsgd import shuffled_order
from fastnn._threads import resolve_threads
from fastnn.linear_model._batches import make_rows
from fastnn.linear_model._early_stopping import split_validation, validation_score
from fastnn.linear_model._epochs import EpochRunner, fused_epochs
from fastnn.linear_model._schedule import LearningRate

_DIVERGED = ("SGD produced non-finite weights (the training diverged): use a smaller "
             "learning rate (eta0), or scale the features (e.g. StandardScaler)")
_NORM_SAMPLE = 2_000      # rows whose norms set eta0='auto'


def auto_eta0(est, rows, sw_norm, alpha, train_rows=None):
    """8 / L, L = c mean_i ||x_i||^2 + alpha a smoothness bound of the objective
    (c = 1/4 for the sigmoid, 1/2 for the softmax; the intercept counts as a feature
    of value 1, the mean is sample-weighted).  1 / L is the safe full-batch step;
    8 / L reached the optimum in 2-5x fewer epochs on digits, SMS spam and Gaussian
    data, the 'adaptive' schedule absorbing the extra gradient noise.  train_rows: the
    rows that train (None: all)."""
    # at most _NORM_SAMPLE evenly spaced rows: a step-size heuristic needs no more
    if train_rows is None:
        step = max(1, rows.n_samples // _NORM_SAMPLE)
        sq, pick = rows.squared_row_norms(step), slice(None, None, step)
    else:
        pick = train_rows[::max(1, train_rows.shape[0] // _NORM_SAMPLE)]
        sq = rows.squared_row_norms(rows=pick)
    sq += 1.0 if est.fit_intercept else 0.0
    w = None if sw_norm is None else sw_norm[pick].astype(np.float64)
    mean_sq = np.mean(sq) if w is None else (
        np.dot(sq, w) / w.sum() if w.sum() > 0 else np.mean(sq))
    factor = 0.25 if est._n_outputs() == 1 else 0.5
    return 8.0 / (factor * mean_sq + alpha)


def _schedule(est, rows, sw_norm, alpha, keep_schedule, train_rows):
    """The learning-rate schedule: the estimator's previous one (partial_fit) or new."""
    if keep_schedule and hasattr(est, "_schedule"):
        schedule = est._schedule
        schedule.alpha = alpha
    else:
        eta0 = (auto_eta0(est, rows, sw_norm, alpha, train_rows) if est.eta0 == "auto"
                else est.eta0)
        schedule = LearningRate(est.learning_rate, float(eta0), est.power_t, alpha)
    est._schedule = schedule
    return schedule


def _seed(rng):
    """A 63-bit seed drawn from the estimator's RandomState (one per epoch's shuffle)."""
    return int(rng.randint(np.iinfo(np.int64).max, dtype=np.int64))


def _progress_bar(est, epochs):
    if not est.verbose:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=epochs, desc=type(est).__name__, unit="epoch")


def train(est, X, y, sw, coef, intercept, *, epochs, stopping, keep_schedule=False):
    """Train `est` by SGD from (coef, intercept) (None: zeros) for up to `epochs` epochs
    (stopping: apply the stopping test and early stopping); sets coef_, intercept_,
    n_iter_, loss_curve_ (appended) and the early-stopping attributes."""
    nt = resolve_threads(est.n_jobs, "n_jobs")
    rng = check_random_state(est.random_state)
    labels = est._encode(y)
    K = est._n_outputs()
    C, l1_ratio = est._penalty_split()
    early = est.early_stopping and stopping
    # the fused kernels flag a non-finite logit, and only then is X checked (saving a
    # pass over X); they see only the training rows, so held-out rows are checked here
    fused = fused_epochs(sp.issparse(X), K)
    if not fused:
        est._assert_finite(X)
    X_val = labels_val = train_rows = None      # train_rows None: every row trains
    if early:   # the held-out rows are copied, the others train in place
        train_rows, X_val, labels_val = split_validation(X, labels, rng,
                                                         est.validation_fraction)
        if fused:
            est._assert_finite(X_val)
    n = X.shape[0] if train_rows is None else train_rows.shape[0]
    batch = min(200 if est.batch_size == "auto" else est.batch_size, n)
    rows = make_rows(X, batch, nt, sort=fused)
    dtype = rows.data.dtype if rows.sparse else rows.X.dtype

    S = n if sw is None else float((sw if train_rows is None else sw[train_rows]).sum())
    alpha = 0.0 if np.isinf(C) else 1.0 / (C * S)
    l2, l1 = alpha * (1.0 - l1_ratio), alpha * l1_ratio
    # weights normalised to mean 1, so a batch's mean gradient is unbiased for grad J
    sw_norm = None if sw is None else (sw * (n / S)).astype(dtype)

    W = rows.weights_from_coef(np.zeros((K, rows.n_features)) if coef is None else coef)
    b = np.zeros(K, dtype) if intercept is None else np.array(intercept, dtype)
    schedule = _schedule(est, rows, sw_norm, alpha, keep_schedule, train_rows)
    runner = EpochRunner(rows, labels, sw_norm, K, batch, W, b,
                         fit_intercept=est.fit_intercept, momentum=est.momentum,
                         average=est.average, l2=l2, l1=l1, fused=fused, nt=nt)

    best_loss, no_improve = np.inf, 0
    best_score, best_params = -np.inf, None
    losses = list(est.loss_curve_) if hasattr(est, "loss_curve_") else []
    scores = list(getattr(est, "validation_scores_", []))
    epoch = 0
    converged = False
    bar = _progress_bar(est, epochs)
    # BLAS runs only in the unfused dense products (and their validation logits)
    blas = not rows.sparse and not fused
    with threadpool_limits(limits=nt, user_api="blas") if blas else nullcontext():
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            order = shuffled_order(n, _seed(rng)) if est.shuffle else np.arange(n)
            if train_rows is not None:
                order = train_rows[order]
            total, bad = runner.run(order, schedule)
            if bad:     # a NaN / inf logit: bad input, or else divergence
                est._assert_finite(X)
            if not runner.finite():
                raise ValueError(_DIVERGED)
            objective = total / n + runner.penalty()
            losses.append(objective)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{objective:.5g}",
                                samples_per_s=f"{n / (time.perf_counter() - t0):.3g}")
            if not stopping:
                continue
            if X_val is not None:
                score = validation_score(rows, runner.aW,
                                         runner.ab if est.fit_intercept else None,
                                         X_val, labels_val, nt)
                scores.append(score)
                improved = score > best_score + (est.tol or 0.0)
                if score > best_score:
                    best_score, best_params = score, (runner.aW.copy(), runner.ab.copy())
            else:
                improved = objective < best_loss - (est.tol or 0.0)
                best_loss = min(best_loss, objective)
            if est.tol is None:
                continue
            no_improve = 0 if improved else no_improve + 1
            if no_improve >= est.n_iter_no_change:
                no_improve = 0
                if X_val is None and schedule.plateau():
                    best_loss = objective
                    continue
                converged = True
                break
    if bar is not None:
        bar.close()
    aW, ab = runner.aW, runner.ab
    if best_params is not None:
        aW, ab = best_params
        est.best_validation_score_ = best_score
    if stopping and not converged and est.tol is not None:
        warnings.warn(f"{type(est).__name__}: the stopping test (tol={est.tol}) was "
                      f"not met in max_iter={est.max_iter} epochs; increase max_iter",
                      ConvergenceWarning)
    est.coef_ = rows.coef_from_weights(aW)
    est.intercept_ = ab.copy() if est.fit_intercept else np.zeros_like(b)
    previous = int(est.n_iter_[0]) if (keep_schedule and hasattr(est, "n_iter_")) else 0
    est.n_iter_ = np.array([previous + epoch], dtype=np.int32)
    est.loss_curve_ = np.asarray(losses, dtype=np.float64)
    if early:
        est.validation_scores_ = np.asarray(scores, dtype=np.float64)
    return est
