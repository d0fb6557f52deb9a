"""One training epoch of a Linear-ReLU-Linear softmax classifier, plain SGD, float32:
fastnn's MLPClassifier against PyTorch, scikit-learn's MLPClassifier and a hand-written
NumPy + BLAS loop of the same network (the GEMM-bound limit a Python user could write).

Timed with the suite's interleaved harness (_harness.run_case).  The file name does not
match pytest's default pattern, so name it on the command line::

    python -m pytest benchmarks/bench_mlp.py -p no:cacheprovider --benchmark-disable-gc \
        --benchmark-json benchmarks/results/mlp.json --bench-label mlp -s

`--bench-quick` (what `python benchmarks/run.py --quick` passes) trains on a tenth of
the rows: a smoke run.

Every contender trains its own network from its own initialisation, so outputs are not
compared (check=False); what is compared is the time of one epoch, shuffling included.
fastnn runs `partial_fit` (one epoch through the public API: input validation included,
which the hand loop and PyTorch skip).  Peers run at 1 and 2 threads and are reported at
their faster count.
"""
import warnings

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController

from _harness import Case, Contender, Target, run_case, summary_line
from fastnn.neural_network import MLPClassifier

try:
    import torch
except ImportError:                       # reported by name, never faked
    torch = None

THREADS = (1, 2)
LR = 0.01
_blas = ThreadpoolController()


def _data(N, D, K, seed=0):
    r = np.random.default_rng(seed)
    centers = r.standard_normal((K, D), dtype=np.float32)
    y = r.integers(0, K, N)
    X = centers[y] + r.standard_normal((N, D), dtype=np.float32)
    return X, y


def _fastnn(X, y, H, B):
    classes = np.unique(y)

    def at(t):
        est = MLPClassifier((H,), solver="sgd", momentum=0.0, alpha=0.0,
                            learning_rate_init=LR, batch_size=B, random_state=0, n_jobs=t)

        def epoch():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.partial_fit(X, y, classes=classes)
        return epoch
    return at


def _numpy_loop(X, y, H, K, B, t):
    """Mini-batch SGD written by hand with NumPy: GEMMs into preallocated outputs,
    elementwise work in place."""
    r = np.random.default_rng(1)
    N, D = X.shape
    W1 = (r.standard_normal((D, H)) * np.sqrt(2 / D)).astype(np.float32)
    b1 = np.zeros(H, np.float32)
    W2 = (r.standard_normal((H, K)) * np.sqrt(2 / H)).astype(np.float32)
    b2 = np.zeros(K, np.float32)
    h, z = np.empty((B, H), np.float32), np.empty((B, K), np.float32)
    gW1, gW2 = np.empty_like(W1), np.empty_like(W2)
    dh = np.empty((B, H), np.float32)
    rows = np.arange(B)

    def epoch():
        with _blas.limit(limits=t, user_api="blas"):
            order = r.permutation(N)
            for s in range(0, N, B):
                idx = order[s:s + B]
                n = len(idx)
                xb, yb = X[idx], y[idx]
                hb, zb, dhb = h[:n], z[:n], dh[:n]
                np.matmul(xb, W1, out=hb)
                hb += b1
                np.maximum(hb, 0, out=hb)
                np.matmul(hb, W2, out=zb)
                zb += b2
                zb -= zb.max(axis=1, keepdims=True)
                np.exp(zb, out=zb)
                zb /= zb.sum(axis=1, keepdims=True)
                zb[rows[:n], yb] -= 1
                zb /= n
                np.matmul(hb.T, zb, out=gW2)
                gb2 = zb.sum(axis=0)
                np.matmul(zb, W2.T, out=dhb)
                dhb *= hb > 0
                np.matmul(xb.T, dhb, out=gW1)
                gb1 = dhb.sum(axis=0)
                for param, grad in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
                    param -= LR * grad
    return epoch


def _torch_loop(X, y, H, K, B, t):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], H), torch.nn.ReLU(),
                                torch.nn.Linear(H, K))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

    def epoch():
        torch.set_num_threads(t)
        order = torch.randperm(Xt.shape[0])
        for s in range(0, Xt.shape[0], B):
            idx = order[s:s + B]
            opt.zero_grad()
            loss_fn(model(Xt[idx]), yt[idx]).backward()
            opt.step()
    return epoch


def _sklearn(X, y, H, B, t):
    from sklearn.neural_network import MLPClassifier as SkMLP
    est = SkMLP((H,), solver="sgd", momentum=0.0, alpha=0.0, learning_rate_init=LR,
                batch_size=B, random_state=0)
    classes = np.unique(y)

    def epoch():
        with _blas.limit(limits=t, user_api="blas"):
            est.partial_fit(X, y, classes=classes)
    return epoch


def mlp_case(name, N, D, H, K, B, target, quick=False):
    """One epoch of the (D, H, K) network on N rows, batch B (N / 10 when quick)."""
    if quick:
        N = max(N // 10, 2 * B)
    X, y = _data(N, D, K)
    peers = [Contender("numpy hand loop", t, _numpy_loop(X, y, H, K, B, t), check=False)
             for t in THREADS]
    if torch is None:
        peers.append(Contender("torch", None, skip="torch not installed"))
    else:
        peers += [Contender("torch", t, _torch_loop(X, y, H, K, B, t), check=False)
                  for t in THREADS]
    peers += [Contender("scikit-learn", t, _sklearn(X, y, H, B, t), check=False)
              for t in THREADS]
    flops = 3 * 2 * N * H * (D + K)            # forward + two backward GEMMs per layer
    return Case(f"MLP epoch {name}: N={N} in={D} hidden={H} K={K} batch={B}",
                _fastnn(X, y, H, B), peers, flops=flops, target=target, gap=0.15,
                note="one epoch of plain mini-batch SGD, float32, shuffled; fastnn via "
                     "partial_fit (validation included); no output check (each "
                     "contender trains its own initialisation)")


CASES = {
    "main": lambda q: mlp_case("main", 100_000, 300, 256, 10, 128,
                               Target("speedup", 2.0, ("torch",)), q),
    "main-vs-numpy": lambda q: mlp_case("main", 100_000, 300, 256, 10, 128,
                                        Target("speedup", 1.0, ("numpy hand loop",)), q),
    "small": lambda q: mlp_case("small", 20_000, 50, 32, 10, 32,
                                Target("speedup", 5.0, ("torch",)), q),
    "large": lambda q: mlp_case("large", 4096, 1024, 1024, 10, 256,
                                Target("speedup", 0.95, ("numpy hand loop",)), q),
}


@pytest.mark.parametrize("case_id", list(CASES))
def test_mlp_epoch(case_id, benchmark, bench_opts, bench_quick):
    case = CASES[case_id](bench_quick)
    benchmark.group = case.name
    benchmark.name = f"mlp-{case_id} [fastnn 2t]"
    res = run_case(benchmark, case, **bench_opts)
    print("\n" + summary_line(case, res))
