"""fastnn.linear_model against scikit-learn: one SGD epoch, and time to the optimum.

    python benchmarks/bench_linear.py [--budget SECONDS] [--quick] [--skip-optimum]

Not a pytest file: the epoch cases run through `_harness.run_case` (interleaved rounds,
every peer timed between two fastnn calls, foreign load filtered); the time-to-optimum
case times one fit per solver (best of `--repeat`).  Prints Markdown tables for
benchmarks/README.md.

Data (generators below, fixed seeds):
- dense: X 100,000 x 300 float64 standard normal; 5 classes, y = argmax(X T + G) with a
  teacher T ~ N(0, 9/300) and Gumbel noise G (so y follows a softmax model of X T).
- sparse: CSR 100,000 x 50,000, 90 non-zeros a row (uniform columns, value 1), binary
  y = [X w / sqrt(90) + logistic noise > 0], w ~ N(0, 1).
Both models use C = 1 (scikit-learn's default; the objective is the mean log-loss plus
||W||^2 / (2 C n)).

Cases
- one epoch: fastnn LogisticRegression(max_iter=1, tol=None) vs
  SGDClassifier(loss='log_loss', max_iter=1, tol=None, alpha=1/(C n)) at 1 and 2 threads
  (SGDClassifier's n_jobs parallelises its one-vs-rest classes).  Targets: dense >= 10x,
  sparse >= 3x.
- time to a training objective within 1 % of the optimum (scikit-learn lbfgs at
  tol=1e-10): fastnn (default schedule) with the fewest max_iter epochs that get there, each scikit-learn
  solver with the largest tol in 1e-2 ... 1e-8 that gets there.  Target >= 3x vs the
  fastest solver.
"""
import argparse
import os
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import fastnn  # noqa: E402,F401 - before other OpenMP users: one runtime
from fastnn.linear_model import LogisticRegression  # noqa: E402
from _harness import Case, Contender, Target, fmt_time, run_case  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402
from sklearn.linear_model import SGDClassifier  # noqa: E402

SGD = "sklearn SGDClassifier"


class _NoBenchmark:
    """Stands in for pytest-benchmark's fixture: run_case then times every round itself."""
    enabled = False

    def __init__(self):
        self.extra_info = {}


def dense_data(n=100_000, F=300, K=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, F))
    T = rng.normal(size=(F, K)) * (3.0 / np.sqrt(F))
    return X, np.argmax(X @ T + rng.gumbel(size=(n, K)), axis=1)


def sparse_data(n=100_000, F=50_000, nnz=90, seed=0):
    rng = np.random.default_rng(seed)
    cols = np.sort(rng.integers(0, F, size=(n, nnz)), axis=1).astype(np.int32)
    X = sp.csr_matrix((np.ones(n * nnz), cols.ravel(), np.arange(0, n * nnz + 1, nnz)),
                      shape=(n, F))
    X.sum_duplicates()
    w = rng.normal(size=F)
    y = (X @ w / np.sqrt(nnz) + rng.logistic(size=n) > 0).astype(np.int64)
    return X, y


def objective(coef, intercept, X, y, C=1.0):
    z = np.asarray(X @ coef.T) + intercept
    if z.shape[1] == 1:
        loss = np.logaddexp(0.0, z[:, 0]) - z[:, 0] * y
    else:
        loss = logsumexp(z, axis=1) - z[np.arange(y.shape[0]), y]
    return float(np.mean(loss) + 0.5 / (C * y.shape[0]) * np.sum(coef ** 2))


def epoch_case(name, X, y, target):
    alpha = 1.0 / X.shape[0]

    def fast_at(t):
        def call():
            LogisticRegression(max_iter=1, tol=None, random_state=0, n_jobs=t).fit(X, y)
        return call

    def sgd_at(t):
        def call():
            SGDClassifier(loss="log_loss", alpha=alpha, max_iter=1, tol=None,
                          random_state=0, n_jobs=t).fit(X, y)
        return call

    peers = [Contender(SGD, t, sgd_at(t), check=False) for t in (1, 2)]
    return Case(name, fast_at, peers, target=Target("speedup", target, (SGD,)),
                note="one epoch, models not compared")


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn()


def time_to_optimum(X, y, repeat):
    """Rows (name, setting, seconds, objective) and the optimum."""
    ref = _quiet(lambda: SkLogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y))
    best = objective(ref.coef_, ref.intercept_, X, y)
    goal = 1.01 * best

    def timed(make):
        times, model = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            model = _quiet(lambda: make().fit(X, y))
            times.append(time.perf_counter() - t0)
        return min(times), objective(model.coef_, model.intercept_, X, y)

    rows = []
    for epochs in range(1, 101):     # default schedule ('adaptive', tol=1e-4), capped
        est = _quiet(lambda: LogisticRegression(max_iter=epochs, random_state=0,
                                                n_jobs=2).fit(X, y))
        if objective(est.coef_, est.intercept_, X, y) <= goal:
            sec, obj = timed(lambda: LogisticRegression(max_iter=epochs, random_state=0,
                                                        n_jobs=2))
            rows.append(("fastnn 2t", f"max_iter={epochs}", sec, obj))
            break
    else:
        rows.append(("fastnn 2t", "not within 1 % in 100 epochs", float("nan"),
                     objective(est.coef_, est.intercept_, X, y)))
    for solver in ("lbfgs", "newton-cg", "newton-cholesky", "sag", "saga"):
        for tol in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8):
            est = _quiet(lambda: SkLogisticRegression(solver=solver, tol=tol,
                                                      max_iter=10_000).fit(X, y))
            if objective(est.coef_, est.intercept_, X, y) <= goal:
                sec, obj = timed(lambda: SkLogisticRegression(solver=solver, tol=tol,
                                                              max_iter=10_000))
                rows.append((f"sklearn {solver}", f"tol={tol:g}", sec, obj))
                break
    return rows, best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=8.0, help="seconds per epoch case (8)")
    ap.add_argument("--quick", action="store_true", help="1 s per case, one repeat")
    ap.add_argument("--repeat", type=int, default=3, help="fits per solver (3)")
    ap.add_argument("--skip-optimum", action="store_true")
    args = ap.parse_args()
    budget = 1.0 if args.quick else args.budget
    Xd, yd = dense_data()
    Xs, ys = sparse_data()
    print("| case | fastnn best (median) | SGDClassifier best (median) | ratio best | "
          "ratio median (paired) | target |")
    print("|---|---|---|---|---|---|")
    for case in (epoch_case("dense 100k x 300, 5 classes, f64", Xd, yd, 10.0),
                 epoch_case("CSR 100k x 50k, 90 nnz/row, binary", Xs, ys, 3.0)):
        res = run_case(_NoBenchmark(), case, budget=budget, min_rounds=3, max_rounds=200,
                       wait_idle=0.0 if args.quick else 5.0)
        rows = {r["name"]: r for r in res["contenders"] if "min" in r}
        fast = min((r for r in rows.values() if r["family"] == "fastnn"),
                   key=lambda r: r["median"])
        peer = rows[[f for f in res["families"] if f["family"] == SGD][0]["best"]]
        t = res["target"]
        print(f"| {case.name} | {fmt_time(fast['min'])} ({fmt_time(fast['median'])}, "
              f"{fast['name']}) | {fmt_time(peer['min'])} ({fmt_time(peer['median'])}, "
              f"{peer['name']}) | {peer['min'] / fast['min']:.2f} | {t['value']:.2f} | "
              f"{t['describe']}: {t['result']} |", flush=True)
    if args.skip_optimum:
        return
    rows, best = time_to_optimum(Xd, yd, 1 if args.quick else args.repeat)
    print(f"\nTime to within 1 % of the optimum ({best:.6f}), dense case:\n")
    print("| solver | setting | best time | objective |")
    print("|---|---|---|---|")
    for name, setting, sec, obj in rows:
        print(f"| {name} | {setting} | {fmt_time(sec)} | {obj:.6f} |", flush=True)


if __name__ == "__main__":
    main()
