"""What every neural language model in fastnn shares (FeedForwardLM, and the RNN LM).

A model subclasses `NeuralLM` and supplies three methods:

- ``_target_log_probs(ids, starts)``: the natural-log probability of every token of an
  encoded corpus (`fastnn.text.encode_corpus` output) given its history, float64 (N,);
- ``_next_distribution(history)``: the next-token probabilities (V,) float64 after the
  ids ``history`` of the current sentence (``<s>`` excluded, possibly empty);
- ``_new_net(dtype=None)``: an untrained network of the fitted settings, its weights in
  one flat ``params`` buffer (from which `save` / `load` work);

and, to train with `_train`, ``_log_probs_of(net, ids, starts)`` (the target
log-probabilities under a network being trained) and ``_publish(net)`` (make the trained
network the fitted model).

From these `NeuralLM` gives corpus -> vocabulary fitting and encoding, `perplexity`,
`log_prob`, `predict_next`, `generate`, `save` / `load`, the epoch loop with its
learning-rate schedules, validation, early stopping and divergence check
(`run_epochs`), and a tqdm progress bar.

Conventions (every LM in fastnn): a corpus is a path to a UTF-8 file with one sentence a
line, or an iterable of sentences (each a string or a list of tokens); words outside the
vocabulary become ``<unk>``; the perplexity is the exponential of the mean natural-log
loss over every predicted token: each sentence's words and its ``</s>``, not ``<s>``, with
``<unk>`` targets counted.
"""
import math
import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import Interval, StrOptions

from fastnn._threads import _blas_controller
from fastnn.io import load_arrays, save_arrays
from fastnn.text import Vocabulary, encode_corpus, iter_sentences, tokenize

_DIVERGED = ("training diverged: the loss or the weights became NaN or infinite; the "
             "learning rate is probably too large: try a smaller learning_rate")

# constraints shared by the neural LMs (scikit-learn's parameter validation)
COMMON_CONSTRAINTS = {
    "min_count": [Interval(Integral, 1, None, closed="left")],
    "max_vocab_size": [None, Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "lr_schedule": [StrOptions({"constant", "linear", "plateau"})],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "random_state": [None, Interval(Integral, 0, None, closed="left")],
    "n_jobs": [None, Integral],
    "dtype": "no_validation",          # checked by float_dtype
    "verbose": ["verbose"],
    "lowercase": ["boolean"],
}



class LRSchedule:
    """The learning rate of each epoch.

    'constant': `lr` throughout; 'linear': from `lr` in the first epoch down to
    lr / epochs in the last (a straight line reaching zero one epoch after the end);
    'plateau': `lr`, halved after every epoch whose monitored value (validation
    perplexity, else the training loss) did not improve on the best so far.
    """

    def __init__(self, kind, lr, epochs):
        self.kind, self.lr0, self.epochs = kind, float(lr), int(epochs)
        self.lr, self.best = float(lr), math.inf

    def start_epoch(self, epoch):
        """The rate for epoch number `epoch` (from 0)."""
        if self.kind == "linear":
            self.lr = self.lr0 * (self.epochs - epoch) / self.epochs
        return self.lr

    def end_epoch(self, monitored):
        """Record the epoch's monitored value (lower is better)."""
        if self.kind == "plateau" and not monitored < self.best:
            self.lr *= 0.5
        self.best = min(self.best, monitored)


def progress_bar(verbose, total, desc):
    """A tqdm bar over `total` tokens on stderr when verbose, else None."""
    if not verbose:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="tok", unit_scale=True, leave=False)


def _tokens_of(text, lowercase, name):
    """A string (split by fastnn.text.tokenize, lower-cased when `lowercase`) or a list
    of str tokens (used as it is, as `iter_sentences` does) -> list of str."""
    if isinstance(text, str):
        return tokenize(text, lowercase=lowercase)
    if isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
        return list(text)           # token lists are used as they are (iter_sentences)
    raise TypeError(f"{name} must be a string or a list of str tokens, "
                    f"got {type(text).__name__}")


class NeuralLM(BaseEstimator):
    """Base class of fastnn's neural language models (see the module docstring).

    Subclasses set `_FITTED` (the attributes only a fitted model has), store the
    settings below as attributes (sklearn style) and use `run_epochs` in fit:
    lowercase, min_count, max_vocab_size, learning_rate, lr_schedule, epochs,
    early_stopping, patience, verbose.
    """

    # ------------------------------------------------------------ corpus handling
    def _sentences(self, corpus, name):
        """The corpus as a list of token lists (read once)."""
        if corpus is None:
            raise ValueError(f"{name} is None; give a path or an iterable of sentences")
        return list(iter_sentences(corpus, lowercase=self.lowercase))

    def _fit_vocabulary(self, sentences):
        """vocabulary_ from the training sentences (min_count, max_vocab_size)."""
        vocab = Vocabulary(min_count=self.min_count, max_size=self.max_vocab_size)
        self.vocabulary_ = vocab.fit(sentences) or vocab
        return self.vocabulary_

    def _encode(self, sentences, name):
        """(ids int32 (N,), starts int64 (S,)) of token lists; ValueError if no token
        would be predicted (no sentence at all)."""
        ids, starts = encode_corpus(self.vocabulary_, sentences)
        if ids.shape[0] == 0:
            raise ValueError(f"{name} is empty: it holds no token to predict")
        return (np.ascontiguousarray(ids, dtype=np.int32),
                np.ascontiguousarray(starts, dtype=np.int64))

    def _fit_data(self, corpus, validation):
        """The start of every fit: forget the last one, learn the vocabulary of corpus
        and encode it.  Returns (vocabulary, ids, starts, validation's (ids, starts) or
        None)."""
        if self.early_stopping and validation is None:
            raise ValueError("early_stopping=True needs a validation corpus: "
                             "fit(corpus, validation=...)")
        for name in ("vocabulary_", "loss_curve_", "n_epochs_", "net_"):
            self.__dict__.pop(name, None)
        sentences = self._sentences(corpus, "corpus")
        vocab = self._fit_vocabulary(sentences)
        ids, starts = self._encode(sentences, "corpus")
        del sentences
        val = None
        if validation is not None:
            val = self._encode(self._sentences(validation, "validation"), "validation")
        return vocab, ids, starts, val

    _FITTED = ("vocabulary_", "n_epochs_")     # attributes a fitted model has

    def _check_fitted(self):
        if not all(hasattr(self, name) for name in self._FITTED):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. "
                                 "Call 'fit' with a training corpus first.")

    # ------------------------------------------------------------ scoring
    def perplexity(self, corpus):
        """exp of the mean natural-log loss over every predicted token of `corpus`
        (each sentence's words and its </s>; unknown words count as <unk>)."""
        self._check_fitted()
        ids, starts = self._encode(self._sentences(corpus, "corpus"), "corpus")
        logp = self._target_log_probs(ids, starts)
        return float(np.exp(-np.mean(logp, dtype=np.float64)))

    def log_prob(self, sentence):
        """Natural-log probability of one sentence (a string or a list of tokens):
        the sum over its words and the closing </s>, each given its history."""
        self._check_fitted()
        tokens = _tokens_of(sentence, self.lowercase, "sentence")
        ids, starts = self._encode([tokens], "sentence")
        return float(np.sum(self._target_log_probs(ids, starts), dtype=np.float64))

    # ------------------------------------------------------------ prediction
    def _history(self, context, name):
        """Ids of a context string / token list; unknown words become <unk>."""
        tokens = _tokens_of(context, self.lowercase, name)
        if not tokens:
            return np.zeros(0, dtype=np.int32)
        return np.asarray(self.vocabulary_.encode(tokens), dtype=np.int32)

    def predict_next(self, context, top_k=10):
        """The `top_k` most probable next words after `context` (a string or a list of
        tokens, read as the start of a sentence; "" = the sentence start), as a list of
        (word, probability), most probable first.  Unknown context words are read as
        <unk>, so a context of only unknown words is valid; '</s>' and '<unk>' may be
        among the words returned."""
        self._check_fitted()
        top_k = _positive_int(top_k, "top_k")
        p = self._next_distribution(self._history(context, "context"))
        p[self.vocabulary_.bos_id] = 0.0            # never a target
        k = min(top_k, p.shape[0] - 1)
        best = np.argpartition(-p, k - 1)[:k]
        best = best[np.argsort(-p[best], kind="stable")]
        itos = self.vocabulary_.itos
        return [(itos[i], float(p[i])) for i in best]

    def generate(self, prompt="", max_tokens=50, temperature=1.0, top_k=None, seed=None):
        """Sample a continuation of `prompt` (a string or list of tokens, read as the
        start of a sentence; unknown words become <unk>), one word at a time, until
        '</s>' or `max_tokens` words.  Returns the generated words (not the prompt)
        joined by spaces; '</s>' is not included, '<unk>' may be.

        temperature > 0 divides the log-probabilities (lower: more conservative);
        top_k samples among the k most probable words only; seed (int or None) makes
        the output reproducible."""
        self._check_fitted()
        max_tokens = _positive_int(max_tokens, "max_tokens", low=0)
        if isinstance(temperature, bool) or not isinstance(temperature, Real) or \
                not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
        if top_k is not None:
            top_k = _positive_int(top_k, "top_k")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, Integral)):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
        rng = np.random.default_rng(seed)
        vocab = self.vocabulary_
        history = list(self._history(prompt, "prompt"))
        words = []
        for _ in range(max_tokens):
            p = self._next_distribution(np.asarray(history, dtype=np.int32))
            p[vocab.bos_id] = 0.0
            with np.errstate(divide="ignore"):
                logits = np.log(p) / float(temperature)
            if top_k is not None and top_k < logits.shape[0]:
                cut = np.partition(logits, -top_k)[-top_k]
                logits[logits < cut] = -np.inf
            logits -= logits.max()
            q = np.exp(logits)
            q /= q.sum()
            nxt = int(rng.choice(q.shape[0], p=q))
            if nxt == vocab.eos_id:
                break
            history.append(nxt)
            words.append(vocab.itos[nxt])
        return " ".join(words)

    # ------------------------------------------------------------ training loop
    def _train(self, net, epoch, validation_ids, n_train, n_threads):
        """`run_epochs` over `net` (its flat `params`) with BLAS at `n_threads`: the
        validation perplexity of the encoded (ids, starts) after each epoch, the best
        epoch's weights restored when early stopping, a divergence check, then the
        weights published (`_publish`)."""
        def validate():
            if validation_ids is None:
                return None
            return float(np.exp(-np.mean(self._log_probs_of(net, *validation_ids))))

        def restore(params):
            net.params[:] = params

        with _blas_controller().limit(limits=n_threads, user_api="blas"):
            self.run_epochs(epoch, validate, net.params.copy, restore, n_train,
                            type(self).__name__)
        if not np.isfinite(net.params).all():
            raise FloatingPointError("training diverged: non-finite weights; try a "
                                     "smaller learning_rate")
        self._publish(net)

    def _state_arrays(self):
        return {"params": self.net_.params}

    def _set_state(self, arrays, meta):
        net = self._new_net()
        params = arrays["params"]
        if params.shape != net.params.shape or params.dtype != net.params.dtype:
            raise ValueError(f"the saved parameters ({params.shape}, {params.dtype}) do not "
                             f"fit the saved settings ({net.params.shape}, "
                             f"{net.params.dtype})")
        net.params[:] = params
        self._publish(net)

    def run_epochs(self, epoch, validate, snapshot, restore, n_train, desc):
        """The epoch loop shared by the neural LMs.

        epoch(lr, bar) -> mean training loss of one shuffled pass (bar: tqdm or None,
        to update with tokens); validate() -> validation perplexity, or None without a
        validation corpus; snapshot() -> a copy of the weights; restore(copy).
        Fills loss_curve_, validation_perplexity_curve_, n_epochs_, learning_rates_;
        applies the schedule, early stopping (best weights restored) and raises
        FloatingPointError naming the learning rate when training diverges.
        """
        schedule = LRSchedule(self.lr_schedule, self.learning_rate, self.epochs)
        self.loss_curve_, self.validation_perplexity_curve_ = [], []
        self.learning_rates_ = []
        best, best_weights, waited = math.inf, None, 0
        bar = progress_bar(self.verbose, n_train * self.epochs, desc)
        try:
            for e in range(self.epochs):
                lr = schedule.start_epoch(e)
                t0 = time.perf_counter()
                loss = float(epoch(lr, bar))
                if not math.isfinite(loss):
                    raise FloatingPointError(_DIVERGED + f" (learning_rate={lr:g})")
                self.loss_curve_.append(loss)
                self.learning_rates_.append(lr)
                val = validate()
                monitored = loss if val is None else val
                if val is not None:
                    self.validation_perplexity_curve_.append(float(val))
                if bar is not None:
                    post = {"loss": f"{loss:.4f}",
                            "tok/s": f"{n_train / (time.perf_counter() - t0):.4g}"}
                    if val is not None:
                        post["val_ppl"] = f"{val:.2f}"
                    bar.set_postfix(post)
                schedule.end_epoch(monitored)
                if self.early_stopping:
                    if monitored < best:
                        best, best_weights, waited = monitored, snapshot(), 0
                    else:
                        waited += 1
                        if waited >= self.patience:
                            break
        finally:
            if bar is not None:
                bar.close()
        self.n_epochs_ = len(self.loss_curve_)
        if self.early_stopping and best_weights is not None:
            restore(best_weights)
        self.loss_curve_ = np.asarray(self.loss_curve_, dtype=np.float64)
        self.validation_perplexity_curve_ = np.asarray(self.validation_perplexity_curve_,
                                                       dtype=np.float64)
        self.learning_rates_ = np.asarray(self.learning_rates_, dtype=np.float64)

    # ------------------------------------------------------------ persistence
    def _params_meta(self):
        """get_params() as JSON: dtype by name, tuples as lists."""
        out = {}
        for k, v in self.get_params().items():
            if k == "dtype":
                v = np.dtype(v).name
            elif isinstance(v, tuple):
                v = list(v)
            elif isinstance(v, np.integer):
                v = int(v)
            out[k] = v
        return out

    def save(self, path):
        """Write the fitted model to `path` (.npz with JSON metadata, no pickle; the
        file is replaced atomically).  Load it back with `load`."""
        self._check_fitted()
        arrays = dict(self._state_arrays())
        arrays["loss_curve_"] = self.loss_curve_
        arrays["validation_perplexity_curve_"] = self.validation_perplexity_curve_
        arrays["learning_rates_"] = self.learning_rates_
        meta = {"params": self._params_meta(), "vocabulary": self.vocabulary_.to_meta(),
                "n_epochs_": int(self.n_epochs_)}
        save_arrays(path, type(self).__name__, arrays, meta)

    @classmethod
    def load(cls, path):
        """A model saved by `save` (ValueError for a file of another kind)."""
        arrays, meta = load_arrays(path, cls.__name__)
        try:
            params = dict(meta["params"])
            if "hidden_sizes" in params and isinstance(params["hidden_sizes"], list):
                params["hidden_sizes"] = tuple(params["hidden_sizes"])
            params["dtype"] = np.dtype(params["dtype"]).type
            est = cls(**params)
            est.vocabulary_ = Vocabulary.from_meta(meta["vocabulary"])
            est.n_epochs_ = int(meta["n_epochs_"])
            est.loss_curve_ = np.asarray(arrays.pop("loss_curve_"), dtype=np.float64)
            est.validation_perplexity_curve_ = np.asarray(
                arrays.pop("validation_perplexity_curve_"), dtype=np.float64)
            est.learning_rates_ = np.asarray(arrays.pop("learning_rates_"), np.float64)
            est._set_state(arrays, meta)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path!r} is not a complete {cls.__name__} file: "
                             f"missing or bad entry {exc}") from None
        return est


def _positive_int(x, name, low=1):
    """x as an int >= low (TypeError for non-integers, ValueError below low)."""
    if isinstance(x, bool) or not isinstance(x, Integral):
        raise TypeError(f"{name} must be an int, got {type(x).__name__}")
    if x < low:
        raise ValueError(f"{name} must be >= {low}, got {x}")
    return int(x)


def next_token_probabilities(logits):
    """Softmax of one row of logits, in float64."""
    logits = np.asarray(logits, dtype=np.float64) - np.max(logits)
    p = np.exp(logits)
    return p / p.sum()


def gradient_check_error(params, analytic, loss, eps):
    """max |analytic - numeric| / max(max |numeric|, 1e-8), numeric the central
    differences of loss() as each entry of the flat buffer `params` moves by +-eps."""
    numeric = np.empty_like(analytic)
    for j in range(params.shape[0]):
        keep = params[j]
        params[j] = keep + eps
        up = loss()
        params[j] = keep - eps
        down = loss()
        params[j] = keep
        numeric[j] = (up - down) / (2 * eps)
    return float(np.max(np.abs(analytic - numeric)) / max(np.max(np.abs(numeric)), 1e-8))
