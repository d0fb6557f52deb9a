"""MLPClassifier: scikit-learn's multi-layer perceptron on fastnn's compiled kernels.

The same hyper-parameters mean the same thing as in `sklearn.neural_network.MLPClassifier`
(Glorot-uniform initialisation drawn in the same order from `random_state`, the same
shuffling, its momentum form, `alpha` divided by the batch's sample (weight) count, its
learning-rate schedules, `tol` / `n_iter_no_change` stopping, early stopping, warm
start, partial_fit), so with the same seed both train the same network up to
floating-point round-off.  What differs: the loss comes from the logits (log-sum-exp),
not from clipped probabilities; float32 input trains in float32 through the kernels;
`n_jobs` sets the thread count; `dtype` forces a float dtype; a mini-batch whose
sample weights are all zero is skipped (scikit-learn's update would be NaN).

Sparse input (CSR / CSC) trains without densifying: the first layer runs on fastnn's
CSR kernels (`fastnn.nn.SparseLinear`), its weights stored a feature per row.
"""
import contextlib
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
from scipy.linalg import get_blas_funcs
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (_check_partial_fit_first_call, type_of_target,
                                      unique_labels)
from sklearn.utils.validation import (_check_sample_weight, check_is_fitted,
                                      column_or_1d, validate_data)
from threadpoolctl import ThreadpoolController

from fastnn import optim
from fastnn._threads import resolve_threads
from fastnn._validation import float_dtype
from fastnn.nn import CSRRows, FeedForward

_STOCHASTIC = ("sgd", "adam")
_PREDICT_CHUNK = 4096          # rows per forward pass at predict time (bounds memory)
# Threads.  Dense training (lbfgs aside): n_jobs threads of the fused batch kernel
# (fastnn._kernels.mlp), each calling single-threaded BLAS on its share, BLAS limited
# to one thread meanwhile.  Elsewhere (prediction, lbfgs, CSR input, check_gradients)
# n_jobs goes to BLAS, whose GEMMs are the bulk of the work, and the light elementwise
# kernels between them run on the calling thread: on OpenMP threads they would fight
# OpenBLAS's spin-waiting pool for the cores (measured on 2 cores, hidden 1024, batch
# 256: 0.5 s per epoch instead of 0.12 s).
_KERNEL_THREADS = 1
_DIVERGED = ("Solver produced non-finite parameter weights. The input data may contain "
             "large values and need to be preprocessed, or the learning rate is too "
             "large: try a smaller learning_rate_init.")


_controller = None


def _blas_threads(n):
    """Context limiting BLAS to n threads.  threadpoolctl's introspection of the loaded
    libraries costs milliseconds, so it is done once (fastnn's BLAS, SciPy's, is
    loaded by then) and the controller reused: a limit then costs microseconds."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=n, user_api="blas")


def _as_source(X, dtype):
    """What a FeedForward reads batches from: a C-contiguous dense array, or CSRRows."""
    if sp.issparse(X):
        return CSRRows.of(X, dtype)
    return np.ascontiguousarray(X, dtype=dtype)


def _chunk(src, start, stop):
    """Rows start:stop of a batch source (a view / row-id list, never a copy of X)."""
    if isinstance(src, CSRRows):
        return src.take(np.arange(start, stop, dtype=np.int64))
    return src[start:stop]


def _relayout_first_layer(solver, units, to_sparse):
    """Optimizer state follows the first layer's storage when partial_fit switches
    between dense and sparse input: (out, in) for dense, (in, out) for sparse."""
    F, H = units[0], units[1]
    for name in ("velocity", "m", "v"):
        vec = getattr(solver, name, None)
        if vec is not None:
            seg = vec[:F * H]
            seg[:] = seg.reshape((H, F) if to_sparse else (F, H)).T.reshape(-1)
    solver.sparse_layout = to_sparse


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier trained by backprop on compiled kernels.

    A drop-in for `sklearn.neural_network.MLPClassifier`: every parameter below that it
    shares has scikit-learn's meaning and default.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(100,)
        Units of each hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Hidden-layer activation.
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        'sgd' (scikit-learn's momentum form: v = momentum v - lr g, p += v), 'adam', or
        'lbfgs' (SciPy's L-BFGS-B on the full batch).
    alpha : float, default=0.0001
        L2 penalty 0.5 alpha ||W||^2 (weights only), divided by the batch's sample
        count (or sample-weight sum) when added to the batch loss.
    batch_size : int or 'auto', default='auto'
        Mini-batch size; 'auto' = min(200, n_samples).  Clipped to n_samples.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule for solver='sgd' (see `fastnn.optim`): invscaling sets
        lr = learning_rate_init / (t + 1) ** power_t after each epoch (t = samples
        seen); adaptive divides lr by 5 whenever the loss (validation score) stalls.
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
    max_iter : int, default=200
        Epochs for the stochastic solvers, iterations for 'lbfgs'.
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Initial weights, shuffling and the early-stopping split.
    tol : float, default=1e-4
        Improvement below tol for more than n_iter_no_change epochs ends training (or,
        with learning_rate='adaptive', divides lr by 5).
    verbose : bool, default=False
        A tqdm progress bar (epoch, loss, validation score, samples/s) on stderr.
    warm_start : bool, default=False
        Start fit from the previous solution.
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out validation_fraction of the training data (stratified for binary
        targets) and stop on its accuracy; the best weights are kept.
    validation_fraction : float, default=0.1
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's (scikit-learn's form: epsilon added after the bias correction).
    n_iter_no_change : int, default=10
    max_fun : int, default=15000
        Loss evaluations allowed to 'lbfgs'.
    n_jobs : int or None, default=None
        Threads; None = every core (or the `fastnn.threads` setting).  Stochastic
        training on dense input runs each mini-batch (forward, backward, plain-SGD
        step) as one compiled kernel on n_jobs threads, each taking its share of
        every matrix product; otherwise n_jobs goes to BLAS (see _KERNEL_THREADS).
        The same random_state gives the same model, bitwise, for the same n_jobs;
        across n_jobs the products are split differently, so models agree to
        round-off.
    dtype : None, np.float32 or np.float64, default=None
        Training dtype; None keeps float32 / float64 input as it is (other input
        becomes float64).

    Attributes
    ----------
    classes_, loss_, best_loss_, loss_curve_, validation_scores_,
    best_validation_score_, t_, coefs_, intercepts_, n_features_in_,
    feature_names_in_, n_iter_, n_layers_, n_outputs_, out_activation_
        As scikit-learn's MLPClassifier.  coefs_[i] has shape (fan_in, fan_out).
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"),
                             Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [None, Integral],
        "dtype": "no_validation",        # checked by float_dtype
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, n_jobs=None, dtype=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.n_jobs = n_jobs
        self.dtype = dtype

    # ------------------------------------------------------------------ public API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on X (n_samples, n_features; dense or sparse) and labels y (or a
        label-indicator matrix); sample_weight (n_samples,) optional.  Returns self."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC:
            raise AttributeError(f"partial_fit is only available for stochastic "
                                 f"optimizers. {self.solver} is not stochastic.")
        return True

    @available_if(_check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y).  `classes` (every label that will ever be seen) is
        required on the first call.  Returns self."""
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predicted class labels (n_samples,) (an indicator matrix for multilabel y)."""
        check_is_fitted(self)
        return self._label_binarizer.inverse_transform(self._proba(self._check_X(X)))

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns ordered as classes_."""
        check_is_fitted(self)
        p = self._proba(self._check_X(X))
        if self.n_outputs_ == 1:
            p = p.ravel()
            return np.vstack([1 - p, p]).T
        return p

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        p = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(p, out=p)

    def check_gradients(self, X, y, sample_weight=None, eps=1e-6):
        """Relative error of the analytic gradient against central differences.

        At the current weights, in a float64 copy, over the training objective on
        (X, y): the (weighted) mean log-loss plus 0.5 alpha ||W||^2 / sum(weights).
        Returns max |analytic - numeric| / max(max |numeric|, 1e-8), every parameter
        perturbed by +-eps (default 1e-6).
        """
        check_is_fitted(self)
        X = self._check_X(X).astype(np.float64)
        targets = self._targets(np.asarray(y), np.float64)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        net = self._network(np.float64)
        nt = resolve_threads(self.n_jobs, "n_jobs")
        Xd = X.toarray() if sp.issparse(X) else np.ascontiguousarray(X)     # small data
        sw_sum = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        l2 = self.alpha / sw_sum

        def objective():
            w = net.params[:net.n_weights]
            return net.loss_grad(Xd, targets, sample_weight, nt) + 0.5 * l2 * (w @ w)

        objective()
        analytic = net.grads.copy()
        analytic[:net.n_weights] += l2 * net.params[:net.n_weights]
        numeric = np.empty_like(analytic)
        for j in range(net.params.size):
            keep = net.params[j]
            net.params[j] = keep + eps
            up = objective()
            net.params[j] = keep - eps
            down = objective()
            net.params[j] = keep
            numeric[j] = (up - down) / (2 * eps)
        return float(np.max(np.abs(analytic - numeric)) / max(np.max(np.abs(numeric)), 1e-8))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags

    # ------------------------------------------------------------------ input
    def _check_X(self, X):
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                          dtype=(np.float64, np.float32))
        return X.tocsr() if sp.issparse(X) else X

    def _targets(self, y, dtype):
        """Integer labels (softmax output) or a 0/1 float matrix (logistic outputs).

        Softmax: each label's index in classes_ (sorted), the column LabelBinarizer
        would set, found without building the one-hot matrix; a label not in classes_
        is a ValueError."""
        lb = self._label_binarizer
        if self.out_activation_ == "softmax":
            classes = lb.classes_
            idx = np.searchsorted(classes, y)
            unknown = np.take(classes, idx, mode="clip") != y
            if np.any(unknown):
                raise ValueError(f"y has labels not in classes_ {classes}: "
                                 f"{np.unique(np.asarray(y)[unknown])}")
            return np.ascontiguousarray(idx, dtype=np.int32)
        return np.ascontiguousarray(lb.transform(y), dtype=dtype)

    def _validate_input(self, X, y, incremental, reset, dtype):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=dtype if dtype is not None else (np.float64, np.float32),
                             reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in "
                        f"the previous call to fit. Previously got {self.classes_}, `y` "
                        f"has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError("`y` has classes not in `self.classes_`. `self.classes_` "
                                 f"has {self.classes_}. 'y' has {classes}.")
        return (X.tocsr() if sp.issparse(X) else np.ascontiguousarray(X)), y

    # ------------------------------------------------------------------ model
    def _initialize(self, layer_units, dtype, rng):
        """Fresh weights, Glorot-uniform as scikit-learn draws them (same order)."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_layers_ = len(layer_units)
        lb = self._label_binarizer
        self.out_activation_ = "softmax" if lb.y_type_ == "multiclass" else "logistic"
        factor = 2.0 if self.activation == "logistic" else 6.0
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in zip(layer_units, layer_units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef = rng.uniform(-bound, bound, (fan_in, fan_out))
            intercept = rng.uniform(-bound, bound, fan_out)
            self.coefs_.append(coef.astype(dtype, copy=False))
            self.intercepts_.append(intercept.astype(dtype, copy=False))
        self._reset_stochastic_state()

    def _reset_stochastic_state(self):
        """loss_curve_ and the stopping bookkeeping of the stochastic solvers."""
        if self.solver in _STOCHASTIC:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _network(self, dtype, sparse_input=False, with_grads=True):
        """A FeedForward of `dtype` holding the current coefs_ / intercepts_."""
        units = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
        net = FeedForward(units, self.activation, self.out_activation_, dtype, sparse_input,
                          with_grads)
        net.set_weights(self.coefs_, self.intercepts_)
        return net

    def _publish(self, net):
        """coefs_ / intercepts_ become views of the trained network's buffer."""
        self.coefs_ = net.coefs()
        self.intercepts_ = net.intercepts()

    def _proba(self, X):
        """Output probabilities (n_samples, n_outputs) in the model's dtype."""
        dtype = self.coefs_[0].dtype
        nt = _KERNEL_THREADS
        net = self._network(dtype, sp.issparse(X), with_grads=False)
        src = _as_source(X, dtype)
        out = np.empty((X.shape[0], self.n_outputs_), dtype=dtype)
        with _blas_threads(resolve_threads(self.n_jobs, "n_jobs")):
            for start in range(0, X.shape[0], _PREDICT_CHUNK):
                stop = min(start + _PREDICT_CHUNK, X.shape[0])
                out[start:stop] = net.predict_proba(_chunk(src, start, stop), nt)
        return out

    # ------------------------------------------------------------------ training
    def _fit(self, X, y, sample_weight, incremental):
        hidden = self.hidden_layer_sizes
        hidden = list(hidden) if hasattr(hidden, "__iter__") else [hidden]
        if np.any(np.array(hidden) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {hidden}.")
        want_dtype = float_dtype(self.dtype, allow_none=True)
        n_jobs_threads = resolve_threads(self.n_jobs, "n_jobs")
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        if not first_pass and want_dtype is None:
            want_dtype = self.coefs_[0].dtype
        X, y = self._validate_input(X, y, incremental, first_pass, want_dtype)
        dtype = X.dtype
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
        lb = self._label_binarizer
        # the width of lb.transform(y), without building it: one column for binary y
        self.n_outputs_ = 1 if lb.y_type_ == "binary" else len(lb.classes_)
        layer_units = [X.shape[1]] + hidden + [self.n_outputs_]
        self._random_state = rng = check_random_state(self.random_state)
        if first_pass:
            self._initialize(layer_units, dtype, rng)
        else:
            have = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
            if have != layer_units:
                raise ValueError(f"the network has layer sizes {have}, but hidden_layer_sizes"
                                 f" and the data ask for {layer_units}; refit without "
                                 "warm_start to change the architecture")
            if self.solver in _STOCHASTIC and not hasattr(self, "loss_curve_"):
                self._reset_stochastic_state()      # warm start after solver='lbfgs'
        net = self._network(dtype, sp.issparse(X))
        targets = self._targets(y, dtype)
        with _blas_threads(n_jobs_threads):
            if self.solver in _STOCHASTIC:
                self._fit_stochastic(net, X, y, targets, sample_weight, incremental,
                                     _KERNEL_THREADS, rng, n_jobs_threads)
            else:
                self._fit_lbfgs(net, X, targets, sample_weight, _KERNEL_THREADS)
        if not np.isfinite(net.params).all():
            raise ValueError(_DIVERGED)
        self._publish(net)
        return self

    def _make_solver(self, net):
        if self.solver == "sgd":
            schedule = optim.make_schedule(self.learning_rate, self.learning_rate_init,
                                           self.power_t)
            return optim._ScikitSGD(net.params.size, net.dtype, schedule, self.momentum,
                                    self.nesterovs_momentum)
        return optim._ScikitAdam(net.params.size, net.dtype, self.learning_rate_init,
                                 self.beta_1, self.beta_2, self.epsilon)

    def _fit_stochastic(self, net, X, y, targets, sample_weight, incremental, nt, rng,
                        step_threads):
        solver = getattr(self, "_optimizer", None)
        if not incremental or solver is None or solver.n_params != net.params.size:
            solver = self._optimizer = self._make_solver(net)
            solver.sparse_layout = net.sparse_input
        elif solver.sparse_layout != net.sparse_input:
            _relayout_first_layer(solver, net.layer_units, net.sparse_input)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        n = X.shape[0]
        if self.early_stopping:
            stratify = targets if self.n_outputs_ == 1 else None
            train, val = train_test_split(np.arange(n), random_state=rng,
                                          test_size=self.validation_fraction,
                                          stratify=stratify)
            if val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            X_val, y_val = _as_source(X[val], net.dtype), y[val]
            sw_val = None if sample_weight is None else sample_weight[val]
            X_train, t_train = _as_source(X[train], net.dtype), targets[train]
            sw_train = None if sample_weight is None else sample_weight[train]
            best_params = net.params.copy()
        else:
            X_train, t_train, sw_train = _as_source(X, net.dtype), targets, sample_weight
        n_train = X_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_train)
        else:
            if self.batch_size > n_train:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. "
                              "It is going to be clipped")
            batch_size = int(np.clip(self.batch_size, 1, n_train))
        order = np.arange(n_train)
        bar = self._progress_bar(incremental)
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                start_time = time.perf_counter()
                if self.shuffle:
                    perm = np.arange(n_train)
                    rng.shuffle(perm)
                    order = order[perm]
                total = self._epoch(net, solver, X_train, t_train, sw_train, order,
                                    batch_size, nt, step_threads)
                self.n_iter_ += 1
                self.loss_ = total / n_train
                self.t_ += n_train
                self.loss_curve_.append(self.loss_)
                if not np.isfinite(self.loss_) or not np.isfinite(net.params).all():
                    raise ValueError(_DIVERGED)
                if self.early_stopping:
                    score = self._validation_score(net, X_val, y_val, sw_val, nt)
                    self.validation_scores_.append(score)
                    if score < self.best_validation_score_ + self.tol:
                        self._no_improvement_count += 1
                    else:
                        self._no_improvement_count = 0
                    if score > self.best_validation_score_:
                        self.best_validation_score_ = score
                        best_params[:] = net.params
                else:
                    if self.loss_ > self.best_loss_ - self.tol:
                        self._no_improvement_count += 1
                    else:
                        self._no_improvement_count = 0
                    self.best_loss_ = min(self.best_loss_, self.loss_)
                solver.schedule.epoch_end(self.t_)
                if bar is not None:
                    bar.update(1)
                    post = {"loss": f"{self.loss_:.5f}",
                            "samples/s": f"{n_train / (time.perf_counter() - start_time):.3g}"}
                    if self.early_stopping:
                        post["val"] = f"{self.validation_scores_[-1]:.4f}"
                    bar.set_postfix(post)
                if self._no_improvement_count > self.n_iter_no_change:
                    if solver.schedule.plateau():
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter})"
                                  " reached and the optimization hasn't converged yet.",
                                  ConvergenceWarning)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        finally:
            if bar is not None:
                bar.close()
        if self.early_stopping:
            net.params[:] = best_params

    def _epoch(self, net, solver, X, targets, sample_weight, order, batch_size, nt,
               step_threads):
        """One pass over the mini-batches; returns the summed batch loss x batch size.

        Dense input: the fused kernel (`FeedForward.batch_step`: forward + backward on
        `step_threads` threads, BLAS single-threaded meanwhile).  Plain SGD (no
        momentum): the whole epoch, steps included, is one kernel call; other solvers:
        one call per batch, then solver.step.  Sparse input: the layer-by-layer path."""
        if isinstance(X, CSRRows):
            return self._epoch_layers(net, solver, X, targets, sample_weight, order,
                                      batch_size, nt)
        n = X.shape[0]
        fused_sgd = isinstance(solver, optim._ScikitSGD) and solver.velocity is None
        lr = solver.lr if fused_sgd else 0.0
        alpha = float(self.alpha)
        if sample_weight is not None:
            sample_weight = np.ascontiguousarray(sample_weight)
        rows = np.ascontiguousarray(order, dtype=np.int64) if self.shuffle else None
        step = net.batch_step(X, rows, targets, sample_weight, batch_size, step_threads)
        total = 0.0
        with _blas_threads(1) if step_threads > 1 else contextlib.nullcontext():
            if fused_sgd:               # the whole epoch in one kernel call
                return step.epoch(lr, alpha)[0]
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                loss, sw_sum, sq = step.run(start, stop, lr, alpha)
                if not sw_sum > 0:
                    continue        # all weights zero: no information in this batch
                if alpha:
                    loss += 0.5 * alpha / sw_sum * sq
                if not fused_sgd:
                    solver.step(net.params, net.grads, net.n_weights, alpha / sw_sum, nt)
                total += loss * (stop - start)
        return total

    def _epoch_layers(self, net, solver, X, targets, sample_weight, order, batch_size, nt):
        """_epoch on CSR rows, layer by layer through `FeedForward.loss_grad`."""
        n = X.shape[0]
        w_prefix = net.params[:net.n_weights]
        # SciPy's BLAS, the kernels' own: NumPy's is another OpenBLAS build, whose
        # spin-waiting thread pool would compete with the kernels' one
        dot = get_blas_funcs("dot", (w_prefix,))
        total = 0.0
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            idx = order[start:stop] if self.shuffle else slice(start, stop)
            xb = X.take(order[start:stop])
            tb = targets[idx]
            wb = None if sample_weight is None else sample_weight[idx]
            sw_sum = stop - start if wb is None else float(wb.sum(dtype=np.float64))
            if sw_sum <= 0:
                continue            # all weights zero: no information in this batch
            loss = net.loss_grad(xb, tb, wb, nt)
            l2 = self.alpha / sw_sum
            if l2:
                loss += 0.5 * l2 * float(dot(w_prefix, w_prefix))
            solver.step(net.params, net.grads, net.n_weights, l2, nt)
            total += loss * (stop - start)
        return total

    def _validation_score(self, net, X_val, y_val, sw_val, nt):
        proba = np.concatenate([
            net.predict_proba(_chunk(X_val, s, min(s + _PREDICT_CHUNK, X_val.shape[0])), nt)
            for s in range(0, X_val.shape[0], _PREDICT_CHUNK)])
        if not np.isfinite(proba).all():
            return np.nan
        return accuracy_score(y_val, self._label_binarizer.inverse_transform(proba),
                              sample_weight=sw_val)

    def _progress_bar(self, incremental):
        if not self.verbose:
            return None
        from tqdm.auto import tqdm
        return tqdm(total=1 if incremental else self.max_iter, desc="MLPClassifier",
                    unit="epoch", leave=False)

    def _fit_lbfgs(self, net, X, targets, sample_weight, nt):
        Xd = _as_source(X, net.dtype)
        sw_sum = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        l2 = self.alpha / sw_sum
        nw = net.n_weights

        def loss_grad(w):
            net.params[:] = w
            loss = net.loss_grad(Xd, targets, sample_weight, nt)
            wp = net.params[:nw].astype(np.float64)
            grad = net.grads.astype(np.float64)
            grad[:nw] += l2 * wp
            return loss + 0.5 * l2 * float(wp @ wp), grad

        result = scipy.optimize.minimize(
            loss_grad, net.params.astype(np.float64), method="L-BFGS-B", jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol})
        if result.status != 0:
            warnings.warn(f"lbfgs failed to converge after {result.nit} iteration(s) "
                          f"(status={result.status}): {result.message}. Increase the "
                          "number of iterations (max_iter) or scale the data.",
                          ConvergenceWarning)
        self.n_iter_ = min(result.nit, self.max_iter)
        self.loss_ = float(result.fun)
        net.params[:] = result.x
