"""fastnn.text: tokenizer, sentence reader, Vocabulary, encode_corpus."""
import gzip
import json
import pathlib

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from fastnn.text import Vocabulary, encode_corpus, iter_sentences, tokenize


# -- tokenize ------------------------------------------------------------------------
@pytest.mark.parametrize("text, want", [
    ("God’s Spirit—was here.", ["god's", "spirit", "—", "was", "here", "."]),
    ("Don't STOP", ["don't", "stop"]),
    ("“Come!” he said,", ['"', "come", "!", '"', "he", "said", ","]),
    ("‘brothers’ rock'n'roll", ["'", "brothers", "'", "rock'n'roll"]),
    ("'quoted' it's", ["'", "quoted", "'", "it's"]),
    ("3.5 km_h 12:30", ["3", ".", "5", "km", "_", "h", "12", ":", "30"]),
    ("Zoë café naïve", ["zoë", "café", "naïve"]),
    ("   \t\n ", []),
    ("", []),
])
def test_tokenize_cases(text, want):
    assert tokenize(text) == want


def test_tokenize_keeps_case_when_asked():
    assert tokenize("God’s Word", lowercase=False) == ["God's", "Word"]


def test_tokenize_rejects_non_str():
    with pytest.raises(TypeError, match="text"):
        tokenize(b"bytes")


# -- iter_sentences ------------------------------------------------------------------
def test_iter_sentences_file_and_gzip(tmp_path):
    text = "In the beginning.\n\n  \nGod said, “Let there be light.”\n"
    plain = tmp_path / "c.txt"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / "c.txt.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        f.write(text)
    want = [["in", "the", "beginning", "."],
            ["god", "said", ",", '"', "let", "there", "be", "light", ".", '"']]
    assert list(iter_sentences(plain)) == want
    assert list(iter_sentences(str(packed))) == want
    assert list(iter_sentences(plain, lowercase=False))[0][0] == "In"


def test_iter_sentences_iterables():
    got = list(iter_sentences(["A b.", ("X", "Y"), [], "", ["z"]]))
    assert got == [["a", "b", "."], ["X", "Y"], ["z"]]      # token lists are used as is
    assert list(iter_sentences(s for s in ["one two"])) == [["one", "two"]]


def test_iter_sentences_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="corpus"):
        list(iter_sentences(tmp_path / "missing.txt"))
    with pytest.raises(FileNotFoundError, match="corpus.*list of sentences"):
        list(iter_sentences("a sentence\nanother sentence"))
    with pytest.raises(TypeError, match="corpus.*bytes"):
        list(iter_sentences(b"raw bytes"))
    with pytest.raises(TypeError, match="corpus sentence 1"):
        list(iter_sentences(["fine", b"bytes"]))
    with pytest.raises(TypeError, match="corpus sentence 0 holds a int token"):
        list(iter_sentences([["a", 3]]))
    with pytest.raises(TypeError, match="corpus"):
        list(iter_sentences(42))


# -- Vocabulary ----------------------------------------------------------------------
SENTS = [["b", "a", "c"], ["a", "d", "b"], ["e", "a"], ["c", "f", "b"]]
# counts: a 3, b 3, c 2, d 1, e 1, f 1; first occurrences b < a < c < d < e < f


def test_vocabulary_ids_specials_and_counts():
    v = Vocabulary().fit(SENTS)
    assert v.itos == ["<unk>", "<s>", "</s>", "b", "a", "c", "d", "e", "f"]
    assert (v.unk_id, v.bos_id, v.eos_id) == (0, 1, 2)
    assert v.stoi == {w: i for i, w in enumerate(v.itos)}
    assert len(v) == 9 and "a" in v and "zz" not in v
    assert v.counts.dtype == np.int64
    np.testing.assert_array_equal(v.counts, [0, 0, 4, 3, 3, 2, 1, 1, 1])
    # refitting gives the same ids
    assert Vocabulary().fit(SENTS).itos == v.itos


def test_vocabulary_min_count_and_max_size():
    v = Vocabulary(min_count=2).fit(SENTS)
    assert v.itos == ["<unk>", "<s>", "</s>", "b", "a", "c"]
    # 3 words left out (d, e, f once each): <unk> counts them
    np.testing.assert_array_equal(v.counts, [3, 0, 4, 3, 3, 2])
    assert v.counts.sum() == sum(len(s) + 1 for s in SENTS)
    w = Vocabulary(max_size=4).fit(SENTS)            # tie d/e/f broken by first occurrence
    assert w.itos[3:] == ["b", "a", "c", "d"]
    assert w.counts[0] == 2
    assert len(Vocabulary(min_count=2, max_size=1).fit(SENTS)) == 4


@pytest.mark.parametrize("kwargs, exc", [
    (dict(min_count=0), ValueError), (dict(min_count=1.5), TypeError),
    (dict(min_count=True), TypeError), (dict(max_size=0), ValueError),
    (dict(max_size="10"), TypeError),
])
def test_vocabulary_bad_parameters(kwargs, exc):
    with pytest.raises(exc, match=next(iter(kwargs))):
        Vocabulary(**kwargs)


def test_vocabulary_errors():
    with pytest.raises(ValueError, match="corpus is empty"):
        Vocabulary().fit([[], []])
    with pytest.raises(ValueError, match="min_count=5"):
        Vocabulary(min_count=5).fit(SENTS)
    with pytest.raises(TypeError, match="iter_sentences"):
        Vocabulary().fit("corpus.txt")
    with pytest.raises(TypeError, match=r"sentences\[1\]"):
        Vocabulary().fit([["a"], "text"])
    v = Vocabulary()
    for use in (lambda: v.itos, lambda: len(v), lambda: v.encode(["a"]),
                lambda: v.decode([0]), lambda: "a" in v, lambda: v.to_meta()):
        with pytest.raises(NotFittedError):
            use()


def test_encode_decode():
    v = Vocabulary().fit(SENTS)
    ids = v.encode(["a", "zzz", "</s>", "f"])
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(ids, [4, 0, 2, 8])
    assert v.decode(ids) == ["a", "<unk>", "</s>", "f"]
    assert v.decode(np.array([], dtype=np.int64)) == [] and v.encode([]).shape == (0,)
    with pytest.raises(ValueError, match="ids must lie in"):
        v.decode([3, 9])
    with pytest.raises(ValueError, match="ids must lie in"):
        v.decode([-1])
    with pytest.raises(TypeError, match="ids must be integers"):
        v.decode([1.0])
    with pytest.raises(TypeError, match="tokens"):
        v.encode("a b")
    with pytest.raises(TypeError, match="tokens"):
        v.encode(["a", 1])


def test_encode_corpus_offsets():
    v = Vocabulary().fit(SENTS)
    ids, starts = encode_corpus(v, [["a", "b"], [], ["zz"], ["c", "c", "a"]])
    assert ids.dtype == np.int32 and starts.dtype == np.int64
    np.testing.assert_array_equal(ids, [4, 3, 2, 0, 2, 5, 5, 4, 2])
    np.testing.assert_array_equal(starts, [0, 3, 5])
    ids, starts = encode_corpus(v, [])
    assert ids.shape == (0,) and starts.shape == (0,)
    with pytest.raises(TypeError, match="vocab"):
        encode_corpus(["a"], SENTS)
    with pytest.raises(NotFittedError):
        encode_corpus(Vocabulary(), SENTS)
    with pytest.raises(TypeError, match="iter_sentences"):
        encode_corpus(v, "file.txt")


def test_save_load_and_meta_round_trip(tmp_path):
    v = Vocabulary(min_count=2).fit(SENTS + [["naïve", "naïve", "’"]])
    meta = v.to_meta()
    json.dumps(meta)                                    # JSON-serialisable
    w = Vocabulary.from_meta(json.loads(json.dumps(meta)))
    assert w.itos == v.itos and w.min_count == 2
    np.testing.assert_array_equal(w.counts, v.counts)
    path = tmp_path / "vocab.npz"
    v.save(path)
    u = Vocabulary.load(path)
    assert u.itos == v.itos and u.stoi == v.stoi and u.max_size is None
    np.testing.assert_array_equal(u.counts, v.counts)
    np.testing.assert_array_equal(u.encode(["naïve", "b", "d"]), v.encode(["naïve", "b", "d"]))


def test_from_meta_and_load_reject_bad_input(tmp_path):
    meta = Vocabulary().fit(SENTS).to_meta()
    with pytest.raises(ValueError, match="itos"):
        Vocabulary.from_meta(dict(meta, itos=["a", "b", "c", "d"] + meta["itos"][4:]))
    with pytest.raises(ValueError, match="counts"):
        Vocabulary.from_meta(dict(meta, counts=meta["counts"][:-1]))
    with pytest.raises(ValueError, match="not a Vocabulary"):
        Vocabulary.from_meta({"itos": meta["itos"]})
    with pytest.raises(FileNotFoundError):
        Vocabulary.load(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError):
        Vocabulary.load(bad)


def test_tokenize_speed_on_a_large_text():
    import time
    text = pathlib.Path(__file__).read_text(encoding="utf-8") * 60
    t0 = time.perf_counter()
    n = len(tokenize(text))
    rate = n / (time.perf_counter() - t0)
    assert n > 100_000
    assert rate > 200_000, f"tokenize ran at {rate:.0f} tokens/s"
