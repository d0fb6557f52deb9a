# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Elementwise activations over flat arrays: op is RELU, TANH or SIGMOID."""
from cython cimport floating
from fastnn._kernels.cfastnn cimport *

RELU, TANH, SIGMOID = 0, 1, 2

ctypedef void (*unary_f32)(float *, const float *, Py_ssize_t, int) noexcept nogil
ctypedef void (*unary_f64)(double *, const double *, Py_ssize_t, int) noexcept nogil
ctypedef void (*binary_f32)(float *, const float *, const float *, Py_ssize_t, int) noexcept nogil
ctypedef void (*binary_f64)(double *, const double *, const double *, Py_ssize_t, int) noexcept nogil

cdef unary_f32[3] FORWARD_F32 = [fnn_relu_f32, fnn_tanh_f32, fnn_sigmoid_f32]
cdef unary_f64[3] FORWARD_F64 = [fnn_relu_f64, fnn_tanh_f64, fnn_sigmoid_f64]
cdef binary_f32[3] BACKWARD_F32 = [fnn_relu_backward_f32, fnn_tanh_backward_f32,
                                   fnn_sigmoid_backward_f32]
cdef binary_f64[3] BACKWARD_F64 = [fnn_relu_backward_f64, fnn_tanh_backward_f64,
                                   fnn_sigmoid_backward_f64]


def forward(int op, const floating[::1] x, floating[::1] out, int n_threads):
    """out = f(x)."""
    with nogil:
        if floating is float:
            FORWARD_F32[op](&out[0], &x[0], x.shape[0], n_threads)
        else:
            FORWARD_F64[op](&out[0], &x[0], x.shape[0], n_threads)


def backward(int op, const floating[::1] dout, const floating[::1] saved, floating[::1] dx,
             int n_threads):
    """dx = dout * f'(...), from the forward input (RELU) or output (TANH, SIGMOID)."""
    with nogil:
        if floating is float:
            BACKWARD_F32[op](&dx[0], &dout[0], &saved[0], dout.shape[0], n_threads)
        else:
            BACKWARD_F64[op](&dx[0], &dout[0], &saved[0], dout.shape[0], n_threads)
