"""Train each fastnn model briefly from an installed wheel (run by .ci/check-packaging
in a fresh virtualenv without a compiler): the wheel must work on its own."""
import os

import numpy as np

import fastnn
from fastnn._kernels.openmp import openmp_enabled

assert "site-packages" in fastnn.__file__, f"fastnn imported from {fastnn.__file__}"
assert openmp_enabled(), "the wheel was built without OpenMP"
rng = np.random.default_rng(0)
X = rng.standard_normal((300, 8))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
for Model in (fastnn.LogisticRegression, fastnn.SoftmaxRegression, fastnn.MLPClassifier):
    score = Model(max_iter=30, random_state=0).fit(X, y).score(X, y)
    print(f"{Model.__name__}: training accuracy {score:.3f}")
    assert score > 0.9

a = fastnn.autograd.Tensor(np.float64(3.0), requires_grad=True)
(a * a).backward()
assert a.grad == 6.0

lines = fastnn.datasets.load_web_bible("train")[:2000]
ngram = fastnn.NGramLM(order=3).fit(lines)
print(f"NGramLM: perplexity {ngram.perplexity(lines[:200]):.1f}")
print("all models trained from", os.path.dirname(fastnn.__file__))
