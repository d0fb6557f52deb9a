"""The mini-batch SGD training shared by LogisticRegression and SoftmaxRegression.

Training objective (scikit-learn's, with s_i the sample times class weight, S = sum s_i):

    J(W, b) = (1/S) sum_i s_i loss_i  +  1/(C S) * ((1 - l1_ratio)/2 ||W||^2 + l1_ratio ||W||_1)

(the intercept is not penalised).  Each update steps along an unbiased mini-batch estimate
of grad J: (1/B) sum_batch (n s_i / S) grad loss_i + the penalty's gradient (L2 through the
weight decay of the fused SGD kernel, L1 by a proximal soft-threshold after the step).
With average=True the model is the mean of each epoch's iterates.

Dense X with at most 32 outputs runs each epoch as one call of the fused kernel
(`fastnn._kernels.linsgd.dense_epoch`, csrc/linsgd.inc), CSR X without L1 as one call of
the lazy CSR kernel (`fastnn._kernels.linsparse.csr_epoch`, csrc/linsparse.inc: each batch
costs its non-zeros); other inputs run the batch loop here on the product kernels of
`_batches`.
"""
import time
import warnings
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.multiclass import _check_partial_fit_first_call
from sklearn.utils.validation import (_assert_all_finite, _check_sample_weight,
                                      check_is_fitted, column_or_1d, validate_data)
from threadpoolctl import threadpool_limits

from fastnn._kernels import linsgd as _linsgd
from fastnn._kernels import linsparse as _linsparse
from fastnn._kernels import softmax as _sm
from fastnn._kernels import update as _update
from fastnn._threads import resolve_threads
from fastnn.linear_model._batches import _IN_PLACE_MAX_OUTPUTS, make_rows
from fastnn.linear_model._labels import check_targets, classes_of, encode
from fastnn.linear_model._schedule import LearningRate

_DIVERGED = ("SGD produced non-finite weights (the training diverged): use a smaller "
             "learning rate (eta0), or scale the features (e.g. StandardScaler)")
_NORM_SAMPLE = 10_000     # rows whose norms set eta0='auto'
_COLUMN_BLOCKS = 8        # the CSR epoch kernel's parallel split (at most 8 threads)
_SOLVER_WARNING = ("fastnn's {name} always trains by mini-batch SGD; solver={solver!r} is "
                   "ignored (tune learning_rate, eta0, batch_size and max_iter instead)")


class SGDLinearClassifier(ClassifierMixin, BaseEstimator):
    """Base of the SGD-trained linear classifiers; subclasses set `_binary_sigmoid`."""

    _binary_sigmoid = True      # two classes: one logit and the sigmoid (else softmax)

    _parameter_constraints = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet"}), None,
                    Hidden(StrOptions({"deprecated"}))],
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "solver": [str, None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "n_jobs": [Integral, None],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "optimal"})],
        "eta0": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "average": ["boolean"],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, penalty="deprecated", *, C=1.0, l1_ratio=0.0, tol=1e-4,
                 fit_intercept=True, class_weight=None, random_state=None, solver=None,
                 max_iter=100, verbose=0, warm_start=False, n_jobs=None, batch_size="auto",
                 learning_rate="adaptive", eta0="auto", power_t=0.5, momentum=0.9,
                 average=True, shuffle=True, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.momentum = momentum
        self.average = average
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ public API

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train by mini-batch SGD for up to `max_iter` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float32 input trains in float32, anything else in float64; CSR / CSC
            matrices are used without densifying.
        y : array-like of shape (n_samples,)
            Class labels (any hashable type).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (multiplied by the class weights).

        Returns
        -------
        self
        """
        self._warn_solver()
        X, y = self._validate_xy(X, y, reset=True)
        classes = classes_of(y)
        if classes.shape[0] < 2:
            raise ValueError("This solver needs samples of at least 2 classes in the data, "
                             f"but the data contains only one class: {classes[0]!r}")
        warm = self.warm_start and hasattr(self, "coef_") and np.array_equal(
            getattr(self, "classes_", None), classes)
        self.classes_ = classes
        sw = self._sample_weights(X, y, sample_weight)
        coef, intercept = (self.coef_, self.intercept_) if warm else (None, None)
        self.loss_curve_ = np.empty(0)
        if self.early_stopping:
            self.validation_scores_ = np.empty(0)
            self.best_validation_score_ = None
        self._train(X, y, sw, coef, intercept, epochs=self.max_iter, stopping=True)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of SGD over (X, y), continuing from the current weights.

        Parameters
        ----------
        X, y, sample_weight : as in `fit`.
        classes : array-like of shape (n_classes,), default=None
            Every class of the problem; required on the first call only.

        Returns
        -------
        self

        Notes
        -----
        The penalty's weight 1/(C S) uses the weights S of this call's data, and the
        learning-rate schedule carries on across calls.
        """
        self._warn_solver()
        first = _check_partial_fit_first_call(self, classes)
        X, y = self._validate_xy(X, y, reset=first)
        if first:
            if self.classes_.shape[0] < 2:
                raise ValueError("partial_fit needs at least 2 classes, got "
                                 f"{self.classes_!r}")
            self.loss_curve_ = np.empty(0)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(f"y contains labels not in classes: {unseen!r}")
        sw = self._sample_weights(X, y, sample_weight)
        coef, intercept = (None, None) if first else (self.coef_, self.intercept_)
        self._train(X, y, sw, coef, intercept, epochs=1, stopping=False,
                    keep_schedule=not first)
        return self

    def decision_function(self, X):
        """Logits: shape (n_samples,) with two classes (positive means classes_[1]),
        else (n_samples, n_classes)."""
        z = self._logits(X)
        if z.shape[1] == 1:
            return z[:, 0]
        if z.shape[1] == 2:
            return z[:, 1] - z[:, 0]
        return z

    def predict(self, X):
        """The most probable class of each row."""
        z = self._logits(X)
        if z.shape[1] == 1:
            return self.classes_[(z[:, 0] > 0).astype(np.intp)]
        return self.classes_[np.argmax(z, axis=1)]

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns as classes_."""
        return self._probabilities(X, log_space=False)

    def predict_log_proba(self, X):
        """Log class probabilities, computed from the logits (no log of 0)."""
        return self._probabilities(X, log_space=True)

    def check_gradients(self, X, y, sample_weight=None):
        """Relative error of the analytic gradient of the training objective.

        At the current weights, in a float64 copy, compares the gradient of J (loss and
        penalty, as trained by `fit` on this X, y) computed by the compiled kernels with
        central finite differences, and returns
        max|analytic - numeric| / max(max|numeric|, 1e-8) over all parameters.
        """
        from fastnn.linear_model._gradcheck import gradient_error
        check_is_fitted(self)
        X, y = self._validate_xy(X, y, reset=False)
        self._assert_finite(X)
        sw = self._sample_weights(X, y, sample_weight)
        return gradient_error(self, X, self._encode(y), sw)

    # ------------------------------------------------------------------ helpers

    def _warn_solver(self):
        if self.solver is not None and self.solver != "sgd":
            warnings.warn(_SOLVER_WARNING.format(name=type(self).__name__,
                                                 solver=self.solver), UserWarning)

    def _validate_xy(self, X, y, reset):
        """Validated (X, y), X not yet checked for NaN / inf: `_train` does it with
        `_assert_finite`, or for free in the fused epoch kernel (which flags them)."""
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"),
                             dtype=(np.float64, np.float32), reset=reset,
                             ensure_all_finite=False)
        y = column_or_1d(y)
        check_targets(y)
        return X, y

    def _assert_finite(self, X):
        """scikit-learn's ValueError when X holds a NaN or an infinity."""
        _assert_all_finite(X.data if sp.issparse(X) else X, input_name="X",
                           estimator_name=type(self).__name__)

    def _penalty_split(self):
        """(C, l1_ratio) after `penalty`: C is inf when there is no penalty."""
        penalty, l1_ratio = self.penalty, self.l1_ratio
        if penalty is None or np.isinf(self.C):
            return np.inf, 0.0
        if penalty == "l1":
            return self.C, 1.0
        if penalty == "l2":
            return self.C, 0.0
        if l1_ratio is None:
            if penalty == "elasticnet":
                raise ValueError("penalty='elasticnet' needs l1_ratio in [0, 1], got None")
            l1_ratio = 0.0
        return self.C, float(l1_ratio)

    def _encode(self, y):
        """Class indices of y in classes_ (int32)."""
        return encode(self.classes_, y)

    def _sample_weights(self, X, y, sample_weight):
        """Sample weights times class weights, float64 (None when all are 1)."""
        cw = None
        if self.class_weight is not None:
            per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
            cw = per_class[self._encode(y)]
        if sample_weight is None and cw is None:
            return None
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if cw is not None:
            sw = sw * cw
        if not sw.sum() > 0:
            raise ValueError("sample_weight (times class_weight) must have a positive sum")
        return sw

    def _n_outputs(self):
        k = self.classes_.shape[0]
        return 1 if (k == 2 and self._binary_sigmoid) else k

    def _logits(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"),
                          dtype=(np.float64, np.float32), reset=False)
        nt = resolve_threads(self.n_jobs, "n_jobs")
        rows = make_rows(X, X.shape[0], nt)
        W = rows.weights_from_coef(self.coef_)
        b = np.ascontiguousarray(self.intercept_, dtype=W.dtype)
        z = np.empty((X.shape[0], W.shape[0] if not rows.sparse else W.shape[1]), W.dtype)
        with threadpool_limits(limits=nt, user_api="blas"):
            rows.logits(None, W, b, z)
        return z

    def _probabilities(self, X, log_space):
        z = self._logits(X)
        if z.shape[1] == 1:     # sigmoid = softmax over the logits (0, z)
            z = np.ascontiguousarray(np.hstack([np.zeros_like(z), z]))
        out = np.empty_like(z)
        _sm.softmax(z, out, log_space, resolve_threads(self.n_jobs, "n_jobs"))
        return out

    def _auto_eta0(self, rows, sw_norm, alpha):
        """8 / L, L = c mean_i ||x_i||^2 + alpha a smoothness bound of the objective
        (c = 1/4 for the sigmoid, 1/2 for the softmax; the intercept counts as a feature
        of value 1, the mean is sample-weighted).  1 / L is the safe full-batch step;
        8 / L reached the optimum in 2-5x fewer epochs on digits, SMS spam and Gaussian
        data, the 'adaptive' schedule absorbing the extra gradient noise."""
        # at most _NORM_SAMPLE evenly spaced rows: a step-size heuristic needs no more
        step = max(1, rows.n_samples // _NORM_SAMPLE)
        sq = rows.squared_row_norms(step) + (1.0 if self.fit_intercept else 0.0)
        w = None if sw_norm is None else sw_norm[::step].astype(np.float64)
        mean_sq = np.mean(sq) if w is None else (
            np.dot(sq, w) / w.sum() if w.sum() > 0 else np.mean(sq))
        factor = 0.25 if self._n_outputs() == 1 else 0.5
        return 8.0 / (factor * mean_sq + alpha)

    def _train(self, X, y, sw, coef, intercept, *, epochs, stopping, keep_schedule=False):
        """The SGD loop: sets coef_, intercept_, n_iter_, loss_curve_ (appended)."""
        nt = resolve_threads(self.n_jobs, "n_jobs")
        rng = check_random_state(self.random_state)
        labels = self._encode(y)
        K = self._n_outputs()
        C, l1_ratio = self._penalty_split()
        # each epoch one call of a fused kernel: dense X with few outputs, or CSR X
        # without L1 (lazy updates); the kernels flag a non-finite logit, and only then
        # is X checked (saving a pass over X)
        sparse = sp.issparse(X)
        fused = l1_ratio == 0 if sparse else (
            K <= _IN_PLACE_MAX_OUTPUTS and not (self.early_stopping and stopping))
        if not fused or (self.early_stopping and stopping):
            self._assert_finite(X)
        X_val = labels_val = None
        if self.early_stopping and stopping:
            X, X_val, labels, labels_val, sw = self._split_validation(X, labels, sw, rng)
        n = X.shape[0]
        batch = min(200 if self.batch_size == "auto" else self.batch_size, n)
        rows = make_rows(X, batch, nt, sort=fused)
        dtype = rows.data.dtype if rows.sparse else rows.X.dtype
        n_batches = -(-n // batch)

        S = n if sw is None else float(sw.sum())
        alpha = 0.0 if np.isinf(C) else 1.0 / (C * S)
        l2, l1 = alpha * (1.0 - l1_ratio), alpha * l1_ratio
        # weights normalised to mean 1, so a batch's mean gradient is unbiased for grad J
        sw_norm = None if sw is None else (sw * (n / S)).astype(dtype)

        W = rows.weights_from_coef(np.zeros((K, rows.n_features)) if coef is None else coef)
        b = np.zeros(K, dtype) if intercept is None else np.array(intercept, dtype)
        if keep_schedule and hasattr(self, "_schedule"):
            schedule = self._schedule
            schedule.alpha = alpha
        else:
            eta0 = self._auto_eta0(rows, sw_norm, alpha) if self.eta0 == "auto" else self.eta0
            schedule = LearningRate(self.learning_rate, float(eta0), self.power_t, alpha)
        self._schedule = schedule

        blocks = rows.column_blocks(_COLUMN_BLOCKS) if fused and rows.sparse else None
        gW, gb = np.empty_like(W), np.empty_like(b)
        vW = np.zeros_like(W) if self.momentum > 0 else None
        vb = np.zeros_like(b) if self.momentum > 0 else None
        # average: the model is the mean of each epoch's iterates (the SGD path itself
        # goes on from the last iterate W, b)
        aW, ab = (np.zeros_like(W), np.zeros_like(b)) if self.average else (W, b)
        z = np.empty((batch, K), dtype)
        dz = np.empty((batch, K), dtype)
        targets = labels.astype(dtype) if K == 1 else None

        best_loss, no_improve = np.inf, 0
        best_score, best_params = -np.inf, None
        losses = list(self.loss_curve_) if hasattr(self, "loss_curve_") else []
        scores = list(getattr(self, "validation_scores_", []))
        epoch = 0
        converged = False
        bar = self._progress_bar(epochs)
        # BLAS runs only in the unfused dense products (and the dense validation logits)
        blas = not rows.sparse and (not fused or X_val is not None)
        with threadpool_limits(limits=nt, user_api="blas") if blas else nullcontext():
            for epoch in range(1, epochs + 1):
                t0 = time.perf_counter()
                order = rng.permutation(n) if self.shuffle else np.arange(n)
                total = 0.0
                if self.average:
                    aW.fill(0)
                    ab.fill(0)
                if fused:
                    etas = np.fromiter((schedule.step() for _ in range(n_batches)),
                                       np.float64, n_batches)
                    icpt = self.fit_intercept
                    avg = self.average
                    state = (W, b if icpt else None, vW, vb if icpt else None,
                             aW if avg else None, ab if avg and icpt else None, etas, batch,
                             self.momentum, l2)
                    order = order.astype(np.int64, copy=False)
                    if rows.sparse:
                        total, bad = _linsparse.csr_epoch(
                            rows.data, rows.indices, rows.indptr, order, labels, sw_norm,
                            blocks, *state, nt)
                    else:
                        total, bad = _linsgd.dense_epoch(rows.X, order, labels, sw_norm,
                                                         *state, l1, nt)
                    if bad:     # a NaN / inf logit: bad input, or else divergence
                        self._assert_finite(X)
                for start in range(0, n if not fused else 0, batch):
                    idx = np.ascontiguousarray(order[start:start + batch], dtype=np.int64)
                    m = idx.shape[0]
                    zb, db_ = z[:m], dz[:m]
                    rows.logits(idx, W, b if self.fit_intercept else None, zb)
                    total += self._batch_loss(zb, db_, labels, targets, sw_norm, idx, K)
                    eta = schedule.step()
                    rows.gradients(db_, W, gW, gb if self.fit_intercept else None)
                    _update.sgd_update(W.reshape(-1), gW.reshape(-1),
                                       None if vW is None else vW.reshape(-1),
                                       eta, self.momentum, False, l2, nt)
                    if self.fit_intercept:
                        _update.sgd_update(b, gb, vb, eta, self.momentum, False, 0.0, nt)
                    if l1 > 0:      # proximal step of the L1 part: soft-threshold
                        np.copyto(W, np.sign(W) * np.maximum(np.abs(W) - eta * l1, 0))
                    if self.average:    # running mean of the epoch's iterates
                        frac = 1.0 / (start // batch + 1)
                        _linsgd.running_mean(aW.reshape(-1), W.reshape(-1), frac, nt)
                        _linsgd.running_mean(ab, b, frac, 1)
                if not all(np.isfinite(a).all() for a in (W, b, aW, ab)):
                    raise ValueError(_DIVERGED)
                objective = total / n + self._penalty_value(W, l2, l1)
                losses.append(objective)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{objective:.5g}",
                                    samples_per_s=f"{n / (time.perf_counter() - t0):.3g}")
                if not stopping:
                    continue
                if X_val is not None:
                    score = self._validation_score(rows, aW, ab, X_val, labels_val, nt)
                    scores.append(score)
                    improved = score > best_score + (self.tol or 0.0)
                    if score > best_score:
                        best_score, best_params = score, (aW.copy(), ab.copy())
                else:
                    improved = objective < best_loss - (self.tol or 0.0)
                    best_loss = min(best_loss, objective)
                if self.tol is None:
                    continue
                no_improve = 0 if improved else no_improve + 1
                if no_improve >= self.n_iter_no_change:
                    no_improve = 0
                    if X_val is None and schedule.plateau():
                        best_loss = objective
                        continue
                    converged = True
                    break
        if bar is not None:
            bar.close()
        if best_params is not None:
            aW, ab = best_params
            self.best_validation_score_ = best_score
        if stopping and not converged and self.tol is not None:
            warnings.warn(f"{type(self).__name__}: the stopping test (tol={self.tol}) was "
                          f"not met in max_iter={self.max_iter} epochs; increase max_iter",
                          ConvergenceWarning)
        self.coef_ = rows.coef_from_weights(aW)
        self.intercept_ = ab.copy() if self.fit_intercept else np.zeros_like(b)
        previous = int(self.n_iter_[0]) if (keep_schedule and hasattr(self, "n_iter_")) else 0
        self.n_iter_ = np.array([previous + epoch], dtype=np.int32)
        self.loss_curve_ = np.asarray(losses, dtype=np.float64)
        if self.early_stopping and stopping:
            self.validation_scores_ = np.asarray(scores, dtype=np.float64)
        return self

    @staticmethod
    def _batch_loss(z, dz, labels, targets, sw_norm, idx, K):
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

    @staticmethod
    def _penalty_value(W, l2, l1):
        value = 0.0
        if l2:      # not np.dot: BLAS would wake its threads for one product
            value += 0.5 * l2 * float(np.square(W).sum())
        if l1:
            value += l1 * float(np.abs(W).sum())
        return value

    def _split_validation(self, X, labels, sw, rng):
        stratify = labels if np.bincount(labels).min() >= 2 else None
        parts = train_test_split(X, labels, *(() if sw is None else (sw,)),
                                 test_size=self.validation_fraction, stratify=stratify,
                                 random_state=rng.randint(np.iinfo(np.int32).max))
        if sw is None:
            X_tr, X_val, y_tr, y_val = parts
            sw_tr = None
        else:
            X_tr, X_val, y_tr, y_val, sw_tr, _ = parts
        if np.unique(y_tr).shape[0] < 2:
            raise ValueError("early_stopping: the training part holds a single class; "
                             "lower validation_fraction")
        return X_tr, X_val, y_tr, y_val, sw_tr

    def _validation_score(self, rows, W, b, X_val, labels_val, nt):
        val = make_rows(X_val, X_val.shape[0], nt)
        z = np.empty((X_val.shape[0], W.shape[0] if not rows.sparse else W.shape[1]), W.dtype)
        val.logits(None, W, b if self.fit_intercept else None, z)
        pred = (z[:, 0] > 0).astype(np.int32) if z.shape[1] == 1 else np.argmax(z, axis=1)
        return float(np.mean(pred == labels_val))

    def _progress_bar(self, epochs):
        if not self.verbose:
            return None
        from tqdm.auto import tqdm
        return tqdm(total=epochs, desc=type(self).__name__, unit="epoch")
