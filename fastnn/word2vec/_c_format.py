"""The original word2vec C tool's vector file formats, read and written by streaming.

Text:   a header line "V d", then V lines "word v1 v2 ... vd".
Binary: the same header line, then V records: the word in UTF-8, a space, d
        little-endian float32 values, and a newline (files written by gensim omit the
        newline; both are read).
Words are written in UTF-8 and may not contain ASCII whitespace.  A path ending in
".gz" is written gzip-compressed; gzip input is recognised by its content.  Reading
never truncates silently: a short, over-long or malformed file raises ValueError
naming the file and the line (text) or entry (binary).
"""
import gzip
import numbers
import os
import warnings
import zlib

import numpy as np

from .. import io as _io

_CHUNK = 1 << 20
_MAX_WORD_BYTES = 1 << 16
_WHITESPACE = b" \t\n\r\x0b\x0c"


def _open_read(fname):
    f = open(fname, "rb")
    if f.read(2) == b"\x1f\x8b":
        f.close()
        return gzip.open(fname, "rb")
    f.seek(0)
    return f


def _check_words(kv):
    encoded = []
    for i, w in enumerate(kv.index_to_key):
        b = w.encode("utf8")
        if not b or any(c in _WHITESPACE for c in b):
            raise ValueError(f"word {w!r} (row {i}) is empty or holds whitespace, which the "
                             "word2vec format cannot store")
        encoded.append(b)
    return encoded


def save_word2vec_format(kv, fname, binary=False, write_header=True, total_vec=None):
    """Write ``kv`` to ``fname`` in the word2vec C format, atomically.

    ``binary`` writes float32 records (float64 vectors are rounded to float32); text
    writes every value with enough digits to read back exactly (9 significant digits
    for float32, 17 for float64).  ``write_header=False`` leaves out the "V d" line
    (read it back with ``no_header=True``).  ``total_vec`` overrides V in the header
    for files that will have more vectors appended; it must be >= len(kv).
    """
    fname = os.fspath(fname)
    if len(kv) == 0:
        raise ValueError("cannot save an empty KeyedVectors in word2vec format")
    n = len(kv)
    if total_vec is None:
        total_vec = n
    elif isinstance(total_vec, bool) or not isinstance(total_vec, numbers.Integral) or total_vec < n:
        raise ValueError(f"total_vec must be an int >= the {n} vectors written, got {total_vec!r}")
    words = _check_words(kv)
    vectors = kv.vectors
    if not np.isfinite(vectors).all():
        bad = int(np.argmin(np.isfinite(vectors).all(axis=1)))
        raise ValueError(f"the vector of {kv.index_to_key[bad]!r} holds NaN or infinity")
    d = vectors.shape[1]
    if binary:
        data = np.ascontiguousarray(vectors, dtype="<f4")
    else:
        digits = 9 if vectors.dtype == np.float32 else 17
        row_format = " ".join([f"%.{digits}g"] * d)

    def write_all(f):
        if write_header:
            f.write(f"{total_vec} {d}\n".encode("ascii"))
        for start in range(0, n, 4096):
            stop = min(n, start + 4096)
            if binary:
                parts = [words[i] + b" " + data[i].tobytes() + b"\n" for i in range(start, stop)]
            else:
                rows = vectors[start:stop].tolist()
                parts = [words[i] + b" " + (row_format % tuple(rows[i - start])).encode("ascii")
                         + b"\n" for i in range(start, stop)]
            f.write(b"".join(parts))

    def write(f):
        if fname.endswith(".gz"):
            with gzip.GzipFile(fileobj=f, mode="wb", filename="") as gz:
                write_all(gz)
        else:
            write_all(f)

    _io.atomic_write(fname, write)


class _Reader:
    """Collects (word, vector) entries, keeping the first of duplicate words."""

    def __init__(self, fname, n_max, d, datatype):
        self.fname, self.d = fname, d
        self.words, self.seen, self.duplicates = [], {}, []
        self.vectors = np.empty((n_max, d), datatype) if n_max is not None else None
        self.datatype, self.rows = datatype, []

    def add(self, word, values, where):
        if not word:
            raise ValueError(f"{self.fname!r}: {where}: empty word")
        if not np.isfinite(values).all():
            raise ValueError(f"{self.fname!r}: {where}: the vector of {word!r} holds NaN or infinity")
        if word in self.seen:
            self.duplicates.append((word, where))
            return
        self.seen[word] = len(self.words)
        if self.vectors is not None:
            self.vectors[len(self.words)] = values
        else:
            self.rows.append(np.asarray(values, self.datatype))
        self.words.append(word)

    def result(self, cls, datatype):
        if self.duplicates:
            shown = ", ".join(f"{w!r} ({where})" for w, where in self.duplicates[:5])
            warnings.warn(f"{self.fname!r}: {len(self.duplicates)} duplicate word(s) ignored, "
                          f"the first vector of each is kept: {shown}"
                          + (", ..." if len(self.duplicates) > 5 else ""), stacklevel=4)
        if self.vectors is not None:
            vectors = self.vectors[:len(self.words)]
        else:
            vectors = np.array(self.rows, dtype=datatype).reshape(len(self.rows), self.d)
        if not self.words:
            raise ValueError(f"{self.fname!r} holds no vectors")
        return cls(np.ascontiguousarray(vectors), self.words)


def _parse_header(line, fname):
    parts = line.split()
    try:
        if len(parts) != 2:
            raise ValueError
        n, d = int(parts[0]), int(parts[1])
    except ValueError:
        raise ValueError(f"{fname!r}: line 1: expected the header 'vocab_size vector_size', got "
                         f"{line[:80]!r} (use no_header=True for a text file without one)") from None
    if n < 1 or d < 1:
        raise ValueError(f"{fname!r}: line 1: header '{n} {d}' must give positive sizes")
    return n, d


def _read_text(fin, fname, no_header, limit, datatype, encoding, unicode_errors):
    line_no, n, d = 0, None, None
    if not no_header:
        line_no = 1
        n, d = _parse_header(fin.readline(), fname)
    target = n if limit is None else (limit if n is None else min(n, limit))
    reader = None
    count = 0
    for raw in fin:
        line_no += 1
        body = raw.rstrip()
        if not body:
            if n is None:   # no header: blank lines are skipped
                continue
            raise ValueError(f"{fname!r}: line {line_no}: blank line where entry {count + 1} "
                             f"of {n} was expected")
        sp = body.find(b" ")
        if sp <= 0:
            raise ValueError(f"{fname!r}: line {line_no}: expected a word and {d or 'the'} "
                             f"numbers separated by spaces, got {body[:60]!r}")
        try:
            word = body[:sp].decode(encoding, errors=unicode_errors)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{fname!r}: line {line_no}: the word is not {encoding}: {exc}") from None
        fields = body[sp + 1:].split()
        if d is None:
            d = len(fields)
        if reader is None:
            n_alloc = target if target is not None else None
            reader = _Reader(fname, n_alloc, d, datatype)
        if len(fields) != d:
            raise ValueError(f"{fname!r}: line {line_no}: {word!r} has {len(fields)} values, "
                             f"expected {d}")
        try:
            values = [float(x) for x in fields]
        except ValueError:
            bad = next(x for x in fields if not _is_float(x))
            raise ValueError(f"{fname!r}: line {line_no}: {word!r} has a non-numeric value "
                             f"{bad[:30].decode(encoding, errors='replace')!r}") from None
        count += 1
        reader.add(word, values, f"line {line_no}")
        if count == target:
            break
    if n is not None and count < target:
        raise ValueError(f"{fname!r}: the header promises {n} vectors but the file ends after "
                         f"{count} (line {line_no})")
    if limit is None and n is not None:
        for raw in fin:
            line_no += 1
            if raw.strip():
                raise ValueError(f"{fname!r}: line {line_no}: more vectors than the {n} the "
                                 "header promises")
    if reader is None:
        raise ValueError(f"{fname!r} holds no vectors")
    return reader


def _is_float(x):
    try:
        float(x)
        return True
    except ValueError:
        return False


def _read_binary(fin, fname, limit, datatype, encoding, unicode_errors):
    n, d = _parse_header(fin.readline(_MAX_WORD_BYTES), fname)
    target = n if limit is None else min(n, limit)
    reader = _Reader(fname, target, d, datatype)
    size = 4 * d
    buf, pos, eof = b"", 0, False

    def more():
        nonlocal buf, pos, eof
        chunk = fin.read(_CHUNK)
        eof = len(chunk) < _CHUNK
        buf, pos = buf[pos:] + chunk, 0

    for entry in range(1, target + 1):
        while True:
            sp = buf.find(b" ", pos)
            if sp >= 0:
                break
            if len(buf) - pos > _MAX_WORD_BYTES:
                raise ValueError(f"{fname!r}: entry {entry}: no word ends within "
                                 f"{_MAX_WORD_BYTES} bytes; is this a binary word2vec file?")
            if eof:
                raise ValueError(f"{fname!r}: the header promises {n} vectors but the file ends "
                                 f"after {entry - 1}")
            more()
        raw_word = buf[pos:sp].lstrip(b"\n")
        try:
            word = raw_word.decode(encoding, errors=unicode_errors)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{fname!r}: entry {entry}: the word is not {encoding}: {exc}") from None
        while len(buf) - (sp + 1) < size and not eof:
            sp -= pos
            more()
        if len(buf) - (sp + 1) < size:
            raise ValueError(f"{fname!r}: entry {entry} ({word!r}) is truncated: {size} bytes of "
                             f"vector expected, {len(buf) - sp - 1} left in the file")
        values = np.frombuffer(buf, dtype="<f4", count=d, offset=sp + 1)
        reader.add(word, values, f"entry {entry}")
        pos = sp + 1 + size
    if limit is None:
        while True:
            if buf[pos:].strip(b"\n\r\t "):
                raise ValueError(f"{fname!r}: more data after the {n} vectors the header "
                                 "promises (wrong count in the header, or not a binary file?)")
            if eof:
                break
            buf, pos = b"", 0
            more()
    return reader


def load_word2vec_format(cls, fname, binary=False, encoding="utf8", unicode_errors="strict",
                         limit=None, datatype=np.float32, no_header=False):
    """Read a word2vec C-format file into ``cls`` (a KeyedVectors class).

    ``limit`` reads only the first so many vectors; ``datatype`` float32 or float64;
    ``no_header=True`` reads a text file with no "V d" line.  Words are decoded with
    ``encoding`` / ``unicode_errors``.  Raises FileNotFoundError for a missing file and
    ValueError naming the file and line / entry for a damaged one.
    """
    fname_s = os.fspath(fname)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Integral)
                              or limit < 1):
        raise ValueError(f"limit must be None or an int >= 1, got {limit!r}")
    dt = np.dtype(datatype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"datatype must be float32 or float64, got {dt}")
    if no_header and binary:
        raise ValueError("no_header=True works only for text files (binary=False)")
    if not os.path.exists(fname_s):
        raise FileNotFoundError(f"no such word2vec file: {fname_s!r}")
    try:
        with _open_read(fname_s) as fin:
            if binary:
                reader = _read_binary(fin, fname_s, limit, dt, encoding, unicode_errors)
            else:
                reader = _read_text(fin, fname_s, no_header, limit, dt, encoding, unicode_errors)
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{fname_s!r} could not be read: {exc}") from None
    return reader.result(cls, dt)
