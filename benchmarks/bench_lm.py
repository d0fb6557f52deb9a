"""FeedForwardLM (issue 6): training speed against PyTorch and a NumPy + BLAS loop, and
quality on the full WEB Bible against the Kneser-Ney trigram and the same model in
PyTorch.  A script::

    python benchmarks/bench_lm.py [--rounds 7] [--batches 20] [--epochs 2] [--skip-quality]
                                  [--json PATH]

Speed: the model of the issue (V = 10,000 via max_vocab_size, context 3, embedding 64,
hidden 256 tanh, batch 256, plain SGD, float32) trains on the same WEB Bible window
batches in every contender; one call = `--batches` SGD steps.  fastnn runs the loop
`FeedForwardLM.fit` runs (FFNet.sgd_step, BLAS at 2 threads); PyTorch (nn.Embedding,
Linear, Tanh, Linear, CrossEntropyLoss, torch.optim.SGD) at 1 and 2 threads, reported at
its faster count; the NumPy loop at 2 BLAS threads.  Calls are interleaved A B C A B C
(reversed every other round); reported: best-of times, tokens/s and the median of the
per-round ratios peer time / fastnn time (> 1: fastnn faster).

Quality: FeedForwardLM (defaults, max_vocab_size 10,000, `--epochs`) on the train split,
test perplexity; NGramLM(order=3) with the same vocabulary settings; and the same model
in PyTorch from the same initial weights, the same shuffled batches, the same momentum
SGD and learning-rate schedule (its test perplexity should be within 2 %).
Results are printed as markdown and written to `--out` (benchmarks/results/lm.md);
`--json PATH` also writes the speed rows in the suites' common schema
(benchmarks/_results.py; `python benchmarks/run.py` runs the speed part that way).
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
from threadpoolctl import ThreadpoolController

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from fastnn.datasets import load_web_bible  # noqa: E402
from fastnn.lm import FeedForwardLM, NGramLM  # noqa: E402
from fastnn.lm.feedforward import FFNet  # noqa: E402
sys.path.insert(0, HERE)
from _results import make_row, now, suite_record, write_record  # noqa: E402

try:
    import torch
except ImportError:                     # reported by name, never faked
    torch = None

V_MAX, N_CTX, DIM, HIDDEN, BATCH, LR = 10_000, 3, 64, 256, 256, 0.1
_blas = ThreadpoolController()


# ------------------------------------------------------------------ data
def bible_windows(seed=0):
    """(model fitted on nothing but the vocabulary, contexts, targets) of the shuffled
    train split, vocabulary capped at V_MAX words."""
    train = load_web_bible("train")
    lm = FeedForwardLM(max_vocab_size=V_MAX)
    sents = lm._sentences(train, "corpus")
    lm._fit_vocabulary(sents)
    ids, starts = lm._encode(sents, "corpus")
    ctx, tgt = lm._windows(ids, starts)
    perm = np.random.RandomState(seed).permutation(tgt.shape[0])
    return lm, ctx[perm], tgt[perm]


def torch_model(net):
    """nn.Embedding, Linear, Tanh, Linear with fastnn's weights of `net` (one hidden)."""
    m = torch.nn.ModuleDict({
        "emb": torch.nn.Embedding(net.V, net.d),
        "l1": torch.nn.Linear(net.n * net.d, net.hidden[0]),
        "out": torch.nn.Linear(net.hidden[0], net.V)})
    with torch.no_grad():
        m["emb"].weight.copy_(torch.from_numpy(net.E))
        for name, layer in zip(("l1", "out"), net.layers):
            m[name].weight.copy_(torch.from_numpy(layer.W))
            m[name].bias.copy_(torch.from_numpy(layer.b))
    return m


def torch_forward(m, ctx):
    x = m["emb"](ctx).reshape(ctx.shape[0], -1)
    return m["out"](torch.tanh(m["l1"](x)))


# ------------------------------------------------------------------ speed contenders
def fastnn_steps(net, ctx, tgt, n_batches, threads):
    def run():
        with _blas.limit(limits=threads, user_api="blas"):
            for i in range(n_batches):
                s = slice(i * BATCH, (i + 1) * BATCH)
                net.sgd_step(ctx[s], tgt[s], LR, 0.0, 0.0, None, 1)
    return run


def torch_steps(net, ctx, tgt, n_batches, threads):
    m = torch_model(net)
    opt = torch.optim.SGD(m.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    c = torch.from_numpy(ctx[:n_batches * BATCH].astype(np.int64))
    t = torch.from_numpy(tgt[:n_batches * BATCH].astype(np.int64))

    def run():
        torch.set_num_threads(threads)
        for i in range(n_batches):
            s = slice(i * BATCH, (i + 1) * BATCH)
            opt.zero_grad()
            loss_fn(torch_forward(m, c[s]), t[s]).backward()
            opt.step()
    return run


def numpy_steps(net, ctx, tgt, n_batches, threads):
    """The same model by hand in NumPy: gemms into preallocated outputs (np.matmul on
    transposed views, no copies), elementwise work in place, np.add.at for the
    embedding gradient."""
    E = net.E.copy()
    W1, b1 = net.layers[0].W.copy(), net.layers[0].b.copy()
    W2, b2 = net.layers[1].W.copy(), net.layers[1].b.copy()
    H, V = W1.shape[0], W2.shape[0]
    x = np.empty((BATCH, N_CTX * DIM), np.float32)
    h, z = np.empty((BATCH, H), np.float32), np.empty((BATCH, V), np.float32)
    dW1, dW2 = np.empty_like(W1), np.empty_like(W2)
    dh, dx = np.empty((BATCH, H), np.float32), np.empty_like(x)
    rows = np.arange(BATCH)

    def run():
        nonlocal h, z, dh, dx          # updated in place (augmented assignments)
        with _blas.limit(limits=threads, user_api="blas"):
            for i in range(n_batches):
                s = slice(i * BATCH, (i + 1) * BATCH)
                cb, yb = ctx[s], tgt[s]
                np.take(E, cb, axis=0, out=x.reshape(BATCH, N_CTX, DIM))
                np.matmul(x, W1.T, out=h)
                h += b1
                np.tanh(h, out=h)
                np.matmul(h, W2.T, out=z)
                z += b2
                z -= z.max(axis=1, keepdims=True)
                np.exp(z, out=z)
                z /= z.sum(axis=1, keepdims=True)
                z[rows, yb] -= 1
                z *= 1.0 / BATCH
                np.matmul(z.T, h, out=dW2)
                db2 = z.sum(axis=0)
                np.matmul(z, W2, out=dh)
                dh *= 1 - h * h
                np.matmul(dh.T, x, out=dW1)
                db1 = dh.sum(axis=0)
                np.matmul(dh, W1, out=dx)
                for p, g in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
                    p -= LR * g
                dx *= -LR
                np.add.at(E, cb.reshape(-1), dx.reshape(-1, DIM))
    return run


def speed(rounds, n_batches):
    lm, ctx, tgt = bible_windows()
    V = len(lm.vocabulary_)

    def fresh():
        net = FFNet(V, N_CTX, DIM, [HIDDEN], "tanh", np.float32)
        net.initialize(np.random.RandomState(0), np.bincount(tgt, minlength=V))
        return net
    contenders = {"fastnn 2t": fastnn_steps(fresh(), ctx, tgt, n_batches, 2),
                  "fastnn 1t": fastnn_steps(fresh(), ctx, tgt, n_batches, 1),
                  "numpy+BLAS 2t": numpy_steps(fresh(), ctx, tgt, n_batches, 2)}
    if torch is not None:
        contenders["torch 1t"] = torch_steps(fresh(), ctx, tgt, n_batches, 1)
        contenders["torch 2t"] = torch_steps(fresh(), ctx, tgt, n_batches, 2)
    for fn in contenders.values():           # warm-up: page faults, thread pools
        fn()
    times = {k: [] for k in contenders}
    names = list(contenders)
    for r in range(rounds):
        for k in (names if r % 2 == 0 else names[::-1]):
            t0 = time.perf_counter()
            contenders[k]()
            times[k].append(time.perf_counter() - t0)
    tokens = n_batches * BATCH
    fast = times["fastnn 2t"]
    rows = []
    for k in names:
        ratio = statistics.median(a / b for a, b in zip(times[k], fast))
        rows.append((k, min(times[k]), statistics.median(times[k]), tokens / min(times[k]),
                     ratio))
    return V, rows


# ------------------------------------------------------------------ quality
def torch_train_like(lm, train_ids, starts, epochs, seed, threads):
    """The PyTorch twin of lm.fit: same init, batches, momentum SGD and schedule."""
    V = len(lm.vocabulary_)
    ctx, tgt = lm._windows(train_ids, starts)
    rng = np.random.RandomState(seed)
    net = FFNet(V, lm.context_size, lm.embedding_dim, list(lm.hidden_sizes), lm.activation,
                np.float32)
    net.initialize(rng, np.bincount(tgt, minlength=V))
    m = torch_model(net)
    opt = torch.optim.SGD(m.parameters(), lr=lm.learning_rate, momentum=lm.momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    torch.set_num_threads(threads)
    N = tgt.shape[0]
    for e in range(epochs):
        for group in opt.param_groups:
            group["lr"] = lm.learning_rate * (epochs - e) / epochs     # 'linear'
        perm = rng.permutation(N)
        c = torch.from_numpy(ctx[perm].astype(np.int64))
        t = torch.from_numpy(tgt[perm].astype(np.int64))
        for s in range(0, N, lm.batch_size):
            opt.zero_grad()
            loss_fn(torch_forward(m, c[s:s + lm.batch_size]),
                    t[s:s + lm.batch_size]).backward()
            opt.step()
    return m


def torch_perplexity(m, lm, ids, starts):
    ctx, tgt = lm._windows(ids, starts)
    total = 0.0
    with torch.no_grad():
        for s in range(0, tgt.shape[0], 2048):
            c = torch.from_numpy(ctx[s:s + 2048].astype(np.int64))
            t = torch.from_numpy(tgt[s:s + 2048].astype(np.int64))
            total += torch.nn.functional.cross_entropy(torch_forward(m, c), t,
                                                       reduction="sum").item()
    return float(np.exp(total / tgt.shape[0]))


def quality(epochs, threads, with_torch=True, seed=0):
    bible = load_web_bible()
    out = {}
    t0 = time.perf_counter()
    ng = NGramLM(order=3, max_vocab_size=V_MAX).fit(bible.train)
    out["NGramLM(3) (KN)"] = (ng.perplexity(bible.test), time.perf_counter() - t0)
    t0 = time.perf_counter()
    lm = FeedForwardLM(max_vocab_size=V_MAX, epochs=epochs, random_state=seed,
                       n_jobs=threads).fit(bible.train, validation=bible.validation)
    out["FeedForwardLM (fastnn)"] = (lm.perplexity(bible.test), time.perf_counter() - t0)
    out["_curves"] = (lm.loss_curve_, lm.validation_perplexity_curve_)
    if torch is not None and with_torch:
        t0 = time.perf_counter()
        ids, starts = lm._encode(lm._sentences(bible.train, "train"), "train")
        m = torch_train_like(lm, ids, starts, epochs, seed, threads)
        tids, tstarts = lm._encode(lm._sentences(bible.test, "test"), "test")
        out["same model, PyTorch"] = (torch_perplexity(m, lm, tids, tstarts),
                                      time.perf_counter() - t0)
    return lm, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-torch-quality", action="store_true",
                    help="leave the PyTorch twin out of the quality run")
    ap.add_argument("--quality-threads", type=int, default=2,
                    help="threads of fastnn and PyTorch in the quality run")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "lm.md"))
    ap.add_argument("--json", default=None,
                    help="also write the speed rows in the common schema here")
    args = ap.parse_args(argv)
    started = now()
    rows = []
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else []
    lines = ["# FeedForwardLM benchmark", "",
             f"Machine: {os.cpu_count()} CPUs, load average at start {' '.join(load)} "
             "(shared machine: other jobs were running; timings are noisy).", ""]
    if not args.skip_speed:
        speed_lines, rows = speed_report(args)
        lines += speed_lines
    print("\n".join(lines), flush=True)
    if not args.skip_quality:
        qlines = quality_report(args)
        print("\n".join(qlines), flush=True)
        lines += qlines
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    if args.json:
        from _env import environment
        cmd = "python benchmarks/bench_lm.py " + " ".join(argv or sys.argv[1:])
        write_record(args.json, suite_record("lm", rows, detail_md="\n".join(lines),
                                             env=environment(), command=cmd.strip(),
                                             started=started))


TARGETS = {"numpy+BLAS": 1.0, "torch": 1.8}


def speed_rows(rows, n_batches):
    """Common-schema rows of the speed table: NumPy+BLAS (2 threads) and PyTorch at its
    faster thread count, against fastnn 2 threads."""
    by = {k: (best, med, ratio) for k, best, med, _, ratio in rows}
    fb, fm, _ = by["fastnn 2t"]
    case = (f"FeedForwardLM training, {n_batches} SGD steps of batch {BATCH} "
            f"(V={V_MAX}, context {N_CTX}, embedding {DIM}, hidden {HIDDEN})")
    out = []
    for family, target in TARGETS.items():
        runs = [k for k in by if k.startswith(family)]
        if not runs:
            out.append(make_row("lm", case, family, status="skipped",
                                target=f">= {target:g}x vs {family}",
                                notes=f"{family} not installed"))
            continue
        k = min(runs, key=lambda k: by[k][1])      # the faster thread count (median)
        best, med, ratio = by[k]
        out.append(make_row(
            "lm", case, family, peer_threads=int(k.split()[-1][:-1]), fastnn_threads=2,
            fastnn_median_s=fm, fastnn_best_s=fb, median_s=med, best_s=best,
            ratio_median=ratio, ratio_best=best / fb, target=f">= {target:g}x vs {family}",
            target_min=target, target_value=ratio,
            status="PASS" if ratio >= target else "MISS"))
    return out


def speed_report(args):
    V, rows = speed(args.rounds, args.batches)
    lines = [f"## Training speed: V={V}, context {N_CTX}, embedding {DIM}, hidden "
              f"{HIDDEN} tanh, batch {BATCH}, plain SGD, float32",
              f"One call = {args.batches} SGD steps ({args.batches * BATCH} tokens); "
              f"{args.rounds} interleaved rounds.", "",
              "| contender | best | median | tokens/s (best) | median paired ratio vs fastnn |",
              "|---|---|---|---|---|"]
    for k, best, med, tps, ratio in rows:
        lines.append(f"| {k} | {best * 1e3:.0f} ms | {med * 1e3:.0f} ms | {tps:,.0f} | "
                     f"{ratio:.2f}x |")
    by = {k: r for k, *_, r in rows}
    median = {k: m for k, _, m, *_ in rows}
    # PyTorch at its faster thread count (lower median time)
    torch_runs = [k for k in ("torch 1t", "torch 2t") if k in by]
    torch_best = by[min(torch_runs, key=median.get)] if torch_runs else None
    lines += ["", f"Targets: vs PyTorch (faster thread count) >= 1.8x: "
              f"{'n/a' if torch_best is None else f'{torch_best:.2f}x'} "
              f"{'' if torch_best is None else ('PASS' if torch_best >= 1.8 else 'MISS')}; "
              f"vs NumPy+BLAS >= 1.0x: {by['numpy+BLAS 2t']:.2f}x "
              f"{'PASS' if by['numpy+BLAS 2t'] >= 1.0 else 'MISS'}", ""]
    return lines, speed_rows(rows, args.batches)


def quality_report(args):
    lm, q = quality(args.epochs, args.quality_threads, not args.skip_torch_quality)
    curves = q.pop("_curves")
    qlines = [f"## Quality: full WEB Bible (train / validation / test splits), "
              f"max_vocab_size {V_MAX}, {args.epochs} epochs, FeedForwardLM defaults "
              f"(lr {lm.learning_rate}, momentum {lm.momentum}, schedule "
              f"{lm.lr_schedule}, batch {lm.batch_size}), {args.quality_threads} "
              "thread(s) each", "",
              "| model | test perplexity | time (fit + score) |", "|---|---|---|"]
    for k, (ppl, sec) in q.items():
        qlines.append(f"| {k} | {ppl:.2f} | {sec:.0f} s |")
    ff = q["FeedForwardLM (fastnn)"][0]
    qlines.append("")
    if "same model, PyTorch" in q:
        pt = q["same model, PyTorch"][0]
        qlines.append(f"fastnn vs PyTorch perplexity: {100 * (ff / pt - 1):+.2f} % "
                      f"({'within' if abs(ff / pt - 1) <= 0.02 else 'NOT within'} 2 %)  ")
    qlines.append(f"fastnn vs trigram: {ff:.2f} vs {q['NGramLM(3) (KN)'][0]:.2f}  ")
    qlines.append(f"training loss per epoch: {np.round(curves[0], 4).tolist()}; "
                  f"validation perplexity: {np.round(curves[1], 2).tolist()}")
    return qlines


if __name__ == "__main__":
    main()
