"""Tensor's operators and methods, bound to the functions of the operation modules
(kept apart so that `_tensor` needs none of them)."""
from fastnn.autograd import _math, _nn, _shape
from fastnn.autograd._tensor import Tensor


def _reflected(function):
    def reflected(self, other):
        return function(other, self)
    return reflected


def _reshape(self, *shape):
    return _shape.reshape(self, *shape)


def _transpose(self, *axes):
    return _shape.transpose(self, *axes)


Tensor.__add__ = _math.add
Tensor.__radd__ = _reflected(_math.add)
Tensor.__sub__ = _math.sub
Tensor.__rsub__ = _reflected(_math.sub)
Tensor.__mul__ = _math.mul
Tensor.__rmul__ = _reflected(_math.mul)
Tensor.__truediv__ = _math.div
Tensor.__rtruediv__ = _reflected(_math.div)
Tensor.__pow__ = _math.power
Tensor.__rpow__ = _reflected(_math.power)
Tensor.__matmul__ = _math.matmul
Tensor.__rmatmul__ = _reflected(_math.matmul)
Tensor.__neg__ = _math.neg
Tensor.__getitem__ = _shape.getitem
Tensor.exp = _math.exp
Tensor.log = _math.log
Tensor.sum = _math.sum
Tensor.mean = _math.mean
Tensor.reshape = _reshape
Tensor.transpose = _transpose
Tensor.T = property(lambda self: _shape.transpose(self))
Tensor.relu = _nn.relu
Tensor.tanh = _nn.tanh
Tensor.sigmoid = _nn.sigmoid
Tensor.softmax = _nn.softmax
Tensor.log_softmax = _nn.log_softmax
