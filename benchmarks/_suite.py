"""Run one benchmark suite and store its rows in the common schema (_results.py).

    python benchmarks/_suite.py SUITE --results DIR [--quick] [--run-id ID]
                                [--label NAME] [-k EXPR] [pytest args ...]

`benchmarks/run.py` starts one such process per suite.  The pytest suites (kernels,
mlp) run pytest-benchmark in a child process and are converted from its JSON; the
script suites run in this process: linear, autograd and lm write the schema themselves
(`--json`), word2vec's own `--json` file and rnn's `run_case` result are converted here.
Exit status 0 when the suite ran or was skipped as a whole (a peer library missing:
<suite>.attempt.json says so), 1 when it failed (the same file holds the error), 5
when `-k` selected none of its cases (nothing recorded).
"""
import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)
from _results import (SUITES, now, read_suite, rows_from_pytest_benchmark,  # noqa: E402
                      rows_from_word2vec, suite_record, write_suite)

PEERS = ("torch", "gensim", "sklearn", "pytest_benchmark", "threadpoolctl", "scipy")
PYTEST_QUICK = ["--bench-budget", "0.3", "--bench-min-rounds", "3",
                "--bench-wait-idle", "0"]


NOTHING_SELECTED = 5      # exit status: -k selected no case of this suite, nothing written


class SuiteSkipped(Exception):
    """The suite cannot run here (a peer library is missing): reported by name."""


class NothingSelected(Exception):
    """`-k` matched no case of this pytest suite: nothing to record."""


class _Tee(io.TextIOBase):
    """Writes to the real stdout and keeps a copy (the suite's printed markdown)."""

    def __init__(self, out):
        self.out, self.buf = out, io.StringIO()

    def write(self, s):
        self.out.write(s)
        self.buf.write(s)
        return len(s)

    def flush(self):
        self.out.flush()


def _pytest_suite(suite, args, target, raw):
    """Run pytest-benchmark on `target`; its raw JSON lands in `raw` only when the
    run wrote it (an interrupted run leaves the previous file)."""
    partial = os.path.join(os.path.dirname(raw), f".{os.path.basename(raw)}.partial")
    if os.path.exists(partial):
        os.remove(partial)
    label = os.path.splitext(os.path.basename(raw))[0]
    cmd = [sys.executable, "-m", "pytest", target, "-p", "no:cacheprovider",
           "--benchmark-disable-gc", "--benchmark-json", partial, "--bench-label", label,
           "--benchmark-columns=min,median,rounds", "-s"]
    if args.quick:
        cmd += PYTEST_QUICK + ["--bench-quick"]
    if args.select:
        cmd += ["-k", args.select]
    cmd += args.rest
    print("+", " ".join(cmd), flush=True)
    rc = subprocess.call(cmd, cwd=ROOT)
    if rc == 5:      # pytest: no test collected (e.g. -k matched none of this suite)
        raise NothingSelected(f"no case of {target} selected (-k {args.select!r})")
    if not os.path.exists(partial):
        raise RuntimeError(f"pytest exited with {rc} and wrote no results")
    if rc != 0:      # some cases failed: their file is kept aside, hidden
        raise RuntimeError(f"pytest exited with {rc}; the results of the cases that "
                           f"ran are in {partial}")
    os.replace(partial, raw)
    rows, env = rows_from_pytest_benchmark(raw, suite)
    shown = ["python"] + cmd[1:]
    inside = os.path.commonpath([raw, ROOT]) == ROOT
    shown[shown.index(partial)] = os.path.relpath(raw, ROOT) if inside else raw
    return rows, env, "", " ".join(shown)


def kernels(args, work):
    """The kernel cases (test_kernels.py, cases.py)."""
    raw = os.path.join(args.results, f"{args.label}.json")
    return _pytest_suite("kernels", args, "benchmarks/test_kernels.py", raw)


def mlp(args, work):
    """One MLP training epoch against PyTorch, scikit-learn, NumPy (bench_mlp.py)."""
    return _pytest_suite("mlp", args, "benchmarks/bench_mlp.py",
                         os.path.join(args.results, "mlp.json"))


def _self_writing(module, argv, work):
    """Run a script that writes the common schema itself (`--json`)."""
    mod = _import(module)
    path = os.path.join(work, f"{module}.json")
    mod.main(argv + ["--json", path])
    rec = read_suite(path)
    return rec["rows"], rec["env"], rec["detail_md"], rec["command"]


def linear(args, work):
    """fastnn.linear_model against scikit-learn (bench_linear.py)."""
    return _self_writing("bench_linear", ["--quick"] if args.quick else [], work)


def autograd(args, work):
    """fastnn.autograd against torch autograd (bench_autograd.py)."""
    return _self_writing("bench_autograd", ["--quick"] if args.quick else [], work)


def lm(args, work):
    """FeedForwardLM training speed (bench_lm.py --skip-quality)."""
    argv = ["--skip-quality", "--out", os.path.join(work, "lm.md")]
    if args.quick:
        argv += ["--rounds", "3", "--batches", "5"]
    return _self_writing("bench_lm", argv, work)


def word2vec(args, work):
    """fastnn's Word2Vec against gensim's (bench_word2vec.py, its --json converted)."""
    mod = _import("bench_word2vec", needs=("gensim",))
    raw = os.path.join(work, "word2vec-raw.json")
    argv = ["--rounds", "1", "--epochs", "1", "--repeat", "1"] if args.quick else []
    argv += ["--json", raw]
    mod.main(argv)
    with open(raw) as f:
        data = json.load(f)
    rows = rows_from_word2vec(data, mod.TARGET_SPEEDUP, mod.TARGET_SCALING)
    command = "python benchmarks/bench_word2vec.py " + " ".join(argv)
    return rows, _environment(), None, command


def rnn(args, work):
    """The Elman RNN LM training step against PyTorch (bench_rnn.py): its main() runs
    unchanged, its `run_case` result is captured and converted."""
    from _results import rows_from_harness
    mod = _import("bench_rnn", needs=("torch",))
    got = []
    real = mod.run_case

    def capture(*a, **kw):
        res = real(*a, **kw)
        got.append(res)
        return res
    mod.run_case = capture
    out = os.path.join(work, "rnn.md")
    argv = ["--out", out] + (["--quick"] if args.quick else [])
    saved = sys.argv
    sys.argv = ["bench_rnn.py"] + argv
    try:
        mod.main()
    finally:
        sys.argv, mod.run_case = saved, real
    if not got:
        raise RuntimeError("bench_rnn.py ran no case")
    with open(out) as f:
        detail = f.read()
    rows = [r for res in got for r in rows_from_harness("rnn", res)]
    return rows, _environment(), detail, "python benchmarks/bench_rnn.py " + " ".join(argv)


RUNNERS = {"kernels": kernels, "linear": linear, "mlp": mlp, "autograd": autograd,
           "word2vec": word2vec, "lm": lm, "rnn": rnn}


def _import(module, needs=()):
    """Import a benchmark script; SuiteSkipped when a peer library it needs is missing."""
    import importlib
    for lib in needs:
        try:
            importlib.import_module(lib)
        except ImportError as exc:
            raise SuiteSkipped(f"{lib} not installed ({exc})") from exc
    return importlib.import_module(module)


def _environment():
    from _env import environment
    return environment()


def main(argv=None):
    """Run one suite; write its record (or its attempt record); exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("suite", choices=SUITES)
    ap.add_argument("--results", required=True, help="results directory")
    ap.add_argument("--quick", action="store_true", help="smoke run")
    ap.add_argument("--run-id", default=None)
    ap.add_argument("--label", default="default", help="kernels: raw file name")
    ap.add_argument("-k", dest="select", default=None, help="pytest -k (kernels, mlp)")
    args, rest = ap.parse_known_args(argv)
    args.rest = rest
    args.results = os.path.abspath(args.results)
    os.makedirs(args.results, exist_ok=True)
    started = now()
    common = dict(quick=args.quick, run_id=args.run_id, started=started)
    with tempfile.TemporaryDirectory(prefix=f"fastnn-{args.suite}-") as work:
        tee = _Tee(sys.stdout)
        try:
            with contextlib.redirect_stdout(tee):
                rows, env, detail, command = RUNNERS[args.suite](args, work)
        except NothingSelected as exc:
            print(f"suite {args.suite}: {exc}; nothing recorded")
            return NOTHING_SELECTED
        except (SuiteSkipped, SystemExit, ImportError) as exc:
            peer = getattr(exc, "name", None)
            if isinstance(exc, ImportError) and (peer or "").split(".")[0] not in PEERS:
                traceback.print_exc()
                reason, status = f"ImportError: {exc}", "failed"
            elif isinstance(exc, SystemExit) and not isinstance(exc.code, str):
                reason = f"exited with status {exc.code}"
                status = "failed" if exc.code else "skipped"
            else:
                reason, status = str(exc) or type(exc).__name__, "skipped"
            path = write_suite(args.results, suite_record(
                args.suite, [], status=status, reason=reason, **common))
            print(f"suite {args.suite} {status}: {reason} ({path})")
            return 1 if status == "failed" else 0
        except Exception as exc:     # noqa: BLE001 - recorded by name, then exit 1
            traceback.print_exc()
            path = write_suite(args.results, suite_record(
                args.suite, [], status="failed", reason=f"{type(exc).__name__}: {exc}",
                **common))
            print(f"suite {args.suite} FAILED: {exc} ({path})")
            return 1
    command = command.replace(work, "$TMP")      # the temporary directory, gone now
    record = suite_record(args.suite, rows, env=env, command=command,
                          detail_md=detail if detail is not None else
                          "```\n" + tee.buf.getvalue().strip() + "\n```", **common)
    path = write_suite(args.results, record)
    print(f"suite {args.suite}: {len(rows)} rows in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
