"""Plain-NumPy versions of every compiled kernel: the executable specification.

The tests compare each kernel with the function of the same name here.  Clarity over
speed; float64 math where it costs nothing.  Imports only NumPy.
"""
import numpy as np


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits, labels, sample_weight=None):
    """(weighted mean of -log softmax(logits)[i, labels[i]], d loss / d logits)."""
    B = logits.shape[0]
    w = np.ones(B) if sample_weight is None else np.asarray(sample_weight, np.float64)
    logp = log_softmax(logits.astype(np.float64))
    loss = -(w * logp[np.arange(B), labels]).sum() / w.sum()
    grad = np.exp(logp)
    grad[np.arange(B), labels] -= 1
    grad *= (w / w.sum())[:, None]
    return loss, grad.astype(logits.dtype)


def binary_cross_entropy_with_logits(z, y, sample_weight=None):
    """Weighted mean of -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], and dz."""
    z64, y64 = z.astype(np.float64), np.asarray(y, np.float64)
    w = np.ones_like(z64) if sample_weight is None else np.asarray(sample_weight, np.float64)
    losses = np.logaddexp(0, z64) - z64 * y64          # log(1 + e^z) - z y
    grad = (sigmoid(z64) - y64) * w / w.sum()
    return (w * losses).sum() / w.sum(), grad.astype(z.dtype)


def sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def sigmoid_backward(dout, y):
    return dout * y * (1 - y)


def relu(x):
    return np.maximum(x, 0)


def relu_backward(dout, x):
    return np.where(x > 0, dout, 0).astype(dout.dtype)


def tanh(x):
    return np.tanh(x)


def tanh_backward(dout, y):
    return dout * (1 - y * y)


def linear(x, W, b=None):
    return x @ W.T if b is None else x @ W.T + b


def linear_backward(dout, x, W):
    """(dW, db, dx) of y = x W^T + b."""
    return dout.T @ x, dout.sum(axis=0), dout @ W


def lm_windows(ids, context_size, pad_id, boundaries=None):
    """(contexts (N, n), targets (N,)): the n ids before each token in its sentence."""
    ids = np.asarray(ids)
    N, n = len(ids), context_size
    starts = np.zeros(N, dtype=np.int64)               # each token's sentence start
    for b in (boundaries if boundaries is not None else []):
        starts[b:] = b
    contexts = np.full((N, n), pad_id, dtype=np.int64)
    for t in range(N):
        for j in range(n):
            src = t - n + j
            if src >= starts[t]:
                contexts[t, j] = ids[src]
    return contexts, ids.copy()


def embedding(ids, table):
    ids = np.asarray(ids).reshape(len(ids), -1)
    return table[ids].reshape(ids.shape[0], -1)


def embedding_backward(dout, ids, num_embeddings):
    ids = np.asarray(ids).reshape(len(ids), -1)
    d = dout.shape[1] // ids.shape[1]
    dtable = np.zeros((num_embeddings, d), dtype=dout.dtype)
    np.add.at(dtable, ids.ravel(), dout.reshape(-1, d))
    return dtable


def sparse_matmul(data, indices, indptr, shape, WT, rows=None):
    """X[rows] @ WT for X given by its CSR arrays."""
    X = _csr_to_dense(data, indices, indptr, shape)
    return (X if rows is None else X[rows]) @ WT


def sparse_t_matmul(data, indices, indptr, shape, G, rows=None):
    X = _csr_to_dense(data, indices, indptr, shape)
    return (X if rows is None else X[rows]).T @ G


def _csr_to_dense(data, indices, indptr, shape):
    X = np.zeros(shape, dtype=data.dtype)
    row_of = np.repeat(np.arange(shape[0]), np.diff(indptr))
    np.add.at(X, (row_of, indices), data)
    return X


def sgd_update(param, grad, lr, velocity=None, momentum=0.0, nesterov=False, weight_decay=0.0):
    """Returns the new (param, velocity) of one SGD step (PyTorch's conventions)."""
    g = grad + weight_decay * param
    if velocity is None:
        return param - lr * g, None
    velocity = momentum * velocity + g
    step = g + momentum * velocity if nesterov else velocity
    return param - lr * step, velocity
