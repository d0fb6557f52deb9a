"""Neural-network operations on fastnn's compiled kernels: activations, softmax,
the fused losses, embedding lookup and the dense layer.

The kernels want C-contiguous float32 / float64 arrays of one dtype; the arrays are
made so here (copied only when needed), and empty arrays never reach a kernel.
"""
import numpy as np

from fastnn import _validation as v
from fastnn._kernels import activations as _act
from fastnn._kernels import dense as _dense
from fastnn._kernels import embedding as _emb
from fastnn._kernels import softmax as _sm
from fastnn._threads import _default_threads, resolve_threads
from fastnn.autograd._math import operand
from fastnn.autograd._tensor import FLOAT_DTYPES, Tensor, constant, needs_grad, record

_EVERY_CORE = []


def threads_now():
    """resolve_threads(None), with the every-core default cached: the OS query behind
    it costs more than a small kernel call.  `fastnn.threads` settings are honoured."""
    n = _default_threads.get()
    if n is not None:
        return n
    if not _EVERY_CORE:
        _EVERY_CORE.append(resolve_threads(None))
    return _EVERY_CORE[0]


def _float_tensor(x, name):
    """(Tensor or None, C-contiguous float data) for a kernel operand."""
    t, data = operand(x, name)
    data = np.asarray(data)
    if data.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 Tensor, got dtype "
                        f"{data.dtype}")
    return t, np.ascontiguousarray(data)


def _activation(op, name, x):
    tx, dx = _float_tensor(x, "x")
    out = np.empty_like(dx)
    if dx.size:
        _act.forward(op, dx.reshape(-1), out.reshape(-1), threads_now())
    if not needs_grad(tx):
        return constant(out)

    def backward(g):
        g = np.ascontiguousarray(g, dtype=out.dtype)
        dgrad = np.empty_like(out)
        if out.size:
            # relu's kernel tests saved > 0: its output works as well as its input
            _act.backward(op, g.reshape(-1), out.reshape(-1), dgrad.reshape(-1),
                          threads_now())
        return (dgrad,)
    return record(out, name, (tx,), backward)


def relu(x):
    """max(x, 0), elementwise (compiled kernel, forward and backward)."""
    return _activation(_act.RELU, "relu", x)


def tanh(x):
    """Hyperbolic tangent, elementwise (compiled kernel, forward and backward)."""
    return _activation(_act.TANH, "tanh", x)


def sigmoid(x):
    """1 / (1 + exp(-x)), elementwise (compiled kernel, forward and backward)."""
    return _activation(_act.SIGMOID, "sigmoid", x)


def _rows(data, axis):
    """data with `axis` moved last, as a C-contiguous 2-D array of rows."""
    moved = np.moveaxis(data, axis, -1)
    return np.ascontiguousarray(moved.reshape(-1, moved.shape[-1])), moved.shape


def _softmax_forward(x, axis, log_space):
    tx, dx = _float_tensor(x, "x")
    if dx.ndim == 0:
        raise ValueError("softmax needs a Tensor with at least one axis")
    try:
        axis = range(dx.ndim)[axis]
    except (IndexError, TypeError):
        raise ValueError(f"axis {axis!r} does not fit a Tensor of shape {dx.shape}") \
            from None
    rows, moved_shape = _rows(dx, axis)
    out_rows = np.empty_like(rows)
    if rows.size:
        _sm.softmax(rows, out_rows, log_space, threads_now())
    out = np.moveaxis(out_rows.reshape(moved_shape), -1, axis)
    return tx, out, axis


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis` (default the last), by the stable kernel."""
    tx, out, axis = _softmax_forward(x, axis, False)
    if not needs_grad(tx):
        return constant(out)

    def backward(g):
        gy = g * out
        return (gy - out * gy.sum(axis=axis, keepdims=True),)
    return record(out, "softmax", (tx,), backward)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along `axis` (default the last), by the stable kernel."""
    tx, out, axis = _softmax_forward(x, axis, True)
    if not needs_grad(tx):
        return constant(out)

    def backward(g):
        return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)
    return record(out, "log_softmax", (tx,), backward)


def _plain(x):
    """The array inside a Tensor of labels / ids / weights; other input unchanged."""
    return x.data if isinstance(x, Tensor) else x


def cross_entropy(logits, labels, sample_weight=None):
    """Mean cross-entropy of softmax(logits) against integer labels: one fused kernel
    computes the loss and its gradient (softmax - onehot) in the forward pass.

    logits : Tensor (B, K) float32 / float64.
    labels : (B,) integers in [0, K) (array, list or integer Tensor).
    sample_weight : (B,) non-negative weights or None, default=None (all 1): the loss
        is then sum_i w_i l_i / sum_i w_i.
    Returns a one-value Tensor of logits' dtype.
    """
    tz, z = _float_tensor(logits, "logits")
    if z.ndim != 2:
        raise ValueError(f"logits must be 2-D (batch, classes), got shape {z.shape}")
    B, K = z.shape
    labels = v.int_array(_plain(labels), "labels", ndim=1, high=K)
    if labels.shape[0] != B:
        raise ValueError(f"labels has {labels.shape[0]} entries, but logits has {B} rows")
    weights = v.sample_weight(_plain(sample_weight),
                              "sample_weight", B, z.dtype)
    dlogits = np.empty_like(z)
    loss = _sm.softmax_xent(z, labels, weights, dlogits, threads_now())
    out = np.asarray(loss, dtype=z.dtype)
    if not needs_grad(tz):
        return constant(out)
    return record(out, "cross_entropy", (tz,), lambda g: (dlogits * g,))


def binary_cross_entropy_with_logits(logits, targets):
    """Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1] (same
    shape), in the stable log1p(exp) form, by one fused kernel (loss and gradient)."""
    tz, z = _float_tensor(logits, "logits")
    y = v.float_array(_plain(targets), "targets", dtype=z.dtype)
    v.same_shape(z, y, "logits", "targets")
    if (y < 0).any() or (y > 1).any():
        raise ValueError("targets must lie in [0, 1]")
    dz = np.empty_like(z)
    loss = _sm.bce_with_logits(z.reshape(-1), y.reshape(-1), None, dz.reshape(-1),
                               threads_now())
    out = np.asarray(loss, dtype=z.dtype)
    if not needs_grad(tz):
        return constant(out)
    return record(out, "bce_with_logits", (tz,), lambda g: (dz * g,))


def embedding(ids, table):
    """Rows of `table` (V, d) picked by integer `ids` of any shape: ids.shape + (d,).

    Forward by the gather kernel, backward by its deterministic scatter-add (rows of
    repeated ids add up).
    """
    tt, data = _float_tensor(table, "table")
    if data.ndim != 2:
        raise ValueError(f"table must be 2-D (num_embeddings, dim), got shape {data.shape}")
    V, d = data.shape
    ids = _plain(ids)
    shape = np.shape(ids)   # int_array turns 0-d ids into 1-d ones
    ids = v.int_array(ids, "ids", high=V).reshape(shape)
    rows = ids.reshape(-1, ids.shape[-1]) if ids.ndim else ids.reshape(1, 1)
    out = np.empty((rows.shape[0], rows.shape[1] * d), dtype=data.dtype)
    _emb.gather(data, rows, out, threads_now())
    out = out.reshape(ids.shape + (d,))
    if not needs_grad(tt):
        return constant(out)

    def backward(g):
        dtable = np.zeros_like(data)
        flat = np.ascontiguousarray(g, dtype=data.dtype).reshape(rows.shape[0], -1)
        _emb.scatter_add(dtable, flat, rows, threads_now())
        return (dtable,)
    return record(out, "embedding", (tt,), backward)


def linear(x, weight, bias=None):
    """x (B, n_in) @ weight (n_out, n_in).T + bias (n_out,): the dense layer as one
    node, by the compiled BLAS kernels (bias=None: no bias)."""
    tx, dx = _float_tensor(x, "x")
    tw, dw = _float_tensor(weight, "weight")
    if dx.ndim != 2 or dw.ndim != 2 or dw.shape[1] != dx.shape[1]:
        raise ValueError(f"linear needs x (B, n_in) and weight (n_out, n_in); got shapes "
                         f"{dx.shape} and {dw.shape}")
    tb = db = None
    if bias is not None:
        tb, db = _float_tensor(bias, "bias")
        if db.shape != (dw.shape[0],):
            raise ValueError(f"bias has shape {db.shape}, expected ({dw.shape[0]},)")
    dtype = np.result_type(dx, dw, *(() if db is None else (db,)))
    dx, dw = dx.astype(dtype, copy=False), dw.astype(dtype, copy=False)
    if db is not None:
        db = db.astype(dtype, copy=False)
    out = np.empty((dx.shape[0], dw.shape[0]), dtype=dtype)
    if out.size and dx.shape[1]:
        _dense.forward(dx, dw, db, out, threads_now())
    else:
        out[...] = 0 if db is None else db
    if not needs_grad(tx, tw, tb):
        return constant(out)

    def backward(g):
        g = np.ascontiguousarray(g, dtype=dtype)
        want_x = tx is not None and tx.requires_grad
        want_w = tw is not None and tw.requires_grad
        want_b = tb is not None and tb.requires_grad
        gx = np.empty_like(dx) if want_x else None
        gw = np.empty_like(dw) if want_w else None
        gb = np.empty(dw.shape[0], dtype=dtype) if want_b else None
        if g.size and dx.shape[1]:
            _dense.backward(g, dx, dw, gw, gb, gx, threads_now())
        else:
            for a in (gx, gw):
                if a is not None:
                    a[...] = 0
            if gb is not None:
                gb[...] = g.sum(axis=0)
        return gx, gw, gb
    return record(out, "linear", (tx, tw, tb), backward)
