# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""One fused epoch of mini-batch SGD for the linear classifiers (see csrc/linsgd.inc), and
the seeded shuffle that orders each epoch's rows."""
import numpy as np
from cython cimport floating
from libc.stdint cimport int32_t, int64_t, uint64_t
from fastnn._kernels.cfastnn cimport *
from fastnn._kernels._optional cimport mat_or_null, vec_or_null


def dense_epoch(const floating[:, ::1] X, const int64_t[::1] order, const int32_t[::1] labels,
                const floating[::1] sample_weight, floating[:, ::1] W, floating[::1] b,
                floating[:, ::1] VW, floating[::1] Vb, floating[:, ::1] AW, floating[::1] Ab,
                const double[::1] etas,
                Py_ssize_t batch_size, double momentum, double l2, double l1, int n_threads):
    """One epoch over the rows `order` of X (n_rows, F) in mini-batches of batch_size.

    W (K, F) and b (K,) (None: no intercept) and the velocities VW, Vb (None: no
    momentum) are updated in place; AW, Ab (zeros, shaped as W, b) receive the mean of
    the epoch's iterates (None: no averaging).  K = 1 is the sigmoid loss of labels
    0 / 1, K >= 2 the softmax loss.  etas holds one step size per batch.  Returns
    (summed weighted loss, True if a logit was NaN or infinite)."""
    cdef fnn_linsgd_task task
    cdef double loss = 0
    cdef int bad = 0, status
    cdef const floating *sw = NULL
    if sample_weight is not None:
        sw = &sample_weight[0]
    task.order = &order[0]
    task.labels = &labels[0]
    task.etas = &etas[0]
    task.n = order.shape[0]
    task.F = X.shape[1]
    task.K = W.shape[0]
    task.batch = batch_size
    task.momentum = momentum
    task.l2 = l2
    task.l1 = l1
    with nogil:
        if floating is float:
            status = fnn_linsgd_dense_epoch_f32(&W[0, 0], vec_or_null(b), mat_or_null(VW),
                                                vec_or_null(Vb), mat_or_null(AW),
                                                vec_or_null(Ab), &loss, &bad, &X[0, 0], sw,
                                                &task, n_threads)
        else:
            status = fnn_linsgd_dense_epoch_f64(&W[0, 0], vec_or_null(b), mat_or_null(VW),
                                                vec_or_null(Vb), mat_or_null(AW),
                                                vec_or_null(Ab), &loss, &bad, &X[0, 0], sw,
                                                &task, n_threads)
    if status != 0:
        raise MemoryError("dense_epoch: out of memory")
    return loss, bool(bad)


def row_sq_norms(const floating[:, ::1] X, Py_ssize_t step, double[::1] out, int n_threads):
    """out[i] = ||X[i * step]||^2 in double, for i < out.shape[0] = ceil(n_rows / step)."""
    if out.shape[0] == 0:
        return
    with nogil:
        if floating is float:
            fnn_row_sq_norms_f32(&out[0], &X[0, 0], out.shape[0], step, X.shape[1], n_threads)
        else:
            fnn_row_sq_norms_f64(&out[0], &X[0, 0], out.shape[0], step, X.shape[1], n_threads)


def running_mean(floating[::1] a, const floating[::1] w, double frac, int n_threads):
    """a += (w - a) * frac in place: the running mean of iterates w."""
    if a.shape[0] == 0:
        return
    with nogil:
        if floating is float:
            fnn_running_mean_f32(&a[0], &w[0], frac, a.shape[0], n_threads)
        else:
            fnn_running_mean_f64(&a[0], &w[0], frac, a.shape[0], n_threads)


def shuffled_order(Py_ssize_t n, uint64_t seed):
    """A uniform random permutation of range(n) as int64, the same for the same seed."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    order = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] out = order
    if n > 0:
        with nogil:
            fnn_shuffled_order(&out[0], n, seed)
    return order
