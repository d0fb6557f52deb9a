# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""word2vec with negative sampling: one-update entry points, one epoch, the alias table."""
from cython cimport floating
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from fastnn._kernels.cfastnn cimport *


def sg_update(floating[:, ::1] syn0, floating[:, ::1] syn1neg, int32_t context,
              int32_t center, const int32_t[::1] negs, double alpha, bint want_loss):
    """One skip-gram pair in place; returns its loss (0 unless want_loss)."""
    cdef const int32_t *n = NULL if negs.shape[0] == 0 else &negs[0]
    cdef int K = negs.shape[0]
    cdef double loss
    with nogil:
        if floating is float:
            loss = fnn_sg_update_f32(&syn0[0, 0], &syn1neg[0, 0], context, center, n, K,
                                     syn0.shape[1], alpha, want_loss)
        else:
            loss = fnn_sg_update_f64(&syn0[0, 0], &syn1neg[0, 0], context, center, n, K,
                                     syn0.shape[1], alpha, want_loss)
    if loss != loss:
        raise MemoryError("sg_update: out of memory")
    return loss


def cbow_update(floating[:, ::1] syn0, floating[:, ::1] syn1neg, const int32_t[::1] contexts,
                int32_t center, const int32_t[::1] negs, double alpha, bint cbow_mean,
                bint want_loss):
    """One CBOW update in place (contexts non-empty); returns its loss."""
    cdef const int32_t *n = NULL if negs.shape[0] == 0 else &negs[0]
    cdef int K = negs.shape[0]
    cdef double loss
    with nogil:
        if floating is float:
            loss = fnn_cbow_update_f32(&syn0[0, 0], &syn1neg[0, 0], &contexts[0],
                                       contexts.shape[0], center, n, K, syn0.shape[1], alpha,
                                       cbow_mean, want_loss)
        else:
            loss = fnn_cbow_update_f64(&syn0[0, 0], &syn1neg[0, 0], &contexts[0],
                                       contexts.shape[0], center, n, K, syn0.shape[1], alpha,
                                       cbow_mean, want_loss)
    if loss != loss:
        raise MemoryError("cbow_update: out of memory")
    return loss


def epoch(floating[:, ::1] syn0, floating[:, ::1] syn1neg, const int32_t[::1] ids,
          const int64_t[::1] starts, const double[::1] keep, const uint32_t[::1] alias_prob,
          const int32_t[::1] alias_idx, bint sg, bint cbow_mean, int window, bint shrink,
          int negative, double alpha0, double alpha1, uint64_t seed, bint want_loss,
          int n_threads, const int32_t[::1] hot_rows=None):
    """One training epoch over the sentences ids[starts[k]:starts[k + 1]] (ids non-empty);
    returns (loss, words kept after sub-sampling).  hot_rows: distinct output rows that
    each thread trains in a private copy when n_threads > 1 (None: none)."""
    cdef fnn_sgns_task task
    cdef double loss = 0
    cdef int64_t words = 0
    cdef int rc
    task.ids = &ids[0]
    task.starts = &starts[0]
    task.S = starts.shape[0] - 1
    task.keep = &keep[0]
    task.alias_prob = &alias_prob[0]
    task.alias_idx = &alias_idx[0]
    task.n_hot = 0 if hot_rows is None else hot_rows.shape[0]
    task.hot_rows = NULL if task.n_hot == 0 else &hot_rows[0]
    task.V = syn0.shape[0]
    task.d = syn0.shape[1]
    task.sg, task.cbow_mean, task.window, task.shrink = sg, cbow_mean, window, shrink
    task.negative, task.want_loss = negative, want_loss
    task.alpha0, task.alpha1, task.seed = alpha0, alpha1, seed
    with nogil:
        if floating is float:
            rc = fnn_sgns_epoch_f32(&syn0[0, 0], &syn1neg[0, 0], &loss, &words, &task, n_threads)
        else:
            rc = fnn_sgns_epoch_f64(&syn0[0, 0], &syn1neg[0, 0], &loss, &words, &task, n_threads)
    if rc != 0:
        raise MemoryError("word2vec epoch: out of memory")
    return loss, words


def alias_build(const double[::1] weights, uint32_t[::1] prob, int32_t[::1] alias):
    """Alias table (prob out of 2^32, alias) of the distribution proportional to weights."""
    cdef int rc
    with nogil:
        rc = fnn_alias_build(&prob[0], &alias[0], &weights[0], weights.shape[0])
    if rc != 0:
        raise MemoryError("alias_build: out of memory")
