"""fastnn's kernels as validated functions on NumPy arrays.

Every function accepts array-likes, keeps float32 as float32 and float64 as float64,
copies non-contiguous input rather than misreading it, and raises ValueError /
TypeError naming the argument for bad input.  Every function also takes

- ``n_threads``: None uses the `fastnn.threads` setting or every core the process may
  use (OMP_NUM_THREADS honoured); small inputs run on fewer threads;
- ``check_finite``: False skips the NaN / infinity scan (SciPy's convention); the
  results for non-finite input are then undefined, but never a crash.

The activations and their backward passes also take ``out``: an array to write the
result into (it may be the input itself, for an in-place update).  Losses come back
as Python floats.  Results do not depend on the thread count.
"""
import numpy as np

from fastnn import _validation as v
from fastnn._kernels import activations as _act
from fastnn._kernels import dense as _dense
from fastnn._kernels import embedding as _emb
from fastnn._kernels import softmax as _sm
from fastnn._kernels import sparse as _sparse
from fastnn._kernels import update as _upd
from fastnn._threads import resolve_threads

__all__ = [
    "softmax", "log_softmax", "softmax_cross_entropy", "sigmoid",
    "binary_cross_entropy_with_logits", "relu", "relu_backward", "tanh", "tanh_backward",
    "sigmoid_backward", "linear", "linear_backward", "lm_windows", "embedding",
    "embedding_backward", "sparse_matmul", "sparse_t_matmul", "sgd_update",
]


def _rowwise(z, axis, log_space, n_threads, check_finite):
    z = v.float_array(z, "z", check_finite=check_finite)
    moved = np.moveaxis(z, axis, -1)
    rows = np.ascontiguousarray(moved.reshape(-1, moved.shape[-1]))
    out = np.empty_like(rows)
    _sm.softmax(rows, out, log_space, resolve_threads(n_threads))
    return np.ascontiguousarray(np.moveaxis(out.reshape(moved.shape), -1, axis))


def softmax(z, axis=-1, *, n_threads=None, check_finite=True):
    """exp(z) / sum(exp(z)) along `axis`, computed stably (the max is subtracted)."""
    return _rowwise(z, axis, False, n_threads, check_finite)


def log_softmax(z, axis=-1, *, n_threads=None, check_finite=True):
    """z - logsumexp(z) along `axis`: log-probabilities without under- or overflow."""
    return _rowwise(z, axis, True, n_threads, check_finite)


def softmax_cross_entropy(logits, labels, sample_weight=None, *, n_threads=None,
                          check_finite=True):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits (B, K) float; labels (B,) integers in [0, K); sample_weight (B,) optional
    non-negative weights.  Returns (loss, dlogits): loss = sum_i w_i l_i / sum_i w_i
    with l_i = logsumexp(logits_i) - logits_i[labels_i], and
    dlogits = (softmax(logits) - onehot(labels)) * w_i / sum(w), both in one pass.
    """
    logits = v.float_array(logits, "logits", ndim=2, check_finite=check_finite)
    B, K = logits.shape
    labels = v.int_array(labels, "labels", ndim=1, high=K)
    if labels.shape[0] != B:
        raise ValueError(f"labels has {labels.shape[0]} entries, but logits has {B} rows")
    w = v.sample_weight(sample_weight, "sample_weight", B, logits.dtype, check_finite)
    dlogits = np.empty_like(logits)
    loss = _sm.softmax_xent(logits, labels, w, dlogits, resolve_threads(n_threads))
    return float(loss), dlogits


def binary_cross_entropy_with_logits(z, y, sample_weight=None, *, n_threads=None,
                                     check_finite=True):
    """Mean binary cross-entropy of sigmoid(z) against targets y in [0, 1], and dz.

    z float array of any shape; y (same shape) targets, converted to z's dtype;
    sample_weight (same shape) optional.  Returns (loss, dz) with the stable form
    l = max(z, 0) - z y + log1p(exp(-|z|)) and dz = (sigmoid(z) - y) w / sum(w).
    """
    z = v.float_array(z, "z", check_finite=check_finite)
    y = v.float_array(y, "y", dtype=z.dtype, check_finite=True)
    v.same_shape(z, y, "z", "y")
    if (y < 0).any() or (y > 1).any():
        raise ValueError("y must hold targets in [0, 1]")
    w = None
    if sample_weight is not None:
        w = v.float_array(sample_weight, "sample_weight", dtype=z.dtype,
                          check_finite=check_finite)
        v.same_shape(z, w, "z", "sample_weight")
        w = v.sample_weight(w.ravel(), "sample_weight", z.size, z.dtype, False)
    dz = np.empty_like(z)
    loss = _sm.bce_with_logits(z.ravel(), y.ravel(), w, dz.reshape(-1),
                               resolve_threads(n_threads))
    return float(loss), dz


def _output(out, like, inputs):
    """`out` checked for writing `like`'s result in place: None gives a new array;
    an array must match in shape and dtype, be writable and C-contiguous, and may be
    one of the inputs itself but not partly overlap them."""
    if out is None:
        return np.empty_like(like)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a NumPy array or None, got {type(out).__name__}")
    if out.shape != like.shape or out.dtype != like.dtype:
        raise ValueError(f"out must have shape {like.shape} and dtype {like.dtype}, got "
                         f"{out.shape} and {out.dtype}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("out must be a writable C-contiguous array")
    for a in inputs:
        if np.shares_memory(out, a) and not (
                out.__array_interface__["data"][0] == a.__array_interface__["data"][0]):
            raise ValueError("out partly overlaps an input; pass the input itself or new memory")
    return out


def _unary(op, x, out, n_threads, check_finite):
    x = v.float_array(x, "x", check_finite=check_finite)
    out = _output(out, x, [x])
    _act.forward(op, x.reshape(-1), out.reshape(-1), resolve_threads(n_threads))
    return out


def _unary_backward(op, dout, saved, saved_name, out, n_threads, check_finite):
    dout = v.float_array(dout, "dout", check_finite=check_finite)
    saved = v.float_array(saved, saved_name, check_finite=check_finite)
    v.same_shape(dout, saved, "dout", saved_name)
    dtype = np.result_type(dout, saved)
    dout, saved = dout.astype(dtype, copy=False), saved.astype(dtype, copy=False)
    dx = _output(out, dout, [dout, saved])
    _act.backward(op, dout.reshape(-1), saved.reshape(-1), dx.reshape(-1),
                  resolve_threads(n_threads))
    return dx


def relu(x, *, out=None, n_threads=None, check_finite=True):
    """max(x, 0), elementwise."""
    return _unary(_act.RELU, x, out, n_threads, check_finite)


def tanh(x, *, out=None, n_threads=None, check_finite=True):
    """Hyperbolic tangent, elementwise."""
    return _unary(_act.TANH, x, out, n_threads, check_finite)


def sigmoid(x, *, out=None, n_threads=None, check_finite=True):
    """The logistic function 1 / (1 + exp(-x)), elementwise, exact in both tails."""
    return _unary(_act.SIGMOID, x, out, n_threads, check_finite)


def relu_backward(dout, x, *, out=None, n_threads=None, check_finite=True):
    """dout * (x > 0): the gradient through relu, given the forward input x."""
    return _unary_backward(_act.RELU, dout, x, "x", out, n_threads, check_finite)


def tanh_backward(dout, y, *, out=None, n_threads=None, check_finite=True):
    """dout * (1 - y**2): the gradient through tanh, given the forward output y."""
    return _unary_backward(_act.TANH, dout, y, "y", out, n_threads, check_finite)


def sigmoid_backward(dout, y, *, out=None, n_threads=None, check_finite=True):
    """dout * y * (1 - y): the gradient through sigmoid, given the forward output y."""
    return _unary_backward(_act.SIGMOID, dout, y, "y", out, n_threads, check_finite)


def _linear_args(x, W, n_threads, check_finite):
    x = v.float_array(x, "x", ndim=2, check_finite=check_finite)
    W = v.float_array(W, "W", ndim=2, dtype=x.dtype, check_finite=check_finite)
    if W.shape[1] != x.shape[1]:
        raise ValueError(f"W has shape {W.shape}: expected (n_out, {x.shape[1]}) for x of "
                         f"shape {x.shape}")
    return x, W, resolve_threads(n_threads)


def linear(x, W, b=None, *, n_threads=None, check_finite=True):
    """x (B, n_in) @ W (n_out, n_in).T + b (n_out,): a dense layer, by BLAS gemm.

    BLAS threads follow `fastnn.threads` / threadpoolctl, not `n_threads`.
    """
    x, W, nt = _linear_args(x, W, n_threads, check_finite)
    if b is not None:
        b = v.float_array(b, "b", ndim=1, dtype=x.dtype, check_finite=check_finite)
        if b.shape[0] != W.shape[0]:
            raise ValueError(f"b has {b.shape[0]} entries, expected {W.shape[0]}")
    out = np.empty((x.shape[0], W.shape[0]), dtype=x.dtype)
    _dense.forward(x, W, b, out, nt)
    return out


def linear_backward(dout, x, W, *, n_threads=None, check_finite=True):
    """Gradients of `linear`: returns (dW, db, dx) = (dout.T @ x, dout.sum(0), dout @ W)."""
    x, W, nt = _linear_args(x, W, n_threads, check_finite)
    dout = v.float_array(dout, "dout", ndim=2, dtype=x.dtype, check_finite=check_finite)
    if dout.shape != (x.shape[0], W.shape[0]):
        raise ValueError(f"dout has shape {dout.shape}, expected {(x.shape[0], W.shape[0])}")
    dW, db, dx = np.empty_like(W), np.empty(W.shape[0], x.dtype), np.empty_like(x)
    _dense.backward(dout, x, W, dW, db, dx, nt)
    return dW, db, dx


def lm_windows(ids, context_size, pad_id, boundaries=None, *, n_threads=None):
    """Training windows of a feed-forward language model from a token-id stream.

    ids (N,) non-negative integers; context_size n >= 1; pad_id >= 0 fills context
    positions before the start of the stream or of the token's sentence; boundaries:
    optional sorted sentence start offsets into ids.  Returns (contexts (N, n),
    targets (N,)), int32: every token is a target and contexts[t] holds the n ids
    before it, e.g. ids [5, 6, 7, 8], n = 2, pad 0 give [[0, 0], [0, 5], [5, 6], [6, 7]].
    """
    ids = v.int_array(ids, "ids", ndim=1)
    n = v.int_scalar(context_size, "context_size", low=1)
    pad = v.int_scalar(pad_id, "pad_id", low=0)
    if pad > v.INT32_MAX:
        raise ValueError(f"pad_id must be below 2**31, got {pad}")
    starts = None
    if boundaries is not None:
        starts = np.asarray(boundaries)
        if starts.size == 0:
            starts = None
        else:
            if starts.dtype.kind not in "iu" or starts.ndim != 1:
                raise TypeError("boundaries must be a 1-D array of integer offsets")
            starts = np.ascontiguousarray(starts, dtype=np.int64)
            if starts[0] < 0 or starts[-1] > ids.shape[0] or (np.diff(starts) < 0).any():
                raise ValueError(f"boundaries must be sorted offsets in [0, {ids.shape[0]}]")
    contexts = np.empty((ids.shape[0], n), dtype=np.int32)
    targets = np.empty(ids.shape[0], dtype=np.int32)
    _emb.lm_windows(ids, n, pad, starts, contexts, targets, resolve_threads(n_threads))
    return contexts, targets


def _embedding_ids(ids, num_embeddings):
    ids = v.int_array(ids, "ids", ndim=(1, 2), high=num_embeddings)
    return ids.reshape(ids.shape[0], -1)


def embedding(ids, table, *, n_threads=None, check_finite=True):
    """Rows of `table` (V, d) for ids (N, n): (N, n * d), each row the n embeddings side
    by side (1-D ids give (N, d))."""
    table = v.float_array(table, "table", ndim=2, check_finite=check_finite)
    rows = _embedding_ids(ids, table.shape[0])
    out = np.empty((rows.shape[0], rows.shape[1] * table.shape[1]), dtype=table.dtype)
    _emb.gather(table, rows, out, resolve_threads(n_threads))
    return out


def embedding_backward(dout, ids, num_embeddings, *, n_threads=None, check_finite=True):
    """Gradient of `embedding` for its table: (num_embeddings, d), the rows of dout added
    into the rows their ids name (exact and deterministic when ids repeat)."""
    V = v.int_scalar(num_embeddings, "num_embeddings", low=1)
    rows = _embedding_ids(ids, V)
    dout = v.float_array(dout, "dout", ndim=2, check_finite=check_finite)
    if dout.shape[0] != rows.shape[0] or dout.shape[1] % rows.shape[1]:
        raise ValueError(f"dout has shape {dout.shape}, expected ({rows.shape[0]}, "
                         f"{rows.shape[1]} * d)")
    dtable = np.zeros((V, dout.shape[1] // rows.shape[1]), dtype=dout.dtype)
    _emb.scatter_add(dtable, dout, rows, resolve_threads(n_threads))
    return dtable


def _sparse_args(X, dense, dense_name, rows, check_finite):
    data, indices, indptr, shape = v.csr_parts(X, "X", check_finite=check_finite)
    dense = v.float_array(dense, dense_name, ndim=2, dtype=data.dtype, check_finite=check_finite)
    return data, indices, indptr, shape, dense, v.row_ids(rows, "rows", shape[0])


def sparse_matmul(X, WT, rows=None, *, n_threads=None, check_finite=True):
    """X[rows] @ WT for a scipy.sparse X (n, F), never densified, and WT (F, K).

    rows: optional row numbers of X forming the batch (None: every row, in order).
    Parameters are laid out a feature per row (WT, not W), so each non-zero touches one
    contiguous row.  Result (B, K) in X's float dtype.
    """
    data, indices, indptr, (n, F), WT, rows = _sparse_args(X, WT, "WT", rows, check_finite)
    if WT.shape[0] != F:
        raise ValueError(f"WT has {WT.shape[0]} rows, but X has {F} columns")
    out = np.empty((n if rows is None else rows.shape[0], WT.shape[1]), dtype=data.dtype)
    if out.size:
        _sparse.matmul(data, indices, indptr, rows, WT, out, resolve_threads(n_threads))
    return out


def sparse_t_matmul(X, G, rows=None, *, n_threads=None, check_finite=True):
    """X[rows].T @ G for a scipy.sparse X (n, F) and G (B, K): the (F, K) weight
    gradient of `sparse_matmul`, summed in a fixed order (deterministic)."""
    data, indices, indptr, (n, F), G, rows = _sparse_args(X, G, "G", rows, check_finite)
    B = n if rows is None else rows.shape[0]
    if G.shape[0] != B:
        raise ValueError(f"G has {G.shape[0]} rows, but the batch has {B}")
    out = np.zeros((F, G.shape[1]), dtype=data.dtype)
    _sparse.t_matmul(data, indices, indptr, rows, G, out, resolve_threads(n_threads))
    return out


def _inplace_array(a, name):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array (it is updated in place), "
                        f"got {type(a).__name__}")
    if a.dtype not in v.FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {a.dtype}")
    if not a.flags.c_contiguous or not a.flags.writeable:
        raise ValueError(f"{name} must be a writable C-contiguous array (it is updated in "
                         "place; a copy would hide the update)")
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    return a


def sgd_update(param, grad, lr, *, velocity=None, momentum=0.0, nesterov=False,
               weight_decay=0.0, n_threads=None, check_finite=True):
    """One SGD step on `param`, in place, with PyTorch's conventions.

    g' = grad + weight_decay * param; without momentum param -= lr * g'; with it
    velocity = momentum * velocity + g' and param -= lr * velocity, or with Nesterov
    param -= lr * (g' + momentum * velocity).  param and velocity (required when
    momentum > 0, zeros at the start) must be writable C-contiguous float arrays of
    one dtype; grad is converted to param's dtype.  Returns None.
    """
    param = _inplace_array(param, "param")
    grad = v.float_array(grad, "grad", dtype=param.dtype, check_finite=check_finite)
    v.same_shape(param, grad, "param", "grad")
    lr = v.real_scalar(lr, "lr", low=0)
    momentum = v.real_scalar(momentum, "momentum", low=0)
    weight_decay = v.real_scalar(weight_decay, "weight_decay", low=0)
    if nesterov and momentum == 0:
        raise ValueError("nesterov=True needs momentum > 0")
    if velocity is None:
        if momentum > 0:
            raise ValueError("velocity is required when momentum > 0 (start with zeros)")
    else:
        velocity = _inplace_array(velocity, "velocity")
        v.same_shape(param, velocity, "param", "velocity")
        if velocity.dtype != param.dtype:
            raise TypeError(f"velocity has dtype {velocity.dtype}, param has {param.dtype}")
        if np.shares_memory(param, velocity):
            raise ValueError("param and velocity must not share memory")
        velocity = velocity.reshape(-1)
    _upd.sgd_update(param.reshape(-1), grad.reshape(-1), velocity, lr, momentum,
                    bool(nesterov), weight_decay, resolve_threads(n_threads))
