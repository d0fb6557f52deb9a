"""MLPClassifier: agreement with scikit-learn and the NumPy reference, gradients,
dtypes, sparse input, threads, scikit-learn conformance, bad input, quality."""
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastnn import reference as ref
from fastnn.neural_network import MLPClassifier


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 7))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 0.8)
    return X, y


def _max_diff(a_list, b_list):
    return max(float(np.max(np.abs(np.asarray(a, np.float64) - b)))
               for a, b in zip(a_list, b_list))


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn()


# -------------------------------------------------------- same math as scikit-learn
SAME_AS_SKLEARN = [
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="sgd", learning_rate_init=0.05, nesterovs_momentum=False, alpha=0.1,
         activation="tanh"),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5, momentum=0.5),
    dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.2, tol=0.5,
         n_iter_no_change=1, activation="logistic"),
    dict(solver="sgd", momentum=0.0, learning_rate_init=0.1, shuffle=False, batch_size=64),
    dict(solver="adam", activation="identity"),
    dict(solver="adam", early_stopping=True, validation_fraction=0.2),
    dict(solver="lbfgs"),
]


@pytest.mark.parametrize("params", SAME_AS_SKLEARN, ids=lambda p: "-".join(map(str, p.values())))
def test_trains_the_same_network_as_sklearn(digits, params):
    X, y = digits
    kw = dict(hidden_layer_sizes=(20, 10), random_state=0, max_iter=4, **params)
    ours = _quiet(lambda: MLPClassifier(**kw).fit(X, y))
    theirs = _quiet(lambda: SkMLP(**kw).fit(X, y))
    assert _max_diff(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_) < 1e-10
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-10)
    if params["solver"] != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
        assert ours.t_ == theirs.t_
        assert ours.validation_scores_ == theirs.validation_scores_
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-10) \
            if theirs.best_loss_ is not None else ours.best_loss_ is None
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)


@pytest.mark.parametrize("target", ["binary", "multilabel"])
def test_logistic_outputs_match_sklearn(digits, target):
    X, y = digits
    Y = y > 4 if target == "binary" else np.stack([y > 4, y % 2 == 0], axis=1).astype(int)
    w = np.random.default_rng(1).uniform(0.5, 2, len(y))
    kw = dict(hidden_layer_sizes=(16,), random_state=3, max_iter=3, solver="sgd",
              learning_rate_init=0.1)
    ours = _quiet(lambda: MLPClassifier(**kw).fit(X, Y, sample_weight=w))
    theirs = _quiet(lambda: SkMLP(**kw).fit(X, Y, sample_weight=w))
    assert ours.out_activation_ == theirs.out_activation_ == "logistic"
    assert _max_diff(ours.coefs_, theirs.coefs_) < 1e-10
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_partial_fit_and_warm_start_match_sklearn(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(15,), random_state=0, solver="sgd", learning_rate_init=0.05)
    ours, theirs = MLPClassifier(**kw), SkMLP(**kw)
    for part in np.array_split(np.arange(len(y)), 3):
        ours.partial_fit(X[part], y[part], classes=np.unique(y))
        theirs.partial_fit(X[part], y[part], classes=np.unique(y))
    assert _max_diff(ours.coefs_, theirs.coefs_) < 1e-10
    kw.update(warm_start=True, max_iter=2)
    ours, theirs = MLPClassifier(**kw), SkMLP(**kw)
    for est in (ours, theirs):
        _quiet(lambda: est.fit(X, y))
        _quiet(lambda: est.fit(X, y))
    assert _max_diff(ours.coefs_, theirs.coefs_) < 1e-10
    assert ours.loss_curve_ == pytest.approx(theirs.loss_curve_, rel=1e-10)


# ------------------------------------------------------------- NumPy reference
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_matches_numpy_reference(small, solver):
    """Same Glorot initialisation, same batch order (no shuffling): three epochs of the
    compiled model equal the reference forward / backward / update to round-off."""
    X, y = small
    units, activation, alpha, lr, batch = [7, 9, 6, 3], "tanh", 0.3, 0.05, 25
    rng = np.random.RandomState(7)
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(units, units[1:]):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    Y = np.eye(3)[y]
    params = coefs + intercepts
    state = [np.zeros_like(p) for p in params]
    state2 = [np.zeros_like(p) for p in params]
    t, losses = 0, []
    for _ in range(3):
        total = 0.0
        for s in range(0, len(X), batch):
            xb, yb = X[s:s + batch], Y[s:s + batch]
            loss, gc, gi = ref.mlp_loss_grad(xb, yb, coefs, intercepts, activation,
                                             "softmax", alpha)
            if solver == "sgd":
                ref.mlp_sgd_update(params, gc + gi, state, lr, 0.9, True)
            else:
                t += 1
                ref.mlp_adam_update(params, gc + gi, state, state2, t, lr)
            total += loss * len(xb)
        losses.append(total / len(X))
    est = _quiet(lambda: MLPClassifier(
        hidden_layer_sizes=units[1:-1], activation=activation, solver=solver, alpha=alpha,
        learning_rate_init=lr, batch_size=batch, shuffle=False, max_iter=3,
        random_state=7).fit(X, y))
    assert _max_diff(est.coefs_ + est.intercepts_, coefs + intercepts) < 1e-12
    np.testing.assert_allclose(est.loss_curve_, losses, rtol=1e-12)


# --------------------------------------------------------------------- gradients
@pytest.mark.parametrize("output", ["softmax", "logistic"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_reference_gradient_matches_finite_differences(activation, output):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(12, 4))
    Y = np.eye(3)[rng.integers(0, 3, 12)] if output == "softmax" else \
        (rng.random((12, 2)) > 0.5).astype(float)
    units = [4, 5, Y.shape[1]]
    coefs = [rng.normal(size=(a, b)) for a, b in zip(units, units[1:])]
    intercepts = [rng.normal(size=b) for b in units[1:]]
    w = rng.uniform(0.2, 2, 12)
    args = (activation, output, 0.7, w)
    _, gc, gi = ref.mlp_loss_grad(X, Y, coefs, intercepts, *args)
    for params, grads in ((coefs, gc), (intercepts, gi)):
        for p, g in zip(params, grads):
            num = np.empty_like(p)
            for j in np.ndindex(p.shape):
                keep = p[j]
                p[j] = keep + 1e-6
                up = ref.mlp_loss_grad(X, Y, coefs, intercepts, *args)[0]
                p[j] = keep - 1e-6
                down = ref.mlp_loss_grad(X, Y, coefs, intercepts, *args)[0]
                p[j] = keep
                num[j] = (up - down) / 2e-6
            np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
def test_check_gradients(small, activation, target):
    X, y = small
    Y = {"multiclass": y, "binary": y > 0,
         "multilabel": np.stack([y > 0, X[:, 3] > 0], axis=1).astype(int)}[target]
    w = np.random.default_rng(2).uniform(0.1, 3, len(X))
    est = _quiet(lambda: MLPClassifier(hidden_layer_sizes=(6, 5), activation=activation,
                                       alpha=0.3, max_iter=3, random_state=0,
                                       dtype=np.float32).fit(X, Y))
    assert est.check_gradients(X, Y) < 1e-6
    assert est.check_gradients(X, Y, sample_weight=w) < 1e-6


def test_check_gradients_detects_a_wrong_gradient(small, monkeypatch):
    X, y = small
    est = _quiet(lambda: MLPClassifier(hidden_layer_sizes=(4,), max_iter=2,
                                       random_state=0).fit(X, y))
    from fastnn import nn
    real = nn.FeedForward.loss_grad

    def broken(self, *args):
        loss = real(self, *args)
        self.grads[0] += 0.1
        return loss
    monkeypatch.setattr(nn.FeedForward, "loss_grad", broken)
    assert est.check_gradients(X, y) > 1e-3


# ------------------------------------------------------- dtypes, sparse, threads
def test_float32_trains_in_float32_and_dtype_wins(small):
    X, y = small
    est = _quiet(lambda: MLPClassifier((8,), max_iter=5, random_state=0).fit(
        X.astype(np.float32), y))
    assert all(c.dtype == np.float32 for c in est.coefs_ + est.intercepts_)
    assert est.predict_proba(X.astype(np.float32)).dtype == np.float32
    est64 = _quiet(lambda: MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y))
    assert est64.coefs_[0].dtype == np.float64
    assert _max_diff(est.coefs_, est64.coefs_) < 1e-4     # same training, float32 round-off
    forced = _quiet(lambda: MLPClassifier((8,), max_iter=5, random_state=0,
                                          dtype=np.float32).fit(X, y))
    assert forced.coefs_[0].dtype == np.float32
    assert _max_diff(forced.coefs_, est.coefs_) == 0
    with pytest.raises(ValueError, match="dtype"):
        MLPClassifier(dtype=np.int32).fit(X, y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_equals_dense(digits, fmt):
    X, y = digits
    kw = dict(hidden_layer_sizes=(12,), max_iter=3, random_state=0, early_stopping=True)
    dense = _quiet(lambda: MLPClassifier(**kw).fit(X, y))
    sparse = _quiet(lambda: MLPClassifier(**kw).fit(sp.csr_matrix(X).asformat(fmt), y))
    assert _max_diff(sparse.coefs_, dense.coefs_) < 1e-12
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X),
                               atol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_switching_dense_and_sparse_matches_sklearn(digits, solver):
    """The sparse first layer stores its weights transposed; the optimizer state must
    follow when partial_fit alternates between dense and sparse input."""
    X, y = digits
    ours = MLPClassifier((10,), solver=solver, random_state=0, learning_rate_init=0.01)
    theirs = SkMLP((10,), solver=solver, random_state=0, learning_rate_init=0.01)
    for i in range(4):
        Xi = sp.csr_matrix(X) if i % 2 else X
        ours.partial_fit(Xi, y, classes=np.unique(y))
        theirs.partial_fit(Xi, y, classes=np.unique(y))
    assert _max_diff(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_) < 1e-12


def test_sparse_input_is_never_densified():
    """A million features: densifying a batch would need 200 x 1e6 floats (0.8 GB)."""
    rng = np.random.default_rng(0)
    nnz = 6000
    X = sp.csr_matrix((rng.random(nnz, dtype=np.float32),
                       (rng.integers(0, 300, nnz), rng.integers(0, 1_000_000, nnz))),
                      shape=(300, 1_000_000))
    y = rng.integers(0, 2, 300)
    est = _quiet(lambda: MLPClassifier((2,), max_iter=2, random_state=0).fit(X, y))
    assert est.coefs_[0].shape == (1_000_000, 2) and est.coefs_[0].dtype == np.float32
    assert est.predict(X).shape == (300,)


def test_same_seed_same_model_and_threads(digits):
    X, y = digits
    X32 = X.astype(np.float32)
    fit = lambda n_jobs: _quiet(lambda: MLPClassifier(
        (32,), max_iter=3, random_state=5, n_jobs=n_jobs).fit(X32, y))
    a, b = fit(2), fit(2)
    assert _max_diff(a.coefs_, b.coefs_) == 0      # same thread count: bitwise equal
    # another thread count: BLAS may sum in another order, so round-off only
    assert _max_diff(fit(1).coefs_, a.coefs_) < 1e-4


# ------------------------------------------------------------- API conformance
@parametrize_with_checks([MLPClassifier(hidden_layer_sizes=(20,), max_iter=300,
                                        random_state=0)])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_attributes_and_pickle(small):
    X, y = small
    est = _quiet(lambda: MLPClassifier((5, 4), max_iter=4, random_state=0).fit(X, y))
    assert [c.shape for c in est.coefs_] == [(7, 5), (5, 4), (4, 3)]
    assert est.n_layers_ == 4 and est.n_outputs_ == 3 and est.n_features_in_ == 7
    assert len(est.loss_curve_) == est.n_iter_ == 4 and est.t_ == 4 * len(X)
    np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(est.predict_proba(X)))
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


def test_verbose_shows_a_progress_bar(small, capsys):
    X, y = small
    _quiet(lambda: MLPClassifier((4,), max_iter=3, verbose=True, random_state=0).fit(X, y))
    err = capsys.readouterr().err
    assert "loss=" in err and "samples/s=" in err


# --------------------------------------------------------------------- bad input
def test_bad_input(small):
    X, y = small
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    est = _quiet(lambda: MLPClassifier((4,), max_iter=2).fit(X, y))
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier().fit(bad, y)
    with pytest.raises(ValueError, match="learning_rate_init"):
        MLPClassifier(learning_rate_init=0).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MLPClassifier(hidden_layer_sizes=(3, 0)).fit(X, y)
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=np.unique(y))
    with pytest.raises(ValueError, match="classes"):
        MLPClassifier().partial_fit(X, y)
    with pytest.raises(AttributeError, match="partial_fit"):
        MLPClassifier(solver="lbfgs").partial_fit
    warm = _quiet(lambda: MLPClassifier((4,), warm_start=True, max_iter=1).fit(X, y))
    with pytest.raises(ValueError, match="warm_start"):
        warm.fit(X, np.minimum(y, 1))


def test_divergence_raises_a_clear_error(small):
    X, y = small
    with pytest.raises(ValueError, match="non-finite.*learning_rate_init"):
        with np.errstate(all="ignore"):
            MLPClassifier((8,), solver="sgd", learning_rate_init=1e6, momentum=0.99,
                          max_iter=20, random_state=0).fit(X * 1e20, y)


# ----------------------------------------------------------------------- quality
def test_digits_quality_within_one_point_of_sklearn(digits):
    X, y = digits
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0,
                                              stratify=y)
    kw = dict(hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.05,
              max_iter=40, random_state=1)
    ours = _quiet(lambda: MLPClassifier(dtype=np.float32, **kw).fit(X_tr, y_tr))
    theirs = _quiet(lambda: SkMLP(**kw).fit(X_tr, y_tr))
    acc, acc_sk = ours.score(X_te, y_te), theirs.score(X_te, y_te)
    assert acc >= acc_sk - 0.01
    assert acc > 0.95


def test_sms_spam_quality_at_least_sklearn_minus_one_point():
    """Bag of words (binary counts, CSR, float32) of the embedded SMS spam collection."""
    datasets = pytest.importorskip("fastnn.datasets")
    from sklearn.feature_extraction.text import CountVectorizer
    texts, y = datasets.load_sms_spam(return_X_y=True)
    tr, te, y_tr, y_te = train_test_split(texts, y, test_size=0.25, random_state=0,
                                          stratify=y)
    vec = CountVectorizer(min_df=2, binary=True)
    X_tr = vec.fit_transform(tr).astype(np.float32)
    X_te = vec.transform(te).astype(np.float32)
    kw = dict(hidden_layer_sizes=(32,), max_iter=10, random_state=0)
    ours = _quiet(lambda: MLPClassifier(**kw).fit(X_tr, y_tr))
    theirs = _quiet(lambda: SkMLP(**kw).fit(X_tr, y_tr))
    acc, acc_sk = ours.score(X_te, y_te), theirs.score(X_te, y_te)
    assert acc >= acc_sk - 0.01
    assert acc > 0.97
