"""Train each fastnn model briefly from an installed wheel (run by .ci/check-packaging
in a fresh virtualenv without a compiler): the wheel must work on its own."""
import os

import numpy as np

import fastnn
from fastnn._kernels.openmp import openmp_enabled

if os.environ.get("FASTNN_SMOKE_ANY_SOURCE") != "1":
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
held_out = fastnn.datasets.load_web_bible("validation")[:300]
vocab = dict(min_count=2, max_vocab_size=1000)
for model in (fastnn.NGramLM(order=3, **vocab),
              fastnn.FeedForwardLM(hidden_sizes=(32,), embedding_dim=16, epochs=2, **vocab),
              fastnn.RNNLM(hidden_size=32, embedding_dim=16, epochs=2, **vocab)):
    perplexity = model.fit(lines).perplexity(held_out)
    print(f"{type(model).__name__}: held-out perplexity {perplexity:.1f}")
    assert 1 < perplexity < 1002

sentences = [fastnn.text.tokenize(line) for line in lines]
w2v = fastnn.Word2Vec(sentences, vector_size=16, min_count=2, epochs=2, workers=2, sg=1)
print(f"Word2Vec: {len(w2v.wv)} words, nearest to 'god': {w2v.wv.most_similar('god')[0][0]}")
assert len(w2v.wv) > 100
print("all models trained from", os.path.dirname(fastnn.__file__))
