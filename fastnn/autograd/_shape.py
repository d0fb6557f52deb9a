"""Operations that move values around: reshape, transpose, indexing, concatenate, stack."""
import numbers

import numpy as np

from fastnn.autograd._math import operand
from fastnn.autograd._tensor import Tensor, constant, needs_grad, record


def _shape_argument(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return shape


def reshape(x, *shape):
    """x with a new shape of the same size (``reshape(x, 2, 3)`` or ``(2, 3)``; one -1)."""
    tx, dx = operand(x, "x")
    dx = np.asarray(dx)
    shape = _shape_argument(shape)
    try:
        out = dx.reshape(shape)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"cannot reshape a Tensor of shape {dx.shape} to {shape}: "
                         f"{exc}") from None
    if not needs_grad(tx):
        return constant(out)
    return record(out, "reshape", (tx,), lambda g: (g.reshape(dx.shape),),
                  str(out.shape))


def transpose(x, *axes):
    """x with its axes permuted (no axes: reversed, as ``x.T``)."""
    tx, dx = operand(x, "x")
    dx = np.asarray(dx)
    axes = _shape_argument(axes) or None
    try:
        out = np.transpose(dx, axes)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"axes {axes} do not permute the {dx.ndim} axes of a Tensor of "
                         f"shape {dx.shape}: {exc}") from None
    if not needs_grad(tx):
        return constant(out)
    inverse = None if axes is None else tuple(np.argsort(axes))
    return record(out, "transpose", (tx,), lambda g: (np.transpose(g, inverse),))


def _is_basic(index):
    """True for indices made of ints, slices, None and Ellipsis only: each element of
    the input is then picked at most once, so a plain assignment scatters back."""
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if not (p is None or p is Ellipsis or isinstance(p, (slice, numbers.Integral))):
            return False
    return True


def _plain_index(index):
    """Tensors inside an index replaced by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(p.data if isinstance(p, Tensor) else p for p in index)
    return index


def getitem(x, index):
    """x[index] with NumPy's basic and advanced indexing; repeated picks of one
    element add up in the gradient."""
    tx, dx = operand(x, "x")
    index = _plain_index(index)
    try:
        out = dx[index]
    except IndexError as exc:
        raise IndexError(f"index {index!r} does not fit a Tensor of shape {dx.shape}: "
                         f"{exc}") from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    elif _is_basic(index):
        out = out.copy()   # a result independent of later in-place updates of x.data
    if not needs_grad(tx):
        return constant(out)
    basic = _is_basic(index)

    def backward(g):
        gx = np.zeros(dx.shape, dtype=g.dtype)
        if basic:
            gx[index] = g
        else:
            np.add.at(gx, index, g)
        return (gx,)
    return record(out, "index", (tx,), backward)


def _tensors(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple of Tensors / arrays")
    if not tensors:
        raise ValueError(f"{name} is empty")
    pairs = [operand(t, f"{name}[{i}]") for i, t in enumerate(tensors)]
    pairs = [(t if t is not None else Tensor(d), np.asarray(d)) for t, d in pairs]
    return tuple(t for t, _ in pairs), [d for _, d in pairs]


def concatenate(tensors, axis=0):
    """The Tensors joined along an existing axis (default 0)."""
    ts, arrays = _tensors(tensors, "tensors")
    try:
        out = np.concatenate(arrays, axis=axis)
    except (ValueError, np.exceptions.AxisError) as exc:
        shapes = [a.shape for a in arrays]
        raise ValueError(f"cannot concatenate shapes {shapes} along axis {axis}: "
                         f"{exc}") from None
    if not needs_grad(*ts):
        return constant(out)
    splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]

    def backward(g):
        return tuple(np.split(g, splits, axis=axis))
    return record(out, "concatenate", ts, backward)


def stack(tensors, axis=0):
    """The Tensors (all of one shape) stacked along a new axis (default 0)."""
    ts, arrays = _tensors(tensors, "tensors")
    try:
        out = np.stack(arrays, axis=axis)
    except (ValueError, np.exceptions.AxisError) as exc:
        shapes = [a.shape for a in arrays]
        raise ValueError(f"cannot stack shapes {shapes} along axis {axis}: {exc}") from None
    if not needs_grad(*ts):
        return constant(out)
    new_axis = axis if axis >= 0 else axis + out.ndim

    def backward(g):
        return tuple(np.take(g, i, axis=new_axis) for i in range(len(ts)))
    return record(out, "stack", ts, backward)
