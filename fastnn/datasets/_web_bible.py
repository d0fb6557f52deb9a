"""Text derived from the World English Bible (public domain), split for language models."""
import functools
import gzip
from importlib import resources

from sklearn.utils import Bunch

_FILE = "web_bible.txt.gz"
_PREFACE = "Preface to the World English Bible"
_GLOSSARY = "World English Bible Glossary"
BLOCK = 100          # lines per contiguous block
CYCLE = 20           # blocks per cycle: 18 train, then 1 validation, then 1 test
_SPLITS = ("train", "validation", "test")

_DESCR = """Text derived from the World English Bible
----------------------------------------
The World English Bible (2020 stable text, engWEB2015eb, with the deuterocanonical
books), one verse or paragraph a line, UTF-8 with punctuation and curly quotes, as
extracted from the Debian package sword-text-web 426.0-1 with the markup removed (a few
words are glued where a footnote mark was removed, e.g. "Godcreated").
Public domain.  "World English Bible" is a trademark of eBible.org: a changed copy (for
example a tokenised one) must be described as "derived from the World English Bible".

Cleaning: blank lines are dropped, so is the front-matter preface (the one line starting
with "Preface to the World English Bible", which also holds the Genesis title), and the
glossary appended to the last verse (from "World English Bible Glossary" on) is cut off;
lines are stripped of surrounding whitespace.  Book titles (e.g. "The Book of Joshua")
and the short introductions of the deuterocanonical books remain as lines.  37,550
lines are left.

Split (fixed, deterministic, no shuffling): the lines, in book order, are cut into
contiguous blocks of 100 lines; in every run of 20 blocks the first 18 go to train, the
19th to validation and the 20th to test (about 90 / 5 / 5 %: 33,950 / 1,800 / 1,800
lines).  Held-out text therefore comes in 100-verse passages spread over the whole
Bible (law, history, poetry, prophets, gospels, letters), never interleaved verse by
verse with training text.
"""


@functools.lru_cache(maxsize=1)
def _lines():
    """The cleaned lines of the embedded file (decompressed once per process)."""
    raw = resources.files("fastnn.datasets").joinpath("data", _FILE).read_bytes()
    out = []
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(_PREFACE):
            continue
        cut = line.find(_GLOSSARY)
        if cut >= 0:
            line = line[:cut].strip()
            if not line:
                continue
        out.append(line)
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _split_lines():
    parts = {name: [] for name in _SPLITS}
    for i, line in enumerate(_lines()):
        slot = (i // BLOCK) % CYCLE
        name = "train" if slot < CYCLE - 2 else _SPLITS[slot - (CYCLE - 2) + 1]
        parts[name].append(line)
    return {name: tuple(lines) for name, lines in parts.items()}


def load_web_bible(split=None):
    """Load text derived from the World English Bible, split for language modelling.

    Parameters
    ----------
    split : {"train", "validation", "test"} or None, default=None
        Which part to return; None returns all three.

    Returns
    -------
    list[str] of lines (one verse or paragraph each, untokenised) for a named split;
    for None a Bunch with train, validation and test (lists of str) and DESCR (source,
    licence, cleaning and the split rule: contiguous 100-line blocks, 18 of every 20
    to train, then one to validation and one to test).  Each call returns new lists.
    """
    if split is not None and split not in _SPLITS:
        raise ValueError(f"split must be None or one of {_SPLITS}, got {split!r}")
    parts = _split_lines()
    if split is not None:
        return list(parts[split])
    return Bunch(train=list(parts["train"]), validation=list(parts["validation"]),
                 test=list(parts["test"]), DESCR=_DESCR)
