# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""In-place SGD step (PyTorch conventions, see csrc/update.inc)."""
from cython cimport floating
from fastnn._kernels.cfastnn cimport *


def sgd_update(floating[::1] param, const floating[::1] grad, floating[::1] velocity,
               double lr, double momentum, bint nesterov, double weight_decay, int n_threads):
    """param (and velocity, None without momentum) updated in place."""
    cdef floating *v = NULL if velocity is None else &velocity[0]
    with nogil:
        if floating is float:
            fnn_sgd_update_f32(&param[0], &grad[0], v, param.shape[0], lr, momentum,
                               nesterov, weight_decay, n_threads)
        else:
            fnn_sgd_update_f64(&param[0], &grad[0], v, param.shape[0], lr, momentum,
                               nesterov, weight_decay, n_threads)
