"""fastnn.autograd against PyTorch's autograd and MLPClassifier's fused step.

    python benchmarks/bench_autograd.py [--budget SECONDS] [--quick] [--json PATH]

Not a pytest file: it runs the cases through `_harness.run_case` (interleaved rounds,
every peer timed between two fastnn calls, foreign load filtered) and prints a
Markdown table of best times and median paired ratios for benchmarks/README.md;
`--json PATH` also writes the rows in the suites' common schema (benchmarks/_results.py).

Cases
- per-operation overhead on small float32 arrays (forward + backward of one op, the
  leaf gradient reset before every call), fastnn.autograd vs torch autograd;
- one SGD training step of the 300-256-10 relu MLP at batch 128 (float32): autograd
  with `ag.linear` (the dense kernel as one node) and with `@` + bias, against
  `nn.FeedForward.loss_grad` + the sgd_update kernel (what MLPClassifier runs per
  batch) and against torch (nn.Linear, F.cross_entropy, torch.optim.SGD).

Threads: fastnn's kernel thread count is set through its context variable (the cheap
part of `fastnn.threads`), BLAS through a threadpoolctl ThreadpoolController, torch by
torch.set_num_threads, all per call.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import fastnn  # noqa: E402,F401 - before torch: one OpenMP runtime
from fastnn import autograd as ag  # noqa: E402
from fastnn._kernels import update as _upd  # noqa: E402
from fastnn._threads import _default_threads  # noqa: E402
from _harness import Case, Contender, Target, fmt_time, run_case  # noqa: E402
from _results import now, rows_from_harness, suite_record, write_record  # noqa: E402

try:
    import torch
    import torch.nn.functional as TF
    TORCH_SKIP = None
except ImportError as exc:
    torch = TF = None
    TORCH_SKIP = "torch not installed" if exc.name == "torch" else f"torch: {exc}"

F32 = np.float32
THREADS = (1, 2)
T_AUTO = "torch autograd"
FUSED = "MLPClassifier fused step"


class _NoBenchmark:
    """Stands in for pytest-benchmark's fixture: run_case then times every round itself."""
    enabled = False

    def __init__(self):
        self.extra_info = {}


def _blas():
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


def fastnn_at(make, limit_blas=True):
    """Case.fastnn: n_threads -> callable running make()'s step at that thread count
    (limit_blas=False leaves BLAS alone: the limit costs ~20 µs, more than a small op)."""
    blas = _blas()

    def at(t):
        fn = make()

        def call():
            token = _default_threads.set(t)
            try:
                if not limit_blas:
                    return fn()
                with blas.limit(limits=t, user_api="blas"):
                    return fn()
            finally:
                _default_threads.reset(token)
        return call
    return at


def torch_peers(make, family=T_AUTO):
    if torch is None:
        return [Contender(family, None, skip=TORCH_SKIP)]

    def at(t):
        fn = make()

        def call():
            torch.set_num_threads(t)
            return fn()
        return call
    return [Contender(family, t, at(t)) for t in THREADS]


# ---------------------------------------------------------------- per-operation overhead

def op_case(name, shape, fast_fn, torch_fn, n_inputs=1, seed=0):
    """One op's forward + backward on small arrays; fast_fn / torch_fn map the leaves
    to a scalar (a sum over the op's output where needed)."""
    r = np.random.default_rng(seed)
    arrays = [r.standard_normal(shape).astype(F32) for _ in range(n_inputs)]

    def make_fast():
        leaves = [ag.Tensor(a.copy(), requires_grad=True) for a in arrays]

        def f():
            for x in leaves:
                x.grad = None
            fast_fn(*leaves).backward()
            return [x.grad for x in leaves]
        return f

    def make_torch():
        leaves = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]

        def f():
            for x in leaves:
                x.grad = None
            torch_fn(*leaves).backward()
            return [x.grad for x in leaves]
        return f

    return Case(f"{name} {'x'.join(map(str, shape))} fwd+bwd",
                fastnn_at(make_fast, limit_blas=False),
                torch_peers(make_torch), rtol=1e-4,
                target=Target("speedup", 1.0, (T_AUTO,)),
                note="per-op overhead: graph recording, backward walk, gradient reset")


def op_cases():
    labels = np.random.default_rng(9).integers(0, 10, 32)
    lt = None if torch is None else torch.from_numpy(labels)
    return [
        op_case("tanh", (32, 32), lambda x: ag.tanh(x).sum(), lambda x: torch.tanh(x).sum()),
        op_case("x*w+b", (32, 32), lambda x, w, b: (x * w + b).sum(),
                lambda x, w, b: (x * w + b).sum(), n_inputs=3),
        op_case("matmul", (32, 32), lambda a, b: (a @ b).sum(), lambda a, b: (a @ b).sum(),
                n_inputs=2),
        op_case("cross_entropy", (32, 10), lambda z: ag.cross_entropy(z, labels),
                lambda z: TF.cross_entropy(z, lt)),
    ]


# ---------------------------------------------------------------- MLP training step

def mlp_data(B=128, sizes=(300, 256, 10), seed=1):
    r = np.random.default_rng(seed)
    X = r.standard_normal((B, sizes[0])).astype(F32)
    y = r.integers(0, sizes[-1], B)
    Ws, bs = [], []
    for n_in, n_out in zip(sizes, sizes[1:]):
        bound = np.sqrt(6.0 / (n_in + n_out))
        Ws.append(r.uniform(-bound, bound, (n_out, n_in)).astype(F32))
        bs.append(np.zeros(n_out, F32))
    return X, y, Ws, bs


def mlp_case(B=128, sizes=(300, 256, 10), lr=0.01, use_linear=True):
    X, y, Ws, bs = mlp_data(B, sizes)

    def make_fast():
        params = [ag.Tensor(a.copy(), requires_grad=True) for pair in zip(Ws, bs)
                  for a in pair]
        try:
            from fastnn.optim import SGD
            opt = SGD(params, lr=lr)
        except ImportError:
            opt = None

        def step():
            W1, b1, W2, b2 = params
            if use_linear:
                z = ag.linear(ag.relu(ag.linear(X, W1, b1)), W2, b2)
            else:
                z = ag.relu(X @ W1.T + b1) @ W2.T + b2
            loss = ag.cross_entropy(z, y)
            loss.backward()
            if opt is not None:
                opt.step()
                opt.zero_grad()
            else:
                nt = _default_threads.get()
                for p in params:
                    _upd.sgd_update(p.data.reshape(-1), p.grad.reshape(-1), None, lr, 0.0,
                                    False, 0.0, nt)
                    p.grad = None
            return loss.item()
        return step

    def make_fused():
        from fastnn.nn import FeedForward
        net = FeedForward(list(sizes), "relu", "softmax", F32)
        net.set_weights([W.T for W in Ws], bs)
        labels = y.astype(np.int32)

        def step():
            nt = _default_threads.get()
            loss = net.loss_grad(X, labels, None, nt)
            _upd.sgd_update(net.params, net.grads, None, lr, 0.0, False, 0.0, nt)
            return loss
        return step

    def make_torch():
        model = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), torch.nn.ReLU(),
                                    torch.nn.Linear(sizes[1], sizes[2]))
        with torch.no_grad():
            for layer, W, b in zip((model[0], model[2]), Ws, bs):
                layer.weight.copy_(torch.from_numpy(W))
                layer.bias.copy_(torch.from_numpy(b))
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

        def step():
            loss = TF.cross_entropy(model(Xt), yt)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss.item()
        return step

    blas = _blas()

    def fused_at(t):
        fn = make_fused()

        def call():
            token = _default_threads.set(t)
            try:
                with blas.limit(limits=t, user_api="blas"):
                    return fn()
            finally:
                _default_threads.reset(token)
        return call

    how = "ag.linear" if use_linear else "@ + bias"
    peers = [Contender(FUSED, t, fused_at(t), check=False) for t in THREADS]
    peers += [Contender(c.family, c.threads, c.fn, skip=c.skip, check=False)
              for c in torch_peers(make_torch)]
    return Case(f"MLP {'-'.join(map(str, sizes))} SGD step, batch {B}, autograd ({how})",
                fastnn_at(make_fast), peers, target=Target("speedup", 1.0, (T_AUTO,)),
                note="forward, cross-entropy, backward, SGD update; MLPClassifier's "
                     "fused step = nn.FeedForward.loss_grad + sgd_update kernel")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=3.0, help="seconds per case (3)")
    ap.add_argument("--quick", action="store_true", help="0.3 s per case")
    ap.add_argument("--json", default=None, help="also write the common-schema rows here")
    args = ap.parse_args(argv)
    started = now()
    budget = 0.3 if args.quick else args.budget
    cases = op_cases() + [mlp_case(use_linear=True), mlp_case(use_linear=False)]
    md, rows = [], []

    def say(line):
        print(line, flush=True)
        md.append(line)

    say("| case | fastnn.autograd best (median) | peer best (median) | peer / fastnn, "
        "best | median |")
    say("|---|---|---|---|---|")
    for case in cases:
        res = run_case(_NoBenchmark(), case, budget=budget, min_rounds=5, max_rounds=2000,
                       wait_idle=0.0 if args.quick else 5.0)
        rows += rows_from_harness("autograd", res)
        by_name = {r["name"]: r for r in res["contenders"] if "min" in r}
        fast = min((r for r in by_name.values() if r["family"] == "fastnn"),
                   key=lambda r: r["median"])
        for fam in res["families"]:
            if fam["family"] == "fastnn" or "best" not in fam:
                continue
            peer = by_name[fam["best"]]
            say(f"| {case.name} | {fmt_time(fast['min'])} ({fmt_time(fast['median'])}, "
                f"{fast['name']}) | {fmt_time(peer['min'])} ({fmt_time(peer['median'])}, "
                f"{peer['name']}) | {peer['min'] / fast['min']:.2f} | "
                f"{peer['median'] / fast['median']:.2f} |")
    if args.json:
        from _env import environment
        cmd = "python benchmarks/bench_autograd.py " + " ".join(argv or sys.argv[1:])
        write_record(args.json, suite_record("autograd", rows, detail_md="\n".join(md),
                                             env=environment(), quick=args.quick,
                                             command=cmd.strip(), started=started))


if __name__ == "__main__":
    main()
