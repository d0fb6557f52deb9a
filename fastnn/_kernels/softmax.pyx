# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Row-wise softmax / log-softmax and the fused losses."""
from cython cimport floating
from libc.stdint cimport int32_t
from fastnn._kernels.cfastnn cimport *


def softmax(const floating[:, ::1] z, floating[:, ::1] out, bint log_space, int n_threads):
    """out = softmax(z) (or log_softmax) over each row."""
    cdef Py_ssize_t B = z.shape[0], K = z.shape[1]
    with nogil:
        if floating is float:
            (fnn_log_softmax_f32 if log_space else fnn_softmax_f32)(&out[0, 0], &z[0, 0], B, K, n_threads)
        else:
            (fnn_log_softmax_f64 if log_space else fnn_softmax_f64)(&out[0, 0], &z[0, 0], B, K, n_threads)


def softmax_xent(const floating[:, ::1] logits, const int32_t[::1] labels,
                 const floating[::1] weights, floating[:, ::1] dlogits, int n_threads):
    """Weighted mean cross-entropy; dlogits overwritten.  weights may be None."""
    cdef const floating *w = NULL if weights is None else &weights[0]
    cdef double loss
    with nogil:
        if floating is float:
            loss = fnn_softmax_xent_f32(&dlogits[0, 0], &logits[0, 0], &labels[0], w,
                                        logits.shape[0], logits.shape[1], n_threads)
        else:
            loss = fnn_softmax_xent_f64(&dlogits[0, 0], &logits[0, 0], &labels[0], w,
                                        logits.shape[0], logits.shape[1], n_threads)
    return loss


def bce_with_logits(const floating[::1] logits, const floating[::1] targets,
                    const floating[::1] weights, floating[::1] dlogits, int n_threads):
    """Weighted mean binary cross-entropy from logits; dlogits overwritten."""
    cdef const floating *w = NULL if weights is None else &weights[0]
    cdef double loss
    with nogil:
        if floating is float:
            loss = fnn_bce_with_logits_f32(&dlogits[0], &logits[0], &targets[0], w,
                                           logits.shape[0], n_threads)
        else:
            loss = fnn_bce_with_logits_f64(&dlogits[0], &logits[0], &targets[0], w,
                                           logits.shape[0], n_threads)
    return loss
