"""Word-pair similarity and word-analogy evaluation of KeyedVectors, as in gensim 4.

The analogy evaluation answers all questions in blocks with one matrix product per
block instead of one ``most_similar`` call per question.  A question whose decision
hinges on two candidate scores closer than the matrix product's rounding error is
answered again with gensim's exact per-question arithmetic, so the answers are the
ones gensim gives on the same vectors.
"""
import gzip
import io
import itertools
import math
import os

import numpy as np
from scipy import stats

from ._keyedvectors import _top_indices, _unitvec

_TOP = 5  # gensim keeps the 5 best answers and takes the first that is not a question word


def _open_binary(path, name):
    """``path`` opened for reading bytes, gunzipped when it starts with the gzip magic."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} must be a file path, got {type(path).__name__}")
    f = open(path, "rb")
    if f.read(2) == b"\x1f\x8b":
        f.close()
        return gzip.open(path, "rb")
    f.seek(0)
    return f


def _ok_vocab(kv, restrict_vocab, case_insensitive):
    """(words of the first ``restrict_vocab`` rows as compared -- upper-cased if
    ``case_insensitive`` --, dict word -> first row holding it)."""
    if restrict_vocab is None:
        end = len(kv)
    else:
        end = kv._clip(restrict_vocab)
    words = kv.index_to_key[:end]
    if case_insensitive:
        words = [w.upper() for w in words]
    ok = {}
    for i, w in enumerate(words):
        ok.setdefault(w, i)
    return words, ok


def evaluate_word_pairs(kv, pairs, delimiter="\t", encoding="utf8", restrict_vocab=300000,
                        case_insensitive=True, dummy4unknown=False):
    """See ``KeyedVectors.evaluate_word_pairs``: returns (pearsonr result, spearmanr
    result, oov percent) from scipy.stats, as gensim 4."""
    _, ok = _ok_vocab(kv, restrict_vocab, case_insensitive)
    gold, model, oov = [], [], 0
    with io.TextIOWrapper(_open_binary(pairs, "pairs"), encoding=encoding) as fin:
        try:
            lines = list(fin)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{pairs!r} is not valid {encoding} text: {exc}") from None
    for line in lines:
        if not line or line.startswith("#"):
            continue
        parts = line.split(delimiter)
        if case_insensitive:
            parts = [p.upper() for p in parts]
        if len(parts) != 3:
            continue
        a, b, sim = parts
        try:
            sim = float(sim)
        except ValueError:
            continue
        if a not in ok or b not in ok:
            oov += 1
            if dummy4unknown:
                model.append(0.0)
                gold.append(sim)
            continue
        gold.append(sim)
        # gensim's similarity(): dot of the two vectors scaled to unit length
        model.append(np.dot(_unitvec(kv.vectors[ok[a]]), _unitvec(kv.vectors[ok[b]])))
    if not gold:
        raise ValueError(f"no valid similarity judgements found in {pairs!r}: either invalid "
                         f"format or all are out-of-vocabulary in {kv!r}")
    spearman = stats.spearmanr(gold, model)
    pearson = stats.pearsonr(gold, model)
    oov_ratio = float(oov) / (len(gold) if dummy4unknown else len(gold) + oov) * 100
    return pearson, spearman, oov_ratio


def _read_analogies(analogies, case_insensitive):
    """[(section name, [(a, b, c, d), ...])] from an analogy file, as gensim reads it
    (lines that are not 4 words are skipped)."""
    sections = []
    with _open_binary(analogies, "analogies") as fin:
        for line_no, raw in enumerate(fin):
            try:
                line = raw.decode("utf8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{analogies!r}: line {line_no + 1} is not UTF-8: {exc}") from None
            if line.startswith(": "):
                sections.append((line.lstrip(": ").strip(), []))
                continue
            if not sections:
                raise ValueError(f"missing section header (': name') before line "
                                 f"{line_no + 1} in {analogies!r}")
            words = line.split()
            if len(words) != 4:
                continue
            if case_insensitive:
                words = [w.upper() for w in words]
            sections[-1][1].append(tuple(words))
    return sections


def _exact_answer(kv, q_rows, end):
    """gensim's per-question arithmetic: the ranked rows (best first, input rows excluded,
    at most _TOP) of ``most_similar(positive=[b, c], negative=[a])`` over rows [0, end)."""
    a, b, c = (int(i) for i in q_rows)
    terms = [(b, 1.0), (c, 1.0), (a, -1.0)]
    mean = kv._mean_unit(terms)
    with np.errstate(invalid="ignore", divide="ignore"):
        dists = kv.vectors[:end] @ mean / kv.norms[:end]
    exclude = {a, b, c}
    best = _top_indices(dists, _TOP + len(exclude))
    return [int(i) for i in best if int(i) not in exclude][:_TOP]


def _pick(ranked, rep, question):
    """gensim's choice among the ranked rows: the first whose word is not one of the
    question's words (rows ``question``), else the last one looked at; (position,
    representative row) or (None, -1) when there is no candidate."""
    pos, row = None, -1
    for pos, i in enumerate(ranked):
        row = rep[i]
        if row not in question:
            break
    return pos, row


def _answer_all(kv, questions, rep, end):
    """The representative row of gensim's answer (-1 for none) to each question (a, b, c)
    of the int array ``questions`` (n, 3) of representative rows, searching rows [0, end).
    ``rep[i]`` is the first row whose word compares equal to row i's.  Also returns how
    many near-tied questions were answered again one by one."""
    vectors, dtype = kv.vectors, kv.vectors.dtype
    norms = kv.norms[:end]
    safe = kv._safe_norms()

    def unit(col):
        idx = questions[:, col]
        return vectors[idx] / safe[idx, None]

    # the mean of b + c - a as gensim forms it: summed in dtype, divided and normalised in float64
    mean = (unit(1) + unit(2)) - unit(0)
    mean = mean.astype(np.float64) / 3.0
    length = np.sqrt(np.einsum("ij,ij->i", mean, mean))
    mean = (mean * (1.0 / np.where(length > 0, length, 1.0))[:, None]).astype(np.float32)
    # bound on the rounding difference between a matrix product and gensim's matrix-vector one
    tol = 16.0 * math.sqrt(kv.vector_size) * float(np.finfo(dtype).eps)
    k = min(_TOP + 1, end)
    block = max(1, min(1024, (1 << 25) // end))
    answers = np.full(len(questions), -1, dtype=np.int64)
    n_exact = 0
    for start in range(0, len(questions), block):
        q = questions[start:start + block]
        m = len(q)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = mean[start:start + block] @ vectors[:end].T
            scores /= norms
        scores[np.isnan(scores)] = -np.inf
        for j in range(3):
            scores[np.arange(m), q[:, j]] = -np.inf
        # the k best per row by repeated argmax (a few fast passes, no full sort)
        rows = np.arange(m)
        top = np.empty((m, k), np.int64)
        top_scores = np.empty((m, k), scores.dtype)
        for j in range(k):
            top[:, j] = best = scores.argmax(axis=1)
            top_scores[:, j] = scores[rows, best]
            scores[rows, best] = -np.inf
        # candidates are a prefix (excluded rows scored -inf sort last); gensim looks at 5
        n_valid = (top_scores > -np.inf).sum(axis=1)
        n_look = np.minimum(n_valid, _TOP)
        looked = np.arange(k)[None, :] < n_look[:, None]
        top_rep = rep[top]
        eligible = looked & (top_rep[:, :, None] != q[:, None, :]).all(axis=2)
        pos = np.where(eligible.any(axis=1), eligible.argmax(axis=1), n_look - 1)
        has = n_look > 0
        answers[start:start + m][has] = top_rep[has, pos[has]]
        # a near tie among the scores up to one past the chosen position may rank
        # differently under gensim's arithmetic: answer those questions its way
        gaps = top_scores[:, :-1] - top_scores[:, 1:]
        near = (gaps <= tol) & (np.arange(k - 1)[None, :] <= pos[:, None]) \
            & (np.arange(1, k)[None, :] < n_valid[:, None])
        for qi in np.flatnonzero(near.any(axis=1)):
            n_exact += 1
            _, answers[start + qi] = _pick(_exact_answer(kv, q[qi], end), rep, set(q[qi].tolist()))
    return answers, n_exact


def evaluate_word_analogies(kv, analogies, restrict_vocab=300000, case_insensitive=True,
                            dummy4unknown=False, similarity_function="most_similar"):
    """See ``KeyedVectors.evaluate_word_analogies``: (score, sections) as gensim 4, where
    sections are dicts {'section', 'correct', 'incorrect'} ending with 'Total accuracy'."""
    if similarity_function != "most_similar":
        raise ValueError(f"similarity_function must be 'most_similar', got {similarity_function!r}")
    words, ok = _ok_vocab(kv, restrict_vocab, case_insensitive)
    end = len(words)
    parsed = _read_analogies(analogies, case_insensitive)
    n_questions = sum(len(qs) for _, qs in parsed)
    if n_questions == 0:
        raise ValueError(f"no analogy questions ('a b c d' lines) found in {analogies!r}")
    rep = np.array([ok[w] for w in words], dtype=np.int64)
    known = [quad for _, qs in parsed for quad in qs if all(w in ok for w in quad)]
    questions = np.array([[ok[w] for w in quad[:3]] for quad in known], np.int64).reshape(-1, 3)
    answers = _answer_all(kv, questions, rep, end)[0].tolist() if known else []
    answers = iter(answers)
    sections = []
    for name, qs in parsed:
        section = {"section": name, "correct": [], "incorrect": []}
        for quad in qs:
            if not all(w in ok for w in quad):
                if dummy4unknown:
                    section["incorrect"].append(quad)
                continue
            section["correct" if next(answers) == ok[quad[3]] else "incorrect"].append(quad)
        sections.append(section)
    total = {
        "section": "Total accuracy",
        "correct": list(itertools.chain.from_iterable(s["correct"] for s in sections)),
        "incorrect": list(itertools.chain.from_iterable(s["incorrect"] for s in sections)),
    }
    n_done = len(total["correct"]) + len(total["incorrect"])
    score = len(total["correct"]) / n_done if n_done else 0.0
    sections.append(total)
    return score, sections
