"""The one place where user input is checked and converted for the kernels.

Every function names the argument it checks in its error message.  Arrays come back
C-contiguous (copied only when needed), float32 kept as float32, float64 as float64.
"""
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
INT32_MAX = np.iinfo(np.int32).max


def _asarray(x, name):
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} could not be read as an array: {exc}") from None


def _check_ndim(a, name, ndim):
    if ndim is not None and a.ndim not in np.atleast_1d(ndim):
        want = " or ".join(f"{d}-D" for d in np.atleast_1d(ndim))
        raise ValueError(f"{name} must be {want}, got a {a.ndim}-D array of shape {a.shape}")


def check_finite_array(a, name):
    """Raise ValueError if `a` holds NaN or infinity (a cheap sum first, as scikit-learn)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(a, dtype=np.float64)):
            return
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinity")


def float_array(x, name, *, ndim=None, dtype=None, check_finite=True):
    """x as a non-empty C-contiguous float32 / float64 array.

    Integer, boolean, complex, float16 and object input raise TypeError (dtype=...
    converts to that float dtype instead of keeping the input's).
    """
    a = _asarray(x, name)
    if dtype is not None:
        if a.dtype.kind not in "fiub":
            raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
        a = a.astype(dtype, copy=False)
    elif a.dtype not in FLOAT_DTYPES:
        kind = {"i": "integer", "u": "integer", "b": "boolean", "c": "complex"}.get(
            a.dtype.kind, str(a.dtype))
        raise TypeError(
            f"{name} must be a float32 or float64 array, got {kind} dtype {a.dtype}"
            + (f"; convert it with {name}.astype(np.float64)" if kind in ("integer", "boolean") else ""))
    _check_ndim(a, name, ndim)
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape})")
    a = np.ascontiguousarray(a)
    if check_finite:
        check_finite_array(a, name)
    return a


def int_array(x, name, *, ndim=None, low=0, high=None):
    """x as a C-contiguous int32 array of values in [low, high) (high=None: int32 max)."""
    a = _asarray(x, name)
    _check_ndim(a, name, ndim)
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape})")
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array, got dtype {a.dtype}")
    top = INT32_MAX + 1 if high is None else high
    lo, hi = a.min(), a.max()
    if lo < low or hi >= top:
        bad = lo if lo < low else hi
        raise ValueError(f"{name} must lie in [{low}, {top}), found {bad}")
    return np.ascontiguousarray(a, dtype=np.int32)


def same_shape(a, b, name_a, name_b):
    if a.shape != b.shape:
        raise ValueError(f"{name_b} has shape {b.shape}, but {name_a} has shape {a.shape}")


def sample_weight(w, name, length, dtype, check_finite=True):
    """None, or non-negative weights of shape (length,) summing to more than zero."""
    if w is None:
        return None
    w = float_array(w, name, ndim=1, dtype=dtype, check_finite=check_finite)
    if w.shape[0] != length:
        raise ValueError(f"{name} has {w.shape[0]} entries, expected {length}")
    if (w < 0).any():
        raise ValueError(f"{name} must be non-negative")
    if not w.sum(dtype=np.float64) > 0:
        raise ValueError(f"{name} must have a positive total, got {w.sum(dtype=np.float64)}")
    return w


def real_scalar(x, name, *, low=None, low_open=False, high=None, high_open=False):
    """A finite real number in [low, high] (an end excluded when low_open / high_open;
    None: unbounded on that side)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not np.isfinite(x):
        raise ValueError(f"{name} must be a finite real number, got {x!r}")
    if low is not None and (x < low or (low_open and x == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {x!r}")
    if high is not None and (x > high or (high_open and x == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {x!r}")
    return float(x)


def float_dtype(dtype, name="dtype", *, allow_none=False):
    """np.float32 or np.float64 as a NumPy dtype, from a type, dtype or name (None kept
    as None when allow_none)."""
    if allow_none and dtype is None:
        return None
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be {'None, ' if allow_none else ''}np.float32 or "
                         f"np.float64, got {dtype!r}")
    return d


def int_scalar(x, name, *, low=None, allow_none=False):
    """x as a Python int (>= low when given); None passes through with allow_none."""
    if x is None and allow_none:
        return None
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        what = "None or an int" if allow_none else "an int"
        raise TypeError(f"{name} must be {what}, got {type(x).__name__}")
    if low is not None and x < low:
        raise ValueError(f"{name} must be >= {low}, got {x}")
    return int(x)


def csr_parts(X, name, *, dtype=None, check_finite=True):
    """A scipy.sparse matrix as CSR arrays for the kernels, with no densifying:
    (data float32 / float64, indices int32, indptr int64, shape).  CSC and other
    formats are converted to CSR (one copy)."""
    import scipy.sparse as sp
    if not sp.issparse(X):
        raise TypeError(f"{name} must be a scipy.sparse matrix, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {X.shape}")
    X = X.tocsr()
    if dtype is None:
        if X.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{name} must hold float32 or float64 values, got {X.dtype}")
        dtype = X.dtype
    if X.shape[1] > INT32_MAX:
        raise ValueError(f"{name} has {X.shape[1]} columns; at most {INT32_MAX} are supported")
    data = np.ascontiguousarray(X.data, dtype=dtype)
    if check_finite and data.size:
        check_finite_array(data, name)
    return (data, np.ascontiguousarray(X.indices, dtype=np.int32),
            np.ascontiguousarray(X.indptr, dtype=np.int64), X.shape)


def row_ids(rows, name, n_rows):
    """None, or int64 row numbers in [0, n_rows)."""
    if rows is None:
        return None
    r = _asarray(rows, name)
    if r.dtype.kind not in "iu" or r.ndim != 1:
        raise TypeError(f"{name} must be a 1-D integer array")
    if r.size == 0:
        raise ValueError(f"{name} is empty")
    if r.min() < 0 or r.max() >= n_rows:
        raise ValueError(f"{name} must lie in [0, {n_rows})")
    return np.ascontiguousarray(r, dtype=np.int64)
