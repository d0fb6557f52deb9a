"""Word2Vec: skip-gram and CBOW with negative sampling, gensim 4's API.

Training runs in the C kernel family ``sgns``: the corpus is encoded once per `train`
call to int32 ids, then each epoch is one call without the GIL in which every thread
owns a contiguous run of sentences and updates the shared vectors without locks
(Hogwild, as the original C tool), except the output vectors of the most frequent words:
every thread updates those all the time, so each keeps private copies of them and adds
its changes to the shared ones every few thousand words.  With ``workers=1`` training is
bitwise reproducible.
"""
import logging
import time

import numpy as np

from fastnn._kernels import sgns as _sgns
from fastnn._threads import resolve_threads
from fastnn._validation import int_scalar, real_scalar
from fastnn.io import load_arrays, save_arrays
from fastnn.word2vec._corpus import (check_corpus_iterable, count_words, encode_corpus,
                                     file_corpus, keep_word)

logger = logging.getLogger(__name__)

_KIND = "Word2Vec"
_CALLBACK_HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")
# settings saved with the model, in constructor order
_PARAMS = ("vector_size", "alpha", "window", "min_count", "max_vocab_size", "max_final_vocab",
           "sample", "seed", "workers", "min_alpha", "sg", "hs", "negative", "ns_exponent",
           "cbow_mean", "epochs", "compute_loss", "sorted_vocab", "batch_words",
           "shrink_windows", "null_word", "verbose")


# With several threads, each keeps private copies of the output rows of the most frequent
# words (see _hot_rows), as many as fit in this many bytes over all threads.
_HOT_BYTES = 64 << 20


def _flag(x, name):
    if isinstance(x, (bool, np.bool_)) or (isinstance(x, (int, np.integer)) and x in (0, 1)):
        return int(x)
    raise ValueError(f"{name} must be 0 or 1 (or a bool), got {x!r}")


def _optional_int(x, name, low):
    return None if x is None else int_scalar(x, name, low=low)


def _corpus_source(corpus_iterable, corpus_file, what):
    """Exactly one of the two, as an iterable of token lists."""
    if corpus_iterable is not None and corpus_file is not None:
        raise ValueError(f"{what}: pass either corpus_iterable (sentences) or corpus_file, not both")
    if corpus_file is not None:
        return file_corpus(corpus_file)
    if corpus_iterable is None:
        raise ValueError(f"{what}: one of corpus_iterable (sentences) or corpus_file is required")
    check_corpus_iterable(corpus_iterable)
    return corpus_iterable


def _KeyedVectors():
    from fastnn.word2vec._keyedvectors import KeyedVectors
    return KeyedVectors


class Word2Vec:
    """word2vec word embeddings (Mikolov et al. 2013) trained with negative sampling.

    The parameters have gensim 4's names, meanings and defaults.

    Parameters
    ----------
    sentences : iterable of list of str, optional
        A re-iterable corpus (a list of token lists, `LineSentence`, ...).  When given
        (or ``corpus_file``), the vocabulary is built and the model trained at once.
        A one-shot generator raises TypeError: the corpus is read more than once.
    corpus_file : str or path, optional
        A whitespace-tokenised UTF-8 text file, one sentence per line, read streaming.
    vector_size : int, default=100
        Dimension of the word vectors.
    alpha, min_alpha : float, default=0.025, 0.0001
        The learning rate decays linearly from alpha to min_alpha over all epochs.
    window : int, default=5
        Largest distance between a center word and a context word.
    min_count : int, default=5
        Words seen fewer times are left out of the vocabulary (and the training stream).
    max_vocab_size : int or None, default=None
        Limit on distinct words while counting; rarer words are pruned as in gensim.
    max_final_vocab : int or None, default=None
        Raise the effective min_count so that at most this many words are kept.
    sample : float, default=1e-3
        Frequent-word sub-sampling threshold (0 turns sub-sampling off).
    seed : int, default=1
        Seed of the initial vectors and of every random draw.
    workers : int, default=3
        Training threads (the result depends on it; 1 is bitwise reproducible).
    sg : {0, 1}, default=0
        1 for skip-gram, 0 for CBOW.
    hs : {0}, default=0
        Hierarchical softmax is not implemented: hs=1 raises NotImplementedError.
    negative : int, default=5
        Noise words per positive example (must be >= 1).
    ns_exponent : float, default=0.75
        Noise distribution proportional to count ** ns_exponent.
    cbow_mean : {0, 1}, default=1
        CBOW input: 1 the mean of the context vectors, 0 their sum.
    epochs : int, default=5
        Passes over the corpus.
    compute_loss : bool, default=False
        Accepted for gensim compatibility: the negative-sampling loss is always tracked
        (``loss_curve_``, ``get_latest_training_loss()``), as it costs little.
    callbacks : sequence, default=()
        Objects with any of on_train_begin / on_epoch_begin / on_epoch_end /
        on_train_end(model).
    sorted_vocab : {0, 1}, default=1
        Sort the vocabulary by descending count (ties: first occurrence).
    batch_words : int, default=10000
        Accepted for gensim compatibility; threads own contiguous parts of the corpus, so
        it does not change training.
    shrink_windows : bool, default=True
        Draw a reduced window uniformly in [1, window] for each center word.
    null_word : {0, 1}, default=0
        1 appends gensim's null word "\\0" (count 1) to the vocabulary.
    trim_rule : callable, optional
        trim_rule(word, count, min_count) -> 0 (default rule), 1 (discard) or 2 (keep).
    verbose : bool, default=False
        A tqdm progress bar and one log line per epoch (logger "fastnn.word2vec._model").

    Attributes
    ----------
    wv : KeyedVectors
        The trained input vectors with their words and counts.
    syn1neg : ndarray of shape (V, vector_size), float32
        The output vectors.
    corpus_count, corpus_total_words : int
        Sentences and words of the corpus seen by `build_vocab`.
    loss_curve_ : ndarray of float64
        Training loss (summed over the epoch's pairs) of each epoch of the last `train` call.
    """

    def __init__(self, sentences=None, corpus_file=None, vector_size=100, alpha=0.025, window=5,
                 min_count=5, max_vocab_size=None, max_final_vocab=None, sample=1e-3, seed=1,
                 workers=3, min_alpha=0.0001, sg=0, hs=0, negative=5, ns_exponent=0.75,
                 cbow_mean=1, epochs=5, compute_loss=False, callbacks=(), sorted_vocab=1,
                 batch_words=10000, shrink_windows=True, null_word=0, trim_rule=None,
                 verbose=False):
        self.vector_size = int_scalar(vector_size, "vector_size", low=1)
        self.alpha = real_scalar(alpha, "alpha", low=0, low_open=True)
        self.min_alpha = real_scalar(min_alpha, "min_alpha", low=0)
        self.window = int_scalar(window, "window", low=1)
        self.min_count = int_scalar(min_count, "min_count", low=0)
        self.max_vocab_size = _optional_int(max_vocab_size, "max_vocab_size", 1)
        self.max_final_vocab = _optional_int(max_final_vocab, "max_final_vocab", 1)
        self.sample = real_scalar(sample, "sample", low=0)
        self.seed = int_scalar(seed, "seed", low=0)
        self.workers = int_scalar(workers, "workers", low=1)
        self.sg = _flag(sg, "sg")
        self.hs = _flag(hs, "hs")
        if self.hs:
            raise NotImplementedError("hs=1 (hierarchical softmax) is not implemented in fastnn; "
                                      "use hs=0 with negative sampling (negative >= 1)")
        self.negative = int_scalar(negative, "negative", low=0)
        if self.negative == 0:
            raise ValueError("negative=0 would train nothing: fastnn trains with negative "
                             "sampling only (hierarchical softmax is not implemented); use "
                             "negative >= 1, typically 5 to 20")
        self.ns_exponent = real_scalar(ns_exponent, "ns_exponent")
        self.cbow_mean = _flag(cbow_mean, "cbow_mean")
        self.epochs = int_scalar(epochs, "epochs", low=1)
        self.compute_loss = bool(_flag(compute_loss, "compute_loss"))
        self.callbacks = self._check_callbacks(callbacks)
        self.sorted_vocab = _flag(sorted_vocab, "sorted_vocab")
        self.batch_words = int_scalar(batch_words, "batch_words", low=1)
        self.shrink_windows = bool(_flag(shrink_windows, "shrink_windows"))
        self.null_word = _flag(null_word, "null_word")
        if trim_rule is not None and not callable(trim_rule):
            raise TypeError(f"trim_rule must be callable or None, got {type(trim_rule).__name__}")
        self.trim_rule = trim_rule
        self.verbose = bool(verbose)
        self.wv = None
        self.syn1neg = None
        self.corpus_count = 0
        self.corpus_total_words = 0
        self.loss_curve_ = np.zeros(0)
        self.epochs_trained_ = 0
        self._counts = None
        if sentences is not None or corpus_file is not None:
            self.build_vocab(corpus_iterable=sentences, corpus_file=corpus_file)
            self.train(corpus_iterable=sentences, corpus_file=corpus_file,
                       total_examples=self.corpus_count, total_words=self.corpus_total_words,
                       epochs=self.epochs, start_alpha=self.alpha, end_alpha=self.min_alpha,
                       compute_loss=self.compute_loss, callbacks=self.callbacks)

    @staticmethod
    def _check_callbacks(callbacks):
        if callbacks is None:
            return ()
        try:
            callbacks = tuple(callbacks)
        except TypeError:
            raise TypeError("callbacks must be a sequence of callback objects, got "
                            f"{type(callbacks).__name__}") from None
        for cb in callbacks:
            if not any(callable(getattr(cb, hook, None)) for hook in _CALLBACK_HOOKS):
                raise TypeError(f"callback {cb!r} has none of the methods {', '.join(_CALLBACK_HOOKS)}")
        return callbacks

    # ---------------------------------------------------------------- vocabulary
    def build_vocab(self, corpus_iterable=None, corpus_file=None, update=False, trim_rule=None):
        """Count the corpus's words and set up the vocabulary and the initial vectors.

        Words are kept when seen at least min_count times (or as trim_rule says), and at
        most max_final_vocab of them (by raising the effective min_count as gensim);
        sorted by descending count, ties in first-occurrence order.  update=True
        (growing an existing vocabulary) is not implemented."""
        if update:
            raise NotImplementedError("build_vocab(update=True) is not implemented in fastnn: "
                                      "build a new model on the full corpus instead")
        if trim_rule is not None and not callable(trim_rule):
            raise TypeError(f"trim_rule must be callable or None, got {type(trim_rule).__name__}")
        trim_rule = trim_rule if trim_rule is not None else self.trim_rule
        corpus = _corpus_source(corpus_iterable, corpus_file, "build_vocab")
        counts, n_sentences, n_words = count_words(corpus, "corpus_file" if corpus_file is not None
                                                   else "corpus_iterable",
                                                   self.max_vocab_size, trim_rule)
        min_count = self.min_count
        if self.max_final_vocab is not None and self.max_final_vocab < len(counts):
            ranked = sorted(counts.values(), reverse=True)
            min_count = max(min_count, ranked[self.max_final_vocab] + 1)
        words = [w for w, c in counts.items() if keep_word(w, c, min_count, trim_rule)]
        if self.sorted_vocab:
            words.sort(key=counts.__getitem__, reverse=True)   # stable: ties keep first occurrence
        word_counts = [counts[w] for w in words]
        if self.null_word:
            words.append("\0")
            word_counts.append(1)
        if not words:
            raise ValueError(f"the vocabulary is empty: no word of the corpus ({len(counts)} "
                             f"distinct words) occurs at least min_count={min_count} times; "
                             "lower min_count or pass a larger corpus")
        self.corpus_count, self.corpus_total_words = n_sentences, n_words
        self.effective_min_count_ = min_count
        self._set_vocab(words, np.asarray(word_counts, dtype=np.int64))
        return self

    def _set_vocab(self, words, counts, vectors=None, syn1neg=None):
        V, d = len(words), self.vector_size
        if vectors is None:
            rng = np.random.default_rng(self.seed)
            vectors = ((rng.random((V, d), dtype=np.float32) - np.float32(0.5))
                       / np.float32(d))
            syn1neg = np.zeros((V, d), dtype=np.float32)
        self._words = list(words)
        self._key_to_index = {w: i for i, w in enumerate(self._words)}
        self._counts = counts
        self._syn0 = np.ascontiguousarray(vectors, dtype=np.float32)
        self.syn1neg = np.ascontiguousarray(syn1neg, dtype=np.float32)
        self._sampling_tables()
        self._make_wv()

    def _sampling_tables(self):
        """Keep probability of each word (gensim's sub-sampling formula) and the alias
        table of the noise distribution count ** ns_exponent."""
        counts = self._counts.astype(np.float64)
        total = counts.sum()
        if self.sample == 0:
            keep = np.ones_like(counts)
        else:
            threshold = self.sample * total if self.sample < 1 else self.sample
            keep = np.minimum((np.sqrt(counts / threshold) + 1) * (threshold / counts), 1.0)
        self._keep = np.ascontiguousarray(keep)
        weights = counts ** self.ns_exponent
        if not np.isfinite(weights).all() or not weights.sum() > 0:
            raise ValueError(f"ns_exponent={self.ns_exponent} gives a noise distribution that "
                             "cannot be normalised on this vocabulary")
        self._alias_prob = np.empty(len(counts), np.uint32)
        self._alias_idx = np.empty(len(counts), np.int32)
        _sgns.alias_build(np.ascontiguousarray(weights), self._alias_prob, self._alias_idx)

    def _make_wv(self):
        self.wv = _KeyedVectors()(self._syn0, list(self._words), self._counts.copy())

    # ---------------------------------------------------------------- training
    def train(self, corpus_iterable=None, corpus_file=None, total_examples=None,
              total_words=None, epochs=None, start_alpha=None, end_alpha=None,
              compute_loss=None, callbacks=()):
        """Train the vectors on a corpus (after `build_vocab`).

        The corpus is encoded once (words outside the vocabulary dropped, sentences split
        every 10000 words), then trained for `epochs` epochs with the learning rate going
        linearly from start_alpha (default alpha) to end_alpha (default min_alpha).
        total_examples / total_words are accepted for gensim compatibility: fastnn counts
        the corpus itself.  As in gensim, only the `callbacks` passed here are called
        (the constructor passes its own).  Returns (words trained after sub-sampling,
        raw words)."""
        if self.wv is None:
            raise RuntimeError("you must build the vocabulary before training the model: "
                               "call build_vocab(corpus) first")
        epochs = self.epochs if epochs is None else int_scalar(epochs, "epochs", low=1)
        a0 = self.alpha if start_alpha is None else real_scalar(start_alpha, "start_alpha", low=0)
        a1 = self.min_alpha if end_alpha is None else real_scalar(end_alpha, "end_alpha", low=0)
        _optional_int(total_examples, "total_examples", 0)
        _optional_int(total_words, "total_words", 0)
        if compute_loss is not None:
            self.compute_loss = bool(_flag(compute_loss, "compute_loss"))
        callbacks = self._check_callbacks(callbacks)     # gensim: only those passed here
        corpus = _corpus_source(corpus_iterable, corpus_file, "train")
        name = "corpus_file" if corpus_file is not None else "corpus_iterable"
        ids, starts, _, raw_words = encode_corpus(corpus, name, self._key_to_index)
        n_threads = resolve_threads(self.workers, "workers")
        hot_rows = self._hot_rows(n_threads)
        self.loss_curve_ = np.full(epochs, np.nan)
        self._latest_loss = 0.0
        bar = self._progress_bar(epochs)
        trained = 0
        self._callback(callbacks, "on_train_begin")
        try:
            for e in range(epochs):
                self._callback(callbacks, "on_epoch_begin")
                t0 = time.perf_counter()
                words = 0
                if len(ids):
                    seed = np.random.SeedSequence([self.seed, self.epochs_trained_]).generate_state(
                        1, np.uint64)[0]
                    loss, words = _sgns.epoch(
                        self._syn0, self.syn1neg, ids, starts, self._keep, self._alias_prob,
                        self._alias_idx, self.sg, self.cbow_mean, self.window, self.shrink_windows,
                        self.negative, a0 + (a1 - a0) * e / epochs, a0 + (a1 - a0) * (e + 1) / epochs,
                        int(seed), True, n_threads, hot_rows)
                    self.loss_curve_[e] = loss
                    self._latest_loss = loss
                seconds = time.perf_counter() - t0
                self.epochs_trained_ += 1
                trained += words
                if not (np.isfinite(self._syn0).all() and np.isfinite(self.syn1neg).all()):
                    raise FloatingPointError(f"training diverged in epoch {e + 1} (vectors are no "
                                             f"longer finite); lower alpha (now {a0})")
                self._report(bar, e, epochs, len(ids), words, seconds)
                self._callback(callbacks, "on_epoch_end")
        finally:
            if bar is not None:
                bar.close()
        self._make_wv()
        self._callback(callbacks, "on_train_end")
        return trained, raw_words * epochs

    def _hot_rows(self, n_threads):
        """The output rows of the most frequent words, which every thread updates all the
        time: with several threads the kernel trains them in per-thread copies (a copy and
        a base, merged every max(1k, rows) words), so that their cache lines do not bounce
        between cores.  Measured on the WEB Bible (V = 7.8k), 2 threads: 0.79M words/s
        with no copies, 1.27M with the top 1,024 rows, 1.66M with all (1 thread: 0.95M).
        None on one thread (the kernel keeps no copies there; no sort of the vocabulary)."""
        if n_threads == 1:
            return None
        per_row = 2 * n_threads * self.syn1neg.shape[1] * self.syn1neg.itemsize
        top = np.argsort(-self._counts, kind="stable")[:max(1024, _HOT_BYTES // per_row)]
        return np.ascontiguousarray(top, dtype=np.int32)

    def _callback(self, callbacks, hook):
        for cb in callbacks:
            method = getattr(cb, hook, None)
            if callable(method):
                method(self)

    def _progress_bar(self, epochs):
        if not self.verbose:
            return None
        from tqdm.auto import tqdm
        return tqdm(total=epochs, desc="Word2Vec", unit="epoch", leave=False)

    def _report(self, bar, e, epochs, n_ids, words, seconds):
        if not self.verbose:
            return
        rate = n_ids / seconds if seconds > 0 else float("inf")
        loss = f", loss {self.loss_curve_[e]:.6g}"
        logger.info("Word2Vec epoch %d/%d: %d words (%d after sub-sampling) in %.2f s, "
                    "%.0f words/s%s", e + 1, epochs, n_ids, words, seconds, rate, loss)
        bar.set_postfix_str(f"{rate:,.0f} words/s{loss}")
        bar.update(1)

    def get_latest_training_loss(self):
        """The summed negative-sampling loss of the last epoch trained."""
        return float(getattr(self, "_latest_loss", 0.0))

    # ---------------------------------------------------------------- persistence
    def save(self, path):
        """Write the model (vectors, output vectors, vocabulary, settings) to exactly
        `path` (an .npz archive without pickle; callbacks and trim_rule are not saved)."""
        if self.wv is None:
            raise RuntimeError("nothing to save: build the vocabulary first")
        meta = {name: getattr(self, name) for name in _PARAMS}
        meta.update(corpus_count=self.corpus_count, corpus_total_words=self.corpus_total_words,
                    epochs_trained_=self.epochs_trained_,
                    latest_loss=self.get_latest_training_loss(),
                    effective_min_count_=self.effective_min_count_)
        arrays = {"vectors": self._syn0, "syn1neg": self.syn1neg, "counts": self._counts,
                  "words": np.array(self._words, dtype=str), "loss_curve": self.loss_curve_}
        save_arrays(path, _KIND, arrays, meta)

    @classmethod
    def load(cls, path):
        """Read a model written by `save` (ready to use and to train further)."""
        arrays, meta = load_arrays(path, _KIND)
        try:
            model = cls(**{name: meta[name] for name in _PARAMS})
            words = [str(w) for w in arrays["words"]]
            if len(words) != arrays["vectors"].shape[0]:
                raise ValueError("the vocabulary and the vectors differ in length")
            model._set_vocab(words, arrays["counts"].astype(np.int64), arrays["vectors"],
                             arrays["syn1neg"])
            model.loss_curve_ = arrays["loss_curve"]
            model.corpus_count = meta["corpus_count"]
            model.corpus_total_words = meta["corpus_total_words"]
            model.epochs_trained_ = meta["epochs_trained_"]
            model.effective_min_count_ = meta["effective_min_count_"]
            model._latest_loss = meta["latest_loss"]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"{str(path)!r} is not a valid Word2Vec model file: {exc}") from None
        return model

    def __repr__(self):
        V = 0 if self.wv is None else len(self._words)
        return (f"Word2Vec<vocab={V}, vector_size={self.vector_size}, "
                f"{'skip-gram' if self.sg else 'CBOW'}, negative={self.negative}, "
                f"window={self.window}, alpha={self.alpha}>")
