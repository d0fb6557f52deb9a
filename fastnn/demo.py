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


STEPS = {
    "autograd": ("computation graph (fastnn.autograd)", step_autograd),
    "sms": ("logistic regression on SMS spam", step_sms_spam),
    "digits": ("softmax regression and MLP on digits", step_digits),
}


def plot_curves(curves, path):
    """Draw every recorded training-loss curve (one panel each) into `path`."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("fastnn demo --plot needs matplotlib: pip install matplotlib") from None
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
