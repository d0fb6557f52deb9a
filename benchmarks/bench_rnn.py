"""Training throughput of the Elman RNN language model: fastnn against PyTorch CPU.

    python benchmarks/bench_rnn.py [--budget SECONDS] [--quick] [--out FILE]
    python benchmarks/bench_rnn.py --quality [--max-vocab-size 10000] [--threads 1]
                                   [--processes 1] [--models ngram,ffnn,rnn]

Not a pytest file.  Speed (the default): it runs the case through `_harness.run_case`
(interleaved rounds, every peer timed between two fastnn calls, foreign load filtered),
prints a Markdown table and writes it to benchmarks/results/rnn.md.  Quality
(`--quality`): full-corpus perplexity of RNNLM against FeedForwardLM and the Kneser-Ney
trigram, see `quality_main` (benchmarks/results/rnn_quality.md and .json).

The model: vocabulary V = 10,000, embedding 64, one tanh RNN layer of 256 units, a
softmax over V; truncated BPTT over windows of 35 steps of 32 parallel streams (1,120
predicted tokens a window), plain SGD (lr 0.5, no momentum) with global-norm gradient
clipping at 1.0, float32.  One timed call trains on 4 consecutive windows, the hidden
state carried between them (continuous streams, no sentence restarts: what PyTorch's
nn.RNN runs).  Synthetic Zipf-distributed ids.

- fastnn: `RNNNet.sgd_window`, the step `RNNLM.fit` runs for every window (embedding
  gather, one input gemm, the per-step recurrence, one output gemm over all 1,120
  states, fused softmax cross-entropy, backward gemms, BPTT, scatter-add, clipping,
  SGD over one flat buffer); BLAS threads limited through threadpoolctl, the light
  kernels on the calling thread (as RNNLM runs them).
- torch 2.x: nn.Embedding + nn.RNN(tanh) + nn.Linear, F.cross_entropy, backward,
  clip_grad_norm_, torch.optim.SGD; the state detached between windows.
Both start from the same weights and data; their first call's losses are compared.
Each runs at 1 and 2 threads and is reported at its faster count.
"""
import argparse
import datetime
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import fastnn  # noqa: E402,F401 - before torch: one OpenMP runtime
from fastnn.lm._rnn_net import RNNNet  # noqa: E402
from _harness import Case, Contender, Target, fmt_time, run_case  # noqa: E402

try:
    import torch
    import torch.nn.functional as TF
except ImportError:                       # reported by name, never faked
    torch = TF = None

THREADS = (1, 2)
V, E, HD, T, B = 10_000, 64, 256, 35, 32
WINDOWS = 4                  # windows per timed call
LR, CLIP = 0.5, 1.0


class _NoBenchmark:
    """Stands in for pytest-benchmark's fixture: run_case then times every round itself."""
    enabled = False

    def __init__(self):
        self.extra_info = {}


def data(n_windows=16, seed=0):
    """(inputs, targets) int32 (n_windows * T, B): continuous Zipf-like streams."""
    r = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, V + 1)
    stream = r.choice(V, size=(B, n_windows * T + 1), p=p / p.sum()).astype(np.int32)
    return (np.ascontiguousarray(stream[:, :-1].T), np.ascontiguousarray(stream[:, 1:].T))


def initial_weights(seed=0):
    """PyTorch's default initialisation of the torch model, as NumPy float32 arrays."""
    torch.manual_seed(seed)
    m = TorchLM()
    return {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}


if torch is not None:
    class TorchLM(torch.nn.Module):
        """nn.Embedding -> nn.RNN (tanh) -> nn.Linear."""

        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(V, E)
            self.rnn = torch.nn.RNN(E, HD, nonlinearity="tanh")
            self.out = torch.nn.Linear(HD, V)

        def forward(self, x, h):
            y, h = self.rnn(self.emb(x), h)
            return self.out(y).reshape(-1, V), h


def fastnn_at(inputs, targets, w0):
    from threadpoolctl import ThreadpoolController
    blas = ThreadpoolController()

    def at(t):
        net = RNNNet(V, E, HD, "tanh", np.float32)
        net.emb[...] = w0["emb.weight"]
        net.W_x[...] = w0["rnn.weight_ih_l0"]
        net.W_h[...] = w0["rnn.weight_hh_l0"]
        net.b[...] = w0["rnn.bias_ih_l0"] + w0["rnn.bias_hh_l0"]
        net.U[...] = w0["out.weight"]
        net.c[...] = w0["out.bias"]
        state = {"h": np.zeros((B, HD), np.float32), "k": 0}
        n_win = inputs.shape[0] // T

        def call():
            losses = []
            with blas.limit(limits=t, user_api="blas"):
                for _ in range(WINDOWS):
                    k = state["k"]
                    x, y = inputs[k * T:(k + 1) * T], targets[k * T:(k + 1) * T].reshape(-1)
                    loss, h = net.sgd_window(x, y, None, None, state["h"], LR, 0.0, 0.0,
                                             None, CLIP, 1)
                    state["h"] = h.copy()
                    state["k"] = (k + 1) % n_win
                    losses.append(loss)
            return np.array(losses)
        return call
    return at


def torch_at(inputs, targets, w0):
    xs = torch.from_numpy(inputs.astype(np.int64))
    ys = torch.from_numpy(targets.astype(np.int64))

    def at(t):
        m = TorchLM()
        m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in w0.items()})
        # one bias, as fastnn's b: b_ih carries b_ih + b_hh, b_hh is a frozen 0 (two
        # trained biases would step their sum twice as fast)
        with torch.no_grad():
            m.rnn.bias_ih_l0 += m.rnn.bias_hh_l0
            m.rnn.bias_hh_l0.zero_()
        m.rnn.bias_hh_l0.requires_grad_(False)
        params = [p for p in m.parameters() if p.requires_grad]
        opt = torch.optim.SGD(params, lr=LR)
        state = {"h": torch.zeros(1, B, HD), "k": 0}
        n_win = inputs.shape[0] // T

        def call():
            torch.set_num_threads(t)
            losses = []
            for _ in range(WINDOWS):
                k = state["k"]
                opt.zero_grad(set_to_none=True)
                logits, h = m(xs[k * T:(k + 1) * T], state["h"])
                loss = TF.cross_entropy(logits, ys[k * T:(k + 1) * T].reshape(-1))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, CLIP)
                opt.step()
                state["h"] = h.detach()
                state["k"] = (k + 1) % n_win
                losses.append(loss.item())
            return np.array(losses)
        return call
    return at


def rnn_case():
    inputs, targets = data()
    if torch is None:
        raise SystemExit("torch is not installed: nothing to compare with")
    w0 = initial_weights()
    peers = [Contender("torch", t, torch_at(inputs, targets, w0)(t)) for t in THREADS]
    tokens = WINDOWS * T * B
    flops = WINDOWS * 3 * 2 * T * B * (HD * V + HD * HD + HD * E)
    return Case(f"RNN LM training: V={V} emb={E} hidden={HD} tanh, bptt={T}, batch={B}, "
                f"{WINDOWS} windows ({tokens} tokens) a call",
                fastnn_at(inputs, targets, w0), peers, flops=flops,
                target=Target("speedup", 1.3, ("torch",)), rtol=1e-3,
                note="plain SGD + global-norm clipping, float32"), tokens


# ------------------------------------------------------------------ quality (--quality)
def _count_ngram_entries(ngram):
    """Stored numbers of a fitted NGramLM: one probability term per n-gram of every
    order and one back-off weight per context (its 'parameters')."""
    return int(ngram.n_grams_.sum()) + int(sum(k.shape[0] for k in ngram._ctx_keys))


QUALITY_MODELS = ("NGramLM(order=3), Kneser-Ney", "FeedForwardLM (context 3)", "RNNLM")
QUALITY_KEYS = dict(zip(("ngram", "ffnn", "rnn"), QUALITY_MODELS))   # --models names


def stored_rows(json_path, names, max_vocab_size):
    """The rows of `names` from a previous --quality record (`json_path`), each with
    the date and run conditions it was measured under; SystemExit when the file is
    missing, lacks a row, or was made with another vocabulary."""
    import json
    try:
        with open(json_path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--models: cannot reuse rows from {json_path}: {exc}")
    if meta.get("max_vocab_size") != max_vocab_size:
        raise SystemExit(f"--models: {json_path} was made with max_vocab_size "
                         f"{meta.get('max_vocab_size')}, not {max_vocab_size}")
    by_name = {r["model"]: r for r in meta["models"]}
    out = []
    for name in names:
        if name not in by_name:
            raise SystemExit(f"--models: {json_path} has no row for {name!r}")
        row = dict(by_name[name])
        row.setdefault("run", {k: meta.get(k) for k in
                               ("date", "threads", "processes", "load_average_end")})
        out.append(row)
    return out, meta["V"]


def quality_row(name, max_vocab_size, threads):
    """Fit one of QUALITY_MODELS (its defaults, `max_vocab_size` words, random_state 0,
    `threads` BLAS threads) on the WEB Bible train split, score the test split:
    (row dict, vocabulary itos)."""
    import time
    from fastnn.datasets import load_web_bible
    from fastnn.lm import FeedForwardLM, NGramLM, RNNLM
    bible = load_web_bible()
    vocab = dict(max_vocab_size=max_vocab_size)
    neural = dict(random_state=0, n_jobs=threads, **vocab)
    make = dict(zip(QUALITY_MODELS, (lambda: NGramLM(order=3, **vocab),
                                     lambda: FeedForwardLM(**neural),
                                     lambda: RNNLM(**neural))))[name]
    lm = make()
    t0 = time.perf_counter()
    if isinstance(lm, NGramLM):
        lm.fit(bible.train)
    else:
        lm.fit(bible.train, validation=bible.validation)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ppl = lm.perplexity(bible.test)
    row = {"model": name, "test_perplexity": ppl, "train_seconds": fit_s,
           "test_seconds": time.perf_counter() - t0}
    if isinstance(lm, NGramLM):
        row.update(parameters=_count_ngram_entries(lm), epochs=None,
                   n_train_tokens=int(lm.n_tokens_), n_train_lines=len(bible.train),
                   settings={"order": 3, **vocab})
    else:
        settings = {k: v for k, v in lm.get_params().items()
                    if k not in ("verbose", "n_jobs", "dtype")}
        settings["dtype"] = np.dtype(lm.dtype).name
        row.update(parameters=int(lm.net_.params.size), epochs=int(lm.n_epochs_),
                   validation_perplexity=[float(v) for v in lm.validation_perplexity_curve_],
                   training_loss=[float(v) for v in lm.loss_curve_],
                   learning_rates=[float(v) for v in lm.learning_rates_],
                   settings=settings)
    print(f"{name}: test perplexity {ppl:.2f}, {fit_s:.0f} s", flush=True)
    return row, list(lm.vocabulary_.itos)


def quality_main(max_vocab_size, threads, out_md, processes=1, models=None):
    """Train NGramLM(order=3), FeedForwardLM and RNNLM, each with its defaults and the
    same vocabulary (`max_vocab_size` words of the train split, min_count 1), on the
    WEB Bible train split (the validation split is scored after every neural epoch:
    the curve, and the plateau schedule / early stopping when a default uses them),
    then score the test split; `processes` > 1 trains the models in that many
    processes at once (spawned).  Prints a markdown table and writes it to `out_md`,
    and the same numbers to the .json next to it.

    `models` (a subset of QUALITY_MODELS, None = all) re-trains only those; the other
    rows are taken from the existing .json (with the date and conditions of the run
    that measured them, shown in the table's `run` column)."""
    import json
    json_path = os.path.splitext(out_md)[0] + ".json"
    models = list(QUALITY_MODELS) if models is None else list(models)
    kept, kept_V = [], None
    if len(models) < len(QUALITY_MODELS):
        kept, kept_V = stored_rows(json_path, [m for m in QUALITY_MODELS if m not in models],
                                   max_vocab_size)
    args = [(name, max_vocab_size, threads) for name in models]
    if processes > 1 and len(args) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(processes, multiprocessing.get_context("spawn")) as ex:
            results = list(ex.map(quality_row, *zip(*args)))
    else:
        results = [quality_row(*a) for a in args]
    itos = results[0][1]
    for row, other in results[1:]:
        if other != itos:
            raise RuntimeError(f"{row['model']}: the vocabulary differs from "
                               f"{results[0][0]['model']}'s")
    if kept_V is not None and kept_V != len(itos):
        raise RuntimeError(f"the stored rows have V = {kept_V}, this run {len(itos)}")
    load = os.getloadavg()
    today = datetime.date.today().isoformat()
    run = {"date": today, "threads": threads, "processes": min(processes, len(args)),
           "load_average_end": load[0]}
    fresh = {r["model"]: dict(r, run=run) for r, _ in results}
    stored = {r["model"]: r for r in kept}
    rows = [fresh.get(m) or stored[m] for m in QUALITY_MODELS]
    ngram = rows[0]
    n_tokens, n_train = ngram["n_train_tokens"], ngram["n_train_lines"]

    def run_label(r):
        u = r["run"]
        return (f"{u['date']}{'' if r['model'] in fresh else ' (stored)'}, "
                f"{u['processes']} at a time, load {u['load_average_end']:.1f}")

    lines = [
        f"## Full-corpus quality: RNNLM vs FeedForwardLM vs Kneser-Ney trigram "
        f"(`python benchmarks/bench_rnn.py --quality`, {today})",
        "",
        f"WEB Bible (`fastnn.datasets.load_web_bible`): trained on the train split "
        f"({n_train:,} lines, {n_tokens:,} predicted tokens), validation split scored "
        f"after each neural epoch, test split reported.  "
        f"Every model with its defaults and the same vocabulary: the "
        f"{max_vocab_size:,} most frequent training words (min_count 1) + specials, "
        f"V = {len(itos):,}.  random_state 0, {threads} BLAS thread(s) per model; train "
        f"seconds on a shared {os.cpu_count()}-CPU machine: not a speed measurement.",
        "",
    ]
    if kept:
        lines += [f"Re-trained in this run: {', '.join(models)}.  Rows marked (stored) "
                  f"are copied from the previous record (their code did not change); "
                  f"the `run` column gives each row's date, the models trained at a time "
                  f"and the load average at the end of its run.", ""]
    lines += ["| model | test perplexity | parameters | epochs | train seconds | run |",
              "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['test_perplexity']:.2f} | {r['parameters']:,} | "
                     f"{r['epochs'] if r['epochs'] is not None else '-'} | "
                     f"{r['train_seconds']:.0f} | {run_label(r)} |")
    lines += ["", "Parameters: the weights of the neural models; for the trigram the stored "
              "numbers (a probability term per n-gram of every order and a back-off weight "
              "per context).", ""]
    for r in rows[1:]:
        lines.append(f"- {r['model']}: validation perplexity per epoch "
                     f"{[round(v, 2) for v in r['validation_perplexity']]}, learning rate "
                     f"{[round(v, 4) for v in r['learning_rates']]}")
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(out_md)), exist_ok=True)
    with open(out_md, "w") as f:
        f.write(text)
    meta = {"date": today, "max_vocab_size": max_vocab_size, "V": len(itos),
            "threads": threads, "retrained": models, "random_state": 0, "models": rows}
    with open(json_path, "w") as f:
        json.dump(meta, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=30.0, help="seconds of rounds (30)")
    ap.add_argument("--quick", action="store_true", help="3 s of rounds")
    ap.add_argument("--out", default=None,
                    help="markdown output (results/rnn.md; with --quality "
                         "results/rnn_quality.md, the JSON next to it)")
    ap.add_argument("--quality", action="store_true",
                    help="full-corpus test perplexity: RNNLM vs FeedForwardLM vs KN trigram")
    ap.add_argument("--max-vocab-size", type=int, default=10_000,
                    help="--quality: the vocabulary of all three models (10000)")
    ap.add_argument("--threads", type=int, default=1,
                    help="--quality: BLAS threads per model (1)")
    ap.add_argument("--processes", type=int, default=1,
                    help="--quality: models trained at once, each in its own process (1)")
    ap.add_argument("--models", default=",".join(QUALITY_KEYS),
                    help="--quality: the models to re-train, a comma list of "
                         f"{', '.join(QUALITY_KEYS)} (all); the others' rows are kept "
                         "from the existing .json")
    args = ap.parse_args()
    if args.quality:
        keys = [k.strip() for k in args.models.split(",") if k.strip()]
        bad = [k for k in keys if k not in QUALITY_KEYS]
        if bad or not keys:
            ap.error(f"--models: unknown model(s) {bad}; choose among "
                     f"{', '.join(QUALITY_KEYS)}")
        quality_main(args.max_vocab_size, args.threads,
                     args.out or os.path.join(HERE, "results", "rnn_quality.md"),
                     args.processes, [m for k, m in QUALITY_KEYS.items() if k in keys])
        return
    args.out = args.out or os.path.join(HERE, "results", "rnn.md")
    case, tokens = rnn_case()
    res = run_case(_NoBenchmark(), case, budget=3.0 if args.quick else args.budget,
                   min_rounds=5, max_rounds=200, wait_idle=0.0 if args.quick else 10.0)
    rows = [r for r in res["contenders"] if "min" in r]
    t = res["target"]
    load = os.getloadavg()
    lines = [
        f"## RNN language model training (`python benchmarks/bench_rnn.py`, "
        f"{datetime.date.today().isoformat()}, {os.cpu_count()} CPUs, load average at "
        f"the end {load[0]:.1f})",
        "",
        case.name + "; " + case.note + ".  Ratio = time / fastnn 2t time "
        "(> 1: fastnn faster); median ratio = median over rounds of the paired ratio.",
        "",
        "| contender | best | median | tokens/s (best) | tokens/s (median) | ratio best "
        "| median paired ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {fmt_time(r['min'])} | {fmt_time(r['median'])} | "
                     f"{tokens / r['min']:,.0f} | {tokens / r['median']:,.0f} | "
                     f"{r['ratio_best']:.2f} | {r['ratio_paired_median']:.2f} |")
    lines += ["", f"Target {t['describe']}: median paired ratio vs {t.get('vs')} "
              f"{t.get('value', float('nan')):.2f} (best-vs-best "
              f"{t.get('ratio_best', float('nan')):.2f}): **{t['result']}**.  "
              f"{res['rounds_kept']} of {res['rounds']} rounds kept; other processes used "
              f"{res['foreign_load'] or 0:.2f} cores on average"
              f"{' (NOISY: too few quiet rounds, all kept)' if res['noisy'] else ''}."]
    lines += ["", "Timed on a shared machine: rounds during which other processes used more "
              "than a quarter of a core are dropped when enough quiet rounds remain; with "
              "other jobs running, 2-thread times (both libraries) vary several-fold, so "
              "compare runs of the same session only."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
