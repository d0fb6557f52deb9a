"""Text preparation shared by fastnn's language models and word embeddings.

- `tokenize`: a small, documented rule-based tokenizer.
- `iter_sentences`: sentences (token lists) from a text file or an iterable.
- `Vocabulary`: word <-> id mapping with the specials ``<unk>`` = 0, ``<s>`` = 1,
  ``</s>`` = 2, then words by descending training count.
- `encode_corpus`: a corpus as one flat int32 id array plus sentence offsets.

Perplexity convention shared by every language model in fastnn: the exponential of the
mean natural-log loss over every predicted token, i.e. each sentence's words and its
``</s>`` (``<unk>`` targets count, like any other word); ``<s>`` is context only and is
never predicted.
"""
import gzip
import os
import pathlib
import re
from collections import Counter
from numbers import Integral

import numpy as np
from sklearn.exceptions import NotFittedError

from fastnn.io import load_arrays, save_arrays

__all__ = ["tokenize", "iter_sentences", "Vocabulary", "encode_corpus",
           "UNK", "BOS", "EOS"]

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
_SPECIALS = (UNK, BOS, EOS)

# curly quotes -> straight ones (applied before matching)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
# a word: letters / digits ([^\W_] is \w without the underscore), with internal
# apostrophes ("god's", "don't"); otherwise any single non-space character
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|\S")


def tokenize(text, lowercase=True):
    """Split ``text`` into word and punctuation tokens.

    Rules, in order: curly quotes are made straight (’ ‘ -> ', “ ” -> "); the text
    is lower-cased when ``lowercase``; a word is a run of Unicode letters and digits,
    possibly joined by single internal apostrophes ("god's", "don't"); every other
    non-space character (punctuation, symbols, the underscore, an apostrophe that is
    not inside a word) is a token of its own; whitespace only separates tokens.

    >>> tokenize("God’s Spirit—was here.")
    ["god's", 'spirit', '—', 'was', 'here', '.']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = text.translate(_QUOTES)
    if lowercase:
        text = text.lower()
    return _TOKEN.findall(text)


def _file_lines(path):
    if not os.path.isfile(path):
        shown = os.fspath(path)
        hint = ""
        if isinstance(path, str) and ("\n" in shown or len(shown) > 200):
            shown = shown[:60] + "..."
            hint = " (a str corpus is a file path: pass text as a list of sentences)"
        raise FileNotFoundError(f"corpus: no such file {shown!r}{hint}")
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        yield from f


def iter_sentences(corpus, lowercase=True):
    """Yield each sentence of ``corpus`` as a list of str tokens.

    ``corpus`` is either
    - a path (``str`` or ``pathlib.Path``) to a UTF-8 text file holding one sentence or
      paragraph a line (read with gzip when the name ends in ``.gz``); each line is
      split with `tokenize`; or
    - an iterable whose items are sentences: a ``str`` (split with `tokenize`) or a
      list / tuple of str tokens (used as they are, not lower-cased).

    Sentences with no token (blank lines, empty lists) are skipped: they predict
    nothing under fastnn's perplexity convention.  Raises FileNotFoundError for a
    missing file and TypeError for bytes or any other item type or a non-str token.
    """
    if isinstance(corpus, (str, pathlib.PurePath)):
        for line in _file_lines(corpus):
            tokens = tokenize(line, lowercase)
            if tokens:
                yield tokens
        return
    if isinstance(corpus, (bytes, bytearray)):
        raise TypeError("corpus must be a file path or an iterable of sentences, got bytes; "
                        "decode it to str first")
    try:
        items = iter(corpus)
    except TypeError:
        raise TypeError("corpus must be a file path (str or pathlib.Path) or an iterable of "
                        f"sentences, got {type(corpus).__name__}") from None
    for i, item in enumerate(items):
        if isinstance(item, str):
            tokens = tokenize(item, lowercase)
        elif isinstance(item, (list, tuple)):
            _check_tokens(item, f"corpus sentence {i}")
            tokens = list(item)
        else:
            raise TypeError(f"corpus sentence {i} must be a str or a list/tuple of str "
                            f"tokens, got {type(item).__name__}")
        if tokens:
            yield tokens


def _check_size(value, name, allow_none):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral):
        what = "None or an int" if allow_none else "an int"
        raise TypeError(f"{name} must be {what} >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _token_list(tokens, name):
    if isinstance(tokens, (str, bytes)):
        raise TypeError(f"{name} must be a list of str tokens, got a {type(tokens).__name__} "
                        "(split text with fastnn.text.tokenize first)")
    try:
        tokens = list(tokens)
    except TypeError:
        raise TypeError(f"{name} must be a list of str tokens, "
                        f"got {type(tokens).__name__}") from None
    _check_tokens(tokens, name)
    return tokens


def _check_tokens(tokens, name):
    """TypeError naming ``name`` unless every token is a str (fast path in C)."""
    if set(map(type, tokens)) <= {str}:
        return
    for token in tokens:
        if not isinstance(token, str):
            raise TypeError(f"{name} holds a {type(token).__name__} token {token!r}; "
                            "tokens must be str")


class Vocabulary:
    """Word <-> integer id mapping learnt from a corpus.

    Ids: ``<unk>`` = 0, ``<s>`` = 1, ``</s>`` = 2 (always present, not counted by
    ``max_size``), then the words occurring at least ``min_count`` times by descending
    count, ties broken by first occurrence in the corpus (so ids are reproducible).
    When more than ``max_size`` words qualify, the most frequent ``max_size`` are kept.

    ``counts[i]`` is how often id ``i`` occurs as a prediction target in the encoded
    training corpus: words their count, ``<unk>`` the total count of the words left
    out (0 when none was), ``</s>`` the number of non-empty sentences, ``<s>`` 0.  So
    ``counts.sum()`` is the number of predicted tokens of the training corpus.

    Parameters
    ----------
    min_count : int >= 1, default=1
    max_size : int >= 1 or None, default=None
    """

    def __init__(self, min_count=1, max_size=None):
        self.min_count = _check_size(min_count, "min_count", allow_none=False)
        self.max_size = _check_size(max_size, "max_size", allow_none=True)
        self._itos = None

    # -- fitting -----------------------------------------------------------------
    def fit(self, sentences):
        """Count the tokens of ``sentences`` (an iterable of token lists) and build the
        mapping; returns self.  Raises ValueError when there is no token at all or no
        word reaches ``min_count``."""
        if isinstance(sentences, (str, bytes, pathlib.PurePath)):
            raise TypeError("sentences must be an iterable of token lists; read a file "
                            "with fastnn.text.iter_sentences(path)")
        counter = Counter()
        n_sentences = 0
        for i, sentence in enumerate(sentences):
            tokens = _token_list(sentence, f"sentences[{i}]")
            if tokens:
                counter.update(tokens)
                n_sentences += 1
        if not counter:
            raise ValueError("cannot fit a Vocabulary: the corpus is empty (no tokens)")
        special = {s: counter.pop(s, 0) for s in _SPECIALS}
        # Counter keeps first-occurrence order; sorted() is stable -> ties by first use
        ranked = sorted(counter.items(), key=lambda kv: -kv[1])
        kept = [(w, c) for w, c in ranked if c >= self.min_count]
        if self.max_size is not None:
            kept = kept[:self.max_size]
        if not kept:
            raise ValueError(f"cannot fit a Vocabulary: no word occurs at least "
                             f"min_count={self.min_count} times")
        dropped = sum(counter.values()) - sum(c for _, c in kept)
        self._set(list(_SPECIALS) + [w for w, _ in kept],
                  [special[UNK] + dropped, special[BOS], special[EOS] + n_sentences]
                  + [c for _, c in kept])
        return self

    def _set(self, itos, counts):
        self._itos = list(itos)
        self._stoi = {w: i for i, w in enumerate(self._itos)}
        self._counts = np.asarray(counts, dtype=np.int64)

    def _check_fitted(self):
        if self._itos is None:
            raise NotFittedError("This Vocabulary instance is not fitted yet. Call 'fit' "
                                 "with a corpus first.")

    # -- mapping -----------------------------------------------------------------
    @property
    def itos(self):
        """list[str]: the token of each id."""
        self._check_fitted()
        return self._itos

    @property
    def stoi(self):
        """dict[str, int]: the id of each token."""
        self._check_fitted()
        return self._stoi

    @property
    def counts(self):
        """np.int64 array (V,): training count of each id (see the class docstring)."""
        self._check_fitted()
        return self._counts

    @property
    def unk_id(self):
        """Id of ``<unk>`` (0)."""
        return 0

    @property
    def bos_id(self):
        """Id of ``<s>`` (1)."""
        return 1

    @property
    def eos_id(self):
        """Id of ``</s>`` (2)."""
        return 2

    def __len__(self):
        self._check_fitted()
        return len(self._itos)

    def __contains__(self, token):
        self._check_fitted()
        return token in self._stoi

    def __repr__(self):
        size = "unfitted" if self._itos is None else f"{len(self._itos)} tokens"
        return f"Vocabulary(min_count={self.min_count}, max_size={self.max_size}; {size})"

    def encode(self, tokens):
        """np.int32 ids of the str ``tokens``; tokens not in the vocabulary -> unk_id."""
        self._check_fitted()
        tokens = _token_list(tokens, "tokens")
        get = self._stoi.get
        return np.fromiter((get(t, 0) for t in tokens), dtype=np.int32, count=len(tokens))

    def decode(self, ids):
        """The tokens (list[str]) of the integer ``ids``; ValueError for an id outside
        [0, len(self)), TypeError for non-integer ids."""
        self._check_fitted()
        a = np.asarray(ids)
        if a.ndim > 1:
            raise ValueError(f"ids must be 1-D, got shape {a.shape}")
        a = a.reshape(-1)
        if a.size == 0:
            return []
        if a.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers, got dtype {a.dtype}")
        lo, hi = a.min(), a.max()
        if lo < 0 or hi >= len(self._itos):
            bad = lo if lo < 0 else hi
            raise ValueError(f"ids must lie in [0, {len(self._itos)}), found {bad}")
        itos = self._itos
        return [itos[i] for i in a.tolist()]

    # -- persistence -------------------------------------------------------------
    def to_meta(self):
        """A JSON-serialisable dict describing the fitted vocabulary (for model files)."""
        self._check_fitted()
        return {"min_count": self.min_count, "max_size": self.max_size,
                "itos": list(self._itos), "counts": self._counts.tolist()}

    @classmethod
    def from_meta(cls, meta):
        """The Vocabulary described by a `to_meta` dict; ValueError if it is malformed."""
        try:
            vocab = cls(meta["min_count"], meta["max_size"])
            itos, counts = meta["itos"], meta["counts"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"meta is not a Vocabulary description: {exc!r}") from None
        cls._check_table(itos, counts)
        vocab._set(itos, counts)
        return vocab

    @staticmethod
    def _check_table(itos, counts):
        if (not isinstance(itos, list) or not all(isinstance(w, str) for w in itos)
                or itos[:3] != list(_SPECIALS) or len(set(itos)) != len(itos) or len(itos) < 4):
            raise ValueError("meta['itos'] must be a list of distinct str starting with "
                             "'<unk>', '<s>', '</s>' followed by at least one word")
        c = np.asarray(counts)
        if c.shape != (len(itos),) or c.dtype.kind not in "iu" or (c < 0).any():
            raise ValueError(f"meta['counts'] must be {len(itos)} non-negative integers")

    def save(self, path):
        """Write the vocabulary to the ``.npz`` file ``path`` (fastnn.io format)."""
        meta = self.to_meta()
        counts = np.asarray(meta.pop("counts"), dtype=np.int64)
        save_arrays(path, "Vocabulary", {"counts": counts}, meta)

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by `save`."""
        arrays, meta = load_arrays(path, "Vocabulary")
        if "counts" not in arrays:
            raise ValueError(f"{os.fspath(path)!r} has no 'counts' array")
        meta = dict(meta, counts=arrays["counts"].tolist())
        return cls.from_meta(meta)


def encode_corpus(vocab, sentences):
    """Encode ``sentences`` (an iterable of token lists) for a language model.

    Returns ``(ids, starts)``: ``ids`` np.int32 (N,) holds each sentence's ids followed
    by ``vocab.eos_id``; ``starts`` np.int64 (S,) the offset in ``ids`` of each
    sentence's first id.  Empty sentences are skipped.  An LM builds its windows with
    ``fastnn._kernels.embedding.lm_windows(ids, n, vocab.bos_id, starts, ...)``: every
    id in ``ids`` (words and ``</s>``) is a target; contexts before a start are ``<s>``.
    """
    if not isinstance(vocab, Vocabulary):
        raise TypeError(f"vocab must be a fastnn.text.Vocabulary, got {type(vocab).__name__}")
    vocab._check_fitted()
    if isinstance(sentences, (str, bytes, pathlib.PurePath)):
        raise TypeError("sentences must be an iterable of token lists; read a file "
                        "with fastnn.text.iter_sentences(path)")
    get, eos = vocab.stoi.get, vocab.eos_id
    flat, lengths = [], []
    for i, sentence in enumerate(sentences):
        tokens = _token_list(sentence, f"sentences[{i}]")
        if not tokens:
            continue
        flat.extend([get(t, 0) for t in tokens])
        flat.append(eos)
        lengths.append(len(tokens) + 1)
    ids = np.array(flat, dtype=np.int32)
    starts = np.zeros(len(lengths), dtype=np.int64)
    if lengths:
        np.cumsum(lengths[:-1], out=starts[1:])
    return ids, starts
