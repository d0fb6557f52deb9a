"""Saving and loading fastnn models without pickle.

A model file is one ``.npz`` archive: its arrays, plus a ``__meta__`` entry holding a
JSON document with the model kind, a format version and the model's plain settings.
Files are written to a temporary file beside the target and renamed over it, so an
interrupted save never leaves a half-written file or destroys the one that was there.
"""
import gzip
import json
import os
import tempfile
import zipfile

import numpy as np

FORMAT_VERSION = 1
_META = "__meta__"


def atomic_write(path, write):
    """Call ``write(file_object)`` on a temporary file beside ``path``, then rename it
    onto ``path`` (exactly that name).  On any error the temporary file is removed and
    an existing ``path`` is left untouched."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fastnn-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_arrays(path, kind, arrays, meta=None):
    """Write ``arrays`` (name -> ndarray) and ``meta`` (JSON-serialisable dict) to the
    ``.npz`` file ``path`` atomically; ``kind`` names the model class for ``load_arrays``."""
    for name, a in arrays.items():
        if name == _META:
            raise ValueError(f"array name {_META!r} is reserved")
        if np.asarray(a).dtype == object:
            raise TypeError(f"array {name!r} has dtype object, which cannot be saved without pickle")
    document = {"kind": kind, "format_version": FORMAT_VERSION, **(meta or {})}
    encoded = np.frombuffer(json.dumps(document).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays, **{_META: encoded}))


def load_arrays(path, kind):
    """Read a file written by ``save_arrays`` for ``kind``: returns (arrays, meta).

    Raises FileNotFoundError for a missing file and ValueError naming the path for a
    file that is not a fastnn ``kind`` model (other kind, newer format, corrupt data)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: {path!r}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path!r} is not a fastnn model file (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _META not in archive.files:
                raise ValueError("it has no fastnn metadata entry")
            meta = json.loads(archive[_META].tobytes().decode("utf-8"))
            arrays = {name: archive[name] for name in archive.files if name != _META}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
            UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path!r} is not a readable fastnn model file: {exc}") from None
    if not isinstance(meta, dict) or meta.get("kind") != kind:
        found = meta.get("kind") if isinstance(meta, dict) else None
        raise ValueError(f"{path!r} holds a {found!r} model, not a {kind!r} model")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path!r} was written by a newer fastnn (format version "
                         f"{meta['format_version']} > {FORMAT_VERSION}); upgrade fastnn")
    return arrays, meta


def open_binary(path, name="path"):
    """``path`` opened for reading bytes, decompressed on the fly when the file starts
    with the gzip magic bytes (whatever its name)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} must be a file path, got {type(path).__name__}")
    f = open(path, "rb")
    if f.read(2) == b"\x1f\x8b":
        f.close()
        return gzip.open(path, "rb")
    f.seek(0)
    return f
