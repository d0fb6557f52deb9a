"""FeedForwardLM (issue 6): the compiled training step against the NumPy reference,
gradients against finite differences, the shared LM API (fastnn.lm._base) and quality
on a WEB Bible subset against the trigram model."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from fastnn import reference as ref
from fastnn.lm._base import LRSchedule
from fastnn.lm.feedforward import FeedForwardLM, FFNet

TINY = ["the cat sat on the mat .", "the dog sat on the log .", "a cat saw a dog .",
        "the dog saw the cat on the mat .", "a dog sat ."]


def tiny_model(**kw):
    args = dict(context_size=2, embedding_dim=4, hidden_sizes=(6,), epochs=3,
                learning_rate=0.1, batch_size=4, random_state=0, n_jobs=1)
    args.update(kw)
    return FeedForwardLM(**args).fit(TINY)


# ---------------------------------------------------------------- training step
def _net(dtype, hidden, activation, seed=0, V=37, n=3, d=5):
    net = FFNet(V, n, d, hidden, activation, dtype)
    r = np.random.RandomState(seed)
    net.initialize(r, r.randint(0, 50, V))
    net.params[:] = net.params + 0.1 * r.standard_normal(net.params.shape)  # biases too
    return net


def _unpack(net):
    return (net.E.astype(np.float64), [l.W.astype(np.float64) for l in net.layers],
            [l.b.astype(np.float64) for l in net.layers])


@pytest.mark.parametrize("hidden", [(7,), (7, 6), ()], ids=["1hidden", "2hidden", "0hidden"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("momentum,weight_decay", [(0.0, 0.0), (0.9, 0.01)],
                         ids=["plain", "momentum+wd"])
def test_step_matches_reference(dtype, n_threads, hidden, activation, momentum,
                                weight_decay):
    net = _net(dtype, list(hidden), activation)
    r = np.random.default_rng(1)
    B = 23
    ctx = r.integers(0, 6, (B, net.n)).astype(np.int32)     # few ids: rows repeat
    ctx[:, 0] = r.integers(0, net.V, B)
    tgt = r.integers(0, net.V, B).astype(np.int32)
    E, Ws, bs = _unpack(net)
    vel0 = [0.05 * r.standard_normal(a.shape) for a in [E, *Ws, *bs]]
    if momentum:
        velocity = np.concatenate([v.ravel() for v in [vel0[0], *vel0[1:]]]).astype(dtype)
        vels = vel0
    else:
        velocity, vels = None, None
    lr = 0.3
    for step in range(2):                     # two steps: the velocity carries over
        loss = net.sgd_step(ctx, tgt, lr, momentum, weight_decay, velocity, n_threads)
        want_loss, E, Ws, bs, vels = ref.fflm_sgd_step(ctx, tgt, E, Ws, bs, activation, lr,
                                                       momentum, weight_decay, vels)
        tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4,
                                                                            atol=2e-5)
        np.testing.assert_allclose(loss, want_loss, **tol)
        np.testing.assert_allclose(net.E, E, **tol)
        for layer, W, b in zip(net.layers, Ws, bs):
            np.testing.assert_allclose(layer.W, W, **tol)
            np.testing.assert_allclose(layer.b, b, **tol)
        if momentum:
            np.testing.assert_allclose(velocity, np.concatenate([v.ravel() for v in vels]),
                                       **tol)
        ctx = ctx[::-1].copy()


def test_loss_grad_matches_reference_gradients(n_threads):
    net = _net(np.float64, [9], "tanh", seed=3)
    r = np.random.default_rng(4)
    ctx = r.integers(0, 4, (31, net.n)).astype(np.int32)
    tgt = r.integers(0, net.V, 31).astype(np.int32)
    loss = net.loss_grad(ctx, tgt, n_threads)
    want, dE, dWs, dbs = ref.fflm_loss_grad(ctx, tgt, *_unpack(net), "tanh")
    np.testing.assert_allclose(loss, want, rtol=1e-12)
    np.testing.assert_allclose(net.dE, dE, rtol=1e-10, atol=1e-14)
    for layer, dW, db in zip(net.layers, dWs, dbs):
        np.testing.assert_allclose(layer.dW, dW, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layer.db, db, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("activation,hidden", [("tanh", (5,)), ("tanh", (5, 4)),
                                               ("relu", (5,)), ("tanh", ())])
def test_check_gradients(activation, hidden):
    m = tiny_model(activation=activation, hidden_sizes=hidden, dtype=np.float64)
    err = m.check_gradients(TINY[:3])
    assert err < 1e-6, err


def test_check_gradients_detects_a_wrong_gradient(monkeypatch):
    m = tiny_model(dtype=np.float64)
    real = FFNet.loss_grad

    def broken(self, *a, **k):
        loss = real(self, *a, **k)
        self.layers[0].db[0] += 0.1
        return loss
    monkeypatch.setattr(FFNet, "loss_grad", broken)
    assert m.check_gradients(TINY[:3]) > 1e-3


# ---------------------------------------------------------------- windows / scoring
def test_windows_pad_with_bos_at_sentence_starts():
    m = tiny_model(context_size=3)
    ids, starts = m._encode([["the", "cat"], ["a"]], "corpus")
    ctx, tgt = m._windows(ids, starts)
    want_ctx, want_tgt = ref.lm_windows(ids, 3, m.vocabulary_.bos_id, starts)
    np.testing.assert_array_equal(ctx, want_ctx)
    np.testing.assert_array_equal(tgt, want_tgt)
    assert ctx[3].tolist() == [1, 1, 1]              # "a" starts a sentence: all <s>


def test_perplexity_is_exp_mean_loss_over_words_and_eos():
    m = tiny_model()
    total = sum(m.log_prob(s) for s in TINY[:3])
    n_pred = sum(len(s.split()) + 1 for s in TINY[:3])      # words + </s>
    assert m.perplexity(TINY[:3]) == pytest.approx(np.exp(-total / n_pred), rel=1e-10)


def test_log_prob_chains_predict_next():
    m = tiny_model(context_size=2)
    V = len(m.vocabulary_)
    words = ["the", "dog", "sat"]
    total = 0.0
    for i, w in enumerate(words + ["</s>"]):
        probs = dict(m.predict_next(words[:i], top_k=V))
        total += np.log(probs[w])
    assert m.log_prob(words) == pytest.approx(total, rel=1e-5)


def test_predict_next_sorted_top_k_and_long_context():
    m = tiny_model(context_size=2)
    out = m.predict_next("the cat", top_k=3)
    assert len(out) == 3
    probs = [p for _, p in out]
    assert probs == sorted(probs, reverse=True)
    every = m.predict_next("", top_k=100)
    assert len(every) == len(m.vocabulary_) - 1          # all but <s>
    p_bos = m._next_distribution(np.zeros(0, np.int32))[m.vocabulary_.bos_id]
    assert sum(p for _, p in every) + p_bos == pytest.approx(1.0, rel=1e-5)
    assert "<s>" not in dict(every)
    # longer than context_size: only the last context_size words matter
    assert m.predict_next("a dog saw the cat", top_k=5) == m.predict_next("the cat", top_k=5)
    assert m.predict_next("a dog saw the cat", top_k=5) != m.predict_next("cat", top_k=5)


def test_unknown_words_are_unk():
    m = tiny_model(context_size=2)
    got = m.predict_next("zebra quokka", top_k=len(m.vocabulary_))
    p = m._next_distribution(np.array([0, 0], dtype=np.int32))
    p[m.vocabulary_.bos_id] = 0
    assert dict(got) == pytest.approx({m.vocabulary_.itos[i]: p[i] for i in range(len(p))
                                       if i != 1})
    assert np.isfinite(m.log_prob("zebra quokka"))
    assert m.log_prob("zebra quokka") == pytest.approx(m.log_prob("okapi ibex"))


def test_generate_reproducible_and_bounded():
    m = tiny_model()
    a = m.generate("the", max_tokens=20, seed=7)
    assert a == m.generate("the", max_tokens=20, seed=7)
    outs = {m.generate("the", max_tokens=20, seed=s) for s in range(8)}
    assert len(outs) > 1
    assert len(m.generate("", max_tokens=3, seed=1).split()) <= 3
    assert m.generate("the", max_tokens=0, seed=1) == ""
    for text in outs:
        assert "</s>" not in text.split() and "<s>" not in text.split()
        assert set(text.split()) <= set(m.vocabulary_.itos)


def test_generate_top_k_1_is_greedy():
    m = tiny_model()
    words = m.generate("the", max_tokens=6, top_k=1, seed=3).split()
    context = ["the"]
    for w in words:
        best = m.predict_next(context, top_k=1)[0][0]
        assert w == best
        context.append(w)
    assert m.generate("the", max_tokens=6, top_k=1, seed=4).split() == words


def test_generate_stops_at_eos():
    m = tiny_model(epochs=30, learning_rate=0.3)
    lengths = [len(m.generate("", max_tokens=200, seed=s).split()) for s in range(10)]
    assert min(lengths) < 200       # a trained model closes its sentences


@pytest.mark.parametrize("kw,exc", [(dict(temperature=0), ValueError),
                                    (dict(temperature=float("nan")), ValueError),
                                    (dict(top_k=0), ValueError),
                                    (dict(max_tokens=-1), ValueError),
                                    (dict(max_tokens=2.5), TypeError),
                                    (dict(seed="x"), TypeError)])
def test_generate_bad_arguments(kw, exc):
    m = tiny_model()
    with pytest.raises(exc, match=list(kw)[0]):
        m.generate("the", **kw)


# ---------------------------------------------------------------- training behaviour
def test_loss_curve_and_determinism():
    a = tiny_model(epochs=8)
    b = tiny_model(epochs=8)
    assert a.loss_curve_.dtype == np.float64 and a.loss_curve_.shape == (8,)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    assert a.loss_curve_[-1] < a.loss_curve_[0]
    assert a.n_epochs_ == 8 and a.validation_perplexity_curve_.shape == (0,)
    c = tiny_model(epochs=8, random_state=1)
    assert not np.array_equal(a.loss_curve_, c.loss_curve_)


def test_float32_and_float64_train_alike():
    a = tiny_model(epochs=4, dtype=np.float32)
    b = tiny_model(epochs=4, dtype=np.float64)
    assert a.embeddings_.dtype == np.float32 and b.embeddings_.dtype == np.float64
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-4)


def test_schedules():
    s = LRSchedule("linear", 1.0, 4)
    assert [s.start_epoch(e) for e in range(4)] == [1.0, 0.75, 0.5, 0.25]
    p = LRSchedule("plateau", 1.0, 5)
    rates = []
    for v in [5.0, 4.0, 4.5, 3.0, 3.0]:
        rates.append(p.start_epoch(len(rates)))
        p.end_epoch(v)
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5] and p.lr == 0.25
    m = tiny_model(epochs=3, lr_schedule="linear", learning_rate=0.3)
    np.testing.assert_allclose(m.learning_rates_, [0.3, 0.2, 0.1])


def test_validation_curve_and_early_stopping_keeps_best():
    m = FeedForwardLM(context_size=2, embedding_dim=4, hidden_sizes=(6,), epochs=15,
                      learning_rate=1.0, momentum=0.9, lr_schedule="constant",
                      batch_size=2, random_state=0, early_stopping=True, patience=2,
                      n_jobs=1).fit(TINY[:3], validation=TINY[3:])
    curve = m.validation_perplexity_curve_
    assert curve.shape == (m.n_epochs_,) and m.n_epochs_ <= 15
    assert m.perplexity(TINY[3:]) == pytest.approx(curve.min(), rel=1e-5)
    if m.n_epochs_ < 15:
        assert np.argmin(curve) == m.n_epochs_ - 1 - m.patience


def test_verbose_progress_bar(capsys):
    m = tiny_model(verbose=True, epochs=2)
    err = capsys.readouterr().err
    assert "FeedForwardLM" in err and m.n_epochs_ == 2


def test_divergence_raises():
    with pytest.raises(FloatingPointError, match="learning_rate"):
        tiny_model(learning_rate=1e38, momentum=0.0, epochs=2)


# ---------------------------------------------------------------- API checks
def test_unfitted_and_bad_input():
    m = FeedForwardLM()
    for call in (lambda: m.perplexity(TINY), lambda: m.predict_next("a"),
                 lambda: m.generate("a"), lambda: m.log_prob("a"),
                 lambda: m.save("x.npz"), lambda: m.check_gradients(TINY)):
        with pytest.raises(NotFittedError):
            call()
    with pytest.raises(ValueError, match="empty"):
        FeedForwardLM(n_jobs=1).fit([])
    with pytest.raises(ValueError, match="empty"):
        tiny_model().perplexity(["", "   "])
    with pytest.raises(ValueError, match="validation"):
        FeedForwardLM(early_stopping=True).fit(TINY)
    with pytest.raises(ValueError, match="activation"):
        FeedForwardLM(activation="sigmoid").fit(TINY)
    with pytest.raises(ValueError, match="hidden_sizes"):
        FeedForwardLM(hidden_sizes=(4, 0)).fit(TINY)
    with pytest.raises(ValueError, match="dtype"):
        FeedForwardLM(dtype=np.int32).fit(TINY)
    with pytest.raises(ValueError, match="learning_rate"):
        FeedForwardLM(learning_rate=-1).fit(TINY)
    with pytest.raises(TypeError, match="context"):
        tiny_model().predict_next(3)
    with pytest.raises(TypeError, match="top_k"):
        tiny_model().predict_next("a", top_k=1.5)


def test_failed_refit_leaves_model_unfitted():
    m = tiny_model()
    m.set_params(learning_rate=1e38, momentum=0.0)
    with pytest.raises(FloatingPointError):
        m.fit(TINY)
    with pytest.raises(NotFittedError):
        m.perplexity(TINY)


def test_clone_and_params():
    m = FeedForwardLM(context_size=4, hidden_sizes=(8, 8))
    c = clone(m)
    assert c.get_params() == m.get_params()


def test_save_load_roundtrip(tmp_path):
    m = tiny_model(epochs=2)
    path = tmp_path / "lm.npz"
    m.save(path)
    back = FeedForwardLM.load(path)
    assert back.get_params() == m.get_params()
    assert back.vocabulary_.itos == m.vocabulary_.itos
    assert back.perplexity(TINY) == m.perplexity(TINY)
    assert back.generate("the", seed=3) == m.generate("the", seed=3)
    np.testing.assert_array_equal(back.loss_curve_, m.loss_curve_)
    np.testing.assert_array_equal(back.embeddings_, m.embeddings_)
    assert back.n_epochs_ == 2
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk"):
        FeedForwardLM.load(tmp_path / "junk.npz")
    from fastnn.io import save_arrays
    save_arrays(tmp_path / "other.npz", "NGramLM", {"x": np.zeros(2)}, {})
    with pytest.raises(ValueError, match="NGramLM"):
        FeedForwardLM.load(tmp_path / "other.npz")


def test_corpus_from_file_and_token_lists(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(TINY) + "\n", encoding="utf-8")
    a = tiny_model()
    b = FeedForwardLM(**a.get_params()).fit(str(path))
    c = FeedForwardLM(**a.get_params()).fit([s.split() for s in TINY])
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    np.testing.assert_array_equal(a.loss_curve_, c.loss_curve_)


# ---------------------------------------------------------------- quality
def test_quality_beats_trigram_on_web_bible():
    """A WEB Bible subset (~180k training tokens, 4 epochs): test perplexity below the trigram's
    with the same vocabulary settings; generation from a fixed seed reproducible."""
    datasets = pytest.importorskip("fastnn.datasets")
    if not hasattr(datasets, "load_web_bible"):
        pytest.skip("fastnn.datasets.load_web_bible not available")
    from fastnn.lm import NGramLM
    bible = datasets.load_web_bible()
    train, test = bible.train[:6000], bible.test[:600]
    settings = dict(min_count=2, max_vocab_size=2000)
    ngram = NGramLM(order=3, **settings).fit(train)
    lm = FeedForwardLM(context_size=3, embedding_dim=32, hidden_sizes=(64,), epochs=4,
                       random_state=0, n_jobs=1, **settings).fit(train)
    ppl_nn, ppl_ng = lm.perplexity(test), ngram.perplexity(test)
    assert lm.vocabulary_.itos == ngram.vocabulary_.itos
    assert ppl_nn < ppl_ng, (ppl_nn, ppl_ng)
    assert lm.generate("and god said", seed=11) == lm.generate("and god said", seed=11)
