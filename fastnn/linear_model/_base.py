"""The estimator base shared by LogisticRegression and SoftmaxRegression: parameters,
validation, prediction; the training itself is `_training.train`."""
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import compute_class_weight
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.multiclass import _check_partial_fit_first_call
from sklearn.utils.validation import (_assert_all_finite, _check_sample_weight,
                                      check_is_fitted, column_or_1d, validate_data)
from threadpoolctl import threadpool_limits

from fastnn._kernels import softmax as _sm
from fastnn._threads import resolve_threads
from fastnn.linear_model._batches import make_rows
from fastnn.linear_model._labels import check_targets, classes_of, encode
from fastnn.linear_model._training import train

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

    def _train(self, X, y, sw, coef, intercept, *, epochs, stopping, keep_schedule=False):
        """The SGD loop (`_training.train`): sets coef_, intercept_, n_iter_, loss_curve_."""
        return train(self, X, y, sw, coef, intercept, epochs=epochs, stopping=stopping,
                     keep_schedule=keep_schedule)
