"""Corpus readers and the passes word2vec makes over a corpus.

- `LineSentence`: a re-iterable, streaming reader of a whitespace-tokenised UTF-8 file
  (one sentence per line, .gz / .bz2 by extension), gensim's class of the same name.
- `count_words`: the vocabulary-counting pass (gensim's pruning by ``max_vocab_size``).
- `encode_corpus`: the encoding pass, to one flat int32 id array and sentence offsets;
  words outside the vocabulary are dropped, sentences are split every
  ``MAX_SENTENCE_LEN`` words.

A ``corpus_file`` goes through the same two passes as a `LineSentence`, so its peak
memory is the encoded ids plus the vocabulary.
"""
import bz2
import gzip
import itertools
import os
from array import array
from collections import Counter

import numpy as np

# gensim's cap: longer sentences are split into pieces of at most this many words
MAX_SENTENCE_LEN = 10000

# trim_rule results, gensim's values (gensim.utils.RULE_DEFAULT / DISCARD / KEEP)
RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2


def _open_text(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    if path.endswith(".bz2"):
        return bz2.open(path, "rt", encoding="utf-8")
    return open(path, "r", encoding="utf-8")


class LineSentence:
    """Sentences from a text file, one per line, tokens separated by whitespace.

    Parameters
    ----------
    source : str, os.PathLike or file object
        A path (UTF-8 text, decompressed on the fly when it ends in .gz or .bz2) or an
        open file object (text or binary; it is rewound with ``seek(0)`` before every
        pass, so it must be seekable).
    max_sentence_length : int, default=10000
        Lines longer than this many tokens are split into consecutive pieces.
    limit : int or None, default=None
        Read only the first ``limit`` lines.

    Iterating yields lists of str; the object can be iterated any number of times.
    """

    def __init__(self, source, max_sentence_length=MAX_SENTENCE_LEN, limit=None):
        if isinstance(source, (str, os.PathLike)):
            source = os.fspath(source)
            if not os.path.isfile(source):
                raise FileNotFoundError(f"source: no such file: {source!r}")
        elif not hasattr(source, "read"):
            raise TypeError("source must be a path or a file object, got "
                            f"{type(source).__name__}")
        if (isinstance(max_sentence_length, bool) or not isinstance(max_sentence_length, int)
                or max_sentence_length < 1):
            raise ValueError(f"max_sentence_length must be an int >= 1, got {max_sentence_length!r}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 0):
            raise ValueError(f"limit must be None or an int >= 0, got {limit!r}")
        self.source = source
        self.max_sentence_length = max_sentence_length
        self.limit = limit

    def _lines(self):
        if isinstance(self.source, str):
            with _open_text(self.source) as f:
                yield from itertools.islice(f, self.limit)
            return
        self.source.seek(0)
        lines = itertools.islice(self.source, self.limit)
        for line in lines:
            yield line.decode("utf-8") if isinstance(line, bytes) else line

    def __iter__(self):
        """Yield each line's tokens (pieces of at most max_sentence_length tokens)."""
        n = self.max_sentence_length
        for line in self._lines():
            tokens = line.split()
            for i in range(0, len(tokens), n):
                yield tokens[i:i + n]


def check_corpus_iterable(corpus, name="corpus_iterable"):
    """Raise TypeError unless `corpus` can be iterated more than once (a list, a
    LineSentence, any object whose __iter__ starts afresh)."""
    if isinstance(corpus, (str, bytes)):
        raise TypeError(f"{name} must be an iterable of token lists, got a {type(corpus).__name__}; "
                        "for a file use corpus_file= or LineSentence(path)")
    try:
        it = iter(corpus)
    except TypeError:
        raise TypeError(f"{name} must be an iterable of token lists, got "
                        f"{type(corpus).__name__}") from None
    if it is corpus:
        raise TypeError(f"{name} is a one-shot iterator ({type(corpus).__name__}); word2vec "
                        "reads the corpus more than once: pass a list of token lists or a "
                        "re-iterable object such as LineSentence")


def _sentences(corpus, name):
    """Iterate the sentences, rejecting a bare string as a sentence."""
    for sentence in corpus:
        if isinstance(sentence, (str, bytes)):
            raise TypeError(f"{name} must yield lists of str tokens, got a "
                            f"{type(sentence).__name__} sentence: {sentence[:40]!r}")
        yield sentence


def keep_word(word, count, min_count, trim_rule):
    """gensim's rule: trim_rule(word, count, min_count) may keep (2) or discard (1) the
    word; otherwise (0 / None) the word stays when count >= min_count."""
    if trim_rule is not None:
        rule = trim_rule(word, count, min_count)
        if rule == RULE_KEEP:
            return True
        if rule == RULE_DISCARD:
            return False
    return count >= min_count


def count_words(corpus, name, max_vocab_size=None, trim_rule=None):
    """Word counts of a corpus in first-occurrence order, plus (sentences, words).

    With ``max_vocab_size``, whenever more distinct words than that are held, the words
    seen fewer than 1, then 2, 3, ... times are dropped (gensim's pruning)."""
    counts = Counter()
    n_sentences = n_words = 0
    min_reduce = 1
    for sentence in _sentences(corpus, name):
        counts.update(sentence)
        n_sentences += 1
        n_words += len(sentence)
        if max_vocab_size is not None and len(counts) > max_vocab_size:
            for word in [w for w, c in counts.items()
                         if not keep_word(w, c, min_reduce, trim_rule)]:
                del counts[word]
            min_reduce += 1
    for word in counts:
        if not isinstance(word, str):
            raise TypeError(f"{name} must yield lists of str tokens, found a "
                            f"{type(word).__name__} token {word!r}")
    return counts, n_sentences, n_words


class _IdOrMinusOne(dict):
    """word -> id, and -1 for a word outside the vocabulary (counted in `misses`)."""
    misses = 0

    def __missing__(self, key):
        self.misses += 1
        return -1


def encode_corpus(corpus, name, key_to_index, max_len=MAX_SENTENCE_LEN):
    """The corpus as (ids int32, starts int64 (S + 1,), raw sentences, raw words):
    in-vocabulary words only, empty sentences dropped, sentences cut every max_len words.
    Memory: about 9 bytes per raw token at the peak (the ids, then the filtered copy)."""
    ids, lengths = array("i"), array("q")
    index = _IdOrMinusOne(key_to_index)
    lookup = index.__getitem__
    n_sentences = n_words = 0
    for sentence in _sentences(corpus, name):
        before, missed = len(ids), index.misses
        ids.extend(map(lookup, sentence))          # a C-level loop per sentence
        n = len(ids) - before
        n_sentences += 1
        n_words += n
        if n > index.misses - missed:              # some word of it is in the vocabulary
            lengths.append(n - (index.misses - missed))
    ids = np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, np.int32)
    if index.misses:
        ids = ids[ids >= 0]
    kept = np.frombuffer(lengths, dtype=np.int64) if len(lengths) else np.zeros(0, np.int64)
    if (kept > max_len).any():                     # split long sentences into pieces
        pieces = [np.full(k // max_len, max_len, np.int64) for k in kept]
        kept = np.concatenate([np.r_[p, k - p.sum()] if k % max_len else p
                               for p, k in zip(pieces, kept)])
    starts = np.zeros(len(kept) + 1, np.int64)
    np.cumsum(kept, out=starts[1:])
    return np.ascontiguousarray(ids), starts, n_sentences, n_words


def file_corpus(corpus_file, name="corpus_file"):
    """A LineSentence over `corpus_file` (a path), with a clear error when it is missing."""
    if not isinstance(corpus_file, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path, got {type(corpus_file).__name__}")
    path = os.fspath(corpus_file)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{name}: no such file: {path!r}")
    return LineSentence(path)
