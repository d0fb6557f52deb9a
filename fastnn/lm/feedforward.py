"""FeedForwardLM: Bengio et al.'s (2003) neural probabilistic language model.

P(w_t | w_{t-n} .. w_{t-1}): the embeddings of the n previous words (``<s>`` before a
sentence start), side by side, go through tanh (or relu) hidden layers to a softmax
over the vocabulary.  Trained by mini-batch SGD on the mean cross-entropy, every step
on the compiled kernels: window batching (`lm_windows`), embedding gather, BLAS gemms,
fused softmax-cross-entropy, the backward pass with the embedding scatter-add, and the
SGD update over one flat parameter buffer -- no per-example Python work.
"""
from numbers import Integral

import numpy as np
from scipy.linalg import get_blas_funcs
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from fastnn._kernels import dense as _dense
from fastnn._kernels import embedding as _emb
from fastnn._kernels import softmax as _sm
from fastnn._kernels import update as _update
from fastnn._threads import _blas_controller, resolve_threads
from fastnn._validation import float_dtype
from fastnn.lm._base import (COMMON_CONSTRAINTS, NeuralLM,
                             gradient_check_error, next_token_probabilities)
from fastnn.nn import Activation, Linear

# The gemms (BLAS, n_jobs threads) are the bulk of a step; the light kernels between
# them run on the calling thread, as in MLPClassifier: OpenMP threads there compete
# with OpenBLAS's spin-waiting pool for the cores.
_KERNEL_THREADS = 1
_EVAL_CHUNK = 512            # windows per forward pass when scoring


class FFNet:
    """The network of a FeedForwardLM over one flat parameter buffer.

    Layout of `params` / `grads`: the embedding table E (V, d), then every Linear's
    weight matrix W (out, in) (hidden layers, then the output layer), then their biases.
    `layers` are `fastnn.nn.Linear` views of the buffer; `E`, `dE` views too.
    Nothing is validated here: callers pass C-contiguous int32 contexts (B, n) with ids
    in [0, V) and int32 targets (B,).
    """

    def __init__(self, V, context_size, embedding_dim, hidden, activation, dtype):
        self.V, self.n, self.d = int(V), int(context_size), int(embedding_dim)
        self.hidden = [int(h) for h in hidden]
        self.dtype = np.dtype(dtype)
        units = [self.n * self.d] + self.hidden + [self.V]
        self.layers = [Linear(a, b) for a, b in zip(units, units[1:])]
        self.activation = Activation(activation)
        self.n_embed = self.V * self.d
        n_w = sum(layer.n_weights for layer in self.layers)
        size = self.n_embed + n_w + sum(layer.out_features for layer in self.layers)
        self.params = np.zeros(size, dtype=self.dtype)
        self.grads = np.zeros(size, dtype=self.dtype)
        self.E = self.params[:self.n_embed].reshape(self.V, self.d)
        self.dE = self.grads[:self.n_embed].reshape(self.V, self.d)
        w_off, b_off = self.n_embed, self.n_embed + n_w
        self.n_bias_offset = b_off
        # SciPy's BLAS (the dense kernels' own), for the fused plain-SGD update
        self._gemm = get_blas_funcs("gemm", dtype=self.dtype)
        for layer in self.layers:
            layer.bind(self.params, self.grads, w_off, b_off)
            w_off += layer.n_weights
            b_off += layer.out_features
        self._rows, self._views = 0, {}

    def initialize(self, rng, target_counts):
        """Embeddings N(0, 0.1^2); hidden weights Glorot-uniform, biases 0; output weights
        Glorot-uniform, output bias the log unigram frequency of the training targets
        (add-one smoothed), so training starts from the unigram model."""
        self.E[...] = 0.1 * rng.standard_normal(self.E.shape)
        for layer in self.layers:
            bound = np.sqrt(6.0 / (layer.in_features + layer.out_features))
            layer.W[...] = rng.uniform(-bound, bound, layer.W.shape)
            layer.b[...] = 0
        c = np.asarray(target_counts, dtype=np.float64) + 1.0
        self.layers[-1].b[...] = np.log(c / c.sum())

    # ------------------------------------------------------------ workspaces
    def _workspace(self, B):
        """x, dx (B, n d); per layer its output and delta: prefixes of arrays sized for
        the largest batch so far (views cached per B)."""
        views = self._views.get(B)
        if views is None:
            if B > self._rows:
                widths = [self.n * self.d] + [layer.out_features for layer in self.layers]
                self._outs = [np.empty((B, w), self.dtype) for w in widths]
                self._deltas = [np.empty((B, w), self.dtype) for w in widths]
                self._rows, self._views = B, {}
            views = self._views[B] = ([a[:B] for a in self._outs],
                                      [a[:B] for a in self._deltas])
        return views

    # ------------------------------------------------------------ passes
    def forward(self, contexts, nt):
        """Logits (B, V) of contexts (B, n): a workspace view (copy it to keep it)."""
        outs, _ = self._workspace(contexts.shape[0])
        _emb.gather(self.E, contexts, outs[0], nt)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            layer.forward(outs[i], outs[i + 1], nt)
            if i != last:
                self.activation.forward(outs[i + 1], nt)
        return outs[-1]

    def log_probs(self, contexts, nt):
        """Log-softmax of the logits (B, V), in a workspace view."""
        logits = self.forward(contexts, nt)
        _, deltas = self._workspace(contexts.shape[0])
        _sm.softmax(logits, deltas[-1], True, nt)
        return deltas[-1]

    def loss_grad(self, contexts, targets, nt, embedding_grad=True):
        """Mean cross-entropy of the batch; fills the gradient of every Linear and the
        input delta dx (B, n d); with embedding_grad also dE (zeroed, then scatter-added)."""
        logits = self.forward(contexts, nt)
        outs, deltas = self._workspace(contexts.shape[0])
        loss = _sm.softmax_xent(logits, targets, None, deltas[-1], nt)
        for i in range(len(self.layers) - 1, -1, -1):
            self.layers[i].backward(deltas[i + 1], outs[i], deltas[i], nt)
            if i > 0:
                self.activation.backward(deltas[i], outs[i], nt)
        if embedding_grad:
            self.dE.fill(0)
            _emb.scatter_add(self.dE, deltas[0], contexts, nt)
        return float(loss)

    def sgd_step(self, contexts, targets, lr, momentum, weight_decay, velocity, nt):
        """One SGD step (PyTorch's conventions, see fastnn._kernels.update) on the batch;
        returns its mean loss.

        Plain SGD (no momentum, no weight decay) takes a fused path with the same
        result up to round-off: each weight matrix is updated by one gemm,
        W += -lr delta^T x (BLAS beta = 1: no gradient matrix is written, no separate
        update pass), after its dx is computed from the old W; only the embedding rows
        in the batch move, by a scatter-add of -lr dx into E; the biases (contiguous at
        the end of the buffer) get the usual update kernel."""
        if velocity is not None or weight_decay != 0:
            loss = self.loss_grad(contexts, targets, nt)
            _update.sgd_update(self.params, self.grads, velocity, lr, momentum, False,
                               weight_decay, nt)
            return loss
        logits = self.forward(contexts, nt)
        outs, deltas = self._workspace(contexts.shape[0])
        loss = _sm.softmax_xent(logits, targets, None, deltas[-1], nt)
        gemm = self._gemm
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            _dense.backward(deltas[i + 1], outs[i], layer.W, None, layer.db, deltas[i], nt)
            # W^T (in, out) column-major is W row-major: W^T += -lr x^T delta
            gemm(-lr, outs[i].T, deltas[i + 1].T, beta=1.0, c=layer.W.T, trans_b=1,
                 overwrite_c=1)
            if i > 0:
                self.activation.backward(deltas[i], outs[i], nt)
        np.multiply(deltas[0], -lr, out=deltas[0])
        _emb.scatter_add(self.E, deltas[0], contexts, nt)
        bo = self.n_bias_offset
        _update.sgd_update(self.params[bo:], self.grads[bo:], None, lr, 0.0, False, 0.0, nt)
        return float(loss)


def _hidden_sizes(hidden_sizes):
    """hidden_sizes as a list of positive ints (an int is one layer; () none)."""
    if isinstance(hidden_sizes, Integral) and not isinstance(hidden_sizes, bool):
        hidden_sizes = (hidden_sizes,)
    try:
        sizes = list(hidden_sizes)
    except TypeError:
        raise TypeError("hidden_sizes must be an int or a sequence of ints, got "
                        f"{type(hidden_sizes).__name__}") from None
    for h in sizes:
        if isinstance(h, bool) or not isinstance(h, Integral) or h < 1:
            raise ValueError(f"hidden_sizes must hold ints >= 1, got {hidden_sizes!r}")
    return [int(h) for h in sizes]


class FeedForwardLM(NeuralLM):
    """Bengio's feed-forward neural language model on fastnn's compiled kernels.

    P(w_t | previous `context_size` words) = softmax(W_o g(... g(W_1 [e(w_{t-n}); ...;
    e(w_{t-1})] + b_1) ...) + b_o), with ``<s>`` standing in before a sentence start.

    Parameters
    ----------
    context_size : int, default=3
        n, the number of previous words the model sees.
    embedding_dim : int, default=64
    hidden_sizes : int or sequence of int, default=(256,)
        Units of each hidden layer; () feeds the embeddings straight to the softmax.
    activation : {'tanh', 'relu'}, default='tanh'
    min_count : int, default=1
        Words seen fewer times in the training corpus become ``<unk>``.
    max_vocab_size : int or None, default=None
        Keep at most this many words (most frequent first), specials not counted.
    batch_size : int, default=256
        Windows (predicted tokens) per SGD step.
    learning_rate : float, default=0.5
        Initial SGD step size (the loss is the batch mean).
    lr_schedule : {'constant', 'linear', 'plateau'}, default='linear'
        'linear' decays from learning_rate to learning_rate / epochs over the epochs;
        'plateau' halves it after an epoch that did not improve the validation
        perplexity (the training loss without a validation corpus).
    momentum : float in [0, 1), default=0.9
        Heavy-ball momentum (PyTorch form: v = momentum v + g, p -= lr v).
    weight_decay : float, default=0.0
        L2 coefficient added to every gradient (embeddings and biases included).
    epochs : int, default=5
        Passes over the training corpus (fewer with early stopping).
    early_stopping : bool, default=False
        Stop when the validation perplexity has not improved for `patience` epochs
        and keep the best epoch's weights; needs `validation` in fit.
    patience : int, default=2
    random_state : int or None, default=None
        Seeds the initial weights and the shuffling.
    n_jobs : int or None, default=None
        BLAS threads for the matrix products (the bulk of the work); None = every core
        (or the `fastnn.threads` setting).
    dtype : np.float32 or np.float64, default=np.float32
    verbose : bool, default=False
        A tqdm bar over the training tokens (loss, tokens/s, validation perplexity).
    lowercase : bool, default=True
        Lower-case text (strings and files) before splitting it into tokens.

    Defaults were chosen on the WEB Bible (fastnn.datasets.load_web_bible) by validation
    perplexity.  On 6,000 training lines (~180k tokens), min_count 2, 2,000 words,
    embedding 32, hidden 64, 4 epochs, validation[:600] (KN trigram: 42.0): embeddings
    drawn N(0, 0.1^2) with learning_rate 0.5, momentum 0.9, 'linear' reached 39.9;
    learning_rate 0.05 / 0.1 / 0.2 with N(0, 1) embeddings 66.9 / 57.7 / 51.9; 'constant'
    instead of 'linear' 47.5.  Full-corpus numbers: benchmarks/results/lm.md.

    Attributes
    ----------
    vocabulary_ : fastnn.text.Vocabulary
    embeddings_ : ndarray (V, embedding_dim), the learnt word vectors (a view).
    coefs_, intercepts_ : lists of each Linear's W (out, in) and b (views).
    loss_curve_ : float64 ndarray, the mean training loss of each epoch.
    validation_perplexity_curve_ : float64 ndarray (empty without validation).
    learning_rates_ : float64 ndarray, the rate of each epoch.
    n_epochs_ : int, epochs run.

    Unknown words (also in prompts and contexts) are read as ``<unk>``: a context of
    only unknown words is valid and conditions on ``<unk>`` ids.
    """

    _FITTED = ("vocabulary_", "n_epochs_", "net_")
    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "context_size": [Interval(Integral, 1, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_sizes": "no_validation",        # checked by _hidden_sizes
        "activation": [StrOptions({"tanh", "relu"})],
    }

    def __init__(self, context_size=3, embedding_dim=64, hidden_sizes=(256,),
                 activation="tanh", *, min_count=1, max_vocab_size=None, batch_size=256,
                 learning_rate=0.5, lr_schedule="linear", momentum=0.9, weight_decay=0.0,
                 epochs=5, early_stopping=False, patience=2, random_state=None,
                 n_jobs=None, dtype=np.float32, verbose=False, lowercase=True):
        self.context_size = context_size
        self.embedding_dim = embedding_dim
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.patience = patience
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.verbose = verbose
        self.lowercase = lowercase

    def _new_net(self, dtype=None):
        return FFNet(len(self.vocabulary_), self.context_size, self.embedding_dim,
                     _hidden_sizes(self.hidden_sizes), self.activation,
                     float_dtype(self.dtype) if dtype is None else dtype)

    # ------------------------------------------------------------ training
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, corpus, validation=None):
        """Learn the vocabulary of `corpus` and train on it; `validation` (optional,
        same forms as corpus) is scored after every epoch.  Returns self."""
        dtype = float_dtype(self.dtype)
        hidden = _hidden_sizes(self.hidden_sizes)
        nt = resolve_threads(self.n_jobs, "n_jobs")
        vocab, ids, starts, val = self._fit_data(corpus, validation)
        contexts, targets = self._windows(ids, starts)
        rng = np.random.RandomState(self.random_state)
        net = FFNet(len(vocab), self.context_size, self.embedding_dim, hidden,
                    self.activation, dtype)
        net.initialize(rng, np.bincount(targets, minlength=len(vocab)))
        velocity = np.zeros_like(net.params) if self.momentum > 0 else None
        N, B = targets.shape[0], self.batch_size
        momentum, wd = float(self.momentum), float(self.weight_decay)
        kt = _KERNEL_THREADS

        def epoch(lr, bar):
            perm = rng.permutation(N)
            ctx, tgt = contexts[perm], targets[perm]
            total, since = 0.0, 0
            for s in range(0, N, B):
                e = min(s + B, N)
                total += net.sgd_step(ctx[s:e], tgt[s:e], lr, momentum, wd, velocity,
                                      kt) * (e - s)
                if bar is not None:
                    since += e - s
                    if since >= 65536 or e == N:
                        bar.update(since)
                        since = 0
            return total / N

        self._train(net, epoch, val, N, nt)
        return self

    def _windows(self, ids, starts):
        """(contexts (N, n) int32, targets (N,) int32) of an encoded corpus."""
        N = ids.shape[0]
        contexts = np.empty((N, self.context_size), dtype=np.int32)
        targets = np.empty(N, dtype=np.int32)
        _emb.lm_windows(ids, self.context_size, self.vocabulary_.bos_id, starts, contexts,
                        targets, resolve_threads(self.n_jobs, "n_jobs"))
        return contexts, targets

    def _publish(self, net):
        self.net_ = net
        self.embeddings_ = net.E
        self.coefs_ = [layer.W for layer in net.layers]
        self.intercepts_ = [layer.b for layer in net.layers]

    # ------------------------------------------------------------ NeuralLM hooks
    def _log_probs_of(self, net, ids, starts):
        contexts, targets = self._windows(ids, starts)
        out = np.empty(targets.shape[0], dtype=np.float64)
        nt = resolve_threads(self.n_jobs, "n_jobs")
        with _blas_controller().limit(limits=nt, user_api="blas"):
            for s in range(0, targets.shape[0], _EVAL_CHUNK):
                e = min(s + _EVAL_CHUNK, targets.shape[0])
                lp = net.log_probs(contexts[s:e], _KERNEL_THREADS)
                out[s:e] = lp[np.arange(e - s), targets[s:e]]
        return out

    def _target_log_probs(self, ids, starts):
        return self._log_probs_of(self.net_, ids, starts)

    def _next_distribution(self, history):
        n, bos = self.context_size, self.vocabulary_.bos_id
        ctx = np.full((1, n), bos, dtype=np.int32)
        tail = np.asarray(history, dtype=np.int32)[-n:]
        if tail.shape[0]:
            ctx[0, n - tail.shape[0]:] = tail
        logits = self.net_.forward(ctx, _KERNEL_THREADS).astype(np.float64)[0]
        return next_token_probabilities(logits)

    # ------------------------------------------------------------ checking
    def check_gradients(self, corpus, eps=1e-6):
        """Relative error of the analytic gradient against central differences.

        At the current weights, in a float64 copy, for the mean cross-entropy over
        every window of `corpus` (weight decay not included: it is applied by the
        update, not part of the loss).  Every parameter, embeddings included, is moved
        by +-eps.  Returns max |analytic - numeric| / max(max |numeric|, 1e-8).
        Costs two forward passes per parameter: meant for tiny models."""
        self._check_fitted()
        ids, starts = self._encode(self._sentences(corpus, "corpus"), "corpus")
        contexts, targets = self._windows(ids, starts)
        net = self._new_net(np.float64)
        net.params[:] = self.net_.params
        nt = _KERNEL_THREADS
        net.loss_grad(contexts, targets, nt)
        analytic = net.grads.copy()
        dl = np.empty((targets.shape[0], net.V))

        def loss():
            return _sm.softmax_xent(net.forward(contexts, nt), targets, None, dl, nt)

        return gradient_check_error(net.params, analytic, loss, eps)
