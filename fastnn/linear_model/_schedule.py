"""Learning-rate schedules of the SGD linear models (per mini-batch update)."""
import numpy as np


class LearningRate:
    """The step size of update t (t = 0, 1, ... counts mini-batch updates).

    'constant':   eta0.
    'invscaling': eta0 / (t + 1) ** power_t.
    'optimal':    1 / (alpha * (t + t0)), t0 = 1 / (alpha * eta0): starts at eta0 and
                  decays like 1 / (alpha t), the classic rate for a strongly convex loss
                  (Bottou); needs alpha > 0.
    'adaptive':   eta0 while the training objective keeps improving; divided by 5 each
                  time it stalls (see `plateau`).
    """

    MIN_ADAPTIVE = 1e-6     # relative to eta0: below this, adaptive training stops

    def __init__(self, kind, eta0, power_t, alpha):
        if kind == "optimal" and not alpha > 0:
            raise ValueError("learning_rate='optimal' needs a penalty (a finite C and "
                             "penalty not None); use 'adaptive' or 'constant' instead")
        self.kind, self.eta0, self.power_t, self.alpha = kind, eta0, power_t, alpha
        self.current = eta0
        self.t = 0

    def step(self):
        """The rate of the next update (and count it)."""
        return float(self.steps(1)[0])

    def steps(self, count):
        """The rates of the next `count` updates (and count them), as float64: one
        vectorised call for a whole epoch of updates."""
        t = np.arange(self.t, self.t + count, dtype=np.float64)
        self.t += count
        if self.kind == "invscaling":
            return self.eta0 / (t + 1.0) ** self.power_t
        if self.kind == "optimal":
            return 1.0 / (self.alpha * (t + 1.0 / (self.alpha * self.eta0)))
        return np.full(count, self.current)

    def plateau(self):
        """Called when the stopping test fires: True if training goes on at a smaller
        rate ('adaptive' only), False if it should stop."""
        if self.kind != "adaptive" or self.current / 5.0 < self.MIN_ADAPTIVE * self.eta0:
            return False
        self.current /= 5.0
        return True
