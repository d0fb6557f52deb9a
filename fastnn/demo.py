"""`fastnn demo`: every model of the package on the data it embeds, with honest numbers.

Each step trains on real data (no network needed), prints its quality and its time and
records its training-loss curve; `--quick` shrinks every step to about a minute in all,
`--plot out.png` draws the loss curves (needs matplotlib).
"""
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

# name -> loss curve (one value per epoch) of every model the demo trained
Curves = dict


def _timed(label, run):
    start = time.perf_counter()
    with warnings.catch_warnings():
        # the demo picks its epoch budgets on purpose: no "did not converge" noise
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = run()
    print(f"  {label:50s} {time.perf_counter() - start:7.2f} s")
    return result


def step_autograd(quick, curves):
    """The lecture's computation graph L = c (a + 2b) at a = 3, b = 1, c = -2."""
    from fastnn.autograd import Tensor

    a, b, c = (Tensor(np.float64(v), requires_grad=True, name=n)
               for v, n in ((3, "a"), (1, "b"), (-2, "c")))
    d = 2 * b
    e = a + d
    L = c * e
    L.backward()
    print(f"  forward:  d = 2b = {d.item():g}, e = a + d = {e.item():g}, L = c e = {L.item():g}")
    print(f"  backward: dL/da = {a.grad.item():g}, dL/db = {b.grad.item():g}, "
          f"dL/dc = {c.grad.item():g}")


def step_sms_spam(quick, curves):
    """Binary logistic regression on the SMS Spam Collection (bag of words, CSR)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    from sklearn.model_selection import train_test_split

    from fastnn import LogisticRegression
    from fastnn.datasets import load_sms_spam

    texts, y = load_sms_spam(return_X_y=True)
    t_train, t_test, y_train, y_test = train_test_split(texts, y, test_size=0.25,
                                                        random_state=0, stratify=y)
    vectorizer = CountVectorizer()
    X_train, X_test = vectorizer.fit_transform(t_train), vectorizer.transform(t_test)
    print(f"  {X_train.shape[0]} train / {X_test.shape[0]} test messages, "
          f"{X_train.shape[1]} words (sparse CSR)")
    model = _timed("fastnn.LogisticRegression fit",
                   lambda: LogisticRegression(max_iter=10 if quick else 30, random_state=0,
                                              verbose=1).fit(X_train, y_train))
    peer = _timed("scikit-learn LogisticRegression fit",
                  lambda: SkLogisticRegression(max_iter=1000).fit(X_train, y_train))
    curves["LogisticRegression (SMS)"] = model.loss_curve_
    print(f"  test accuracy: fastnn {model.score(X_test, y_test):.4f}, "
          f"scikit-learn {peer.score(X_test, y_test):.4f}")


def step_digits(quick, curves):
    """Softmax regression and a feed-forward network on scikit-learn's digits."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from fastnn import MLPClassifier, SoftmaxRegression

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    epochs = 20 if quick else 100
    softmax = _timed("fastnn.SoftmaxRegression fit",
                     lambda: SoftmaxRegression(max_iter=epochs, random_state=0,
                                               verbose=1).fit(X_train, y_train))
    mlp = _timed("fastnn.MLPClassifier (64-128-10, relu, adam) fit",
                 lambda: MLPClassifier(hidden_layer_sizes=(128,), max_iter=epochs,
                                       random_state=0, verbose=True).fit(X_train, y_train))
    curves["SoftmaxRegression (digits)"] = softmax.loss_curve_
    curves["MLPClassifier (digits)"] = mlp.loss_curve_
    print(f"  test accuracy: softmax regression {softmax.score(X_test, y_test):.4f}, "
          f"MLP {mlp.score(X_test, y_test):.4f}")


def _bible_sentences():
    """Every line of the embedded WEB Bible text, tokenised (lower-case, punctuation split)."""
    from fastnn.datasets import load_web_bible
    from fastnn.text import tokenize

    text = load_web_bible()
    return [tokenize(line) for part in (text.train, text.validation, text.test)
            for line in part]


def step_word2vec(quick, curves):
    """Skip-gram with negative sampling on the WEB Bible: neighbours and analogies."""
    from fastnn import Word2Vec
    from fastnn._threads import resolve_threads
    from fastnn.datasets import questions_words_path

    sentences = _bible_sentences()
    tokens = sum(map(len, sentences))
    epochs = 2 if quick else 5
    model = _timed(f"fastnn.Word2Vec skip-gram, {tokens:,} tokens x {epochs} epochs",
                   lambda: Word2Vec(sentences, vector_size=100, window=5, min_count=5, sg=1,
                                    epochs=epochs, seed=1, workers=resolve_threads(None),
                                    verbose=True))
    curves["Word2Vec skip-gram (WEB Bible)"] = model.loss_curve_ / tokens
    for word in ("god", "king", "water", "son", "jerusalem"):
        near = ", ".join(w for w, _ in model.wv.most_similar(word, topn=6))
        print(f"  nearest to {word!r}: {near}")
    score, sections = model.wv.evaluate_word_analogies(questions_words_path())
    asked = sum(len(s["correct"]) + len(s["incorrect"]) for s in sections[-1:])
    print(f"  analogies (Google's questions-words): {100 * score:.1f}% of the {asked} "
          f"questions whose words are all in the vocabulary")


def step_language_models(quick, curves):
    """Kneser-Ney trigram vs the neural LMs on the WEB Bible's fixed split."""
    from fastnn import lm
    from fastnn.datasets import load_web_bible

    text = load_web_bible()
    train = text.train[:8000] if quick else text.train
    vocab = dict(min_count=2, max_vocab_size=3000 if quick else 5000)
    prompt = "in the beginning"
    print(f"  {len(train)} training lines, validation {len(text.validation)}, "
          f"test {len(text.test)} lines; at most {vocab['max_vocab_size']} words")
    models = {"Kneser-Ney trigram (NGramLM)": lm.NGramLM(order=3, **vocab)}
    epochs = 1 if quick else 3
    neural = {"FeedForwardLM (context 3, tanh)": (lm.FeedForwardLM, dict(
        context_size=3, embedding_dim=64, hidden_sizes=(128,), epochs=epochs))}
    neural["RNNLM (Elman, tanh)"] = (lm.RNNLM, dict(embedding_dim=64, hidden_size=128,
                                                   epochs=epochs))
    for name, (Model, params) in neural.items():
        models[name] = Model(**params, **vocab, random_state=0, verbose=True)
    for name, model in models.items():
        if isinstance(model, lm.NGramLM):
            _timed(f"{name} fit", lambda: model.fit(train))
        else:
            _timed(f"{name} fit, {model.epochs} epoch(s)",
                   lambda: model.fit(train, validation=text.validation))
            curves[f"{name.split(' ')[0]} (WEB Bible)"] = model.loss_curve_
    for name, model in models.items():
        sample = model.generate(prompt, max_tokens=15, seed=0)
        print(f"  {name:34s} test perplexity {model.perplexity(text.test):8.2f}   "
              f"'{prompt} {sample}'")


STEPS = {
    "autograd": ("computation graph (fastnn.autograd)", step_autograd),
    "sms": ("logistic regression on SMS spam", step_sms_spam),
    "digits": ("softmax regression and MLP on digits", step_digits),
    "word2vec": ("word2vec on the WEB Bible", step_word2vec),
    "lm": ("language models on the WEB Bible: Kneser-Ney and neural", step_language_models),
}


def plot_curves(curves, path):
    """Draw every recorded training-loss curve (one panel each) into `path`."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("fastnn demo --plot needs matplotlib: pip install 'fastnn[plot]' "
                         "(or matplotlib)") from None
    fig, axes = plt.subplots(1, len(curves), figsize=(4 * len(curves), 3.2), squeeze=False)
    for ax, (name, curve) in zip(axes[0], curves.items()):
        ax.plot(np.arange(1, len(curve) + 1), curve, marker=".")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"loss curves written to {path}")


def run(steps=None, quick=False, plot=None):
    """Run the named demo steps (all by default); returns the recorded loss curves."""
    names = list(STEPS) if not steps else steps
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        raise ValueError(f"unknown demo step(s) {unknown}; choose from {list(STEPS)}")
    curves = Curves()
    total = time.perf_counter()
    for i, name in enumerate(names, 1):
        title, step = STEPS[name]
        print(f"\n[{i}/{len(names)}] {title}")
        step(quick, curves)
    print(f"\ndemo finished in {time.perf_counter() - total:.1f} s")
    if plot:
        plot_curves(curves, plot)
    return curves
