"""Linear classifiers trained by mini-batch SGD on fastnn's kernels:
`LogisticRegression` and `SoftmaxRegression`, drop-ins for scikit-learn's."""
from fastnn.linear_model._logistic import LogisticRegression, SoftmaxRegression

__all__ = ["LogisticRegression", "SoftmaxRegression"]
