# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""One epoch of mini-batch SGD for the linear classifiers on a CSR X: without L1 each step
costs its batch's non-zeros, not a pass over the weights (see csrc/linsparse.inc)."""
from cython cimport floating
from libc.stdint cimport int32_t, int64_t
from fastnn._kernels.cfastnn cimport *
from fastnn._kernels._optional cimport mat_or_null, vec_or_null


_MODES = {'auto': FNN_LSP_AUTO, 'lazy': FNN_LSP_LAZY, 'scaled': FNN_LSP_SCALED,
          'sweep': FNN_LSP_SWEEP}


def csr_epoch(const floating[::1] data, const int32_t[::1] indices,
              const int64_t[::1] indptr, const int64_t[::1] order,
              const int32_t[::1] labels, const floating[::1] sample_weight,
              const int32_t[::1] bounds, floating[:, ::1] WT, floating[::1] b,
              floating[:, ::1] VT, floating[::1] Vb, floating[:, ::1] AT, floating[::1] Ab,
              const double[::1] etas, Py_ssize_t batch_size, double momentum, double l2,
              int n_threads, mode='auto', Py_ssize_t window=128, Py_ssize_t grain=4096,
              double l1=0.0):
    """One epoch over the rows `order` of the CSR X (data, indices sorted within each
    row, indptr) in mini-batches of batch_size.

    WT (F, K) (a feature per row) and b (K,) (None: no intercept) and the velocities VT,
    Vb (None: no momentum) are updated in place; AT, Ab (shaped as WT, b) receive the
    mean of the epoch's iterates (None: no averaging).  bounds (P + 1,) cuts the
    features into P blocks (0 = bounds[0] <= ... <= bounds[P] = F): the parallel split,
    which does not change the result.  K = 1 is the sigmoid loss of labels 0 / 1,
    K >= 2 the softmax loss.  etas holds one step size per batch.

    l1 > 0 adds the L1 soft-threshold w = sign(w) max(|w| - eta l1, 0) after each step.

    mode, window and grain change the speed and round-off only.  mode 'scaled': the
    weights are kept as one 2 x 2 matrix times per-column states, folded together every
    few dozen steps; 'lazy': each column catches up with the steps it missed when a
    batch touches it, every window steps at the latest; 'sweep': each step updates
    every weight (the only mode for l1 > 0: the soft-threshold is not linear); 'auto'
    picks 'sweep' when l1 > 0, else 'scaled' unless the folds would cost more than the
    non-zeros (many columns, small momentum).
    grain: batch non-zeros times K per thread, at least (4096 lets a 200-row batch of
    90 non-zeros a row use two threads, 1.8x faster than one).  Returns (summed weighted loss, True
    if a logit was NaN or infinite)."""
    cdef fnn_linsparse_task task
    cdef double loss = 0
    cdef int bad = 0, status = 0
    cdef const floating *sw = NULL
    cdef const floating *d = NULL
    cdef const int32_t *ind = NULL
    if mode not in _MODES:
        raise ValueError(f"csr_epoch: mode must be one of {sorted(_MODES)}, got {mode!r}")
    if l1 > 0 and mode not in ('auto', 'sweep'):
        raise ValueError(f"csr_epoch: l1 > 0 needs mode 'auto' or 'sweep', got {mode!r}")
    if order.shape[0] == 0:
        return 0.0, False
    if sample_weight is not None:
        sw = &sample_weight[0]
    if data.shape[0]:
        d = &data[0]
        ind = &indices[0]
    task.order = &order[0]
    task.labels = &labels[0]
    task.etas = &etas[0]
    task.bounds = &bounds[0]
    task.n = order.shape[0]
    task.F = WT.shape[0]
    task.K = WT.shape[1]
    task.batch = batch_size
    task.P = bounds.shape[0] - 1
    task.mode = _MODES[mode]
    task.window = window
    task.grain = grain
    task.momentum = momentum
    task.l2 = l2
    task.l1 = l1
    with nogil:
        if floating is float:
            status = fnn_linsparse_epoch_f32(&WT[0, 0], vec_or_null(b), mat_or_null(VT),
                                             vec_or_null(Vb), mat_or_null(AT),
                                             vec_or_null(Ab), &loss, &bad, d, ind,
                                             &indptr[0], sw, &task, n_threads)
        else:
            status = fnn_linsparse_epoch_f64(&WT[0, 0], vec_or_null(b), mat_or_null(VT),
                                             vec_or_null(Vb), mat_or_null(AT),
                                             vec_or_null(Ab), &loss, &bad, d, ind,
                                             &indptr[0], sw, &task, n_threads)
    if status != 0:
        raise MemoryError("csr_epoch: out of memory")
    return loss, bool(bad)


def csr_row_sq_norms(const floating[::1] data, const int64_t[::1] indptr, Py_ssize_t step,
                     double[::1] out, int n_threads):
    """out[i] = ||X[i * step]||^2 in double for the CSR X (data, indptr), i < out.shape[0]
    = ceil(n_rows / step)."""
    cdef const floating *d = NULL
    if out.shape[0] == 0:
        return
    if data.shape[0]:
        d = &data[0]
    with nogil:
        if floating is float:
            fnn_csr_row_sq_norms_f32(&out[0], d, &indptr[0], out.shape[0], step, n_threads)
        else:
            fnn_csr_row_sq_norms_f64(&out[0], d, &indptr[0], out.shape[0], step, n_threads)
