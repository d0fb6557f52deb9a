"""Optimizers: SGD (momentum, Nesterov, weight decay) and Adam, with PyTorch's update
conventions, plus scikit-learn's learning-rate schedules.

`params` is a list of NumPy float arrays, updated in place (call ``opt.step(grads)``
with a matching list of gradient arrays), or a list of objects with a ``.data``
ndarray and a ``.grad`` attribute (an ndarray or None), e.g. autograd tensors (call
``opt.step()``; parameters whose ``.grad`` is None are skipped, and ``zero_grad()``
sets every ``.grad`` back to None)::

    opt = SGD([W, b], lr=0.1, momentum=0.9)
    for x, y in batches:
        dW, db = ...
        opt.step([dW, db])

The private `_ScikitSGD` / `_ScikitAdam` below are the flat-buffer solvers behind
`MLPClassifier`, with scikit-learn's conventions (see their docstrings).
"""

import numpy as np

from fastnn._kernels import update as _upd
from fastnn._validation import real_scalar
from fastnn._threads import resolve_threads

__all__ = ["SGD", "Adam", "ConstantLR", "InvScalingLR", "AdaptiveLR", "make_schedule"]


def _is_holder(p):
    """A tensor-like parameter: has an ndarray `.data` and a `.grad` attribute."""
    return hasattr(p, "data") and hasattr(p, "grad") and isinstance(p.data, np.ndarray)


class Optimizer:
    """Shared bookkeeping: the parameter list and gradient look-up."""

    def __init__(self, params, n_threads=None):
        params = list(params)
        if not params:
            raise ValueError("params is empty: the optimizer has nothing to update")
        self._holders = all(_is_holder(p) for p in params)
        for i, p in enumerate(params):
            data = p.data if self._holders else p
            if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
                raise TypeError(
                    f"params[{i}] must be a float NumPy array or an object with a float "
                    f"ndarray `.data` and a `.grad`, got {type(p).__name__}")
            if not data.flags.writeable:
                raise ValueError(f"params[{i}] is read-only; it must be updated in place")
        self.params = params
        self.n_threads = n_threads

    def _arrays(self):
        return [p.data if self._holders else p for p in self.params]

    def _pairs(self, grads):
        """(index, param array, grad array) for every parameter that has a gradient."""
        arrays = self._arrays()
        if grads is None:
            if not self._holders:
                raise TypeError("step() needs grads when params are plain arrays")
            grads = [p.grad for p in self.params]
        else:
            grads = list(grads)
            if len(grads) != len(arrays):
                raise ValueError(f"grads has {len(grads)} arrays, params has {len(arrays)}")
        out = []
        for i, (p, g) in enumerate(zip(arrays, grads)):
            if g is None:
                continue
            g = getattr(g, "data", g) if not isinstance(g, np.ndarray) else g
            g = np.asarray(g)
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape}, params[{i}] has {p.shape}")
            out.append((i, p, g))
        return out

    def zero_grad(self):
        """Set `.grad` to None on tensor-like parameters (plain arrays have none)."""
        if self._holders:
            for p in self.params:
                p.grad = None


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's conventions.

    With g' = g + weight_decay * p:  plain ``p -= lr * g'``; momentum
    ``v = momentum * v + g'; p -= lr * v``; Nesterov ``p -= lr * (g' + momentum * v)``.

    Parameters: lr=0.01 (> 0), momentum=0.0 (>= 0), nesterov=False (needs momentum > 0),
    weight_decay=0.0 (>= 0), n_threads=None (kernel threads; None = every core).
    `lr` may be changed between steps (e.g. by a schedule).  C-contiguous float32 /
    float64 parameters with gradients of the same dtype go through the compiled
    `sgd_update` kernel; anything else through NumPy, with the same math.
    """

    def __init__(self, params, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0,
                 n_threads=None):
        super().__init__(params, n_threads)
        self.lr = real_scalar(lr, "lr", low=0, low_open=True)
        self.momentum = real_scalar(momentum, "momentum", low=0)
        self.weight_decay = real_scalar(weight_decay, "weight_decay", low=0)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.velocity = [None] * len(self.params)

    def step(self, grads=None):
        nt = resolve_threads(self.n_threads)
        for i, p, g in self._pairs(grads):
            v = self.velocity[i]
            if self.momentum and v is None:
                v = self.velocity[i] = np.zeros_like(p)
            fast = (p.dtype in (np.float32, np.float64) and g.dtype == p.dtype
                    and p.flags.c_contiguous and g.flags.c_contiguous)
            if fast:
                _upd.sgd_update(p.reshape(-1), g.reshape(-1),
                                None if v is None else v.reshape(-1), self.lr,
                                self.momentum, self.nesterov, self.weight_decay, nt)
                continue
            gd = g + self.weight_decay * p if self.weight_decay else g
            if v is None:
                p -= self.lr * gd
            else:
                v *= self.momentum
                v += gd
                p -= self.lr * (gd + self.momentum * v if self.nesterov else v)


class Adam(Optimizer):
    """Adam, PyTorch's conventions (L2 weight decay added to the gradient, not AdamW):

        g' = g + weight_decay * p;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2
        p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)

    Parameters: lr=0.001, betas=(0.9, 0.999) (each in [0, 1)), eps=1e-8 (> 0),
    weight_decay=0.0, n_threads=None (unused: NumPy does the update).
    """

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 n_threads=None):
        super().__init__(params, n_threads)
        self.lr = real_scalar(lr, "lr", low=0, low_open=True)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (real_scalar(betas[0], "betas[0]", low=0, high=1, high_open=True),
                      real_scalar(betas[1], "betas[1]", low=0, high=1, high_open=True))
        self.eps = real_scalar(eps, "eps", low=0, low_open=True)
        self.weight_decay = real_scalar(weight_decay, "weight_decay", low=0)
        n = len(self.params)
        self.m, self.v, self.t = [None] * n, [None] * n, [0] * n
        self._scratch = [None] * n

    def step(self, grads=None):
        """One update of every parameter that has a gradient (the gradients are left
        alone); in place, with one scratch array per parameter: a few passes over a
        large flat buffer, no temporaries."""
        b1, b2 = self.betas
        for i, p, g in self._pairs(grads):
            if self.m[i] is None:
                self.m[i], self.v[i] = np.zeros_like(p), np.zeros_like(p)
                self._scratch[i] = np.empty_like(p)
            if self.weight_decay:
                g = g + p * self.weight_decay
            self.t[i] += 1
            m, v, tmp, t = self.m[i], self.v[i], self._scratch[i], self.t[i]
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            np.sqrt(v, out=tmp)                 # sqrt(v / (1 - b2^t)) + eps
            tmp *= 1.0 / np.sqrt(1.0 - b2 ** t)
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= self.lr / (1.0 - b1 ** t)
            p -= tmp


# ---------------------------------------------------------------------------------
# Learning-rate schedules with scikit-learn's semantics (MLPClassifier's
# `learning_rate`).  Each holds `lr`; the training loop calls `epoch_end(t)` after
# every epoch (t = samples seen so far) and `plateau()` when the loss / validation
# score stopped improving, which returns True when training should stop.
# ---------------------------------------------------------------------------------
class ConstantLR:
    """lr = lr_init throughout; a plateau stops training."""

    def __init__(self, lr_init):
        self.lr_init = self.lr = float(lr_init)

    def epoch_end(self, samples_seen):
        pass

    def plateau(self):
        return True


class InvScalingLR(ConstantLR):
    """lr = lr_init / (t + 1) ** power_t after each epoch, t = samples seen so far."""

    def __init__(self, lr_init, power_t=0.5):
        super().__init__(lr_init)
        self.power_t = float(power_t)

    def epoch_end(self, samples_seen):
        self.lr = self.lr_init / (samples_seen + 1) ** self.power_t


class AdaptiveLR(ConstantLR):
    """lr divided by 5 on each plateau; training stops once lr <= min_lr (1e-6)."""

    def __init__(self, lr_init, min_lr=1e-6):
        super().__init__(lr_init)
        self.min_lr = float(min_lr)

    def plateau(self):
        if self.lr <= self.min_lr:
            return True
        self.lr /= 5.0
        return False


def make_schedule(name, lr_init, power_t=0.5):
    """'constant', 'invscaling' or 'adaptive' (scikit-learn's names)."""
    if name == "constant":
        return ConstantLR(lr_init)
    if name == "invscaling":
        return InvScalingLR(lr_init, power_t)
    if name == "adaptive":
        return AdaptiveLR(lr_init)
    raise ValueError(f"learning_rate must be 'constant', 'invscaling' or 'adaptive', "
                     f"got {name!r}")


# ---------------------------------------------------------------------------------
# Flat-buffer solvers with scikit-learn's conventions, for MLPClassifier.  Both take
# the network's flat params / grads, where grads hold the data gradient only, and add
# the L2 penalty  l2 * p  on the weight prefix params[:n_weights] (biases are not
# penalised), as scikit-learn does.
# ---------------------------------------------------------------------------------
class _ScikitSGD:
    """scikit-learn's SGD: v = mu v - lr g;  p += v  (Nesterov: p += mu v - lr g).

    Run on PyTorch's kernel through u = -v / lr:  u = mu u + g;  p -= lr u  (Nesterov
    p -= lr (g + mu u)), which is the same update while lr stays put.  When the
    schedule changes lr, u is rescaled by lr_old / lr_new once, which keeps v = -lr u
    exact.  One kernel call for the weights (with the penalty as weight decay) and
    one for the biases.
    """

    def __init__(self, n_params, dtype, schedule, momentum, nesterov):
        self.n_params = n_params
        self.schedule = schedule
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov) and self.momentum > 0
        self.velocity = np.zeros(n_params, dtype) if self.momentum > 0 else None
        self._lr_of_velocity = schedule.lr

    @property
    def lr(self):
        return self.schedule.lr

    def step(self, params, grads, n_weights, l2, nt):
        lr = self.schedule.lr
        u = self.velocity
        if u is not None and lr != self._lr_of_velocity:
            u *= self._lr_of_velocity / lr
            self._lr_of_velocity = lr
        if not l2:          # no penalty: one call over the whole buffer
            _upd.sgd_update(params, grads, u, lr, self.momentum, self.nesterov, 0.0, nt)
            return
        for sl, wd in ((slice(0, n_weights), l2), (slice(n_weights, None), 0.0)):
            _upd.sgd_update(params[sl], grads[sl], None if u is None else u[sl], lr,
                            self.momentum, self.nesterov, wd, nt)


class _ScikitAdam:
    """scikit-learn's Adam: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t),
    p -= lr_t m / (sqrt(v) + eps)  (eps outside the bias correction, unlike PyTorch)."""

    def __init__(self, n_params, dtype, lr, beta_1, beta_2, epsilon):
        self.n_params = n_params
        self.lr_init = float(lr)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.t = 0
        self.m = np.zeros(n_params, dtype)
        self.v = np.zeros(n_params, dtype)
        self._tmp = np.empty(n_params, dtype)
        self.schedule = ConstantLR(lr)      # Adam ignores learning_rate, as scikit-learn

    @property
    def lr(self):
        return self.lr_init

    def step(self, params, grads, n_weights, l2, nt):
        b1, b2, tmp = self.beta_1, self.beta_2, self._tmp
        if l2:
            np.multiply(params[:n_weights], l2, out=tmp[:n_weights])
            grads[:n_weights] += tmp[:n_weights]
        self.t += 1
        self.m *= b1
        np.multiply(grads, 1 - b1, out=tmp)
        self.m += tmp
        self.v *= b2
        np.multiply(grads, grads, out=tmp)
        tmp *= 1 - b2
        self.v += tmp
        lr_t = self.lr_init * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        np.sqrt(self.v, out=tmp)
        tmp += self.epsilon
        np.divide(self.m, tmp, out=tmp)
        tmp *= lr_t
        params -= tmp
