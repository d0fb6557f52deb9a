"""KeyedVectors: a vocabulary of words with one vector each, queried like gensim 4's.

The similarity arithmetic follows gensim's step by step (unit vectors in the vectors'
dtype, a float64 mean normalised with BLAS ``dnrm2`` / ``dscal``, then
``vectors @ mean / norms``), so rankings agree with gensim's on the same vectors.
One deliberate difference: an all-zero vector has no direction; gensim turns it into
NaNs, here its unit vector is the zero vector (similarity 0 to a query built from it;
its own similarity scores to queries are NaN and it is ranked last, as in gensim).
"""
import numbers
import warnings

import numpy as np
from scipy.linalg import blas as _blas

from .. import io as _io
from .._validation import float_array

_KIND = "KeyedVectors"


def _unitvec(vec):
    """``vec`` scaled to unit length computed in float64 as gensim's ``matutils.unitvec``
    (``dnrm2``, ``dscal``), returned in ``vec``'s dtype; a zero vector is returned unchanged."""
    v64 = np.asarray(vec, dtype=np.float64)
    length = _blas.dnrm2(v64)
    if not length > 0.0:
        return np.array(vec, copy=True)
    return (v64 * (1.0 / length)).astype(vec.dtype)


def _running_mean(rows):
    """Mean of the rows summed one by one in their dtype (gensim's ``get_mean_vector``
    without normalisation), so results round as gensim's do."""
    mean = np.zeros(rows.shape[1], rows.dtype)
    for row in rows:
        mean += row
    return mean / rows.dtype.type(rows.shape[0])


def _ensure_list(value):
    """gensim's convention: None -> [], a single key or 1-D vector -> [it], else a list."""
    if value is None:
        return []
    if isinstance(value, (str, numbers.Integral)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return [value]
    return list(value)


def _top_indices(scores, k):
    """Indices of the k largest scores, best first (NaN ranks last)."""
    neg = -scores
    neg[np.isnan(neg)] = np.inf
    if k >= neg.size:
        return np.argsort(neg, kind="stable")[:k]
    part = np.argpartition(neg, k)[:k]
    return part[np.argsort(neg[part], kind="stable")]


def _check_topn(topn):
    if topn is None:
        return None
    if isinstance(topn, bool) or not isinstance(topn, numbers.Integral):
        raise TypeError(f"topn must be an int or None, got {type(topn).__name__}")
    return int(topn)


class KeyedVectors:
    """Words (keys) and their vectors, with gensim 4's ``KeyedVectors`` query API.

    Parameters
    ----------
    vectors : array of shape (V, d), float32 or float64 (kept), or an int ``d``
        The vectors, one row per word.  An int creates an empty set of ``d``-dimensional
        float32 vectors (fill it with ``add_vectors``), like gensim's ``KeyedVectors(d)``.
    index_to_key : list of str, length V
        The words, unique, in row order.
    counts : int array of shape (V,), optional
        Word counts (``get_vecattr(word, "count")``).
    dtype : float32 or float64, optional
        Only with an int ``vectors``: the dtype of the empty vectors.

    Vectors changed in place (``kv.vectors[i] = ...``) need ``kv.fill_norms(force=True)``
    afterwards, as in gensim; assigning ``kv.vectors = new`` or ``add_vectors`` resets the
    cached norms by itself.
    """

    def __init__(self, vectors, index_to_key=None, counts=None, *, dtype=None):
        if isinstance(vectors, numbers.Integral) and not isinstance(vectors, bool):
            if vectors < 1:
                raise ValueError(f"vector_size must be >= 1, got {vectors}")
            if index_to_key:
                raise ValueError("index_to_key must be empty when vectors is a vector size")
            dtype = np.dtype(np.float32 if dtype is None else dtype)
            if dtype not in (np.float32, np.float64):
                raise ValueError(f"dtype must be float32 or float64, got {dtype}")
            vectors, index_to_key = np.zeros((0, int(vectors)), dtype), []
        elif dtype is not None:
            raise ValueError("dtype is only used with an int vector size; convert the vectors instead")
        if index_to_key is None:
            raise TypeError("index_to_key (the list of words) is required with a vectors array")
        keys = list(index_to_key)
        vectors = self._check_vectors(vectors, len(keys))
        key_to_index = {}
        for i, key in enumerate(keys):
            if not isinstance(key, str):
                raise TypeError(f"index_to_key must hold str, got {type(key).__name__} at position {i}")
            j = key_to_index.setdefault(key, i)
            if j != i:
                raise ValueError(f"index_to_key holds {key!r} twice (positions {j} and {i})")
        self.index_to_key = keys
        self.key_to_index = key_to_index
        self._vectors = vectors
        self._norms = None
        self._attrs = {}
        if counts is not None:
            self._attrs["count"] = self._check_attr(counts, "counts")

    # ---- storage ------------------------------------------------------------------
    @staticmethod
    def _check_vectors(vectors, n_keys):
        a = np.asarray(vectors)
        if a.ndim == 2 and a.shape[0] == 0 and a.shape[1] > 0 and a.dtype.kind in "fiu":
            a = a.astype(a.dtype if a.dtype in (np.float32, np.float64) else np.float32)
        else:
            a = float_array(vectors, "vectors", ndim=2)
        if a.shape[0] != n_keys:
            raise ValueError(f"vectors has {a.shape[0]} rows but index_to_key has {n_keys} words")
        if a.shape[1] < 1:
            raise ValueError(f"vectors must have at least one column, got shape {a.shape}")
        return np.ascontiguousarray(a)

    def _check_attr(self, values, name):
        a = np.asarray(values)
        if a.ndim != 1 or a.shape[0] != len(self.index_to_key):
            raise ValueError(f"{name} must have shape ({len(self.index_to_key)},), got {a.shape}")
        if a.dtype.kind not in "iub":
            raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
        return a.astype(np.int64)

    @property
    def vectors(self):
        """The (V, d) vector matrix (rows in ``index_to_key`` order)."""
        return self._vectors

    @vectors.setter
    def vectors(self, value):
        self._vectors = self._check_vectors(value, len(self.index_to_key))
        self._norms = None

    @property
    def vector_size(self):
        """Dimensionality d of the vectors."""
        return self._vectors.shape[1]

    @property
    def norms(self):
        """The L2 norm of every vector (computed once and cached)."""
        self.fill_norms()
        return self._norms

    def fill_norms(self, force=False):
        """Compute and cache the vector norms (again if ``force``, e.g. after changing
        ``vectors`` in place)."""
        if self._norms is None or force or self._norms.shape[0] != self._vectors.shape[0]:
            self._norms = np.linalg.norm(self._vectors, axis=1)

    def _safe_norms(self):
        n = self.norms
        return np.where(n > 0, n, 1).astype(n.dtype, copy=False)

    def get_normed_vectors(self):
        """A new (V, d) array of the unit-length vectors (zero vectors stay zero)."""
        return self._vectors / self._safe_norms()[:, None]

    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, key):
        return self.has_index_for(key)

    def has_index_for(self, key):
        """True if ``key`` is a word of the vocabulary (or a valid int row index)."""
        return self.get_index(key, -1) >= 0

    def get_index(self, key, default=None):
        """Row index of ``key`` (an int row index is accepted as itself); KeyError when
        absent unless ``default`` is given."""
        if isinstance(key, str):
            i = self.key_to_index.get(key, -1)
            if i >= 0:
                return i
        elif isinstance(key, (numbers.Integral)) and not isinstance(key, bool) and 0 <= key < len(self):
            return int(key)
        if default is not None:
            return default
        raise KeyError(f"Key {key!r} not present in vocabulary")

    def get_vector(self, key, norm=False):
        """The (read-only) vector of ``key``, scaled to unit length if ``norm``."""
        i = self.get_index(key)
        if norm:
            result = self._vectors[i] / self._safe_norms()[i]
        else:
            result = self._vectors[i]
        result.setflags(write=False)
        return result

    def __getitem__(self, key_or_keys):
        if isinstance(key_or_keys, (str, numbers.Integral)):
            return self.get_vector(key_or_keys)
        rows = [self.get_index(k) for k in key_or_keys]
        return self._vectors[rows]

    def __setitem__(self, keys, weights):
        self.add_vectors(keys, weights, replace=True)

    def get_vecattr(self, key, attr):
        """The stored attribute ``attr`` (e.g. ``"count"``) of ``key``."""
        i = self.get_index(key)
        if attr not in self._attrs:
            raise KeyError(f"no vector attribute {attr!r} stored (stored: {sorted(self._attrs)})")
        return int(self._attrs[attr][i])

    def set_vecattr(self, key, attr, value):
        """Set the integer attribute ``attr`` of ``key`` (created as zeros for all words)."""
        i = self.get_index(key)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"value must be an int, got {type(value).__name__}")
        self._attrs.setdefault(attr, np.zeros(len(self), np.int64))[i] = value

    def add_vector(self, key, vector):
        """Add one word (or replace its vector if present); returns its row index."""
        self.add_vectors([key], np.asarray(vector)[None, :], replace=True)
        return self.key_to_index[key]

    def add_vectors(self, keys, weights, replace=False):
        """Append the words ``keys`` with rows ``weights`` (1-D for a single key); words
        already present keep their vector unless ``replace``.  New words get count 0."""
        if isinstance(keys, str):
            keys, weights = [keys], np.asarray(weights)[None, :] if np.ndim(weights) == 1 else weights
        keys = list(keys)
        w = float_array(weights, "weights", ndim=2)
        if w.shape != (len(keys), self.vector_size):
            raise ValueError(f"weights must have shape ({len(keys)}, {self.vector_size}), got {w.shape}")
        if len(set(keys)) != len(keys):
            raise ValueError("keys holds the same word more than once")
        for k in keys:
            if not isinstance(k, str):
                raise TypeError(f"keys must hold str, got {type(k).__name__}")
        old = [i for i, k in enumerate(keys) if k in self.key_to_index]
        new = [i for i, k in enumerate(keys) if k not in self.key_to_index]
        vectors = self._vectors
        if replace and old:
            vectors = vectors.copy()
            vectors[[self.key_to_index[keys[i]] for i in old]] = w[old]
        if new:
            vectors = np.concatenate([vectors, w[new].astype(vectors.dtype)])
            for i in new:
                self.key_to_index[keys[i]] = len(self.index_to_key)
                self.index_to_key.append(keys[i])
            for name, a in self._attrs.items():
                self._attrs[name] = np.concatenate([a, np.zeros(len(new), np.int64)])
        self._vectors = np.ascontiguousarray(vectors)
        self._norms = None

    def __repr__(self):
        return f"KeyedVectors<vector_size={self.vector_size}, {len(self)} keys>"

    # ---- similarity queries -------------------------------------------------------
    def _clip(self, restrict_vocab):
        if restrict_vocab is None:
            return len(self)
        if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, numbers.Integral):
            raise TypeError(f"restrict_vocab must be an int or None, got {type(restrict_vocab).__name__}")
        if restrict_vocab < 1:
            raise ValueError(f"restrict_vocab must be >= 1, got {restrict_vocab}")
        return min(int(restrict_vocab), len(self))

    def _as_query_vector(self, v, name):
        v = float_array(v, name, ndim=1)
        if v.shape[0] != self.vector_size:
            raise ValueError(f"{name} has {v.shape[0]} values, expected vector_size={self.vector_size}")
        return v

    def _weighted_terms(self, positive, negative):
        """[(row index or vector, weight)] from gensim-style positive / negative lists."""
        terms = []
        for items, sign, name in ((_ensure_list(positive), 1.0, "positive"),
                                  (_ensure_list(negative), -1.0, "negative")):
            for item in items:
                weight = sign
                if isinstance(item, tuple) and len(item) == 2:
                    item, weight = item
                    if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
                        raise TypeError(f"{name}: the weight of {item!r} must be a number")
                if isinstance(item, np.ndarray) or (isinstance(item, (list, tuple)) and item):
                    terms.append((self._as_query_vector(item, f"a {name} vector"), float(weight)))
                else:
                    terms.append((self.get_index(item), float(weight)))
        if not terms:
            raise ValueError("cannot compute similarity with no input: give positive and/or negative")
        return terms

    def _mean_unit(self, terms):
        """gensim's ``get_mean_vector(pre_normalize=True, post_normalize=True)``, which
        returns float32 whatever the vectors' dtype."""
        dtype = self._vectors.dtype
        mean = np.zeros(self.vector_size, dtype)
        total = np.float64(0.0)
        for t, w in terms:
            vec = self.get_vector(t, norm=True) if isinstance(t, int) else t
            mean += np.float64(w) * vec
            total += abs(np.float64(w))
        if total > 0:
            mean = mean / total
        return _unitvec(mean).astype(np.float32)  # float32 even for float64 vectors, as gensim

    def _ranked(self, terms, topn, end):
        """(cosine scores over rows [0, end), best list of (word, score)) for a query."""
        mean = self._mean_unit(terms)
        with np.errstate(invalid="ignore", divide="ignore"):
            dists = self._vectors[:end] @ mean / self.norms[:end]
        if topn is None:
            return dists
        exclude = {t for t, _ in terms if isinstance(t, int)}
        best = _top_indices(dists, topn + len(exclude))
        result = [(self.index_to_key[i], float(dists[i])) for i in best if i not in exclude]
        return result[:topn]

    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """The ``topn`` words most similar to the mean of the unit vectors of ``positive``
        (weight +1) and ``negative`` (weight -1) words, as a list of (word, cosine).

        ``positive`` / ``negative`` hold words, vectors or (word or vector, weight) pairs;
        a single word or vector is allowed.  The input words are left out of the result.
        ``restrict_vocab`` searches only the first so many words; ``topn=None`` returns
        the similarity to every (searched) word as an array instead.
        """
        topn = _check_topn(topn)
        if topn is not None and topn < 1:
            return []
        return self._ranked(self._weighted_terms(positive, negative), topn, self._clip(restrict_vocab))

    def similar_by_key(self, key, topn=10, restrict_vocab=None):
        """``most_similar(positive=[key])``."""
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_word = similar_by_key

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """The ``topn`` words whose vectors are most similar (cosine) to ``vector``."""
        return self.most_similar(positive=[self._as_query_vector(vector, "vector")],
                                 topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """Levy & Goldberg's 3CosMul: words maximising the product of (1 + cos)/2 to the
        ``positive`` words divided by that product for the ``negative`` words (+1e-6).
        Same arguments and result as ``most_similar``; a positive word is required."""
        topn = _check_topn(topn)
        if topn is not None and topn < 1:
            return []
        end = self._clip(restrict_vocab)
        pos, neg = _ensure_list(positive), _ensure_list(negative)
        if not pos:
            raise ValueError("most_similar_cosmul needs at least one positive word")
        exclude, factors = set(), []
        for items, name in ((pos, "positive"), (neg, "negative")):
            vecs = []
            for item in items:
                if isinstance(item, np.ndarray):
                    vecs.append(self._as_query_vector(item, f"a {name} vector"))
                else:
                    i = self.get_index(item)
                    exclude.add(i)
                    vecs.append(self.get_vector(i, norm=True))
            factors.append(vecs)
        with np.errstate(invalid="ignore", divide="ignore"):
            shifted = [[(1 + self._vectors[:end] @ v / self.norms[:end]) / 2 for v in vecs]
                       for vecs in factors]
        dists = np.prod(shifted[0], axis=0) / (np.prod(shifted[1], axis=0) + 0.000001)
        if topn is None:
            return dists
        best = _top_indices(dists, topn + len(exclude))
        return [(self.index_to_key[i], float(dists[i])) for i in best if i not in exclude][:topn]

    def similarity(self, w1, w2):
        """Cosine similarity of the vectors of two words."""
        return float(np.dot(_unitvec(self[w1]), _unitvec(self[w2])))

    def distance(self, w1, w2):
        """Cosine distance, ``1 - similarity(w1, w2)``."""
        return 1 - self.similarity(w1, w2)

    def n_similarity(self, ws1, ws2):
        """Cosine similarity of the mean vectors of two non-empty lists of words."""
        ws1, ws2 = list(ws1), list(ws2)
        if not (ws1 and ws2):
            raise ValueError("n_similarity needs two non-empty lists of words")
        m1, m2 = _running_mean(self[ws1]), _running_mean(self[ws2])
        return float(np.dot(_unitvec(m1), _unitvec(m2)))

    def distances(self, word_or_vector, other_words=()):
        """Cosine distances from a word or vector to ``other_words`` (all words if empty)."""
        if isinstance(word_or_vector, str):
            v = self.get_vector(word_or_vector)
        else:
            v = self._as_query_vector(word_or_vector, "word_or_vector")
        others = self._vectors if not other_words else self[list(other_words)]
        with np.errstate(invalid="ignore", divide="ignore"):
            return 1 - others @ v / (np.linalg.norm(v) * np.linalg.norm(others, axis=1))

    def rank_by_centrality(self, words, use_norm=True):
        """(similarity to the mean unit vector, word) for the known ``words``, most central
        first; unknown words are ignored with a warning (as gensim)."""
        words = list(words)
        used = [w for w in words if w in self]
        if len(used) != len(words):
            unknown = sorted(set(map(str, words)) - set(map(str, used)))
            warnings.warn(f"words not in the vocabulary are ignored: {unknown}", stacklevel=3)
        if not used:
            raise ValueError("cannot select a word from an empty list (no known words)")
        vecs = np.vstack([self.get_vector(w, norm=use_norm) for w in used]).astype(np.float32)
        mean = _unitvec(_running_mean(vecs))
        dists = vecs @ mean
        return sorted(zip(dists.tolist(), used), reverse=True)

    def doesnt_match(self, words):
        """The word of ``words`` farthest from the mean of their unit vectors (unknown
        words are ignored with a warning, as gensim)."""
        return self.rank_by_centrality(words)[-1][1]

    # ---- evaluation ---------------------------------------------------------------
    def evaluate_word_pairs(self, pairs, delimiter="\t", encoding="utf8", restrict_vocab=300000,
                            case_insensitive=True, dummy4unknown=False):
        """Correlation of the model's similarities with human judgements in the file
        ``pairs`` ("word1<delimiter>word2<delimiter>score" lines, ``#`` comments; .gz ok):
        returns (pearson (r, p), spearman (correlation, pvalue), percent of pairs with
        unknown words), exactly as gensim 4."""
        from ._evaluate import evaluate_word_pairs
        return evaluate_word_pairs(self, pairs, delimiter=delimiter, encoding=encoding,
                                   restrict_vocab=restrict_vocab, case_insensitive=case_insensitive,
                                   dummy4unknown=dummy4unknown)

    def evaluate_word_analogies(self, analogies, restrict_vocab=300000, case_insensitive=True,
                                dummy4unknown=False, similarity_function="most_similar"):
        """Accuracy on an analogy file (": section" lines, then "a b c d" questions; .gz
        ok) answered by 3CosAdd over the first ``restrict_vocab`` words: returns (score,
        sections) with the same answers and layout as gensim 4, computed in batches."""
        from ._evaluate import evaluate_word_analogies
        return evaluate_word_analogies(self, analogies, restrict_vocab=restrict_vocab,
                                       case_insensitive=case_insensitive, dummy4unknown=dummy4unknown,
                                       similarity_function=similarity_function)

    # ---- files --------------------------------------------------------------------
    def save(self, path):
        """Write the vectors, words and attributes to exactly ``path`` (an .npz file with
        JSON metadata, no pickle), atomically."""
        arrays = {"vectors": self._vectors}
        arrays.update({f"attr_{name}": a for name, a in self._attrs.items()})
        _io.save_arrays(path, _KIND, arrays, {"index_to_key": self.index_to_key,
                                              "attrs": sorted(self._attrs)})

    @classmethod
    def load(cls, path):
        """Read a file written by ``save``; ValueError naming the path if it is not one."""
        arrays, meta = _io.load_arrays(path, _KIND)
        try:
            keys, names = meta["index_to_key"], meta.get("attrs", [])
            if not isinstance(keys, list) or not isinstance(names, list):
                raise ValueError("malformed metadata")
            kv = cls(arrays["vectors"], keys)
            for name in names:
                kv._attrs[name] = kv._check_attr(arrays[f"attr_{name}"], f"attribute {name!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path!r} is not a valid KeyedVectors file: {exc}") from None
        return kv

    def save_word2vec_format(self, fname, binary=False, write_header=True, total_vec=None):
        """Write the original word2vec C tool's text (or ``binary``) format, atomically
        (gzip-compressed if ``fname`` ends in .gz).  See ``fastnn.word2vec._c_format``."""
        from ._c_format import save_word2vec_format
        save_word2vec_format(self, fname, binary=binary, write_header=write_header, total_vec=total_vec)

    @classmethod
    def load_word2vec_format(cls, fname, binary=False, encoding="utf8", unicode_errors="strict",
                             limit=None, datatype=np.float32, no_header=False):
        """Read the original word2vec C tool's text (or ``binary``) format (plain or gzip).
        ValueError naming the file and entry for a damaged file; duplicate words keep their
        first vector (with a warning), as gensim."""
        from ._c_format import load_word2vec_format
        return load_word2vec_format(cls, fname, binary=binary, encoding=encoding,
                                    unicode_errors=unicode_errors, limit=limit, datatype=datatype,
                                    no_header=no_header)
