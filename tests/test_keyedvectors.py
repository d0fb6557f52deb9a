"""fastnn.word2vec.KeyedVectors: queries, files and evaluation, checked against gensim 4."""
import gzip
import os

import numpy as np
import pytest

from fastnn.word2vec import KeyedVectors

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
from gensim.test.utils import datapath  # noqa: E402

QUESTIONS = "/work/shared/data/questions-words.txt.gz"
WORDS = ["the", "König", "naïve", "日本", "x", "cat", "dog", "Cat", "mouse", "tree", "ёлка", "a"]


def _kv(rng, n=len(WORDS), d=8, dtype=np.float32):
    return KeyedVectors(rng.standard_normal((n, d)).astype(dtype), WORDS[:n])


def _gensim(kv):
    g = gensim_kv.KeyedVectors(kv.vector_size, dtype=kv.vectors.dtype)
    g.add_vectors(list(kv.index_to_key), kv.vectors)
    return g


# ---- construction and lookup -------------------------------------------------------
def test_lookup_basics(rng):
    kv = _kv(rng)
    assert len(kv) == len(WORDS) and kv.vector_size == 8
    assert "König" in kv and "könig" not in kv
    np.testing.assert_array_equal(kv["dog"], kv.vectors[6])
    np.testing.assert_array_equal(kv[["dog", "the"]], kv.vectors[[6, 0]])
    assert kv.get_index("日本") == 3 and kv.key_to_index["x"] == 4
    unit = kv.get_vector("cat", norm=True)
    assert np.isclose(np.linalg.norm(unit), 1, atol=1e-6)
    with pytest.raises(ValueError):
        kv.get_vector("cat")[0] = 1.0  # read-only view protects the cached norms


def test_unknown_words_raise_keyerror_naming_them(rng):
    kv = _kv(rng)
    for call in (lambda: kv["xyz"], lambda: kv.get_vector("xyz"), lambda: kv.similarity("cat", "xyz"),
                 lambda: kv.most_similar("xyz"), lambda: kv.most_similar(negative=["xyz"]),
                 lambda: kv.get_vecattr("xyz", "count")):
        with pytest.raises(KeyError, match="Key 'xyz' not present in vocabulary"):
            call()


def test_constructor_checks(rng):
    v = rng.standard_normal((3, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="'a' twice"):
        KeyedVectors(v, ["a", "b", "a"])
    with pytest.raises(ValueError, match="3 rows"):
        KeyedVectors(v, ["a", "b"])
    with pytest.raises(TypeError, match="str"):
        KeyedVectors(v, ["a", "b", 3])
    with pytest.raises(TypeError):
        KeyedVectors(np.ones((3, 4), int), ["a", "b", "c"])
    with pytest.raises(ValueError, match="NaN"):
        KeyedVectors(np.full((3, 4), np.nan), ["a", "b", "c"])
    with pytest.raises(ValueError, match="counts"):
        KeyedVectors(v, ["a", "b", "c"], counts=[1, 2])
    assert KeyedVectors(v.astype(np.float64), ["a", "b", "c"]).vectors.dtype == np.float64


def test_counts_and_add_vectors(rng):
    v = rng.standard_normal((3, 4)).astype(np.float32)
    kv = KeyedVectors(v, ["a", "b", "c"], counts=np.array([5, 3, 1]))
    assert kv.get_vecattr("b", "count") == 3
    empty = KeyedVectors(4)
    assert len(empty) == 0 and empty.vector_size == 4
    empty.add_vectors(["a", "b"], v[:2])
    empty.add_vectors(["b", "c"], v[[0, 2]])  # "b" present: kept without replace=True
    np.testing.assert_array_equal(empty.vectors, v)
    empty.add_vectors(["b"], v[[2]], replace=True)
    np.testing.assert_array_equal(empty["b"], v[2])
    sims = empty.most_similar("a", topn=None)
    np.testing.assert_allclose(sims[2], sims[1], rtol=1e-6)  # norms recomputed after the change


def test_norm_cache_follows_vector_assignment(rng):
    kv = _kv(rng)
    before = kv.most_similar("cat", topn=3)
    kv.vectors = kv.vectors[::-1].copy()
    g = _gensim(kv)
    assert kv.most_similar("cat", topn=3) == g.most_similar("cat", topn=3) != before
    kv.vectors[:] *= 2.0
    kv.fill_norms(force=True)
    np.testing.assert_allclose(kv.norms, np.linalg.norm(kv.vectors, axis=1))


# ---- queries against gensim --------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_queries_equal_gensim(rng, dtype):
    kv = KeyedVectors(rng.standard_normal((300, 20)).astype(dtype), [f"w{i}" for i in range(300)])
    g = _gensim(kv)
    vec = rng.standard_normal(20).astype(dtype)
    cases = [
        dict(positive="w3"), dict(positive=["w3", "w8"], negative=["w1"], topn=7),
        dict(positive=[("w3", 0.5), "w9"], negative=[("w4", -2.0)]), dict(negative="w5", topn=4),
        dict(positive=["w3", vec], topn=5), dict(positive=["w2"], restrict_vocab=50, topn=6),
    ]
    for kw in cases:
        assert kv.most_similar(**kw) == g.most_similar(**kw), kw
    np.testing.assert_array_equal(kv.most_similar("w7", topn=None), g.most_similar("w7", topn=None))
    assert kv.most_similar("w7", topn=0) == []
    assert kv.similar_by_vector(vec, topn=4) == g.similar_by_vector(vec, topn=4)
    assert kv.similar_by_word("w11", topn=4) == g.similar_by_word("w11", topn=4)
    for w1, w2 in (("w1", "w2"), ("w5", "w5"), ("w0", "w299")):
        assert kv.similarity(w1, w2) == float(g.similarity(w1, w2))
        assert kv.distance(w1, w2) == pytest.approx(float(g.distance(w1, w2)), abs=1e-7)
    g = _gensim(kv)  # gensim's similarity() rescales float64 vectors in place: start afresh
    before = kv.vectors.copy()
    assert kv.n_similarity(["w1", "w2"], ["w3"]) == pytest.approx(float(g.n_similarity(["w1", "w2"], ["w3"])), abs=1e-7)
    words = ["w1", "w2", "w3", "w4", "w5"]
    assert kv.doesnt_match(words) == g.doesnt_match(words)
    got = kv.most_similar_cosmul(["w1", "w2"], ["w3"], topn=5)
    want = g.most_similar_cosmul(["w1", "w2"], ["w3"], topn=5)
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-6)
    np.testing.assert_allclose(kv.distances("w1", ["w2", "w3"]), g.distances("w1", ["w2", "w3"]), rtol=1e-6)
    np.testing.assert_array_equal(kv.vectors, before)  # queries never change the vectors


def test_most_similar_excludes_inputs_and_checks_arguments(rng):
    kv = _kv(rng)
    got = kv.most_similar(positive=["cat", "dog"], negative=["the"], topn=len(WORDS))
    assert {w for w, _ in got}.isdisjoint({"cat", "dog", "the"}) and len(got) == len(WORDS) - 3
    scores = [s for _, s in got]
    assert scores == sorted(scores, reverse=True)
    with pytest.raises(ValueError, match="no input"):
        kv.most_similar()
    with pytest.raises(ValueError, match="vector_size"):
        kv.most_similar(positive=[np.ones(3)])
    with pytest.raises(TypeError, match="topn"):
        kv.most_similar("cat", topn=2.5)
    with pytest.raises(ValueError, match="restrict_vocab"):
        kv.most_similar("cat", restrict_vocab=0)
    with pytest.warns(UserWarning, match="ignored"):
        assert kv.doesnt_match(["cat", "dog", "unknown-word", "tree"]) in {"cat", "dog", "tree"}


# ---- evaluation against gensim -----------------------------------------------------
def test_evaluate_word_pairs_equals_gensim(rng, tmp_path):
    pairs = datapath("wordsim353.tsv")
    words = set()
    with open(pairs, encoding="utf8") as f:
        for line in f:
            if not line.startswith("#"):
                words.update(line.split("\t")[:2])
    words = [w for w in sorted(words)[::2] if w != "tiger"] + ["TIGER", "tiger"]  # ~half OOV
    kv = KeyedVectors(rng.standard_normal((len(words), 16)).astype(np.float32), words)
    g = _gensim(kv)
    gz = tmp_path / "ws.tsv.gz"
    with open(pairs, "rb") as f:
        gz.write_bytes(gzip.compress(f.read()))
    for kw in (dict(), dict(case_insensitive=False), dict(dummy4unknown=True), dict(restrict_vocab=100)):
        got, want = kv.evaluate_word_pairs(pairs, **kw), g.evaluate_word_pairs(pairs, **kw)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
        assert got[2] == want[2] and 0 < got[2] < 100
        assert got[1].correlation == want[1].correlation
    np.testing.assert_allclose(kv.evaluate_word_pairs(str(gz))[0], g.evaluate_word_pairs(pairs)[0], rtol=1e-12)
    with pytest.raises(ValueError, match="no valid similarity"):
        KeyedVectors(np.ones((1, 3), np.float32), ["zzz"]).evaluate_word_pairs(pairs)


def _analogy_vectors(rng, d=30, n_filler=800):
    """Vectors for the analogy file's words with the relations planted (plus noise),
    lower-case variants and filler words, in a shuffled order: a mix of right and
    wrong answers, case-variant duplicates and out-of-vocabulary questions."""
    vec, rel = {}, None
    with gzip.open(QUESTIONS, "rt", encoding="utf8") as f:
        lines = f.read().splitlines()
    for line in lines[:6000]:
        if line.startswith(":"):
            rel = rng.standard_normal(d)
            continue
        a, b, c, e = line.split()
        for x, y in ((a, b), (c, e)):
            vec.setdefault(x, rng.standard_normal(d))
            vec.setdefault(y, vec[x] + rel + 0.9 * rng.standard_normal(d))
    words = list(vec) + [w.lower() for w in list(vec)[::4] if w.lower() not in vec]
    words += [f"filler{i}" for i in range(n_filler)]
    v = np.stack([vec[w] if w in vec else 1.3 * rng.standard_normal(d) for w in words])
    order = rng.permutation(len(words))
    return [words[i] for i in order], v[order].astype(np.float32)


@pytest.mark.parametrize("kw", [dict(), dict(restrict_vocab=900), dict(case_insensitive=False),
                                dict(dummy4unknown=True, restrict_vocab=1200)], ids=str)
def test_evaluate_word_analogies_equals_gensim(rng, kw):
    words, v = _analogy_vectors(rng)
    kv = KeyedVectors(v, words)
    score, sections = kv.evaluate_word_analogies(QUESTIONS, **kw)
    g_score, g_sections = _gensim(kv).evaluate_word_analogies(QUESTIONS, **kw)
    assert score == g_score
    assert sections == g_sections  # same sections, same questions right and wrong, same order
    total = sections[-1]
    assert total["section"] == "Total accuracy" and len(sections) == 15
    assert 0.05 < score < 0.95 and len(total["correct"]) > 100


def test_analogy_near_ties_follow_gensim(rng):
    # duplicated vectors make exact ties; tiny perturbations make near ties
    words, v = _analogy_vectors(rng, d=10, n_filler=0)
    v = np.concatenate([v, v[:400] + 1e-7 * rng.standard_normal((400, v.shape[1])).astype(np.float32)])
    words = words + [w + "_twin" for w in words[:400]]
    kv = KeyedVectors(v, words)
    score, sections = kv.evaluate_word_analogies(QUESTIONS)
    g_score, g_sections = _gensim(kv).evaluate_word_analogies(QUESTIONS)
    assert score == g_score and sections == g_sections


def test_analogy_file_errors(tmp_path, rng):
    kv = _kv(rng)
    bad = tmp_path / "q.txt"
    bad.write_text("cat dog x a\n")
    with pytest.raises(ValueError, match="section header"):
        kv.evaluate_word_analogies(str(bad))
    bad.write_text(": s\nonly three words\n")
    with pytest.raises(ValueError, match="no analogy questions"):
        kv.evaluate_word_analogies(str(bad))
    with pytest.raises(ValueError, match="similarity_function"):
        kv.evaluate_word_analogies(QUESTIONS, similarity_function="cosmul")


# ---- native save / load -------------------------------------------------------------
def test_save_load_round_trip(rng, tmp_path):
    v = rng.standard_normal((len(WORDS), 5))
    kv = KeyedVectors(v, WORDS, counts=np.arange(len(WORDS)) * 7)
    path = tmp_path / "model.kv"
    kv.save(path)
    assert sorted(os.listdir(tmp_path)) == ["model.kv"]
    back = KeyedVectors.load(path)
    assert back.index_to_key == WORDS and back.vectors.dtype == np.float64
    np.testing.assert_array_equal(back.vectors, v)
    assert back.get_vecattr("ёлка", "count") == 70
    assert back.most_similar("cat") == kv.most_similar("cat")


def test_failed_save_leaves_existing_file(rng, tmp_path, monkeypatch):
    kv = _kv(rng)
    path = tmp_path / "model.kv"
    kv.save(path)
    txt = tmp_path / "vec.txt"
    kv.save_word2vec_format(txt)
    before, before_txt = path.read_bytes(), txt.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        kv.save(path)
    bad = KeyedVectors(np.ones((2, 3), np.float32), ["ok", "has space"])
    with pytest.raises(ValueError, match="whitespace"):
        bad.save_word2vec_format(txt)
    kv.vectors[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        kv.save_word2vec_format(txt, binary=True)
    assert path.read_bytes() == before and txt.read_bytes() == before_txt
    assert sorted(os.listdir(tmp_path)) == ["model.kv", "vec.txt"]


def test_load_rejects_other_files(tmp_path):
    p = tmp_path / "junk.kv"
    p.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="junk.kv"):
        KeyedVectors.load(p)
    with pytest.raises(FileNotFoundError):
        KeyedVectors.load(tmp_path / "missing.kv")


# ---- word2vec C formats ------------------------------------------------------------
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_c_format_interop_with_gensim(rng, tmp_path, binary, suffix):
    kv = _kv(rng, d=6)
    ours = tmp_path / f"ours.w2v{suffix}"
    kv.save_word2vec_format(str(ours), binary=binary)
    if suffix:
        assert ours.read_bytes()[:2] == b"\x1f\x8b"
    g = gensim_kv.KeyedVectors.load_word2vec_format(str(ours), binary=binary)
    assert g.index_to_key == WORDS
    np.testing.assert_array_equal(g.vectors, kv.vectors)
    theirs = tmp_path / f"theirs.w2v{suffix}"
    g.save_word2vec_format(str(theirs), binary=binary)
    back = KeyedVectors.load_word2vec_format(str(theirs), binary=binary)
    assert back.index_to_key == WORDS
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    again = KeyedVectors.load_word2vec_format(str(ours), binary=binary)
    np.testing.assert_array_equal(again.vectors, kv.vectors)
    assert again.most_similar("König") == g.most_similar("König")


def test_c_format_reads_gensim_test_data():
    path = datapath("EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt")
    kv = KeyedVectors.load_word2vec_format(path)
    g = gensim_kv.KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == g.index_to_key and kv.vectors.shape == (20, 300)
    np.testing.assert_array_equal(kv.vectors, g.vectors)
    assert kv.most_similar("one", topn=5) == g.most_similar("one", topn=5)


def test_c_format_options(rng, tmp_path):
    kv = _kv(rng, d=4, dtype=np.float64)
    p = tmp_path / "v.txt"
    kv.save_word2vec_format(p)
    assert p.read_text(encoding="utf8").splitlines()[0] == f"{len(WORDS)} 4"
    np.testing.assert_array_equal(KeyedVectors.load_word2vec_format(p, datatype=np.float64).vectors, kv.vectors)
    five = KeyedVectors.load_word2vec_format(p, limit=5)
    assert five.index_to_key == WORDS[:5] and five.vectors.dtype == np.float32
    kv.save_word2vec_format(p, write_header=False)
    nh = KeyedVectors.load_word2vec_format(p, no_header=True, datatype=np.float64)
    assert nh.index_to_key == WORDS
    np.testing.assert_array_equal(nh.vectors, kv.vectors)
    assert KeyedVectors.load_word2vec_format(p, no_header=True, limit=3).index_to_key == WORDS[:3]
    kv.save_word2vec_format(p, total_vec=len(WORDS) + 1)
    with pytest.raises(ValueError, match="promises 13 vectors but the file ends after 12"):
        KeyedVectors.load_word2vec_format(p)
    with pytest.raises(ValueError, match="total_vec"):
        kv.save_word2vec_format(p, total_vec=2)
    with pytest.raises(ValueError, match="limit"):
        KeyedVectors.load_word2vec_format(p, limit=0)


def _write(path, data):
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("data, match", [
    (b"", "header"),
    (b"2 3\n", "ends after 0"),
    (b"two 3\na 1 2 3\n", "line 1"),
    (b"2 3\na 1 2 3\nb 1 2\n", r"line 3: 'b' has 2 values, expected 3"),
    (b"2 3\na 1 2 3\nb 1 2 3 4\n", "line 3"),
    (b"2 3\na 1 2 3\nb 1 x 3\n", r"line 3: 'b' has a non-numeric value 'x'"),
    (b"2 3\na 1 2 3\nb 1 nan 3\n", "line 3.*NaN"),
    (b"2 3\na 1 2 3\n", "promises 2 vectors but the file ends after 1"),
    (b"2 3\na 1 2 3\nb 1 2 3\nc 1 2 3\n", "line 4: more vectors than the 2"),
    (b"2 3\na 1 2 3\n\nb 1 2 3\n", "line 3: blank line"),
    (b"2 3\na 1 2 3\n\xff\xfe 1 2 3\n", "line 3: the word is not utf8"),
    (b"1 3\n1 2 3\n", "line 2"),
])
def test_corrupt_text_files(tmp_path, data, match):
    with pytest.raises(ValueError, match=match):
        KeyedVectors.load_word2vec_format(_write(tmp_path / "bad.txt", data))


def test_corrupt_binary_files(tmp_path, rng):
    kv = _kv(rng, n=3, d=4)
    p = tmp_path / "good.bin"
    kv.save_word2vec_format(p, binary=True)
    good = p.read_bytes()
    cases = [
        (good[:-6], r"entry 3 \('naïve'\) is truncated"),
        (good.split("naïve".encode("utf8"))[0], "ends after 2"),
        (good + b"more 1234567812345678\n", "more data after the 3 vectors"),
        (b"3 x\n" + good.split(b"\n", 1)[1], "line 1"),
        (b"4 4\n" + good.split(b"\n", 1)[1], "promises 4 vectors but the file ends after 3"),
    ]
    for data, match in cases:
        with pytest.raises(ValueError, match=match):
            KeyedVectors.load_word2vec_format(_write(tmp_path / "bad.bin", data), binary=True)
    # a text file read as binary is refused, not loaded as garbage
    kv.save_word2vec_format(tmp_path / "t.txt")
    with pytest.raises(ValueError, match="t.txt"):
        KeyedVectors.load_word2vec_format(str(tmp_path / "t.txt"), binary=True)
    with pytest.raises(ValueError, match="no_header"):
        KeyedVectors.load_word2vec_format(str(p), binary=True, no_header=True)
    with pytest.raises(FileNotFoundError):
        KeyedVectors.load_word2vec_format(str(tmp_path / "missing.bin"))
    broken_gz = tmp_path / "v.txt.gz"
    kv.save_word2vec_format(broken_gz)
    broken_gz.write_bytes(broken_gz.read_bytes()[:-12])
    with pytest.raises(ValueError, match="v.txt.gz"):
        KeyedVectors.load_word2vec_format(str(broken_gz))


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_duplicate_words_keep_first_with_warning(tmp_path, binary):
    if binary:
        rec = lambda w, v: w.encode() + b" " + np.array(v, "<f4").tobytes() + b"\n"  # noqa: E731
        data = b"3 2\n" + rec("a", [1, 2]) + rec("b", [3, 4]) + rec("a", [5, 6])
    else:
        data = b"3 2\na 1 2\nb 3 4\na 5 6\n"
    p = _write(tmp_path / "dup", data)
    with pytest.warns(UserWarning, match="1 duplicate word.*'a'"):
        kv = KeyedVectors.load_word2vec_format(p, binary=binary)
    assert kv.index_to_key == ["a", "b"]
    np.testing.assert_array_equal(kv["a"], [1, 2])
    g = gensim_kv.KeyedVectors.load_word2vec_format(p, binary=binary)
    assert g.index_to_key[:2] == kv.index_to_key  # gensim may leave a None key and zero row
    np.testing.assert_array_equal(g.vectors[:2], kv.vectors)


def test_binary_reads_records_without_newline_and_c_tool_trailing_space(tmp_path):
    # gensim writes no newline after a binary record; the C tool ends text lines with a space
    rec = lambda w, v: w.encode() + b" " + np.array(v, "<f4").tobytes()  # noqa: E731
    kv = KeyedVectors.load_word2vec_format(_write(tmp_path / "g.bin", b"2 2\n" + rec("é", [1, 2]) + rec("b", [3, 4])),
                                           binary=True)
    assert kv.index_to_key == ["é", "b"]
    np.testing.assert_array_equal(kv.vectors, [[1, 2], [3, 4]])
    kv = KeyedVectors.load_word2vec_format(_write(tmp_path / "c.txt", b"2 2\na 1.5 2 \r\nb 3 4 \n"))
    np.testing.assert_array_equal(kv.vectors, [[1.5, 2], [3, 4]])
