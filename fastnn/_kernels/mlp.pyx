# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""One mini-batch of a dense MLP, forward + backward (+ the plain SGD step) in one
OpenMP parallel region (see csrc/mlp.inc).

`BatchStep` binds a network's buffers and a training set once (an epoch); each
`run(start, stop, ...)` then trains one batch at the cost of a C call.  The products
are SciPy's BLAS gemm, called from the kernel's threads: BLAS must be limited to one
thread while a multi-threaded step runs (see fastnn.neural_network).
"""
from cython cimport floating
from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport free, malloc
from scipy.linalg.cython_blas cimport sgemm, dgemm
from fastnn._kernels.cfastnn cimport *
from fastnn._kernels._blas cimport blas_int

ACTIVATIONS = {"identity": FNN_MLP_IDENTITY, "relu": FNN_MLP_RELU, "tanh": FNN_MLP_TANH,
               "logistic": FNN_MLP_LOGISTIC}


def work_size(units, Py_ssize_t batch_size):
    """(n_real, n_double): the lengths of the `work` (network dtype) and `dwork`
    (float64) scratch arrays a batch of up to batch_size rows needs."""
    cdef fnn_mlp_net net
    cdef Py_ssize_t n_real, n_double
    cdef Py_ssize_t *u = _units(units)
    net.n_layers = <int>(len(units) - 1)
    net.units = u
    net.grain = 0
    fnn_mlp_work_size(&n_real, &n_double, &net, batch_size)
    free(u)
    return n_real, n_double


cdef Py_ssize_t *_units(units) except NULL:
    """A malloc'ed copy of the layer widths, each checked to fit BLAS's int."""
    if len(units) < 2:
        raise ValueError(f"units must list the inputs and the outputs at least, got {units}")
    cdef Py_ssize_t *u = <Py_ssize_t *>malloc(len(units) * sizeof(Py_ssize_t))
    if u == NULL:
        raise MemoryError()
    try:
        for i, n in enumerate(units):
            blas_int(n)
            u[i] = n
    except BaseException:
        free(u)
        raise
    return u


cdef class BatchStep:
    """Mini-batches of one training set through one network.

    units: [n_in, hidden..., n_out]; activation: a key of ACTIVATIONS; softmax: True for
    int32 labels (n_rows,) as `targets`, False for 0/1 targets (n_rows, n_out) of the
    network's dtype; params, grads: the flat buffers (fastnn.nn.FeedForward layout);
    work, dwork: scratch of work_size(units, batch_size); X (n_rows, n_in) C-contiguous;
    order: int64 (n,) row ids (batches are order[start:stop]) or None (rows
    start:stop); sample_weight (n_rows,) or None; n_threads: the team size at most;
    grain: multiply-adds of a batch per thread at least (smaller batches use fewer
    threads), 0 for the kernel's default.
    """
    cdef fnn_mlp_net net
    cdef Py_ssize_t *units
    cdef object keep
    cdef bint f32
    cdef void *params
    cdef void *grads
    cdef void *work
    cdef const void *X
    cdef const void *Y
    cdef const void *sw
    cdef double *dwork
    cdef const int64_t *order
    cdef const int32_t *labels
    cdef Py_ssize_t n, n_rows, batch_size
    cdef int n_threads

    def __init__(self, units, activation, bint softmax, params, grads, work,
                 double[::1] dwork, X, const int64_t[::1] order, targets, sample_weight,
                 Py_ssize_t batch_size, int n_threads, Py_ssize_t grain=0):
        cdef const int32_t[::1] labels
        blas_int(batch_size)
        self.units = _units(units)
        self.net.n_layers = <int>(len(units) - 1)
        self.net.units = self.units
        self.net.activation = ACTIVATIONS[activation]
        self.net.softmax = softmax
        self.net.grain = grain
        self.keep = (params, grads, work, dwork, X, order, targets, sample_weight)
        self.n_rows = X.shape[0]
        self.n = self.n_rows if order is None else order.shape[0]
        self.batch_size = batch_size
        self.n_threads = n_threads
        self.dwork = &dwork[0]
        self.order = NULL if order is None else &order[0]
        self.labels = NULL
        if softmax:
            labels = targets
            self.labels = &labels[0]
        self.f32 = params.dtype.itemsize == 4
        if self.f32:
            _bind[float](self, params, grads, work, X, None if softmax else targets,
                         sample_weight)
        else:
            _bind[double](self, params, grads, work, X, None if softmax else targets,
                          sample_weight)

    def __dealloc__(self):
        free(self.units)

    def run(self, Py_ssize_t start, Py_ssize_t stop, double lr, double alpha):
        """Train the batch start:stop (of `order`, or of the rows): grads = the data
        gradient; lr > 0 also takes the plain SGD step with the L2 penalty
        alpha / sum(w).  Returns (mean loss, sum of weights, ||W||^2 before the step
        (alpha > 0 only)); a batch whose weights sum to <= 0 is skipped (loss 0)."""
        cdef double res[3]
        cdef int status
        cdef Py_ssize_t B = stop - start, F = self.units[0]
        cdef Py_ssize_t K = self.units[self.net.n_layers], off = 0
        cdef const int64_t *rows = NULL
        if start < 0 or B < 1 or B > self.batch_size or stop > self.n:
            raise ValueError(f"batch {start}:{stop} is not within 0:{self.n} or exceeds "
                             f"the batch size {self.batch_size}")
        if self.order != NULL:
            rows = self.order + start
        else:
            off = start
        with nogil:
            if self.f32:
                status = fnn_mlp_batch_f32(
                    <float *>self.params, <float *>self.grads, res, <float *>self.work,
                    self.dwork, <const float *>self.X + off * F, rows,
                    NULL if self.labels == NULL else self.labels + off,
                    NULL if self.Y == NULL else <const float *>self.Y + off * K,
                    NULL if self.sw == NULL else <const float *>self.sw + off,
                    &self.net, <fnn_gemm_fn_f32>sgemm, B, lr, alpha, self.n_threads)
            else:
                status = fnn_mlp_batch_f64(
                    <double *>self.params, <double *>self.grads, res, <double *>self.work,
                    self.dwork, <const double *>self.X + off * F, rows,
                    NULL if self.labels == NULL else self.labels + off,
                    NULL if self.Y == NULL else <const double *>self.Y + off * K,
                    NULL if self.sw == NULL else <const double *>self.sw + off,
                    &self.net, <fnn_gemm_fn_f64>dgemm, B, lr, alpha, self.n_threads)
        if status != 0:
            raise MemoryError("mlp batch: out of memory")
        return res[0], res[1], res[2]

    def epoch(self, double lr, double alpha):
        """Every batch in turn (batch_size rows each, the last one shorter), each with
        the plain SGD step (lr > 0) and the L2 penalty alpha / sum(w), in one parallel
        region.  Returns (sum over batches of (mean loss + 0.5 alpha ||W||^2 / sum(w))
        x rows, number of batches skipped for a weight sum <= 0)."""
        cdef double res[2]
        cdef int status
        with nogil:
            if self.f32:
                status = fnn_mlp_epoch_f32(
                    <float *>self.params, <float *>self.grads, res, <float *>self.work,
                    self.dwork, <const float *>self.X, self.order, self.labels,
                    <const float *>self.Y, <const float *>self.sw, &self.net,
                    <fnn_gemm_fn_f32>sgemm, self.n, self.batch_size, lr, alpha,
                    self.n_threads)
            else:
                status = fnn_mlp_epoch_f64(
                    <double *>self.params, <double *>self.grads, res, <double *>self.work,
                    self.dwork, <const double *>self.X, self.order, self.labels,
                    <const double *>self.Y, <const double *>self.sw, &self.net,
                    <fnn_gemm_fn_f64>dgemm, self.n, self.batch_size, lr, alpha,
                    self.n_threads)
        if status != 0:
            raise MemoryError("mlp epoch: out of memory")
        return res[0], int(res[1])


cdef int _bind(BatchStep s, floating[::1] params, floating[::1] grads, floating[::1] work,
               const floating[:, ::1] X, const floating[:, ::1] Y,
               const floating[::1] sw) except -1:
    s.params = &params[0]
    s.grads = &grads[0]
    s.work = &work[0]
    s.X = &X[0, 0]
    s.Y = NULL if Y is None else &Y[0, 0]
    s.sw = NULL if sw is None else &sw[0]
    return 0
