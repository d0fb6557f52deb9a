"""Quality on real data: within a point of scikit-learn's LogisticRegression (lbfgs, the
exact optimum of the same objective) on the same features and split."""
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.model_selection import train_test_split

from fastnn.datasets import load_sms_spam
from fastnn.linear_model import LogisticRegression, SoftmaxRegression


def test_load_sms_spam():
    data = load_sms_spam()
    assert len(data.data) == data.target.shape[0] == 4837
    assert data.target.sum() == 638 and set(np.unique(data.target)) == {0, 1}
    assert data.data[2].startswith("Free entry in 2 a wkly comp")
    assert "CC BY 4.0" in data.DESCR and "Almeida" in data.DESCR
    texts, target = load_sms_spam(return_X_y=True)
    assert texts == data.data


@pytest.fixture(scope="module")
def spam_bag_of_words():
    texts, y = load_sms_spam(return_X_y=True)
    tr, te, y_tr, y_te = train_test_split(texts, y, test_size=0.25, random_state=0,
                                          stratify=y)
    vec = CountVectorizer()
    return vec.fit_transform(tr).astype(np.float64), vec.transform(te).astype(np.float64), \
        y_tr, y_te


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sms_spam_accuracy_matches_scikit_learn(spam_bag_of_words, dtype):
    X_tr, X_te, y_tr, y_te = spam_bag_of_words
    reference = SkLogisticRegression(max_iter=1000).fit(X_tr, y_tr).score(X_te, y_te)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LogisticRegression(random_state=0).fit(X_tr.astype(dtype), y_tr)
    ours = est.score(X_te.astype(dtype), y_te)
    assert ours >= reference - 0.01, (ours, reference)
    assert ours > 0.96          # the majority class alone gives 0.87


def test_digits_softmax_within_a_point_of_scikit_learn():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0,
                                              stratify=y)
    reference = SkLogisticRegression(max_iter=5000).fit(X_tr, y_tr).score(X_te, y_te)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = SoftmaxRegression(random_state=0).fit(X_tr, y_tr)
    ours = est.score(X_te, y_te)
    assert abs(ours - reference) <= 0.01, (ours, reference)


def test_averaged_sgd_gets_near_the_optimum_in_two_epochs():
    """A noisy softmax problem (20k rows): the default averaged SGD is within 2 % of the
    exact optimum of the objective after two epochs; the last iterate is not."""
    from scipy.special import logsumexp
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 40))
    y = np.argmax(X @ rng.normal(size=(40, 4)) * 0.5 + rng.gumbel(size=(20_000, 4)), axis=1)

    def objective(est):
        z = X @ est.coef_.T + est.intercept_
        loss = logsumexp(z, axis=1) - z[np.arange(y.shape[0]), y]
        return np.mean(loss) + 0.5 / y.shape[0] * np.sum(est.coef_ ** 2)

    best = objective(SkLogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        averaged = LogisticRegression(max_iter=2, random_state=0).fit(X, y)
        last = LogisticRegression(max_iter=2, random_state=0, average=False).fit(X, y)
    assert objective(averaged) < 1.02 * best, (objective(averaged), best)
    assert objective(last) > objective(averaged)
