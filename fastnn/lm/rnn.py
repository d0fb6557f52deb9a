"""RNNLM: the Elman recurrent neural language model (Mikolov et al., 2010).

    h_t = g(W_x e(w_t) + W_h h_{t-1} + b),   P(w_{t+1} | w_1 .. w_t) = softmax(U h_t + c)

with g = tanh or relu, the state reset to zero at every sentence start (so the model
scores each sentence on its own, like fastnn's other LMs).  Trained by Adam (or SGD)
with truncated backpropagation through time: the training corpus (its sentences shuffled
every epoch) is laid out as `batch_size` parallel token streams, cut into windows of
`bptt` steps; each stream carries its hidden state from one window to the next, and
the gradient is clipped to a global norm before every update.  All the work runs on
the compiled kernels (see `fastnn.lm._rnn_net`).
"""
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from fastnn._threads import _blas_controller, resolve_threads
from fastnn._validation import float_dtype
from fastnn.lm._base import (COMMON_CONSTRAINTS, NeuralLM,
                             gradient_check_error, next_token_probabilities)
from fastnn.lm._rnn_net import RNNNet, Streams
from fastnn.optim import Adam

# The gemms (BLAS, n_jobs threads) are the bulk of a step; the light kernels between
# them run on the calling thread: OpenMP threads there would compete with OpenBLAS's
# spin-waiting pool for the cores (as in FeedForwardLM and MLPClassifier).
_KERNEL_THREADS = 1


class RNNLM(NeuralLM):
    """Elman recurrent neural language model on fastnn's compiled kernels.

    Parameters
    ----------
    embedding_dim : int, default=64
    hidden_size : int, default=256
    num_layers : int, default=1
        Only 1 is supported (a single recurrent layer).
    activation : {'tanh', 'relu'}, default='tanh'
    bptt : int, default=35
        Truncation length: steps per window of backpropagation through time.
    batch_size : int, default=32
        Parallel token streams: the training tokens are split into this many
        contiguous streams, each carrying its hidden state across windows.
    learning_rate : float, default=0.004
        Initial step size of the optimizer (the loss is the mean over a window's
        predictions); 0.5 suits 'sgd' with momentum 0.9.
    lr_schedule : {'constant', 'linear', 'plateau'}, default='linear'
        'linear' decays from learning_rate to learning_rate / epochs over the epochs;
        'plateau' halves it after an epoch that did not improve the validation
        perplexity (the training loss without a validation corpus).
    optimizer : {'sgd', 'adam'}, default='adam'
        'sgd': SGD with `momentum`; 'adam': Adam (PyTorch's conventions, betas 0.9 and
        0.999, eps 1e-8; `momentum` is not used), its step learning_rate (scaled by
        the schedule and the warm-up like SGD's).
    momentum : float in [0, 1), default=0.9
        Heavy-ball momentum of 'sgd' (PyTorch form: v = momentum v + g, p -= lr v).
    weight_decay : float, default=0.0
        L2 coefficient added to every gradient.
    clip_grad_norm : float or None, default=1.0
        Rescale the whole gradient (all parameters together) to this 2-norm when it
        is larger; None disables clipping.
    warmup : int, default=0
        The first `warmup` steps (windows) of training take the rate up linearly,
        learning_rate * k / warmup at step k; 0 starts at the full rate.  With 'sgd'
        it guards the first windows, where momentum SGD at learning_rate 1.0 blew the
        recurrent weights up (one epoch on a quarter of the train split: validation
        perplexity 10,777 without a 100-step warm-up, 393 with it).
    epochs : int, default=5
    early_stopping : bool, default=False
        Stop when the validation perplexity has not improved for `patience` epochs
        and keep the best epoch's weights; needs `validation` in fit.
    patience : int, default=2
    min_count : int, default=1
        Words seen fewer times in the training corpus become ``<unk>``.
    max_vocab_size : int or None, default=None
        Keep at most this many words (most frequent first), specials not counted.
    random_state : int or None, default=None
        Seeds the initial weights and the sentence shuffling.
    n_jobs : int or None, default=None
        BLAS threads for the matrix products (the bulk of the work); None = every core
        (or the `fastnn.threads` setting).
    dtype : np.float32 or np.float64, default=np.float32
    verbose : bool, default=False
        A tqdm bar over the training tokens (loss, tokens/s, validation perplexity).
    lowercase : bool, default=True
        Lower-case text (strings and files) before splitting it into tokens.

    Measured on the WEB Bible (fastnn.datasets.load_web_bible; train split 1.0M
    predicted tokens, V = 10,003 via max_vocab_size=10000, random_state 0; every
    model with its defaults; benchmarks/results/rnn_quality.md, one run): validation perplexity after
    epochs 1..5 = 57.52, 48.93, 45.95, 43.62, 41.97, test 45.10 (3.29M parameters),
    below FeedForwardLM's 49.41 (context 3, 3.26M parameters, 5 epochs, validation
    68.2, 60.3, 53.5, 51.0, 46.2) and the Kneser-Ney trigram's 51.92.

    Why Adam: with momentum SGD (the previous defaults: learning_rate 0.5, momentum
    0.9, clip 0.25, a 100-step warm-up) the RNN was under-trained after 5 epochs
    (validation 82.6, 66.9, 59.1, 55.6, 52.4, test 55.33, behind the trigram's 51.92
    and FeedForwardLM's 49.41).  The mean loss over a window's 1,120 predictions gives
    the embedding and output rows of all but the frequent words tiny gradients (with
    those defaults at the start the whole gradient's norm was 0.067, the embedding's and U's 0.015
    each), while the recurrent matrix's gradient grows as its 2-norm does (1.14 ->
    1.63 over the first 150 windows, its gradient then 0.45 of a total 0.54), so the
    global clip, set by W_h, shrinks every layer's step.  Adam scales each weight's
    step by its own gradient history.  Choice (2 epochs on a quarter of the train
    split, validation perplexity after epochs 1, 2; linear schedule):
    SGD as before 140.6, 115.9; SGD batch_size 16, clip 1.0, no warm-up 288.1 (an
    unstable first epoch), 118.4; Adam (clip 1.0, no warm-up) at learning_rate 0.002
    102.9, 89.7; at 0.004 94.1, 80.3; at 0.008 101.1, 81.2; batch_size 16 at 0.002
    97.0, 84.1 and at 0.004 95.0, 79.0 (about as good as 32 streams at 0.004, with
    twice the steps).  On small corpora (~70k tokens) smaller windows train better:
    see tests/test_rnnlm.py.

    Attributes
    ----------
    vocabulary_ : fastnn.text.Vocabulary
    embeddings_ : ndarray (V, embedding_dim), the input word vectors (a view).
    loss_curve_ : float64 ndarray, the mean training loss of each epoch.
    validation_perplexity_curve_ : float64 ndarray (empty without validation).
    learning_rates_ : float64 ndarray, the rate of each epoch.
    n_epochs_ : int, epochs run.
    """

    _FITTED = ("vocabulary_", "n_epochs_", "net_")
    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": "no_validation",          # checked in fit: only 1 is implemented
        "activation": [StrOptions({"tanh", "relu"})],
        "bptt": [Interval(Integral, 1, None, closed="left")],
        "clip_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
        "warmup": [Interval(Integral, 0, None, closed="left")],
        "optimizer": [StrOptions({"sgd", "adam"})],
    }

    def __init__(self, embedding_dim=64, hidden_size=256, num_layers=1, activation="tanh",
                 *, bptt=35, batch_size=32, learning_rate=0.004, lr_schedule="linear",
                 optimizer="adam", momentum=0.9, weight_decay=0.0, clip_grad_norm=1.0,
                 warmup=0, epochs=5,
                 early_stopping=False, patience=2, min_count=1, max_vocab_size=None,
                 random_state=None, n_jobs=None, dtype=np.float32, verbose=False,
                 lowercase=True):
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.activation = activation
        self.bptt = bptt
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.clip_grad_norm = clip_grad_norm
        self.warmup = warmup
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.patience = patience
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.verbose = verbose
        self.lowercase = lowercase

    def _new_net(self, dtype=None):
        return RNNNet(len(self.vocabulary_), self.embedding_dim, self.hidden_size,
                      self.activation, float_dtype(self.dtype) if dtype is None else dtype)

    # ------------------------------------------------------------ training
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, corpus, validation=None):
        """Learn the vocabulary of `corpus` and train on it; `validation` (optional,
        same forms as corpus) is scored after every epoch.  Returns self."""
        dtype = float_dtype(self.dtype)
        nt = resolve_threads(self.n_jobs, "n_jobs")
        if isinstance(self.num_layers, bool) or not isinstance(self.num_layers, Integral):
            raise TypeError(f"num_layers must be an int, got {type(self.num_layers).__name__}")
        if self.num_layers != 1:
            raise ValueError(f"num_layers must be 1 (one recurrent layer; deeper stacks are "
                             f"not implemented), got {self.num_layers}")
        vocab, ids, starts, val = self._fit_data(corpus, validation)
        rng = np.random.RandomState(self.random_state)
        net = RNNNet(len(vocab), self.embedding_dim, self.hidden_size, self.activation,
                     dtype)
        net.initialize(rng, np.bincount(ids, minlength=len(vocab)))
        adam = velocity = None
        if self.optimizer == "adam":
            adam = Adam([net.params], lr=self.learning_rate,
                        weight_decay=float(self.weight_decay))
        elif self.momentum > 0:
            velocity = np.zeros_like(net.params)
        N, S = ids.shape[0], starts.shape[0]
        momentum, wd = float(self.momentum), float(self.weight_decay)
        clip = None if self.clip_grad_norm is None else float(self.clip_grad_norm)
        kt = _KERNEL_THREADS
        warmup, steps = int(self.warmup), [0]

        def epoch(lr, bar):
            streams = Streams(ids, starts, self.batch_size, vocab.bos_id,
                              order=rng.permutation(S))
            B, total, since = streams.B, 0.0, 0
            state = np.zeros((B, net.Hd), dtype)
            for t0, t1 in streams.windows(self.bptt):
                targets = streams.targets[t0:t1].reshape(-1)
                weights, n_real = None, (t1 - t0) * B
                if streams.weights is not None and t1 > streams.first_pad:
                    weights = streams.weights[t0:t1].reshape(-1).astype(dtype)
                    n_real = int(weights.sum())
                    if n_real == 0:
                        continue
                steps[0] += 1
                step_lr = lr * min(1.0, steps[0] / warmup) if warmup else lr
                window = (streams.inputs[t0:t1], targets, streams.keep[t0:t1], weights,
                          state, step_lr)
                if adam is None:
                    loss, state = net.sgd_window(*window, momentum, wd, velocity, clip, kt)
                else:
                    loss, state = net.adam_window(*window, adam, clip, kt)
                total += loss * n_real
                if bar is not None:
                    since += n_real
                    if since >= 16384:
                        bar.update(since)
                        since = 0
            if bar is not None and since:
                bar.update(since)
            return total / N

        self._train(net, epoch, val, N, nt)
        return self

    def _publish(self, net):
        self.net_ = net
        self.embeddings_ = net.emb
        self._gen_cache = None

    # ------------------------------------------------------------ NeuralLM hooks
    def _log_probs_of(self, net, ids, starts):
        """log P of every token of an encoded corpus, each sentence on its own."""
        streams = Streams(ids, starts, self.batch_size, self.vocabulary_.bos_id)
        out = np.empty(ids.shape[0], dtype=np.float64)
        nt = resolve_threads(self.n_jobs, "n_jobs")
        state = np.zeros((streams.B, net.Hd), net.dtype)
        with _blas_controller().limit(limits=nt, user_api="blas"):
            for t0, t1 in streams.windows(self.bptt):     # the training workspace
                lp, w = net.log_probs(streams.inputs[t0:t1], streams.targets[t0:t1].reshape(-1),
                                      streams.keep[t0:t1], state, _KERNEL_THREADS)
                state = w["H"][t1 - t0]
                pos = streams.position[t0:t1].reshape(-1)
                real = pos >= 0
                out[pos[real]] = lp[real]
        return out

    def _target_log_probs(self, ids, starts):
        return self._log_probs_of(self.net_, ids, starts)

    def _next_distribution(self, history):
        """P(next word | <s> history), reusing the state of the previous call when
        `history` extends it (generation feeds one word at a time)."""
        net, history = self.net_, [int(i) for i in history]
        cache = getattr(self, "_gen_cache", None)
        if cache is not None and cache[0] == history[:len(cache[0])]:
            done, state = cache[0], cache[1]
            feed = history[len(done):]
        else:
            state = np.zeros((1, net.Hd), net.dtype)
            feed = [self.vocabulary_.bos_id] + history
        if feed:
            inputs = np.asarray(feed, dtype=np.int32).reshape(-1, 1)
            w = net.forward(inputs, None, state, _KERNEL_THREADS)
            T = inputs.shape[0]
            state = w["H"][T].copy()
            logits = w["logits"][T - 1].astype(np.float64)
        else:
            logits = cache[2].copy()
        self._gen_cache = (history, state, logits.copy())
        return next_token_probabilities(logits)

    # ------------------------------------------------------------ checking
    def check_gradients(self, corpus, eps=1e-6):
        """Relative error of the analytic gradient against central differences.

        At the current weights, in a float64 copy, for the mean cross-entropy over
        every token of `corpus` laid out as `batch_size` streams in ONE window (full
        backpropagation through time, so the loss is one differentiable function;
        weight decay not included).  Every parameter is moved by +-eps.  Returns
        max |analytic - numeric| / max(max |numeric|, 1e-8).  Costs two forward
        passes per parameter: meant for tiny models and corpora."""
        self._check_fitted()
        ids, starts = self._encode(self._sentences(corpus, "corpus"), "corpus")
        s = Streams(ids, starts, self.batch_size, self.vocabulary_.bos_id)
        targets = s.targets.reshape(-1)
        weights = None if s.weights is None else s.weights.reshape(-1).copy()
        net = self._new_net(np.float64)
        net.params[:] = self.net_.params
        h0 = np.zeros((s.B, net.Hd))
        nt = _KERNEL_THREADS
        net.loss_grad(s.inputs, targets, s.keep, weights, h0, nt)
        analytic = net.grads.copy()

        def loss():
            return net.loss_grad(s.inputs, targets, s.keep, weights, h0, nt)[0]

        return gradient_check_error(net.params, analytic, loss, eps)
