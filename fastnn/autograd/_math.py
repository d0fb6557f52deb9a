"""Arithmetic with NumPy broadcasting, exp / log, matrix products and reductions.

Operands may be Tensors, Python numbers or arrays (arrays and numbers are constants).
Each backward rule sums a broadcast gradient back to its input's shape.
"""
import numbers

import numpy as np

try:
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # NumPy < 2
    from numpy.core.numeric import normalize_axis_tuple

from fastnn.autograd._tensor import Tensor, constant, needs_grad, record


def operand(x, name="operand"):
    """(Tensor or None, data) for an operand: numbers stay Python numbers so that
    ``2 * x`` keeps x's dtype (NumPy's weak scalars), arrays become constants."""
    if isinstance(x, Tensor):
        return x, x.data
    if isinstance(x, numbers.Number) and not isinstance(x, (bool, complex)):
        return None, x
    if isinstance(x, (np.ndarray, np.generic, list, tuple)):
        t = Tensor(x)
        return t, t.data
    raise TypeError(f"{name} must be a Tensor, an array or a real number, got "
                    f"{type(x).__name__}")


def unbroadcast(g, shape):
    """g summed over the axes along which an input of `shape` was broadcast."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def _label(ta, a, tb, b):
    """Constants written into the operation's box (the 2 of ``2 * b``)."""
    if ta is None:
        return f"{a:g}"
    if tb is None:
        return f"{b:g}"
    return ""


def _binary(op, a, b, forward):
    ta, da = operand(a, "a")
    tb, db = operand(b, "b")
    try:
        out = forward(da, db)
    except ValueError as exc:
        raise ValueError(f"{op}: operands of shapes {np.shape(da)} and {np.shape(db)} "
                         f"do not fit together ({exc})") from None
    return ta, da, tb, db, out


def add(a, b):
    """a + b, broadcast."""
    ta, da, tb, db, out = _binary("add", a, b, np.add)
    if not needs_grad(ta, tb):
        return constant(out)
    sa, sb = np.shape(da), np.shape(db)

    def backward(g):
        return unbroadcast(g, sa), unbroadcast(g, sb)
    return record(out, "+", (ta, tb), backward, _label(ta, da, tb, db))


def sub(a, b):
    """a - b, broadcast."""
    ta, da, tb, db, out = _binary("sub", a, b, np.subtract)
    if not needs_grad(ta, tb):
        return constant(out)
    sa, sb = np.shape(da), np.shape(db)

    def backward(g):
        return unbroadcast(g, sa), (None if tb is None or not tb.requires_grad
                                    else -unbroadcast(g, sb))
    return record(out, "-", (ta, tb), backward, _label(ta, da, tb, db))


def mul(a, b):
    """a * b, elementwise, broadcast."""
    ta, da, tb, db, out = _binary("mul", a, b, np.multiply)
    if not needs_grad(ta, tb):
        return constant(out)

    def backward(g):
        ga = gb = None
        if ta is not None and ta.requires_grad:
            ga = unbroadcast(g * db, np.shape(da))
        if tb is not None and tb.requires_grad:
            gb = unbroadcast(g * da, np.shape(db))
        return ga, gb
    return record(out, "*", (ta, tb), backward, _label(ta, da, tb, db))


def div(a, b):
    """a / b, elementwise, broadcast."""
    ta, da, tb, db, out = _binary("div", a, b, np.true_divide)
    if not needs_grad(ta, tb):
        return constant(out)

    def backward(g):
        ga = gb = None
        if ta is not None and ta.requires_grad:
            ga = unbroadcast(g / db, np.shape(da))
        if tb is not None and tb.requires_grad:
            gb = unbroadcast(-g * out / db, np.shape(db))
        return ga, gb
    return record(out, "/", (ta, tb), backward, _label(ta, da, tb, db))


def power(a, b):
    """a ** b, elementwise, broadcast (a gradient for the exponent needs a > 0)."""
    ta, da, tb, db, out = _binary("power", a, b, np.power)
    if not needs_grad(ta, tb):
        return constant(out)

    def backward(g):
        ga = gb = None
        if ta is not None and ta.requires_grad:
            ga = unbroadcast(g * db * np.power(da, db - 1), np.shape(da))
        if tb is not None and tb.requires_grad:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = unbroadcast(g * out * np.log(da), np.shape(db))
        return ga, gb
    return record(out, "**", (ta, tb), backward, _label(ta, da, tb, db))


def neg(x):
    """-x."""
    tx, dx = operand(x, "x")
    out = np.negative(dx)
    if not needs_grad(tx):
        return constant(out)
    return record(out, "neg", (tx,), lambda g: (-g,))


def exp(x):
    """e ** x, elementwise."""
    tx, dx = operand(x, "x")
    out = np.exp(dx)
    if not needs_grad(tx):
        return constant(out)
    return record(out, "exp", (tx,), lambda g: (g * out,))


def log(x):
    """Natural logarithm, elementwise (NaN / -inf outside x > 0, as NumPy)."""
    tx, dx = operand(x, "x")
    out = np.log(dx)
    if not needs_grad(tx):
        return constant(out)
    return record(out, "log", (tx,), lambda g: (g / dx,))


def _swap_last(a):
    return np.swapaxes(a, -1, -2)


def matmul(a, b):
    """a @ b with NumPy's rules (1-D operands, broadcast batch axes); BLAS for the
    products, forward and backward."""
    ta, da, tb, db, out = _binary("matmul", a, b, np.matmul)
    if not needs_grad(ta, tb):
        return constant(out)

    def backward(g):
        # promote 1-D operands to matrices, as matmul does, then undo it
        a2 = da[np.newaxis, :] if da.ndim == 1 else da
        b2 = db[:, np.newaxis] if db.ndim == 1 else db
        g2 = g.reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
                       + (a2.shape[-2], b2.shape[-1]))
        ga = gb = None
        if ta is not None and ta.requires_grad:
            ga = unbroadcast(np.matmul(g2, _swap_last(b2)), a2.shape).reshape(da.shape)
        if tb is not None and tb.requires_grad:
            gb = unbroadcast(np.matmul(_swap_last(a2), g2), b2.shape).reshape(db.shape)
        return ga, gb
    return record(out, "@", (ta, tb), backward)


def _axes(axis, ndim):
    """axis (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    try:
        return tuple(sorted(normalize_axis_tuple(axes, ndim, "axis")))
    except np.exceptions.AxisError as exc:
        raise ValueError(f"axis {axis!r} does not fit a Tensor with {ndim} axes: {exc}") \
            from None


def _spread(shape, axes, scale=None):
    """The backward rule of a reduction over `axes` of an input of `shape`: the output
    gradient copied back along the reduced axes (times `scale`), as a fresh array."""
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))

    def backward(g):
        gx = np.empty(shape, dtype=g.dtype)
        gx[...] = g.reshape(kept) if scale is None else g.reshape(kept) * scale
        return (gx,)
    return backward


def sum(x, axis=None, keepdims=False):  # noqa: A001 - the name users expect
    """Sum over `axis` (None: every axis; an int or a tuple).  keepdims=False drops
    the reduced axes, as NumPy."""
    tx, dx = operand(x, "x")
    dx = np.asarray(dx)
    axes = _axes(axis, dx.ndim)
    out = np.sum(dx, axis=axes, keepdims=keepdims)
    if not needs_grad(tx):
        return constant(out)
    return record(out, "sum", (tx,), _spread(dx.shape, axes))


def mean(x, axis=None, keepdims=False):
    """Mean over `axis` (None: every axis; an int or a tuple); keepdims=False as NumPy."""
    tx, dx = operand(x, "x")
    dx = np.asarray(dx)
    axes = _axes(axis, dx.ndim)
    count = 1
    for i in axes:
        count *= dx.shape[i]
    if count == 0:
        raise ValueError(f"mean over an empty axis of a Tensor of shape {dx.shape}")
    out = np.mean(dx, axis=axes, keepdims=keepdims)
    if not needs_grad(tx):
        return constant(out)
    return record(out, "mean", (tx,), _spread(dx.shape, axes, 1.0 / count))
