"""NGramLM: an interpolated modified Kneser-Ney n-gram language model (NumPy).

The model (Chen & Goodman, 1998, "An empirical study of smoothing techniques for
language modeling", interpolated modified Kneser-Ney), for order n:

    P_k(w | h) = (a_k(hw) - D_k(a_k(hw))) / A_k(h) + gamma_k(h) * P_{k-1}(w | h')
    gamma_k(h) = (D_k1 N1(h) + D_k2 N2(h) + D_k3+ N3+(h)) / A_k(h)
    P_0(w)     = 1 / (V - 1)            (uniform over the predictable words)

h' is h without its oldest word, A_k(h) = sum_w a_k(hw), N_r(h) the number of words
with a_k(hw) = r (N3+: >= 3); a context h never seen at level k gives P_k = P_{k-1}.
Counts a_k: raw counts at the highest order n; at lower orders the continuation count
N1+(. g), the number of distinct words seen before g, except for an n-gram starting
with <s> (nothing can precede it), which keeps its raw count (as KenLM does).
Discounts per order from the counts-of-counts n_r of the a_k: Y = n1 / (n1 + 2 n2),
D1 = 1 - 2Y n2/n1, D2 = 2 - 3Y n3/n2, D3+ = 3 - 4Y n4/n3; when some n_r (r = 1..4) is
zero or a discount falls outside (0, r], that order uses the fallback (0.5, 1.0, 1.5).

Sentences are padded with order - 1 ``<s>`` before and one ``</s>`` after.  ``<s>`` is
never predicted: it has probability 0 and the distributions are normalised over the
other V - 1 ids (``<unk>`` included, so unknown words get a real probability).

Storage: for every order the sorted int64 keys of its contexts (context id of the
order below * V + the added older word) and of its n-grams (context id * V + word),
with each n-gram's discounted probability term and each context's back-off weight;
look-ups are vectorised with np.searchsorted.
"""
import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from fastnn.io import load_arrays, save_arrays
from fastnn.text import Vocabulary, _check_tokens, encode_corpus, iter_sentences, tokenize

__all__ = ["NGramLM"]

FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)


def _int_param(value, name, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral):
        what = "None or an int" if allow_none else "an int"
        raise TypeError(f"{name} must be {what} >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _histories(ids, starts, n_back, bos):
    """(N, n_back) int64: column j holds the id j+1 places before each target, <s>
    before the target's sentence start."""
    n = ids.shape[0]
    lengths = np.diff(np.append(starts, n))
    pos = np.arange(n, dtype=np.int64) - np.repeat(starts, lengths)
    out = np.empty((n, n_back), dtype=np.int64)
    for j in range(n_back):
        back = np.arange(n, dtype=np.int64) - (j + 1)
        out[:, j] = np.where(pos > j, ids[np.maximum(back, 0)], bos)
    return out


def _discounts(adjusted):
    """(D1, D2, D3+) from the counts-of-counts of one order, or the fallback."""
    n1, n2, n3, n4 = (int(np.count_nonzero(adjusted == r)) for r in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) > 0:
        y = n1 / (n1 + 2.0 * n2)
        d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
        if all(0 < d[r] <= r + 1 for r in range(3)):
            return d
    return FALLBACK_DISCOUNTS


def _lookup(keys, query):
    """(index, found) of each query value in the sorted array keys."""
    pos = np.searchsorted(keys, query)
    pos = np.minimum(pos, max(keys.shape[0] - 1, 0))
    found = keys[pos] == query if keys.shape[0] else np.zeros(query.shape, bool)
    return pos, found


class NGramLM(BaseEstimator):
    """Interpolated modified Kneser-Ney n-gram language model.

    Parameters
    ----------
    order : int >= 1, default=3
        n: each word is predicted from the n - 1 before it (1: a smoothed unigram).
    min_count : int >= 1, default=1
        Words seen fewer times in the training corpus become ``<unk>``.
    max_vocab_size : int >= 1 or None, default=None
        Keep at most this many words (besides the specials), the most frequent.
    lowercase : bool, default=True
        Lower-case text before tokenising (training and scoring alike).

    Attributes
    ----------
    vocabulary_ : fastnn.text.Vocabulary
    discounts_ : ndarray (order, 3)
        D1, D2, D3+ of each order (row k - 1 for order k).
    n_grams_ : ndarray (order,)
        Number of distinct k-grams stored for each order k.
    n_tokens_ : int
        Predicted tokens in the training corpus (words and one ``</s>`` a sentence).
    fit_time_ : float
        Seconds spent in fit.

    Notes
    -----
    See the module docstring for the formulas.  Perplexity follows fastnn's convention:
    exp of the mean natural-log loss over each sentence's words and its ``</s>``.
    """

    def __init__(self, order=3, min_count=1, max_vocab_size=None, lowercase=True):
        self.order = order
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.lowercase = lowercase

    # -- fitting -----------------------------------------------------------------
    def _check_params(self):
        _int_param(self.order, "order")
        _int_param(self.min_count, "min_count")
        _int_param(self.max_vocab_size, "max_vocab_size", allow_none=True)
        if not isinstance(self.lowercase, (bool, np.bool_)):
            raise TypeError(f"lowercase must be a bool, got {self.lowercase!r}")

    def fit(self, corpus):
        """Count the n-grams of ``corpus`` (anything `fastnn.text.iter_sentences`
        accepts: a text file path or an iterable of str / token-list sentences) and
        compute the smoothed model.  Returns self."""
        self._check_params()
        t0 = time.perf_counter()
        sentences = list(iter_sentences(corpus, lowercase=bool(self.lowercase)))
        if not sentences:
            raise ValueError("corpus is empty: it holds no token to fit the model on")
        vocab = Vocabulary(self.min_count, self.max_vocab_size).fit(sentences)
        ids, starts = encode_corpus(vocab, sentences)
        del sentences
        ids = self._no_bos_targets(ids, vocab)
        self._build(ids.astype(np.int64), starts, len(vocab), vocab.bos_id)
        self.vocabulary_ = vocab
        self.n_tokens_ = int(ids.shape[0])
        self.fit_time_ = time.perf_counter() - t0
        return self

    @staticmethod
    def _no_bos_targets(ids, vocab):
        # a literal "<s>" token in token-list input is not a sentence start: read it
        # as <unk> (the tokenizer never produces "<s>" from text)
        if (ids == vocab.bos_id).any():
            ids = np.where(ids == vocab.bos_id, vocab.unk_id, ids).astype(np.int32)
        return ids

    def _build(self, ids, starts, V, bos):
        n = int(self.order)
        hist = _histories(ids, starts, n - 1, bos)
        cid = np.zeros(ids.shape[0], dtype=np.int64)
        levels = []                      # per order k: dict of arrays (during fit)
        for k in range(1, n + 1):
            if k == 1:
                ctx_keys = np.zeros(1, dtype=np.int64)
            else:
                ctx_keys, cid = np.unique(cid * V + hist[:, k - 2], return_inverse=True)
            gram_keys, first, ginv, raw = np.unique(cid * V + ids, return_index=True,
                                                    return_inverse=True, return_counts=True)
            starts_with_bos = (hist[first, k - 2] == bos) if k >= 2 else np.zeros(
                gram_keys.shape[0], dtype=bool)
            levels.append(dict(ctx_keys=ctx_keys, gram_keys=gram_keys, ginv=ginv, raw=raw,
                               bos_first=starts_with_bos))
        del hist
        self._ctx_keys, self._gram_keys, self._gram_p, self._backoff = [], [], [], []
        discounts = np.empty((n, 3))
        for k in range(1, n + 1):
            lv = levels[k - 1]
            if k == n:
                adjusted = lv["raw"]
            else:
                # continuation count: distinct (k+1)-grams whose last k words are the k-gram
                _, first_up = np.unique(levels[k]["ginv"], return_index=True)
                cont = np.bincount(lv["ginv"][first_up], minlength=lv["gram_keys"].shape[0])
                adjusted = np.where(lv["bos_first"], lv["raw"], cont)
            d = _discounts(adjusted)
            discounts[k - 1] = d
            d_of = np.where(adjusted >= 3, d[2], np.where(adjusted == 2, d[1], d[0]))
            ctx_of = lv["gram_keys"] // V
            n_ctx = lv["ctx_keys"].shape[0]
            total = np.bincount(ctx_of, weights=adjusted, minlength=n_ctx)
            removed = np.bincount(ctx_of, weights=d_of, minlength=n_ctx)
            self._ctx_keys.append(lv["ctx_keys"])
            self._gram_keys.append(lv["gram_keys"])
            self._gram_p.append((adjusted - d_of) / total[ctx_of])
            self._backoff.append(removed / total)
        self.discounts_ = discounts
        self.n_grams_ = np.array([g.shape[0] for g in self._gram_keys], dtype=np.int64)

    # -- scoring -----------------------------------------------------------------
    def _target_probs(self, hist, targets):
        """P(target | history row) for each row: hist (M, order-1) int64 ids, oldest
        last; targets (M,) int64."""
        V = len(self.vocabulary_)
        bos = self.vocabulary_.bos_id
        p = np.where(targets == bos, 0.0, 1.0 / (V - 1))
        cid = np.zeros(targets.shape[0], dtype=np.int64)
        live = np.ones(targets.shape[0], dtype=bool)
        for k in range(1, int(self.order) + 1):
            if k >= 2:
                pos, hit = _lookup(self._ctx_keys[k - 1], cid * V + hist[:, k - 2])
                live &= hit
                cid = np.where(live, pos, 0)
            gpos, ghit = _lookup(self._gram_keys[k - 1], cid * V + targets)
            term = np.where(ghit, self._gram_p[k - 1][gpos], 0.0)
            p = np.where(live, self._backoff[k - 1][cid] * p + term, p)
        return p

    def _encode_sentences(self, corpus):
        check_is_fitted(self)
        vocab = self.vocabulary_
        ids, starts = encode_corpus(vocab, iter_sentences(corpus, bool(self.lowercase)))
        if ids.shape[0] == 0:
            raise ValueError("corpus is empty: it holds no token to score")
        ids = self._no_bos_targets(ids, vocab).astype(np.int64)
        return _histories(ids, starts, int(self.order) - 1, vocab.bos_id), ids

    def token_log_probs(self, corpus):
        """Natural-log probability of every predicted token of ``corpus`` (each
        sentence's words then its ``</s>``), as a float64 array."""
        hist, ids = self._encode_sentences(corpus)
        return np.log(self._target_probs(hist, ids))

    def perplexity(self, corpus):
        """exp(mean negative natural-log probability) over every predicted token of
        ``corpus`` (words and ``</s>``, ``<unk>`` included; ``<s>`` never)."""
        return float(np.exp(-np.mean(self.token_log_probs(corpus))))

    def _sentence_tokens(self, sentence, name):
        if isinstance(sentence, str):
            return tokenize(sentence, bool(self.lowercase))
        if isinstance(sentence, (list, tuple)):
            _check_tokens(sentence, name)
            return list(sentence)
        raise TypeError(f"{name} must be a str or a list of str tokens, "
                        f"got {type(sentence).__name__}")

    def log_prob(self, sentence):
        """Natural-log probability of one sentence (str, tokenised like the training
        text, or a list of tokens): the sum over its words and its ``</s>``, each
        predicted from the order - 1 before it (``<s>`` before the start).  An empty
        sentence scores log P(``</s>`` | ``<s>`` ...)."""
        check_is_fitted(self)
        tokens = self._sentence_tokens(sentence, "sentence")
        vocab = self.vocabulary_
        ids = np.append(vocab.encode(tokens), vocab.eos_id).astype(np.int32)
        ids = self._no_bos_targets(ids, vocab).astype(np.int64)
        hist = _histories(ids, np.zeros(1, dtype=np.int64), int(self.order) - 1, vocab.bos_id)
        return float(np.sum(np.log(self._target_probs(hist, ids))))

    def _context_ids(self, context):
        """The order - 1 history ids (most recent first) of a context: None, a str, a
        list of str tokens or a sequence of int ids.  A shorter context is read as the
        start of a sentence (``<s>`` before it); a longer one keeps its last words."""
        vocab = self.vocabulary_
        if context is None:
            ids = np.zeros(0, dtype=np.int64)
        elif isinstance(context, str):
            ids = vocab.encode(tokenize(context, bool(self.lowercase))).astype(np.int64)
        else:
            items = list(context) if not isinstance(context, np.ndarray) else context
            if len(items) and all(isinstance(t, str) for t in items):
                ids = vocab.encode(items).astype(np.int64)
            else:
                a = np.asarray(items)
                if a.size and a.dtype.kind not in "iu":
                    raise TypeError("context must be a str, a list of str tokens or a "
                                    f"sequence of int ids, got {context!r}")
                a = a.reshape(-1).astype(np.int64)
                if a.size and (a.min() < 0 or a.max() >= len(vocab)):
                    raise ValueError(f"context ids must lie in [0, {len(vocab)})")
                ids = a
        n_back = int(self.order) - 1
        hist = np.full(n_back, vocab.bos_id, dtype=np.int64)
        tail = ids[::-1][:n_back]
        hist[:tail.shape[0]] = tail
        return hist

    def _distribution(self, hist):
        V = len(self.vocabulary_)
        p = np.full(V, 1.0 / (V - 1))
        p[self.vocabulary_.bos_id] = 0.0
        cid = 0
        for k in range(1, int(self.order) + 1):
            if k >= 2:
                pos, hit = _lookup(self._ctx_keys[k - 1], np.array([cid * V + hist[k - 2]]))
                if not hit[0]:
                    break
                cid = int(pos[0])
            keys = self._gram_keys[k - 1]
            lo, hi = np.searchsorted(keys, [cid * V, (cid + 1) * V])
            p *= self._backoff[k - 1][cid]
            p[keys[lo:hi] - cid * V] += self._gram_p[k - 1][lo:hi]
        return p

    def next_distribution(self, context=None):
        """P(next id | context) as a float64 array (V,) summing to 1 (``<s>`` has 0).
        ``context``: None, a str, a list of str tokens or a sequence of int ids; only
        its last order - 1 tokens matter, and a shorter one starts a sentence."""
        check_is_fitted(self)
        return self._distribution(self._context_ids(context))

    def prob(self, word, context=None):
        """P(word | context) (a word outside the vocabulary is scored as ``<unk>``;
        ``<s>`` has probability 0).  ``context`` as in `next_distribution`."""
        check_is_fitted(self)
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {type(word).__name__}")
        w = self.vocabulary_.stoi.get(word, self.vocabulary_.unk_id)
        hist = self._context_ids(context)
        return float(self._target_probs(hist[None, :], np.array([w], dtype=np.int64))[0])

    def predict_next(self, context=None, top_k=10):
        """The ``top_k`` most probable next tokens as (token, probability) pairs, most
        probable first (ties by id)."""
        check_is_fitted(self)
        top_k = _int_param(top_k, "top_k")
        p = self.next_distribution(context)
        order = np.argsort(-p, kind="stable")[:top_k]
        itos = self.vocabulary_.itos
        return [(itos[i], float(p[i])) for i in order]

    def generate(self, prompt="", max_tokens=50, temperature=1.0, top_k=None, seed=None):
        """Sample a continuation of ``prompt`` (a str or a list of tokens, read as the
        start of a sentence; unknown words become ``<unk>``).

        Each token is drawn from the next-token distribution raised to the power
        1 / ``temperature`` (restricted to the ``top_k`` most probable tokens when
        given) and renormalised; sampling stops at ``</s>`` (not included) or after
        ``max_tokens`` tokens (0 allowed).  The same ``seed`` (int, numpy Generator or
        None) gives the same text.  Returns the generated tokens only (not the prompt),
        joined by single spaces; ``<unk>`` may appear, as in the other fastnn LMs."""
        check_is_fitted(self)
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, Integral):
            raise TypeError(f"max_tokens must be an int >= 0, got {max_tokens!r}")
        if max_tokens < 0:
            raise ValueError(f"max_tokens must be >= 0, got {max_tokens}")
        if isinstance(temperature, bool) or not isinstance(temperature, Real) or not (
                np.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
        top_k = _int_param(top_k, "top_k", allow_none=True)
        if seed is not None and (isinstance(seed, bool) or not isinstance(
                seed, (Integral, np.random.Generator))):
            raise TypeError(f"seed must be None, an int or a numpy Generator, got {seed!r}")
        rng = np.random.default_rng(seed)
        vocab = self.vocabulary_
        history = [int(i) for i in vocab.encode(self._sentence_tokens(prompt, "prompt"))]
        words = []
        for _ in range(max_tokens):
            p = self._distribution(self._context_ids(np.asarray(history, dtype=np.int64)))
            if temperature != 1.0:
                logp = np.log(np.where(p > 0, p, 1.0)) / temperature
                p = np.where(p > 0, np.exp(logp - logp[p > 0].max()), 0.0)
            if top_k is not None and top_k < p.shape[0]:
                cut = np.argsort(-p, kind="stable")[top_k:]
                p[cut] = 0.0
            cdf = np.cumsum(p)
            nxt = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
            nxt = min(nxt, p.shape[0] - 1)
            if nxt == vocab.eos_id:
                break
            history.append(nxt)
            words.append(vocab.itos[nxt])
        return " ".join(words)

    # -- persistence -------------------------------------------------------------
    def save(self, path):
        """Write the fitted model to the ``.npz`` file ``path`` (fastnn.io format)."""
        check_is_fitted(self)
        arrays = {"discounts": self.discounts_}
        for k in range(int(self.order)):
            arrays[f"ctx_keys_{k + 1}"] = self._ctx_keys[k]
            arrays[f"gram_keys_{k + 1}"] = self._gram_keys[k]
            arrays[f"gram_p_{k + 1}"] = self._gram_p[k]
            arrays[f"backoff_{k + 1}"] = self._backoff[k]
        meta = {"params": self.get_params(), "vocabulary": self.vocabulary_.to_meta(),
                "n_tokens": self.n_tokens_}
        save_arrays(path, "NGramLM", arrays, meta)

    @classmethod
    def load(cls, path):
        """Read a model written by `save`."""
        arrays, meta = load_arrays(path, "NGramLM")
        try:
            model = cls(**meta["params"])
            model._check_params()
            n = int(model.order)
            model._ctx_keys = [arrays[f"ctx_keys_{k}"] for k in range(1, n + 1)]
            model._gram_keys = [arrays[f"gram_keys_{k}"] for k in range(1, n + 1)]
            model._gram_p = [arrays[f"gram_p_{k}"] for k in range(1, n + 1)]
            model._backoff = [arrays[f"backoff_{k}"] for k in range(1, n + 1)]
            model.discounts_ = arrays["discounts"]
            model.vocabulary_ = Vocabulary.from_meta(meta["vocabulary"])
            model.n_tokens_ = int(meta["n_tokens"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path!r} is not a complete NGramLM file: {exc!r}") from None
        model.n_grams_ = np.array([g.shape[0] for g in model._gram_keys], dtype=np.int64)
        model.fit_time_ = 0.0
        return model
