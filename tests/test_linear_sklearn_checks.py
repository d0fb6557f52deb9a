"""scikit-learn's estimator checks (pandas installed, so the DataFrame checks run too)."""
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastnn.linear_model import LogisticRegression, SoftmaxRegression

pytest.importorskip("pandas")


@parametrize_with_checks([LogisticRegression(), SoftmaxRegression()])
def test_sklearn_compatible(estimator, check):
    check(estimator)
