"""LogisticRegression / SoftmaxRegression: gradients, determinism, API behaviour, input
kinds and bad input.  Quality on real data is in test_linear_quality.py, scikit-learn's
estimator checks in test_linear_sklearn_checks.py."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from fastnn.linear_model import LogisticRegression, SoftmaxRegression

ESTIMATORS = [LogisticRegression, SoftmaxRegression]


def teacher_data(n=400, n_features=12, n_classes=3, seed=0):
    """Gaussian features, labels = argmax of a random linear teacher plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    T = rng.normal(size=(n_features, n_classes))
    y = np.argmax(X @ T + 0.5 * rng.normal(size=(n, n_classes)), axis=1)
    return X, y


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("params", [
    dict(), dict(C=0.05), dict(l1_ratio=1.0, C=0.1), dict(l1_ratio=0.5, C=0.2),
    dict(C=np.inf), dict(fit_intercept=False), dict(class_weight="balanced")])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_check_gradients_below_1e6(Est, n_classes, params, sparse):
    X, y = teacher_data(n=150, n_features=8, n_classes=n_classes)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    sw = np.random.default_rng(1).uniform(0.2, 3.0, size=y.shape[0])
    est = quiet_fit(Est(random_state=0, max_iter=3, **params), X, y, sample_weight=sw)
    # at the fitted weights, and at random ones (where the gradient is large)
    assert est.check_gradients(X, y, sample_weight=sw) < 1e-6
    est.coef_ = np.random.default_rng(2).normal(size=est.coef_.shape)
    assert est.check_gradients(X, y, sample_weight=sw) < 1e-6


def test_check_gradients_detects_a_wrong_gradient(monkeypatch):
    """The check can fail: a 1 % mismatch of the objective is caught."""
    from fastnn.linear_model import _gradcheck
    X, y = teacher_data(n=100, n_features=5)
    est = quiet_fit(LogisticRegression(random_state=0, max_iter=2, C=0.01), X, y)
    assert est.check_gradients(X, y) < 1e-6
    original = _gradcheck._per_sample_loss
    monkeypatch.setattr(_gradcheck, "_per_sample_loss", lambda z, t: 1.01 * original(z, t))
    assert est.check_gradients(X, y) > 1e-3


def test_check_gradients_needs_a_fitted_model():
    X, y = teacher_data(n=20)
    with pytest.raises(NotFittedError):
        LogisticRegression().check_gradients(X, y)


# ---------------------------------------------------------------- determinism, dtypes

@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("kind", ["f64", "f32", "csr"])
def test_same_seed_same_model_whatever_n_jobs(Est, kind):
    X, y = teacher_data(n=3000, n_features=200, n_classes=5)
    if kind == "f32":
        X = X.astype(np.float32)
    elif kind == "csr":
        X = sp.random(3000, 2000, density=0.03, format="csr", random_state=0)
    fits = [quiet_fit(Est(random_state=3, n_jobs=j, max_iter=4), X, y) for j in (1, 2)]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    np.testing.assert_array_equal(fits[0].intercept_, fits[1].intercept_)
    np.testing.assert_array_equal(fits[0].loss_curve_, fits[1].loss_curve_)
    other = quiet_fit(Est(random_state=4, n_jobs=1, max_iter=4), X, y)
    assert not np.array_equal(other.coef_, fits[0].coef_)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_float32_is_kept_and_agrees_with_float64(Est):
    X, y = teacher_data()
    m64 = quiet_fit(Est(random_state=0, max_iter=20), X, y)
    m32 = quiet_fit(Est(random_state=0, max_iter=20), X.astype(np.float32), y)
    assert m32.coef_.dtype == np.float32 and m64.coef_.dtype == np.float64
    assert m32.loss_curve_.dtype == np.float64
    np.testing.assert_allclose(m32.coef_, m64.coef_, rtol=1e-3, atol=1e-3)
    assert np.mean(m32.predict(X) == m64.predict(X)) > 0.98


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("params", [{}, {"momentum": 0.0}, {"C": 0.01}, {"C": 0.01, "momentum": 0.5,
                                                                    "batch_size": 7}])
def test_sparse_input_trains_the_same_model_as_dense(Est, fmt, params):
    """The CSR path updates only the batch's features (the others catch up lazily);
    the dense path updates every weight every step: the same model to round-off."""
    X, y = teacher_data()
    X[np.abs(X) < 0.5] = 0
    X[:, 3] = 0                 # a feature no batch touches
    dense = quiet_fit(Est(random_state=0, max_iter=10, **params), X, y)
    sparse = quiet_fit(Est(random_state=0, max_iter=10, **params),
                       sp.csr_matrix(X).asformat(fmt), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("params", [{}, {"momentum": 0.0}, {"C": 0.001, "momentum": 0.5},
                                    {"penalty": "l1", "C": 0.05},
                                    {"penalty": "elasticnet", "l1_ratio": 0.5, "C": 0.05,
                                     "momentum": 0.0}])
def test_sparse_epoch_kernel_trains_the_same_model_as_dense(Est, params, monkeypatch):
    """Many features, few non-zeros a batch: the CSR epoch kernel touches only the
    batch's features each step (the others follow through the shared scaling; with L1
    it sweeps them); the same model as the dense path."""
    from fastnn.linear_model import _epochs
    used = []
    monkeypatch.setattr(_epochs._linsparse, "csr_epoch",
                        lambda *a, _f=_epochs._linsparse.csr_epoch, **k:
                        used.append(1) or _f(*a, **k))
    rng = np.random.default_rng(1)
    n, F = 400, 3000
    X = sp.random(n, F, density=0.001, random_state=2, format="csr")
    X = sp.hstack([X, sp.csr_matrix(rng.standard_normal((n, 2)))], format="csr")
    y = (X[:, -1].toarray().ravel() + 0.3 * rng.standard_normal(n) > 0).astype(int)
    if Est is SoftmaxRegression:
        y = y + (X[:, -2].toarray().ravel() > 1)
    # a modest constant step: with the default (aggressive) one this problem amplifies
    # round-off (a 1e-15 change of X moves coef_ by 1e-4), hiding what is compared
    kw = dict(random_state=0, max_iter=4, batch_size=5, learning_rate="constant", eta0=0.05,
              **params)
    sparse = quiet_fit(Est(**kw), X, y)
    assert used, "the CSR epoch kernel was not taken"
    dense = quiet_fit(Est(**kw), X.toarray(), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-9, atol=1e-12)


def _wide_csr(n=1500, F=4000, nnz=180, seed=3):
    """CSR with enough non-zeros a batch for the CSR epoch kernel to use two threads."""
    rng = np.random.default_rng(seed)
    cols = np.sort(rng.integers(0, F, size=(n, nnz)), axis=1).astype(np.int32)
    X = sp.csr_matrix((rng.random(n * nnz), cols.ravel(), np.arange(0, n * nnz + 1, nnz)),
                      shape=(n, F))
    w = rng.normal(size=F)
    y = (X @ w / np.sqrt(nnz) + rng.logistic(size=n) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_csr_model_is_the_same_on_any_thread_count(Est):
    X, y = _wide_csr()
    kw = dict(random_state=0, max_iter=3, tol=None)
    one = Est(n_jobs=1, **kw).fit(X, y)
    two = Est(n_jobs=2, **kw).fit(X, y)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    np.testing.assert_array_equal(one.intercept_, two.intercept_)
    np.testing.assert_array_equal(one.loss_curve_, two.loss_curve_)


def test_csr_with_unsorted_indices_trains_as_sorted_and_is_left_alone():
    X, y = _wide_csr(n=300, F=500, nnz=20)
    rng = np.random.default_rng(0)
    perm = np.concatenate([X.indptr[i] + rng.permutation(X.indptr[i + 1] - X.indptr[i])
                           for i in range(X.shape[0])])
    shuffled = sp.csr_matrix((X.data[perm], X.indices[perm], X.indptr), shape=X.shape)
    assert not shuffled.has_sorted_indices
    before = shuffled.indices.copy()
    a = LogisticRegression(random_state=0, max_iter=3, tol=None).fit(shuffled, y)
    b = LogisticRegression(random_state=0, max_iter=3, tol=None).fit(X, y)
    # the same model but for round-off (eta0='auto' sums the row norms in another order)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(shuffled.indices, before)


def test_csr_nonfinite_values_get_scikit_learns_errors():
    X, y = _wide_csr(n=300, F=500, nnz=20)
    for value, match in ((np.nan, "NaN"), (np.inf, "infinity")):
        bad = X.copy()
        bad.data[1234] = value
        with pytest.raises(ValueError, match=match):
            LogisticRegression(max_iter=2, tol=None).fit(bad, y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_early_stopping_finds_nonfinite_values_in_either_part(sparse):
    """The epoch kernels flag non-finite values in the rows they train on; the held-out
    rows are checked apart.  Row by row, 20 rows: some of them are held out."""
    from fastnn.linear_model._early_stopping import split_validation
    X, y = teacher_data(n=200)
    rows = range(0, 200, 10)
    for r in rows:
        bad = X.copy()
        bad[r, 1] = np.nan
        bad = sp.csr_matrix(bad) if sparse else bad
        with pytest.raises(ValueError, match="NaN"):
            LogisticRegression(early_stopping=True, random_state=0, max_iter=2).fit(bad, y)
    # the estimator's split (its RandomState's first draw): both parts were tested
    train_rows, _, _ = split_validation(X, y, np.random.RandomState(0), 0.1)
    assert 0 < sum(r not in train_rows for r in rows) < len(rows)


def test_wide_sparse_input_is_not_densified():
    """2000 x 1,000,000 CSR: densified it would take 16 GB."""
    rng = np.random.default_rng(0)
    n, F = 2000, 1_000_000
    nnz = 20
    indices = rng.integers(0, F, size=(n, nnz)).astype(np.int32)
    indices.sort(axis=1)
    X = sp.csr_matrix((rng.random(n * nnz), indices.ravel(), np.arange(0, n * nnz + 1, nnz)),
                      shape=(n, F))
    y = rng.integers(0, 2, size=n)
    X = sp.hstack([X, sp.csr_matrix(y[:, None] * 2.0 - 1.0)], format="csr")   # a clue
    est = quiet_fit(LogisticRegression(random_state=0, max_iter=3), X, y)
    assert est.coef_.shape == (1, F + 1)
    assert est.score(X, y) > 0.95


# ---------------------------------------------------------------- API behaviour

def test_binary_logistic_has_one_logit_softmax_two():
    X, y = teacher_data(n_classes=2)
    lr = quiet_fit(LogisticRegression(random_state=0), X, y)
    sm = quiet_fit(SoftmaxRegression(random_state=0), X, y)
    assert lr.coef_.shape == (1, X.shape[1]) and lr.intercept_.shape == (1,)
    assert sm.coef_.shape == (2, X.shape[1]) and sm.intercept_.shape == (2,)
    z = X @ sm.coef_.T + sm.intercept_
    np.testing.assert_allclose(sm.decision_function(X), z[:, 1] - z[:, 0], rtol=1e-10)
    assert sm.decision_function(X).shape == (X.shape[0],)
    np.testing.assert_allclose(lr.decision_function(X), X @ lr.coef_[0] + lr.intercept_[0],
                               rtol=1e-10)
    # the same model family (softmax's penalty on two vectors acts like a doubled C):
    # close probabilities, near-identical predictions
    np.testing.assert_allclose(lr.predict_proba(X), sm.predict_proba(X), atol=0.1)
    assert np.mean(lr.predict(X) == sm.predict(X)) > 0.97


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities_are_consistent(Est, n_classes):
    X, y = teacher_data(n_classes=n_classes)
    est = quiet_fit(Est(random_state=0), X, y)
    p = est.predict_proba(X)
    assert p.shape == (X.shape[0], n_classes)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(p), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(est.predict(X), est.classes_[np.argmax(p, axis=1)])
    assert est.score(X, y) > 0.85


def test_log_proba_is_finite_for_huge_logits():
    X, y = teacher_data(n_classes=2)
    est = quiet_fit(LogisticRegression(random_state=0), X, y)
    est.coef_ = est.coef_ * 1e4
    logp = est.predict_log_proba(X)
    assert np.isfinite(logp).all() and logp.min() < -100


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_string_labels_and_dataframe_feature_names(Est):
    pd = pytest.importorskip("pandas")
    X, y = teacher_data()
    names = np.array(["cat", "dog", "emu"])
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = quiet_fit(Est(random_state=0), df, names[y])
    np.testing.assert_array_equal(est.classes_, names)
    np.testing.assert_array_equal(est.feature_names_in_, df.columns)
    assert set(est.predict(df)) <= set(names)
    assert est.score(df, names[y]) > 0.85


def test_class_weight_equals_the_matching_sample_weight():
    X, y = teacher_data(n_classes=3)
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    a = quiet_fit(LogisticRegression(random_state=0, class_weight=cw, max_iter=5), X, y)
    b = quiet_fit(LogisticRegression(random_state=0, max_iter=5), X, y,
                  sample_weight=np.array([cw[c] for c in y]))
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_zero_weight_rows_are_ignored():
    X, y = teacher_data()
    sw = np.ones(y.shape[0])
    sw[:100] = 0
    sw_est = quiet_fit(LogisticRegression(random_state=0, batch_size=500), X, y,
                       sample_weight=sw)
    cut = quiet_fit(LogisticRegression(random_state=0, batch_size=500), X[100:], y[100:])
    np.testing.assert_allclose(sw_est.coef_, cut.coef_, rtol=1e-6, atol=1e-8)


def test_l1_gives_exact_zeros_and_c_orders_the_weight_norm():
    X, y = teacher_data(n_features=30)
    X[:, 15:] = np.random.default_rng(5).normal(size=(X.shape[0], 15))   # useless
    l1 = quiet_fit(LogisticRegression(random_state=0, l1_ratio=1.0, C=0.05), X, y)
    assert np.sum(l1.coef_ == 0) > 10
    assert quiet_fit(LogisticRegression(random_state=0, penalty="l1", C=0.05), X, y) \
        .coef_.tolist() == l1.coef_.tolist()
    norms = [np.linalg.norm(quiet_fit(LogisticRegression(random_state=0, C=c), X, y).coef_)
             for c in (0.01, 1.0, np.inf)]
    assert norms[0] < norms[1] < norms[2]


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive", "optimal"])
def test_every_learning_rate_schedule_learns(schedule):
    X, y = teacher_data()
    est = quiet_fit(SoftmaxRegression(random_state=0, learning_rate=schedule, max_iter=30),
                    X, y)
    assert est.loss_curve_[-1] < 0.6 * est.loss_curve_[0]
    assert est.score(X, y) > 0.85


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive", "optimal"])
def test_schedule_steps_are_the_step_sequence(schedule):
    from fastnn.linear_model._schedule import LearningRate
    one, many = (LearningRate(schedule, 0.3, 0.5, 1e-3) for _ in range(2))
    calls = [one.step() for _ in range(9)]
    one.plateau()
    calls += [one.step() for _ in range(300)]
    first = many.steps(9)
    many.plateau()
    batched = np.concatenate([first, many.steps(5), many.steps(295)])
    assert np.array_equal(batched, calls) and many.t == one.t


def test_optimal_schedule_needs_a_penalty():
    X, y = teacher_data()
    with pytest.raises(ValueError, match="needs a penalty"):
        SoftmaxRegression(learning_rate="optimal", C=np.inf).fit(X, y)


def test_stopping_and_n_iter():
    X, y = teacher_data()
    est = LogisticRegression(random_state=0, learning_rate="constant", tol=1e-2,
                             max_iter=500).fit(X, y)
    assert 1 <= est.n_iter_[0] < 500
    assert est.loss_curve_.shape == (est.n_iter_[0],)
    free = LogisticRegression(random_state=0, tol=None, max_iter=7).fit(X, y)
    assert free.n_iter_[0] == 7
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        LogisticRegression(random_state=0, tol=1e-12, max_iter=2).fit(X, y)


def test_early_stopping_keeps_validation_scores():
    X, y = teacher_data(n=600)
    est = quiet_fit(SoftmaxRegression(random_state=0, early_stopping=True, max_iter=200), X, y)
    assert est.validation_scores_.shape == (est.n_iter_[0],)
    assert est.n_iter_[0] < 200
    assert est.best_validation_score_ == est.validation_scores_.max() > 0.8


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_early_stopping_epochs_run_the_fused_dense_kernel(Est, monkeypatch):
    """With early stopping each dense epoch is still one kernel call, and gives the model
    and validation scores of the batch loop (the path of more than 32 outputs)."""
    from fastnn.linear_model import _epochs, _training
    calls = []
    monkeypatch.setattr(_epochs._linsgd, "dense_epoch",
                        lambda *a, _f=_epochs._linsgd.dense_epoch: calls.append(1) or _f(*a))
    X, y = teacher_data(n=500)
    kw = dict(random_state=0, early_stopping=True, tol=None, max_iter=6, momentum=0.5)
    fused = quiet_fit(Est(**kw), X, y)
    assert len(calls) == 6
    monkeypatch.setattr(_training, "fused_epochs", lambda sparse, K: False)
    loop = quiet_fit(Est(**kw), X, y)
    assert len(calls) == 6
    np.testing.assert_allclose(fused.coef_, loop.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fused.intercept_, loop.intercept_, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(fused.validation_scores_, loop.validation_scores_)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_early_stopping_holds_out_a_stratified_copy_and_trains_the_rest_in_place(sparse):
    from fastnn.linear_model._early_stopping import split_validation
    X, y = teacher_data(n=500)
    X = sp.csr_matrix(X) if sparse else X
    train_rows, X_val, y_val = split_validation(X, y, np.random.RandomState(0), 0.2)
    val_rows = np.setdiff1d(np.arange(500), train_rows)
    assert train_rows.shape == (400,) and np.unique(train_rows).shape == (400,)
    dense = X.toarray() if sparse else X
    held = X_val.toarray() if sparse else X_val
    assert sorted(map(tuple, held)) == sorted(map(tuple, dense[val_rows]))
    assert np.array_equal(np.bincount(y_val), np.bincount(y[val_rows]))
    # stratified: each class's share of the held-out rows within a row of its share of y
    assert np.all(np.abs(np.bincount(y_val) - 0.2 * np.bincount(y)) <= 1)


def test_partial_fit_and_warm_start():
    X, y = teacher_data()
    est = SoftmaxRegression(random_state=0)
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y)
    est.partial_fit(X[:200], y[:200], classes=[0, 1, 2])
    first = est.coef_.copy()
    for _ in range(10):
        est.partial_fit(X, y)
    assert est.n_iter_[0] == 11 and est.loss_curve_.shape == (11,)
    assert not np.array_equal(first, est.coef_) and est.score(X, y) > 0.85
    with pytest.raises(ValueError, match="not in classes"):
        est.partial_fit(X[:5], np.array([0, 1, 2, 3, 0]))

    cold = quiet_fit(SoftmaxRegression(random_state=0, max_iter=3), X, y)
    warm = SoftmaxRegression(random_state=0, max_iter=3, warm_start=True)
    quiet_fit(warm, X, y)
    quiet_fit(warm, X, y)
    assert warm.loss_curve_[0] < cold.loss_curve_[0]


def test_solver_argument_warns_and_verbose_shows_progress(capsys):
    X, y = teacher_data()
    with pytest.warns(UserWarning, match="SGD"):
        quiet_fit(LogisticRegression(solver="lbfgs", max_iter=2), X, y)
    quiet_fit(LogisticRegression(verbose=1, max_iter=2), X, y)
    assert "loss=" in capsys.readouterr().err


# ---------------------------------------------------------------- bad input

def test_bad_input_gets_scikit_learns_errors():
    X, y = teacher_data()
    with pytest.raises(NotFittedError):
        LogisticRegression().predict(X)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().fit(bad, y)
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        LogisticRegression().fit(bad, y)
    with pytest.raises(ValueError, match="one class"):
        LogisticRegression().fit(X, np.zeros_like(y))
    est = quiet_fit(LogisticRegression(max_iter=2), X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :-1])
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, y + 0.5)
    with pytest.raises(ValueError, match="C"):
        LogisticRegression(C=-1).fit(X, y)
    with pytest.raises(ValueError, match="learning_rate"):
        LogisticRegression(learning_rate="fast").fit(X, y)


def test_divergence_raises_a_clear_error():
    X, y = teacher_data()
    with pytest.raises(ValueError, match="smaller learning rate"):
        LogisticRegression(eta0=1e308, learning_rate="constant").fit(X * 1e10, y)
