"""fastnn.linear_model against scikit-learn: one SGD epoch, and time to the optimum.

    python benchmarks/bench_linear.py [--budget SECONDS] [--quick] [--skip-optimum]
                                      [--json PATH]

Not a pytest file: the epoch cases run through `_harness.run_case` (interleaved rounds,
every peer timed between two fastnn calls, foreign load filtered; 20 s and at least 9
rounds a case, so that the paired median is not that of a handful); the time-to-optimum
case times one fit per solver (best of `--repeat`).  Prints Markdown tables for
benchmarks/README.md; `--json PATH` also writes the rows in the suites' common schema
(benchmarks/_results.py; `python benchmarks/run.py` does that).  `--quick` is a smoke
run: 1 s of rounds a case, one repeat, and a tenth of the rows.

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
  (SGDClassifier's n_jobs parallelises its one-vs-rest classes), each call after a
  0.15 s busy wait (so that no OpenBLAS thread left spinning by the previous call
  competes, and the core does not go idle).
  Targets: dense >= 10x, sparse >= 3x.  The sparse case again with L1
  (fastnn l1_ratio=1, SGDClassifier penalty='l1'), no target.
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
from _results import (make_row, now, rows_from_harness, suite_record,  # noqa: E402
                      write_record)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402
from sklearn.linear_model import SGDClassifier  # noqa: E402

SGD = "sklearn SGDClassifier"
OPTIMUM_TARGET = 3.0


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


def epoch_case(name, X, y, target, l1=False):
    alpha = 1.0 / X.shape[0]

    def fast_at(t):
        def call():
            LogisticRegression(max_iter=1, tol=None, random_state=0, n_jobs=t,
                               l1_ratio=1.0 if l1 else 0.0).fit(X, y)
        return call

    def sgd_at(t):
        def call():
            SGDClassifier(loss="log_loss", alpha=alpha, max_iter=1, tol=None,
                          penalty="l1" if l1 else "l2", random_state=0, n_jobs=t).fit(X, y)
        return call

    peers = [Contender(SGD, t, sgd_at(t), check=False) for t in (1, 2)]
    # gap: SGDClassifier's BLAS calls (dot products of the weights) leave OpenBLAS's
    # worker thread spinning ~0.1 s, taking a core from the next call: fastnn's CSR
    # fit at 2 threads took 60-72 ms right after one, 40-49 ms otherwise (and with
    # OPENBLAS_THREAD_TIMEOUT=4), so every timed call starts 0.15 s after the last one.
    # The gap busy-waits: after a sleep the next short call ran ~10 % slower here.
    return Case(name, fast_at, peers, gap=0.15,
                target=Target("speedup", target, (SGD,)) if target else None,
                gap_busy=True,
                note="one epoch, models not compared; a 0.15 s busy wait before each call")


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


def optimum_rows(rows, best, case):
    """Common-schema rows of the time-to-optimum table: every scikit-learn solver
    against fastnn (best-of times only); the target on the fastest solver."""
    fast = next(sec for name, _, sec, _ in rows if name.startswith("fastnn"))
    solvers = [(n, s, sec) for n, s, sec, _ in rows if not n.startswith("fastnn")]
    fastest = min(solvers, key=lambda x: x[2])[0] if solvers else None
    out = []
    for name, setting, sec in solvers:
        fields = dict(fastnn_threads=2, fastnn_best_s=fast, best_s=sec,
                      ratio_best=sec / fast if fast == fast else None,
                      notes=f"{setting}; best of the repeats, optimum {best:.6f}")
        if name == fastest:
            ratio = fields["ratio_best"]
            fields.update(target=f">= {OPTIMUM_TARGET:g}x vs the fastest solver",
                          target_min=OPTIMUM_TARGET, target_value=ratio,
                          status="n/a" if ratio is None else
                          ("PASS" if ratio >= OPTIMUM_TARGET else "MISS"))
        out.append(make_row("linear", case, name, **fields))
    if not solvers:
        out.append(make_row("linear", case, "scikit-learn", status="skipped",
                            notes="no solver reached the goal"))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=20.0, help="seconds per epoch case (20)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 s per case, one repeat, 10,000 rows")
    ap.add_argument("--repeat", type=int, default=3, help="fits per solver (3)")
    ap.add_argument("--skip-optimum", action="store_true")
    ap.add_argument("--json", default=None, help="also write the common-schema rows here")
    args = ap.parse_args(argv)
    started = now()
    budget = 1.0 if args.quick else args.budget
    n = 10_000 if args.quick else 100_000
    Xd, yd = dense_data(n=n)
    Xs, ys = sparse_data(n=n)
    md, rows = [], []

    def say(line=""):
        print(line, flush=True)
        md.append(line)

    say("| case | fastnn best (median) | SGDClassifier best (median) | ratio best | "
        "ratio median (paired) | target |")
    say("|---|---|---|---|---|---|")
    for case in (epoch_case(f"dense {n // 1000}k x 300, 5 classes, f64", Xd, yd, 10.0),
                 epoch_case(f"CSR {n // 1000}k x 50k, 90 nnz/row, binary", Xs, ys, 3.0),
                 epoch_case(f"CSR {n // 1000}k x 50k, 90 nnz/row, binary, L1", Xs, ys, None,
                            l1=True)):
        res = run_case(_NoBenchmark(), case, budget=budget, min_rounds=3 if args.quick else 9,
                       max_rounds=200, wait_idle=0.0 if args.quick else 5.0)
        rows += rows_from_harness("linear", res)
        by_name = {r["name"]: r for r in res["contenders"] if "min" in r}
        fast = min((r for r in by_name.values() if r["family"] == "fastnn"),
                   key=lambda r: r["median"])
        peer = by_name[[f for f in res["families"] if f["family"] == SGD][0]["best"]]
        t = res.get("target")
        say(f"| {case.name} | {fmt_time(fast['min'])} ({fmt_time(fast['median'])}, "
            f"{fast['name']}) | {fmt_time(peer['min'])} ({fmt_time(peer['median'])}, "
            f"{peer['name']}) | {peer['min'] / fast['min']:.2f} | "
            f"{peer['ratio_paired_median']:.2f} | "
            f"{t['describe'] + ': ' + t['result'] if t else '-'} |")
    if not args.skip_optimum:
        opt, best = time_to_optimum(Xd, yd, 1 if args.quick else args.repeat)
        say(f"\nTime to within 1 % of the optimum ({best:.6f}), dense case:\n")
        say("| solver | setting | best time | objective |")
        say("|---|---|---|---|")
        for name, setting, sec, obj in opt:
            say(f"| {name} | {setting} | {fmt_time(sec)} | {obj:.6f} |")
        rows += optimum_rows(opt, best, f"time to 1 % of the optimum, dense {n // 1000}k")
    if args.json:
        from _env import environment
        cmd = "python benchmarks/bench_linear.py " + " ".join(argv or sys.argv[1:])
        write_record(args.json, suite_record("linear", rows, detail_md="\n".join(md),
                                             env=environment(), quick=args.quick,
                                             command=cmd.strip(), started=started))


if __name__ == "__main__":
    main()
