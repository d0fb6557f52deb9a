"""fastnn.datasets.load_web_bible: the embedded corpus and its fixed split."""
import pytest

from fastnn.datasets import load_web_bible


def test_split_sizes_and_bunch():
    b = load_web_bible()
    assert set(b) == {"train", "validation", "test", "DESCR"}
    assert (len(b.train), len(b.validation), len(b.test)) == (33950, 1800, 1800)
    assert "derived from the World English Bible" in b.DESCR
    assert "public domain" in b.DESCR.lower()
    for part in (b.train, b.validation, b.test):
        assert all(isinstance(line, str) and line and line == line.strip() for line in part)


def test_cleaning_drops_preface_and_glossary():
    b = load_web_bible()
    assert b.train[0] == "In the beginning, Godcreated the heavens and the earth."
    every = b.train + b.validation + b.test
    assert not any("Preface to the World English Bible" in line for line in every)
    assert not any("Glossary" in line for line in every)
    # the last line (block 375, the 16th of its cycle: train) ends the Revelation
    assert b.train[-1] == "The grace of the Lord Jesus Christ be with all the saints. Amen."


def test_split_is_contiguous_blocks():
    from fastnn.datasets._web_bible import _lines
    every = list(_lines())
    assert len(every) == 37550
    b = load_web_bible()
    # walk the text in 100-line blocks: 18 to train, 1 to validation, 1 to test, repeat
    taken = {"train": 0, "validation": 0, "test": 0}
    for k, begin in enumerate(range(0, len(every), 100)):
        block = every[begin:begin + 100]
        name = ("train",) * 18 + ("validation", "test")
        part = name[k % 20]
        assert getattr(b, part)[taken[part]:taken[part] + len(block)] == block, k
        taken[part] += len(block)
    assert taken == {"train": 33950, "validation": 1800, "test": 1800}
    assert b.test[0].startswith("When Pharaoh came near")     # Exodus 14:10


def test_named_split_returns_new_lists_deterministically():
    a = load_web_bible("test")
    a.append("changed")
    b = load_web_bible("test")
    assert b[-1] != "changed" and b == load_web_bible().test
    assert load_web_bible("validation") == load_web_bible().validation
    assert load_web_bible("train")[:3] == load_web_bible().train[:3]


@pytest.mark.parametrize("split", ["dev", "TRAIN", 0])
def test_bad_split(split):
    with pytest.raises(ValueError, match="split"):
        load_web_bible(split)
