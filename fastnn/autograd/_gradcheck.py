"""gradcheck: backward() against central finite differences, in float64."""
import numpy as np

from fastnn.autograd._tensor import Tensor, no_grad


class GradcheckError(RuntimeError):
    """An analytical gradient disagrees with the finite-difference one."""


def _outputs(result):
    """The function's result as a list of Tensors."""
    items = list(result) if isinstance(result, (tuple, list)) else [result]
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"fn must return a Tensor or a tuple of Tensors, got "
                            f"{type(item).__name__}")
    return items


def _flat_outputs(fn, inputs):
    with no_grad():
        return np.concatenate([o.data.astype(np.float64).ravel()
                               for o in _outputs(fn(*inputs))])


def _analytical(fn, inputs, checked):
    """Jacobian blocks J[i] (n_outputs, inputs[i].size), one backward per output value."""
    outputs = _outputs(fn(*inputs))
    n_out = sum(o.data.size for o in outputs)
    jacobians = {i: np.zeros((n_out, inputs[i].data.size)) for i in checked}
    row = 0
    for o in outputs:
        for k in range(o.data.size):
            if o.requires_grad:
                for i in checked:
                    inputs[i].grad = None
                seed = np.zeros(o.data.shape)
                seed.flat[k] = 1.0
                o.backward(seed, retain_graph=True)
                for i in checked:
                    if inputs[i].grad is not None:
                        jacobians[i][row] = inputs[i].grad.ravel()
            row += 1
    for i in checked:
        inputs[i].grad = None
    return jacobians


def _numerical(fn, inputs, i, eps):
    """Central differences d(outputs)/d(inputs[i]) as (n_outputs, inputs[i].size)."""
    x = inputs[i].data.reshape(-1)   # a view: the perturbations reach the Tensor
    columns = []
    for k in range(x.size):
        saved = x[k]
        x[k] = saved + eps
        plus = _flat_outputs(fn, inputs)
        x[k] = saved - eps
        minus = _flat_outputs(fn, inputs)
        x[k] = saved
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check backward() of ``fn(*inputs)`` against central finite differences.

    fn : callable taking the inputs and returning a Tensor (any shape) or a tuple of
        Tensors.
    inputs : a Tensor or a sequence of Tensors and other arguments; the Tensors with
        ``requires_grad=True`` are checked.  They are copied to float64 first, so the
        callers' arrays are never perturbed.
    eps : float, default=1e-6
        The finite-difference step.
    atol, rtol : float, default=1e-5, 1e-3
        Every Jacobian element must satisfy |analytical - numerical| <=
        atol + rtol * |numerical|.
    raise_exception : bool, default=True
        False returns False on a mismatch instead of raising.

    Returns True, or raises `GradcheckError` (a RuntimeError) naming the input, the
    worst element (input index and output index) and both values.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    for name, value in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if not np.isfinite(value) or value < 0 or (name == "eps" and value == 0):
            raise ValueError(f"{name} must be a {'positive' if name == 'eps' else 'non-negative'}"
                             f" finite number, got {value!r}")
    originals = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    copies = [Tensor(np.array(t.data, dtype=np.float64), requires_grad=t.requires_grad,
                     name=t.name)
              if isinstance(t, Tensor) and t.data.dtype.kind == "f" else t
              for t in originals]
    checked = [i for i, t in enumerate(copies) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck needs at least one input Tensor with requires_grad=True")
    analytical = _analytical(fn, copies, checked)
    for i in checked:
        numerical = _numerical(fn, copies, i, eps)
        exact = analytical[i]
        excess = np.abs(exact - numerical) - (atol + rtol * np.abs(numerical))
        if excess.size and not (excess <= 0).all():
            worst = np.unravel_index(np.nanargmax(np.where(np.isnan(excess), np.inf, excess)),
                                     excess.shape)
            element = np.unravel_index(worst[1], copies[i].data.shape)
            name = f" ({copies[i].name!r})" if copies[i].name else ""
            message = (f"gradient mismatch for input {i}{name} of shape "
                       f"{copies[i].data.shape} at element {tuple(int(e) for e in element)}"
                       f" (output value {int(worst[0])}): analytical "
                       f"{exact[worst]:.8g}, numerical {numerical[worst]:.8g} "
                       f"(atol={atol:g}, rtol={rtol:g})")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
