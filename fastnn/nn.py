"""Layers with explicit forward / backward passes over one flat parameter buffer.

A `FeedForward` network owns two flat arrays of one float dtype: `params` and `grads`.
Every layer's weights are views into them, laid out as scikit-learn packs an MLP: all
weight matrices first, then all bias vectors.  So an optimizer updates every parameter
in one kernel call, and the L2 penalty (weights only, not biases) covers one
contiguous prefix ``params[:n_weights]``.

With `sparse_input=True` the first layer is a `SparseLinear`, which takes `CSRRows`
(rows of a CSR matrix, picked without copying) and stores its weights a feature per
row, (in_features, out_features), as the CSR kernels want.

Nothing here validates its input: callers (the estimators) check once at their
boundary and hand in C-contiguous arrays of the network's dtype.  Every method takes
`nt`, the kernel thread count from `fastnn._threads.resolve_threads`.
"""
import numpy as np

from fastnn._kernels import activations as _act
from fastnn._kernels import dense as _dense
from fastnn._kernels import mlp as _mlp
from fastnn._kernels import softmax as _sm
from fastnn._kernels import sparse as _sparse

ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
_KERNEL_OP = {"relu": _act.RELU, "tanh": _act.TANH, "logistic": _act.SIGMOID}


class Linear:
    """y = x W^T + b with W (out_features, in_features), by BLAS gemm.

    `W`, `b`, `dW`, `db` are views into the owning network's buffers, set by `bind`.
    """

    def __init__(self, in_features, out_features):
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.W = self.b = self.dW = self.db = None

    @property
    def n_weights(self):
        return self.in_features * self.out_features

    def bind(self, params, grads, w_offset, b_offset):
        """Make W, b, dW, db views of the flat buffers at the given offsets."""
        shape = (self.out_features, self.in_features)
        w_end, b_end = w_offset + self.n_weights, b_offset + self.out_features
        self.W = params[w_offset:w_end].reshape(shape)
        self.b = params[b_offset:b_end]
        if grads is not None:                   # None: an inference-only network
            self.dW = grads[w_offset:w_end].reshape(shape)
            self.db = grads[b_offset:b_end]

    def forward(self, x, out, nt):
        """out (B, out_features) = x (B, in_features) W^T + b."""
        _dense.forward(x, self.W, self.b, out, nt)
        return out

    def backward(self, dout, x, dx, nt):
        """dW, db overwritten from dout (B, out) and the forward input x; dx (B, in)
        overwritten with dout W unless dx is None (the first layer needs no dx)."""
        _dense.backward(dout, x, self.W, self.dW, self.db, dx, nt)


class CSRRows:
    """Rows `rows` (int64, or None for all) of a CSR matrix, for `SparseLinear`.

    data (nnz,) of the network's dtype, indices (nnz,) int32, indptr (n_rows + 1,) int64;
    `CSRRows.of(X, dtype)` converts a scipy CSR matrix once."""

    def __init__(self, data, indices, indptr, n_features, rows=None):
        self.data, self.indices, self.indptr, self.rows = data, indices, indptr, rows
        n = indptr.shape[0] - 1 if rows is None else rows.shape[0]
        self.shape = (n, n_features)

    @classmethod
    def of(cls, X, dtype):
        return cls(np.ascontiguousarray(X.data, dtype=dtype),
                   np.ascontiguousarray(X.indices, dtype=np.int32),
                   np.ascontiguousarray(X.indptr, dtype=np.int64), X.shape[1])

    def take(self, rows, axis=0):
        """The batch of these row ids (as ndarray.take(rows, axis=0))."""
        return CSRRows(self.data, self.indices, self.indptr, self.shape[1],
                       np.ascontiguousarray(rows, dtype=np.int64))


class SparseLinear(Linear):
    """Linear on CSR input: y = X[rows] W^T + b by the CSR kernels, no densifying.

    Weights stored transposed, WT (in_features, out_features); `W` is its transposed
    view, so the network's `coefs()` are C-ordered here.
    """

    def bind(self, params, grads, w_offset, b_offset):
        shape = (self.in_features, self.out_features)
        w_end, b_end = w_offset + self.n_weights, b_offset + self.out_features
        self.WT = params[w_offset:w_end].reshape(shape)
        self.W, self.b = self.WT.T, params[b_offset:b_end]
        if grads is not None:
            self.dWT = grads[w_offset:w_end].reshape(shape)
            self.dW, self.db = self.dWT.T, grads[b_offset:b_end]

    def forward(self, x, out, nt):
        _sparse.matmul(x.data, x.indices, x.indptr, x.rows, self.WT, out, nt)
        out += self.b
        return out

    def backward(self, dout, x, dx, nt):
        """dWT = X[rows]^T dout (the kernel accumulates: zeroed first), db; no dx."""
        self.dWT.fill(0)
        _sparse.t_matmul(x.data, x.indices, x.indptr, x.rows, dout, self.dWT, nt)
        np.sum(dout, axis=0, out=self.db)


class Activation:
    """Elementwise g in place: 'relu', 'tanh', 'logistic' or 'identity'.

    The backward pass needs only the forward *output* (relu's y > 0 iff x > 0), so the
    network keeps one array per hidden layer and applies g on it in place.
    """

    def __init__(self, name):
        if name not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
        self.name = name
        self.op = _KERNEL_OP.get(name)

    def forward(self, z, nt):
        """z (any shape, C-contiguous) replaced by g(z)."""
        if self.op is not None:
            flat = z.reshape(-1)
            _act.forward(self.op, flat, flat, nt)
        return z

    def backward(self, dout, y, nt):
        """dout replaced by dout * g'(.), from y = g(z), the forward output."""
        if self.op is not None:
            flat = dout.reshape(-1)
            _act.backward(self.op, flat, y.reshape(-1), flat, nt)
        return dout


class SoftmaxCrossEntropy:
    """Softmax output with the cross-entropy loss, fused: one pass gives the weighted
    mean loss and dlogits = (softmax - onehot) w_i / sum(w).  Targets: int32 labels."""

    def loss_grad(self, logits, labels, weights, dlogits, nt):
        return _sm.softmax_xent(logits, labels, weights, dlogits, nt)

    def predict_proba(self, logits, nt):
        out = np.empty_like(logits)
        _sm.softmax(logits, out, False, nt)
        return out


class SigmoidCrossEntropy:
    """Independent logistic outputs (binary: one unit; multilabel: one per label).

    The loss is scikit-learn's: the sum over the K outputs of each output's weighted
    mean binary cross-entropy.  Targets: a float (B, K) 0/1 array of the logits' dtype.
    """

    def loss_grad(self, logits, targets, weights, dlogits, nt):
        B, K = logits.shape
        w = weights if weights is None or K == 1 else np.repeat(weights, K)
        # the kernel averages over all B*K entries: scale by K for the sum over outputs
        loss = _sm.bce_with_logits(logits.reshape(-1), targets.reshape(-1), w,
                                   dlogits.reshape(-1), nt)
        if K > 1:
            dlogits *= K
        return loss * K

    def predict_proba(self, logits, nt):
        out = np.empty_like(logits)
        _act.forward(_act.SIGMOID, logits.reshape(-1), out.reshape(-1), nt)
        return out


class FeedForward:
    """Linear -> g -> ... -> Linear -> output loss, with backprop through all of it.

    layer_units: [n_in, hidden..., n_out]; activation: the hidden layers' g;
    output: 'softmax' or 'logistic'; dtype: float32 or float64; sparse_input=False:
    True makes the first layer a SparseLinear (input: CSRRows); with_grads=True: False
    makes an inference-only network (no gradient buffer, no loss_grad).
    Attributes: params, grads (flat), n_weights (length of the weight prefix), layers.
    """

    def __init__(self, layer_units, activation, output, dtype, sparse_input=False,
                 with_grads=True):
        self.layer_units = [int(u) for u in layer_units]
        self.dtype = np.dtype(dtype)
        self.activation = Activation(activation)
        self.loss = SoftmaxCrossEntropy() if output == "softmax" else SigmoidCrossEntropy()
        self.output = output
        self.sparse_input = bool(sparse_input)
        self.layers = [(SparseLinear if i == 0 and sparse_input else Linear)(a, b)
                       for i, (a, b) in enumerate(zip(self.layer_units, self.layer_units[1:]))]
        self.n_weights = sum(layer.n_weights for layer in self.layers)
        n_params = self.n_weights + sum(layer.out_features for layer in self.layers)
        self.params = np.zeros(n_params, dtype=self.dtype)
        self.grads = np.zeros(n_params, dtype=self.dtype) if with_grads else None
        w_off, b_off = 0, self.n_weights
        for layer in self.layers:
            layer.bind(self.params, self.grads, w_off, b_off)
            w_off += layer.n_weights
            b_off += layer.out_features
        self._batch, self._views = 0, {}
        self._step_work = None

    # ---- weights in scikit-learn's layout: coefs (fan_in, fan_out), intercepts ----
    def set_weights(self, coefs, intercepts):
        """Copy scikit-learn-shaped coefs_ / intercepts_ into the flat buffer."""
        for layer, coef, intercept in zip(self.layers, coefs, intercepts):
            layer.W[...] = np.asarray(coef).T
            layer.b[...] = intercept

    def coefs(self):
        """coefs_ as scikit-learn shapes them (fan_in, fan_out): views of the buffer
        (Fortran-ordered, but C-ordered for a SparseLinear), so they follow the
        training without copies."""
        return [layer.W.T for layer in self.layers]

    def intercepts(self):
        return [layer.b for layer in self.layers]

    # ---- workspaces ----
    def _workspace(self, B):
        """Activation and delta arrays for a batch of B rows: row prefixes of arrays
        sized for the largest batch so far (views cached per B: one lookup per call)."""
        views = self._views.get(B)
        if views is None:
            if B > self._batch:
                self._acts = [np.empty((B, u), self.dtype) for u in self.layer_units[1:]]
                self._deltas = [np.empty((B, u), self.dtype) for u in self.layer_units[1:]]
                self._batch, self._views = B, {}
            views = self._views[B] = ([a[:B] for a in self._acts],
                                      [d[:B] for d in self._deltas])
        return views

    # ---- passes ----
    def forward(self, x, nt):
        """Logits (B, n_out) for x (B, n_in); a view of a workspace (copy to keep)."""
        acts, _ = self._workspace(x.shape[0])
        last = len(self.layers) - 1
        inp = x
        for i, layer in enumerate(self.layers):
            layer.forward(inp, acts[i], nt)
            if i != last:
                self.activation.forward(acts[i], nt)
            inp = acts[i]
        return acts[-1]

    def loss_grad(self, x, targets, weights, nt):
        """Forward and backward over one batch: returns the (weighted mean) data loss
        and fills `grads` with its gradient, penalty not included."""
        logits = self.forward(x, nt)
        acts, deltas = self._workspace(x.shape[0])
        loss = self.loss.loss_grad(logits, targets, weights, deltas[-1], nt)
        for i in range(len(self.layers) - 1, -1, -1):
            inp = x if i == 0 else acts[i - 1]
            dx = None if i == 0 else deltas[i - 1]
            self.layers[i].backward(deltas[i], inp, dx, nt)
            if i > 0:
                self.activation.backward(dx, acts[i - 1], nt)
        return float(loss)

    def predict_proba(self, x, nt):
        return self.loss.predict_proba(self.forward(x, nt), nt)

    # ---- the fused batch step (dense input) ----
    def batch_step(self, X, order, targets, weights, batch_size, nt, grain=0):
        """A `fastnn._kernels.mlp.BatchStep` training this network on the rows of X.

        Each `run(start, stop, lr, alpha)` is one whole batch (the rows order[start:stop],
        or start:stop when order is None) in one kernel call: forward, loss, `grads`,
        and with lr > 0 the plain SGD step.  X (n, n_in) C-contiguous of the network's
        dtype; order int64 or None; targets as for `loss_grad` (over all n rows);
        weights (n,) or None; nt threads (BLAS must be limited to one thread while a
        step runs on more).  The scratch arrays are kept for the next epoch.
        """
        if self.sparse_input or self.grads is None:
            raise ValueError("batch_step needs a dense-input network with gradients")
        n_real, n_double = _mlp.work_size(self.layer_units, batch_size)
        if self._step_work is None or self._step_work[0].size < n_real \
                or self._step_work[1].size < n_double:
            self._step_work = (np.empty(n_real, self.dtype), np.empty(n_double, np.float64))
        work, dwork = self._step_work
        return _mlp.BatchStep(self.layer_units, self.activation.name, self.output == "softmax",
                              self.params, self.grads, work, dwork, X, order, targets,
                              weights, batch_size, nt, grain)
