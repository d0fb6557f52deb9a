"""Computation graphs with automatic backward on fastnn's kernels.

A `Tensor` wraps a NumPy array; operations on Tensors that require gradients record
the graph, and ``loss.backward()`` walks it in reverse, accumulating gradients into
the leaves' ``.grad``::

    from fastnn import autograd as ag
    a = ag.Tensor(3.0, requires_grad=True, name="a")
    b = ag.Tensor(1.0, requires_grad=True, name="b")
    c = ag.Tensor(-2.0, requires_grad=True, name="c")
    L = c * (a + 2 * b)
    L.backward()                # a.grad == -2, b.grad == -4, c.grad == 5
    print(L.to_dot())           # the graph, for Graphviz

Activations, softmax, the losses, embedding lookup and `linear` call the compiled
kernels; ``@`` uses BLAS.  Optimizers from `fastnn.optim` accept Tensors (they update
``.data`` in place from ``.grad``).  Second derivatives are not supported.
"""
from fastnn.autograd._dot import Graph, to_dot
from fastnn.autograd._gradcheck import GradcheckError, gradcheck
from fastnn.autograd._math import (add, div, exp, log, matmul, mean, mul, neg, power, sub,
                                   sum)
from fastnn.autograd._nn import (binary_cross_entropy_with_logits, cross_entropy,
                                 embedding, linear, log_softmax, relu, sigmoid, softmax,
                                 tanh)
from fastnn.autograd._shape import concatenate, getitem, reshape, stack, transpose
from fastnn.autograd._tensor import (Node, Tensor, enable_grad, is_grad_enabled, no_grad,
                                     zero_grad)
from fastnn.autograd import _methods  # noqa: F401  (attaches operators to Tensor)

__all__ = [
    "Tensor", "Node", "no_grad", "enable_grad", "is_grad_enabled", "zero_grad",
    "add", "sub", "mul", "div", "power", "neg", "exp", "log", "matmul", "sum", "mean",
    "reshape", "transpose", "getitem", "concatenate", "stack",
    "relu", "tanh", "sigmoid", "softmax", "log_softmax", "cross_entropy",
    "binary_cross_entropy_with_logits", "embedding", "linear",
    "gradcheck", "GradcheckError", "to_dot", "Graph",
]
