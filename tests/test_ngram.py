"""fastnn.lm.NGramLM: interpolated modified Kneser-Ney, checked against hand-computed
numbers and an independent dict-based implementation of the same formulas."""
from collections import Counter, defaultdict

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from fastnn.datasets import load_web_bible
from fastnn.lm import NGramLM
from fastnn.lm.ngram import FALLBACK_DISCOUNTS, _discounts
from fastnn.text import encode_corpus, iter_sentences

TINY = ["a b", "a b", "b a"]


# -- hand-computed example ----------------------------------------------------------
def test_bigram_hand_computed():
    # ids: <unk> 0, <s> 1, </s> 2, a 3, b 4 (a and b both 3 times, a first)
    # bigram counts: <s>a 2, <s>b 1, ab 2, a</s> 1, b</s> 2, ba 1 -> n1 = n2 = 3, n3 = 0:
    # fallback discounts 0.5, 1, 1.5.  Unigram continuation counts a = b = </s> = 2
    # (n1 = 0: fallback), total 6, gamma = 3 * 1 / 6, uniform over 4 ids (not <s>):
    #   P1(a) = P1(b) = P1(</s>) = (2 - 1) / 6 + 0.5 / 4 = 7/24,  P1(<unk>) = 1/8
    # context <s> (and a, b alike): counts 2 and 1, total 3, gamma = (1 + 0.5) / 3:
    #   P(a|<s>) = 1/3 + 0.5 * 7/24 = 23/48, P(b|<s>) = 0.5/3 + 7/48 = 15/48,
    #   P(</s>|<s>) = 7/48, P(<unk>|<s>) = 3/48
    m = NGramLM(order=2).fit(TINY)
    assert m.vocabulary_.itos == ["<unk>", "<s>", "</s>", "a", "b"]
    np.testing.assert_allclose(m.discounts_, [[0.5, 1.0, 1.5]] * 2)
    expect = {None: [3, 0, 7, 23, 15], "a": [3, 0, 15, 7, 23], "b": [3, 0, 23, 15, 7]}
    for ctx, numerators in expect.items():
        np.testing.assert_allclose(m.next_distribution(ctx), np.array(numerators) / 48,
                                   rtol=1e-12)
    # an unknown context word is <unk>, a context never seen: the unigram level
    np.testing.assert_allclose(m.next_distribution("zzz"), [3 / 24, 0, 7 / 24, 7 / 24, 7 / 24])
    assert m.prob("b", "a") == pytest.approx(23 / 48, rel=1e-12)
    assert m.prob("qqq", "a") == pytest.approx(3 / 48, rel=1e-12)   # unknown -> <unk>
    assert m.prob("<s>", "a") == 0.0
    assert m.log_prob("a b") == pytest.approx(3 * np.log(23 / 48), rel=1e-12)
    assert m.log_prob(["b", "a"]) == pytest.approx(np.log(15 / 48 * 15 / 48 * 15 / 48))
    # perplexity of the training text: per sentence 3 tokens
    logs = 2 * 3 * np.log(23 / 48) + 3 * np.log(15 / 48)
    assert m.perplexity(TINY) == pytest.approx(np.exp(-logs / 9), rel=1e-12)


def test_unigram_hand_computed():
    # order 1 uses raw counts a = b = </s> = 3 (n1 = n2 = 0: fallback, D3+ = 1.5),
    # total 9, gamma = 3 * 1.5 / 9: P(a) = 1.5 / 9 + 0.5 / 4 = 7/24
    m = NGramLM(order=1).fit(TINY)
    for ctx in (None, "a", "b a a"):
        np.testing.assert_allclose(m.next_distribution(ctx), [3 / 24, 0, 7 / 24, 7 / 24, 7 / 24])
    assert m.n_grams_.tolist() == [3]


def test_discount_formula_and_fallback():
    # n1 = 4, n2 = 2, n3 = 1, n4 = 1: Y = 4 / 8, D1 = 1 - 2Y*2/4, D2 = 2 - 3Y/2, D3+ = 3 - 4Y
    counts = np.array([1, 1, 1, 1, 2, 2, 3, 4, 7])
    np.testing.assert_allclose(_discounts(counts), [0.5, 1.25, 1.0])
    assert _discounts(np.array([1, 1, 2, 3])) == (0.5, 1.0, 1.5)        # n4 = 0
    # n1=1, n2=1, n3=9, n4=1: D2 = 2 - 3 (1/3) 9 = -7 out of range -> fallback
    assert _discounts(np.array([1, 2] + [3] * 9 + [4])) == (0.5, 1.0, 1.5)


# -- independent reference ----------------------------------------------------------
def _reference_model(sentences, n, vocab):
    """Dict-based interpolated modified Kneser-Ney written straight from the formulas."""
    bos, V = vocab.bos_id, len(vocab)
    raw = [Counter() for _ in range(n + 1)]
    for s in sentences:
        seq = [bos] * (n - 1) + [int(i) for i in vocab.encode(s)] + [vocab.eos_id]
        for t in range(n - 1, len(seq)):
            for k in range(1, n + 1):
                raw[k][tuple(seq[t - k + 1:t + 1])] += 1
    before = [defaultdict(set) for _ in range(n + 1)]
    for k in range(1, n):
        for gram in raw[k + 1]:
            before[k][gram[1:]].add(gram[0])
    adjusted, discount, context = {}, {}, {}
    for k in range(1, n + 1):
        adjusted[k] = {g: c if k == n or g[0] == bos else len(before[k][g])
                       for g, c in raw[k].items()}
        cc = Counter(adjusted[k].values())
        d = (0.5, 1.0, 1.5)
        if min(cc[1], cc[2], cc[3], cc[4]) > 0:
            y = cc[1] / (cc[1] + 2 * cc[2])
            f = (1 - 2 * y * cc[2] / cc[1], 2 - 3 * y * cc[3] / cc[2], 3 - 4 * y * cc[4] / cc[3])
            if 0 < f[0] <= 1 and 0 < f[1] <= 2 and 0 < f[2] <= 3:
                d = f
        discount[k] = d
        context[k] = defaultdict(lambda: [0.0, 0.0])
        for g, a in adjusted[k].items():
            context[k][g[:-1]][0] += a
            context[k][g[:-1]][1] += d[min(a, 3) - 1]

    def prob(word, history):          # history: the n - 1 previous ids, oldest first
        p = 0.0 if word == bos else 1.0 / (V - 1)
        for k in range(1, n + 1):
            h = tuple(history[len(history) - k + 1:]) if k > 1 else ()
            if h not in context[k]:
                break
            total, removed = context[k][h]
            a = adjusted[k].get(h + (word,), 0)
            p = (a - discount[k][min(a, 3) - 1] if a else 0.0) / total + removed / total * p
        return p
    return prob


@pytest.fixture(scope="module")
def bible():
    return load_web_bible()


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_reference_implementation(bible, order):
    train = list(iter_sentences(bible.train[:700]))
    held = list(iter_sentences(bible.test[:60]))
    m = NGramLM(order=order).fit(train)
    for d in m.discounts_:                            # real count-of-counts, no fallback
        assert not np.allclose(d, FALLBACK_DISCOUNTS)
    prob = _reference_model(train, order, m.vocabulary_)
    want = []
    for s in held:
        seq = [1] * (order - 1) + [int(i) for i in m.vocabulary_.encode(s)] + [2]
        want += [np.log(prob(seq[t], seq[t - order + 1:t])) for t in range(order - 1, len(seq))]
    np.testing.assert_allclose(m.token_log_probs(held), want, rtol=1e-12, atol=1e-12)
    # full distributions as well, for a few held-out contexts
    for s in held[:3]:
        seq = [1] * (order - 1) + [int(i) for i in m.vocabulary_.encode(s)]
        h = seq[len(seq) - order + 1:] if order > 1 else []
        np.testing.assert_allclose(
            m.next_distribution(np.array(h, dtype=np.int64)),
            [prob(w, h) for w in range(len(m.vocabulary_))], rtol=1e-11, atol=1e-15)


# -- real data ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted(bible):
    # the first half of the training text keeps the test quick
    return {n: NGramLM(order=n).fit(bible.train[:17000]) for n in (2, 3)}


def _add_one_bigram_perplexity(vocab, train, held):
    """Laplace-smoothed bigram over the V - 1 predictable ids, computed independently."""
    V = len(vocab)

    def pairs(corpus):
        ids, starts = encode_corpus(vocab, iter_sentences(corpus))
        prev = np.concatenate([[vocab.bos_id], ids[:-1]]).astype(np.int64)
        prev[starts] = vocab.bos_id
        return prev, ids.astype(np.int64)
    prev, nxt = pairs(train)
    pair_keys, pair_counts = np.unique(prev * V + nxt, return_counts=True)
    ctx_counts = np.bincount(prev, minlength=V)
    prev, nxt = pairs(held)
    pos = np.minimum(np.searchsorted(pair_keys, prev * V + nxt), len(pair_keys) - 1)
    seen = np.where(pair_keys[pos] == prev * V + nxt, pair_counts[pos], 0)
    logp = np.log((seen + 1) / (ctx_counts[prev] + V - 1))
    return float(np.exp(-np.mean(logp)))


def test_held_out_perplexity_ordering(bible, fitted):
    ppl2 = fitted[2].perplexity(bible.validation)
    ppl3 = fitted[3].perplexity(bible.validation)
    add_one = _add_one_bigram_perplexity(fitted[2].vocabulary_, bible.train[:17000],
                                         bible.validation)
    assert ppl3 < ppl2 < add_one
    assert 20 < ppl3 < 150                               # measured 77.3
    # perplexity is exp of minus the mean log-probability of the sentences' tokens
    total = sum(fitted[3].log_prob(s) for s in bible.validation[:200])
    n_tokens = sum(len(s) + 1 for s in iter_sentences(bible.validation[:200]))
    assert fitted[3].perplexity(bible.validation[:200]) == pytest.approx(
        np.exp(-total / n_tokens), rel=1e-10)


def test_distributions_sum_to_one(fitted):
    rng = np.random.default_rng(0)
    for m in fitted.values():
        V = len(m.vocabulary_)
        contexts = [None, "", "the lord", "and god said", "zzz qqq", "<s>", ["<s>", "<s>"],
                    [1, 1], [0, 0], [1, 0], [2, 2], [1, 5], ["yahweh", "<s>"]]
        contexts += [rng.integers(0, V, size=rng.integers(0, 4)) for _ in range(40)]
        for ctx in contexts:
            p = m.next_distribution(ctx)
            assert p.shape == (V,) and p[m.vocabulary_.bos_id] == 0 and (p[1:] >= 0).all()
            assert abs(p.sum() - 1) < 1e-9, ctx
            assert (p[np.arange(V) != 1] > 0).all()     # every predictable id is possible
        # the vectorised scorer agrees with the full distribution
        p = m.next_distribution("the lord")
        for w in ("yahweh", "said", "<unk>", "</s>"):
            assert m.prob(w, "the lord") == pytest.approx(p[m.vocabulary_.stoi[w]], rel=1e-12)


def test_predict_next_and_generate(fitted):
    m = fitted[3]
    top = m.predict_next("the lord", top_k=5)
    assert len(top) == 5 and "yahweh" in [w for w, _ in top]
    assert top[0][1] == m.next_distribution("the lord").max()
    assert all(a[1] >= b[1] for a, b in zip(top, top[1:]))
    text = m.generate("the lord", max_tokens=30, seed=7)
    assert text == m.generate(["the", "lord"], max_tokens=30, seed=7)
    assert text != m.generate("the lord", max_tokens=30, seed=8)
    assert 1 <= len(text.split()) <= 30 and "</s>" not in text.split()
    assert m.generate("the lord", max_tokens=0) == ""
    # greedy decoding (top_k=1) follows the argmax chain and stops at </s>
    prompt = ["in", "the", "beginning"]
    greedy = prompt + m.generate(prompt, top_k=1, max_tokens=40).split()
    for i in range(3, len(greedy)):
        assert m.predict_next(greedy[:i], top_k=1)[0][0] == greedy[i]
    if len(greedy) < 43:
        assert m.predict_next(greedy, top_k=1)[0][0] == "</s>"
    cold = m.generate("", temperature=0.3, max_tokens=20, seed=1)
    assert isinstance(cold, str) and "<s>" not in cold.split()


def test_literal_bos_token_reads_as_unk():
    m = NGramLM(order=2).fit([["a", "<s>", "b"], ["b", "a"]])
    assert m.prob("<s>", "a") == 0.0
    assert m.log_prob(["a", "<s>", "b"]) == pytest.approx(m.log_prob(["a", "<unk>", "b"]))


def test_save_load_round_trip(tmp_path, fitted, bible):
    m = fitted[2]
    m.save(tmp_path / "bigram.npz")
    r = NGramLM.load(tmp_path / "bigram.npz")
    assert r.get_params() == m.get_params()
    assert r.vocabulary_.itos == m.vocabulary_.itos
    np.testing.assert_array_equal(r.n_grams_, m.n_grams_)
    assert r.perplexity(bible.test[:100]) == m.perplexity(bible.test[:100])
    np.testing.assert_array_equal(r.next_distribution("and"), m.next_distribution("and"))
    m.vocabulary_.save(tmp_path / "v.npz")
    with pytest.raises(ValueError, match="'Vocabulary' model, not a 'NGramLM'"):
        NGramLM.load(tmp_path / "v.npz")


def test_options_lowercase_and_vocabulary_size():
    m = NGramLM(order=2, lowercase=False, min_count=2).fit(["The cat", "the cat", "The dog"])
    assert m.vocabulary_.itos == ["<unk>", "<s>", "</s>", "The", "cat"]
    assert m.prob("dog", "The") == m.prob("<unk>", "The") > 0
    m = NGramLM(order=2, max_vocab_size=1).fit(["b a a", "a"])
    assert m.vocabulary_.itos == ["<unk>", "<s>", "</s>", "a"]


# -- errors -------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, exc", [
    (dict(order=0), ValueError), (dict(order=2.0), TypeError), (dict(order="3"), TypeError),
    (dict(order=True), TypeError), (dict(min_count=0), ValueError),
    (dict(max_vocab_size=0), ValueError), (dict(lowercase="yes"), TypeError),
])
def test_bad_parameters(kwargs, exc):
    with pytest.raises(exc, match=next(iter(kwargs))):
        NGramLM(**kwargs).fit(TINY)


def test_errors():
    m = NGramLM()
    for use in (lambda: m.perplexity(TINY), lambda: m.next_distribution("a"),
                lambda: m.log_prob("a"), lambda: m.generate("a"), lambda: m.prob("a"),
                lambda: m.predict_next("a"), lambda: m.save("x.npz")):
        with pytest.raises(NotFittedError):
            use()
    with pytest.raises(ValueError, match="corpus is empty"):
        NGramLM().fit(["", "  "])
    with pytest.raises(ValueError, match="corpus is empty"):
        NGramLM().fit([])
    m.fit(TINY)
    with pytest.raises(ValueError, match="corpus is empty"):
        m.perplexity([""])
    with pytest.raises(TypeError, match="corpus"):
        m.fit([b"bytes"])
    with pytest.raises(FileNotFoundError, match="corpus"):
        m.perplexity("/nonexistent/held_out.txt")
    with pytest.raises(ValueError, match="context ids"):
        m.next_distribution([0, 99])
    with pytest.raises(TypeError, match="context"):
        m.next_distribution([0.5])
    with pytest.raises(TypeError, match="word"):
        m.prob(3, "a")
    with pytest.raises(TypeError, match="sentence"):
        m.log_prob(42)
    with pytest.raises(ValueError, match="top_k"):
        m.predict_next("a", top_k=0)
    with pytest.raises(ValueError, match="temperature"):
        m.generate("a", temperature=0)
    with pytest.raises(ValueError, match="max_tokens"):
        m.generate("a", max_tokens=-1)
    with pytest.raises(TypeError, match="prompt"):
        m.generate(b"a")
    with pytest.raises(TypeError, match="seed"):
        m.generate("a", seed="s")
