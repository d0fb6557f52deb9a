"""Class labels: the sorted classes of y and the class index of every label.

Same results as np.unique / np.searchsorted, with a fast path for integer labels of a
small range (a count table instead of a sort or hash: a fit of a few-ms epoch should not
spend ms on its labels).
"""
import numpy as np
from sklearn.utils.multiclass import check_classification_targets

_RANGE_PER_LABEL = 4    # integer labels use a table when max - min < 4 n + 1024


def _int_range(y):
    """(min, max) of integer labels when a table over them is small, else None."""
    if y.dtype.kind not in "iu" or y.ndim != 1 or y.shape[0] == 0:
        return None
    lo, hi = y.min(), y.max()
    if int(hi) - int(lo) >= _RANGE_PER_LABEL * y.shape[0] + 1024:
        return None
    return lo, hi


def check_targets(y):
    """scikit-learn's check that y holds classification labels.  1-D integer labels
    always pass it (they are 'binary' or 'multiclass'), so they skip its np.unique."""
    if y.ndim == 1 and y.dtype.kind in "iu":
        return
    check_classification_targets(y)


def classes_of(y):
    """The sorted distinct labels of y, as np.unique(y)."""
    span = _int_range(y)
    if span is None:
        return np.unique(y)
    lo, hi = span
    counts = np.bincount((y - lo).astype(np.intp, copy=False), minlength=int(hi - lo) + 1)
    return (np.flatnonzero(counts) + lo).astype(y.dtype)


def encode(classes, y):
    """Index of every label of y in the sorted `classes` (int32); ValueError when y
    holds a label not in classes."""
    span = _int_range(y)
    if span is not None and classes.dtype.kind in "iu" and classes.shape[0] > 0:
        lo, hi = span
        c0, c1 = int(classes[0]), int(classes[-1])
        if int(lo) >= c0 and int(hi) <= c1 and c1 - c0 < _RANGE_PER_LABEL * y.shape[0] + 1024:
            table = np.full(c1 - c0 + 1, -1, dtype=np.int32)
            table[(classes - c0).astype(np.intp)] = np.arange(classes.shape[0], dtype=np.int32)
            idx = table[(y - c0).astype(np.intp, copy=False)]
            if idx.min() < 0:
                raise ValueError("y contains labels not seen during fit")
            return idx
    idx = np.searchsorted(classes, y)
    idx = np.clip(idx, 0, classes.shape[0] - 1)
    if not np.all(classes[idx] == y):
        raise ValueError("y contains labels not seen during fit")
    return idx.astype(np.int32)
