"""The network of fastnn.RNNLM: an Elman RNN over a flat parameter buffer, and the
layout of an encoded corpus as parallel token streams.

One step of the recurrence for B streams at once:

    h_t = g(W_x e(x_t) + W_h h_{t-1} + b),   P(y_t | x_1 .. x_t) = softmax(U h_t + c)

where x_t is the previous word of the sentence (``<s>`` at its start) and y_t the word
to predict (a sentence's words, then ``</s>``).  A sentence starts from a zero state:
the streams carry their state only inside a sentence, which may span windows.  Every
pass runs on the compiled kernels (`fastnn._kernels.rnn`, `dense`, `softmax`,
`embedding`): gemms over all T B positions of a window, the per-step recurrence, the
fused softmax cross-entropy, backpropagation through the window's T steps.
"""
import contextlib

import numpy as np

from fastnn._kernels import dense as _dense
from fastnn._kernels import embedding as _emb
from fastnn._kernels import rnn as _rnn
from fastnn._kernels import softmax as _sm
from fastnn._kernels import update as _update
from fastnn._threads import _blas_controller

ACTIVATIONS = {"tanh": _rnn.TANH, "relu": _rnn.RELU}


@contextlib.contextmanager
def serial_blas():
    """Every BLAS at one thread inside the block, the previous counts restored after.

    The recurrence's per-step products are small (B x Hd by Hd x Hd): split over
    threads, each of the 2 T products of a window waits for the slowest thread, and
    when another process holds a core that wait becomes a scheduler time slice (a
    window measured 2-5x slower at 2 threads than at 1 on a loaded machine).  The
    large products (input and output layers) keep the caller's thread count."""
    libs = [lib for lib in _blas_controller().lib_controllers if lib.user_api == "blas"]
    counts = [lib.num_threads for lib in libs]
    try:
        for lib, n in zip(libs, counts):
            if n != 1:
                lib.set_num_threads(1)
        yield
    finally:
        for lib, n in zip(libs, counts):
            if n != 1:
                lib.set_num_threads(n)


class Streams:
    """A corpus as about B parallel streams of whole sentences, time-major.

    Built from an encoded corpus (ids, starts) and an optional sentence order: the
    sentences are concatenated (in `order`) and the sequence is cut into B contiguous
    pieces at the sentence starts nearest to multiples of N / B (fewer streams when
    sentences are too few or too long), so no sentence is split between streams.
    Arrays (L, B), L the longest stream: `inputs` (int32, the previous word or <s>),
    `targets` (int32), `keep` (uint8, 0 where a sentence starts: the stream restarts
    from a zero state), `weights` (1, or 0 on the padding after a shorter stream's
    end; None when every stream has length L), `position` (int64, each cell's index
    in the concatenated corpus, -1 on padding).  From step `first_pad` on, some
    stream is padding.
    """

    def __init__(self, ids, starts, B, bos_id, order=None):
        N, S = ids.shape[0], starts.shape[0]
        lengths = np.diff(np.append(starts, N))
        if order is not None:
            src_starts, lengths = starts[order], lengths[order]
            new_starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
            src = np.arange(N) + np.repeat(src_starts - new_starts, lengths)
            targets, starts = ids[src], new_starts
        else:
            src, targets = np.arange(N), ids
        inputs = np.empty(N, dtype=np.int32)
        inputs[1:] = targets[:-1]
        inputs[starts] = bos_id
        keep = np.ones(N, dtype=np.uint8)
        keep[starts] = 0
        B = int(max(1, min(B, S)))
        cut = np.minimum(np.searchsorted(starts, np.arange(1, B) * (N / B)), S - 1)
        bounds = np.unique(np.concatenate(([0], starts[cut], [N])))
        lens = np.diff(bounds)
        self.B, self.L, self.N = lens.shape[0], int(lens.max()), N
        steps = np.arange(self.L)[:, None]
        valid = steps < lens[None, :]
        index = np.minimum(bounds[:-1][None, :] + steps, N - 1)

        def lay(a, fill):
            return np.ascontiguousarray(np.where(valid, a[index], fill).astype(a.dtype))

        self.inputs = lay(inputs, 0)
        self.targets = lay(np.ascontiguousarray(targets, dtype=np.int32), 0)
        self.keep = lay(keep, 0)
        self.position = lay(src.astype(np.int64), -1)
        self.first_pad = int(lens.min())
        self.weights = None if valid.all() else valid.astype(np.float64)

    def windows(self, T):
        """(t0, t1) of the windows of at most T steps."""
        return [(t, min(t + T, self.L)) for t in range(0, self.L, T)]


class RNNNet:
    """The parameters (one flat buffer) and the passes of an Elman RNN LM.

    Layout of `params` / `grads`: emb (V, E), W_x (Hd, E), W_h (Hd, Hd), U (V, Hd),
    b (Hd,), c (V,); each is a named view (`self.emb`, `self.d_emb`, ...).  Nothing is
    validated here: callers pass C-contiguous int32 ids in [0, V), uint8 masks.
    """

    NAMES = ("emb", "W_x", "W_h", "U", "b", "c")

    def __init__(self, V, embedding_dim, hidden_size, activation, dtype):
        self.V, self.E, self.Hd = int(V), int(embedding_dim), int(hidden_size)
        self.act = ACTIVATIONS[activation]
        self.dtype = np.dtype(dtype)
        V, E, Hd = self.V, self.E, self.Hd
        shapes = {"emb": (V, E), "W_x": (Hd, E), "W_h": (Hd, Hd), "U": (V, Hd),
                  "b": (Hd,), "c": (V,)}
        size = sum(int(np.prod(s)) for s in shapes.values())
        self.params = np.zeros(size, dtype=self.dtype)
        self.grads = np.zeros(size, dtype=self.dtype)
        off = 0
        for name in self.NAMES:
            n = int(np.prod(shapes[name]))
            setattr(self, name, self.params[off:off + n].reshape(shapes[name]))
            setattr(self, "d_" + name, self.grads[off:off + n].reshape(shapes[name]))
            off += n
        self._cap, self._flat = 0, {}

    def initialize(self, rng, target_counts):
        """Embeddings and output weights U(-0.1, 0.1); W_x, W_h U(-1/sqrt(Hd), 1/sqrt(Hd))
        (PyTorch's nn.RNN); b = 0; output bias c the log unigram frequency of the
        training targets (add-one smoothed), so training starts from the unigram model."""
        self.emb[...] = rng.uniform(-0.1, 0.1, self.emb.shape)
        self.U[...] = rng.uniform(-0.1, 0.1, self.U.shape)
        bound = 1.0 / np.sqrt(self.Hd)
        self.W_x[...] = rng.uniform(-bound, bound, self.W_x.shape)
        self.W_h[...] = rng.uniform(-bound, bound, self.W_h.shape)
        self.b[...] = 0
        counts = np.asarray(target_counts, dtype=np.float64) + 1.0
        self.c[...] = np.log(counts / counts.sum())

    # ------------------------------------------------------------ workspaces
    def _buffers(self, T, B):
        """Workspace views for a window of T steps of B streams (flat buffers grown to
        the largest T B so far, so any shape reuses them)."""
        n = T * B
        rows = n + B                            # H has T + 1 steps; dh0 follows dhs
        if rows > self._cap:
            widths = {"X": self.E, "dX": self.E, "H": self.Hd, "P": self.Hd,
                      "dhs": self.Hd, "logits": self.V, "dlogits": self.V}
            self._flat = {k: np.empty(rows * w, self.dtype) for k, w in widths.items()}
            self._cap = rows
        f, V, E, Hd = self._flat, self.V, self.E, self.Hd
        return {"X": f["X"][:n * E].reshape(n, E), "dX": f["dX"][:n * E].reshape(n, E),
                "H": f["H"][:(n + B) * Hd].reshape(T + 1, B, Hd),
                "P": f["P"][:n * Hd].reshape(T, B, Hd),
                "dhs": f["dhs"][:n * Hd].reshape(n, Hd),
                "dh0": f["dhs"][n * Hd:(n + B) * Hd].reshape(B, Hd),
                "logits": f["logits"][:n * V].reshape(n, V),
                "dlogits": f["dlogits"][:n * V].reshape(n, V)}

    # ------------------------------------------------------------ passes
    def forward(self, inputs, keep, h0, nt):
        """inputs (T, B) int32, keep (T, B) uint8 or None, h0 (B, Hd) -> the workspace
        dict with H (T + 1, B, Hd) (H[T]: the state to carry) and logits (T B, V).
        h0 may be a view of the previous window's H."""
        T, B = inputs.shape
        w = self._buffers(T, B)
        _emb.gather(self.emb, inputs.reshape(T * B, 1), w["X"], nt)
        with serial_blas():
            _rnn.forward(w["X"], self.W_x, self.W_h, self.b, h0, keep, self.act, w["H"],
                         w["P"], nt)
        _dense.forward(w["H"][1:].reshape(T * B, self.Hd), self.U, self.c, w["logits"], nt)
        return w

    def loss_grad(self, inputs, targets, keep, weights, h0, nt):
        """Forward and backward over one window: returns (weighted mean cross-entropy,
        the workspace); fills `grads` (truncated BPTT: nothing flows into h0's
        window).  targets (T B,) int32, weights (T B,) or None."""
        T, B = inputs.shape
        w = self.forward(inputs, keep, h0, nt)
        loss = _sm.softmax_xent(w["logits"], targets, weights, w["dlogits"], nt)
        hs = w["H"][1:].reshape(T * B, self.Hd)
        _dense.backward(w["dlogits"], hs, self.U, self.d_U, self.d_c, w["dhs"], nt)
        with serial_blas():
            _rnn.backward(w["dhs"], w["H"], w["P"], w["X"], self.W_x, self.W_h, keep,
                          self.act, self.d_W_x, self.d_W_h, self.d_b, w["dX"], w["dh0"], nt)
        self.d_emb.fill(0)
        _emb.scatter_add(self.d_emb, w["dX"], inputs.reshape(T * B, 1), nt)
        return float(loss), w

    def sgd_window(self, inputs, targets, keep, weights, h0, lr, momentum, weight_decay,
                   velocity, clip, nt):
        """One training step on a window: loss_grad, the gradient clipped to global
        norm `clip` (None: not clipped), then SGD (PyTorch's conventions, velocity
        None without momentum).  Returns (the window's mean loss, the state to carry
        into the next window: a workspace view, valid until the next pass)."""
        loss, w = self.loss_grad(inputs, targets, keep, weights, h0, nt)
        if clip is not None:
            _rnn.clip_grad_norm(self.grads, clip, nt)
        _update.sgd_update(self.params, self.grads, velocity, lr, momentum, False,
                           weight_decay, nt)
        return loss, w["H"][inputs.shape[0]]

    def adam_window(self, inputs, targets, keep, weights, h0, lr, adam, clip, nt):
        """As `sgd_window`, with a step of `adam` (a fastnn.optim.Adam over [params],
        its rate set to lr) instead of SGD."""
        loss, w = self.loss_grad(inputs, targets, keep, weights, h0, nt)
        if clip is not None:
            _rnn.clip_grad_norm(self.grads, clip, nt)
        adam.lr = lr
        adam.step([self.grads])
        return loss, w["H"][inputs.shape[0]]

    def log_probs(self, inputs, targets, keep, h0, nt):
        """(log P(target) of each of the T B positions (float64), the workspace)."""
        w = self.forward(inputs, keep, h0, nt)
        _sm.softmax(w["logits"], w["dlogits"], True, nt)
        n = targets.shape[0]
        return w["dlogits"][np.arange(n), targets].astype(np.float64), w
