"""The Tensor: a NumPy array that remembers the operation that produced it.

A Tensor made by an operation on Tensors that require gradients carries a `Node`
(its ``grad_fn``): the operation's name, its input Tensors and a closure computing
the inputs' gradients from the output's.  `Tensor.backward` walks these nodes
(see `_engine`).  Leaves are Tensors made by the user; their ``.grad`` receives
the accumulated gradient.
"""
import functools

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class _GradMode:
    """Whether operations record the graph (switched off by `no_grad`).  One flag per
    process, as in a training script; not meant to differ between Python threads."""
    enabled = True


class no_grad:
    """Context manager (and decorator) in which operations record no graph.

    Results are plain Tensors with ``requires_grad=False``: for evaluation and for
    updating parameters by hand::

        with no_grad():
            W.data -= lr * W.grad
    """

    def __enter__(self):
        self._previous = _GradMode.enabled
        _GradMode.enabled = False
        return self

    def __exit__(self, *exc_info):
        _GradMode.enabled = self._previous
        return False

    def __call__(self, function):
        mode = type(self)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with mode():
                return function(*args, **kwargs)
        return wrapper


class enable_grad(no_grad):
    """Context manager switching graph recording back on inside a `no_grad` block."""

    def __enter__(self):
        self._previous = _GradMode.enabled
        _GradMode.enabled = True
        return self


def is_grad_enabled():
    """True when operations record the graph (outside `no_grad`)."""
    return _GradMode.enabled


class Node:
    """One recorded operation.

    `inputs` are the operation's Tensor operands (None where an operand was a
    plain number or array).  ``backward_fn(g)`` gets the gradient of the output and
    returns one gradient per input (None where the input needs none).  Contract of
    every backward_fn: never modify `g`; return `g` itself, views of it, or fresh
    arrays (the engine copies the first two before accumulating in place).
    `label` is extra text for the graph picture (e.g. the constant of ``2 * b``).
    """
    __slots__ = ("op", "inputs", "backward_fn", "retained", "label")

    def __init__(self, op, inputs, backward_fn, label=""):
        self.op = op
        self.inputs = inputs
        self.backward_fn = backward_fn
        self.retained = None   # the output Tensor, when it asked for retain_grad()
        self.label = label

    @property
    def freed(self):
        """True once a backward pass has released the saved values."""
        return self.backward_fn is None

    def __repr__(self):
        return f"<Node {self.op}{' (freed)' if self.freed else ''}>"


class Tensor:
    """An array with an optional gradient.

    Parameters
    ----------
    data : array-like
        The values.  An ndarray is used as it is (no copy: optimizers update
        ``.data`` in place); anything else goes through ``np.asarray`` (Python
        floats give float64).  Tensors that require gradients must be float32 or
        float64; integer and boolean Tensors (ids, labels) may not.
    requires_grad : bool, default=False
        Whether backward() computes this Tensor's gradient into ``.grad``.
    name : str or None, default=None
        A label for the graph picture (``to_dot``).
    dtype : dtype or None, default=None
        Convert the data to this dtype (None keeps the input's).

    Attributes
    ----------
    data : ndarray
    grad : ndarray or None
        The accumulated gradient (same shape and dtype as data), None until a
        backward pass reaches this Tensor.  Intermediate Tensors keep theirs only
        after ``retain_grad()``.
    grad_fn : Node or None
        The operation that produced this Tensor (None for leaves and constants).
    """
    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "name", "__weakref__")
    # NumPy defers to Tensor's reflected operators (array + Tensor -> Tensor.__radd__)
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, name=None, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        try:
            array = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"data could not be read as a numeric array: {exc}") from None
        if array.dtype.kind not in "fiub":
            raise TypeError(f"data must hold real numbers, got dtype {array.dtype}")
        if requires_grad and array.dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"only float32 and float64 Tensors can require gradients, got dtype "
                f"{array.dtype}; convert the data with .astype(np.float64) first")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, got {type(name).__name__}")
        self.data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.grad_fn = None
        self.name = name

    # ---- properties -------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self):
        """True for Tensors not produced by a recorded operation."""
        return self.grad_fn is None

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        values = np.array2string(self.data, precision=4, threshold=20, separator=", ")
        extra = ""
        if self.grad_fn is not None:
            extra = f", grad_fn={self.grad_fn.op}"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        return f"Tensor({values}{extra})"

    def item(self):
        """The single value as a Python number (ValueError for more than one value)."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a Tensor with one value, this one has shape "
                             f"{self.data.shape}")
        return self.data.item()

    def __float__(self):
        return float(self.item())

    def numpy(self):
        """The data array itself (not a copy)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        """np.asarray(tensor) gives the data (outside the graph)."""
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    # ---- gradient bookkeeping ------------------------------------------------------
    def detach(self):
        """A new leaf Tensor sharing this one's data, outside any graph."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on a leaf in place; returns self."""
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("requires_grad can only be switched off on leaf Tensors; "
                               "use detach() for an intermediate result")
        if requires_grad and self.data.dtype not in FLOAT_DTYPES:
            raise TypeError(f"only float32 and float64 Tensors can require gradients, "
                            f"got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep this intermediate Tensor's gradient in ``.grad`` during backward()
        (leaves keep theirs anyway).  Returns self."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a Tensor that does not require grad")
        if self.grad_fn is not None:
            self.grad_fn.retained = self
        return self

    def zero_grad(self):
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        grad : array-like or None, default=None
            The gradient of some scalar with respect to self, of self's shape;
            None is allowed only for a one-value Tensor (the gradient 1).
        retain_graph : bool, default=False
            Keep the saved values so that backward() can run through this graph
            again; by default they are freed as the walk passes them.

        The graph's structure (its Tensors, for `to_dot`) lives on while this
        Tensor does; in a training loop, ``del loss`` (or keep only ``loss.item()``)
        before the next forward pass to hold one graph at a time.  Parameters must
        not be updated in place between the forward pass and backward().
        """
        from fastnn.autograd._engine import run_backward
        run_backward(self, grad, retain_graph)

    # ---- pictures ----------------------------------------------------------------
    def to_dot(self, show_values=True):
        """The graph that produced this Tensor as Graphviz DOT text."""
        from fastnn.autograd._dot import to_dot
        return to_dot(self, show_values=show_values)

    def graph(self, show_values=True):
        """The graph as a `Graph` (DOT source; an SVG picture in Jupyter when the
        Graphviz `dot` program is installed)."""
        from fastnn.autograd._dot import Graph
        return Graph(self.to_dot(show_values=show_values))


def constant(data):
    """A Tensor outside the graph around an operation's result (no copy)."""
    out = Tensor.__new__(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out.requires_grad = False
    out.grad_fn = None
    out.name = None
    return out


def record(data, op, inputs, backward_fn, label=""):
    """A Tensor holding `data` whose gradient flows to `inputs` through backward_fn."""
    out = Tensor.__new__(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out.requires_grad = True
    out.grad_fn = Node(op, inputs, backward_fn, label)
    out.name = None
    return out


def needs_grad(*tensors):
    """Whether an operation on these operands (Tensors or None) must record a node."""
    if not _GradMode.enabled:
        return False
    for t in tensors:
        if t is not None and t.requires_grad:
            return True
    return False


def zero_grad(tensors):
    """Set ``.grad = None`` on every Tensor of an iterable (e.g. a model's parameters)."""
    for t in tensors:
        t.grad = None
