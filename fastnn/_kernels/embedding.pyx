# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""LM window batching, embedding gather and its scatter-add backward."""
from cython cimport floating
from libc.stdint cimport int32_t, int64_t
from fastnn._kernels.cfastnn cimport *


def lm_windows(const int32_t[::1] ids, int context_size, int32_t pad_id,
               const int64_t[::1] starts, int32_t[:, ::1] contexts, int32_t[::1] targets,
               int n_threads):
    """contexts (N, n) of previous ids (pad before each sentence start), targets = ids."""
    cdef const int64_t *s = NULL if starts is None or starts.shape[0] == 0 else &starts[0]
    cdef Py_ssize_t S = 0 if s == NULL else starts.shape[0]
    with nogil:
        fnn_lm_windows(&contexts[0, 0], &targets[0], &ids[0], ids.shape[0], context_size,
                       pad_id, s, S, n_threads)


def gather(const floating[:, ::1] table, const int32_t[:, ::1] ids, floating[:, ::1] out,
           int n_threads):
    """out (N, n*d): the embeddings of each row of ids side by side."""
    with nogil:
        if floating is float:
            fnn_embedding_gather_f32(&out[0, 0], &table[0, 0], &ids[0, 0], ids.shape[0],
                                     ids.shape[1], table.shape[1], n_threads)
        else:
            fnn_embedding_gather_f64(&out[0, 0], &table[0, 0], &ids[0, 0], ids.shape[0],
                                     ids.shape[1], table.shape[1], n_threads)


def scatter_add(floating[:, ::1] dtable, const floating[:, ::1] dout, const int32_t[:, ::1] ids,
                int n_threads):
    """dtable[ids[i, k]] += dout[i, k*d:(k+1)*d], deterministic on any thread count."""
    with nogil:
        if floating is float:
            fnn_embedding_scatter_add_f32(&dtable[0, 0], &dout[0, 0], &ids[0, 0], ids.shape[0],
                                          ids.shape[1], dtable.shape[1], n_threads)
        else:
            fnn_embedding_scatter_add_f64(&dtable[0, 0], &dout[0, 0], &ids[0, 0], ids.shape[0],
                                          ids.shape[1], dtable.shape[1], n_threads)
