"""Run every benchmark suite and rewrite benchmarks/README.md and ratios.png.

    python benchmarks/run.py [--quick] [--only SUITE[,SUITE]] [--report]
                             [--label NAME] [-k EXPR] [pytest args ...]

Suites (in this order, each in its own process, `benchmarks/_suite.py SUITE`):
kernels, linear, mlp, autograd, word2vec, lm, rnn.  Each stores its rows in the common
schema (benchmarks/_results.py) in benchmarks/results/summary/<suite>.json; a suite
that fails or is skipped keeps its last good record and is reported as such.  Then
benchmarks/report.py prints the summary table and rewrites README.md and ratios.png
from every stored result (suites not rerun keep their last measured numbers).

--quick: a smoke run of every suite; results, README.md and ratios.png go to a
temporary directory, benchmarks/README.md is left alone.  --report: run nothing,
rebuild from the stored results.  Run from anywhere: suites run from the repository
root, so that an in-place build of fastnn is the one imported.
"""
import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from _results import SUITES, suite_path, read_suite, suite_record, write_suite  # noqa: E402
from _suite import NOTHING_SELECTED  # noqa: E402


def parse_only(text):
    """`--only a,b` -> [a, b] in SUITES order; ValueError naming an unknown suite."""
    if not text:
        return list(SUITES)
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in SUITES]
    if unknown or not names:
        raise ValueError(f"--only: unknown suite(s) {unknown or text!r}; "
                         f"choose from {', '.join(SUITES)}")
    return [s for s in SUITES if s in names]


def _recorded(results, suite, run_id):
    """Did this run's process for `suite` write a record (ok or attempt)?"""
    for attempt in (False, True):
        path = suite_path(results, suite, attempt)
        if os.path.exists(path):
            try:
                if read_suite(path).get("run_id") == run_id:
                    return True
            except ValueError:
                pass
    return False


def run_suite(suite, results, run_id, args, rest):
    """One suite in a child process; a crash that left no record is recorded here.
    Returns (exit status, seconds)."""
    cmd = [sys.executable, os.path.join(HERE, "_suite.py"), suite, "--results", results,
           "--run-id", run_id, "--label", args.label]
    if args.quick:
        cmd.append("--quick")
    if args.select:
        cmd += ["-k", args.select]
    if suite in ("kernels", "mlp"):
        cmd += rest
    print(f"\n=== suite {suite}: " + " ".join(cmd[1:]), flush=True)
    t0 = time.perf_counter()
    rc = subprocess.call(cmd, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if rc == NOTHING_SELECTED:
        rc = 0
    elif not _recorded(results, suite, run_id):
        write_suite(results, suite_record(
            suite, [], status="failed", run_id=run_id, quick=args.quick,
            reason=f"the suite's process exited with status {rc} and recorded nothing"))
    print(f"=== suite {suite}: exit status {rc}, {seconds:.0f} s", flush=True)
    return rc, seconds


def main(argv=None):
    """Command line; returns 0 when every suite run recorded a result or a skip."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run of every suite; everything to a temporary directory, "
                         "README.md left alone")
    ap.add_argument("--only", default=None,
                    help=f"comma-separated suites to run ({', '.join(SUITES)})")
    ap.add_argument("--report", action="store_true",
                    help="run nothing: rebuild README.md and ratios.png from the stored "
                         "results")
    ap.add_argument("--label", default="default",
                    help="name of the kernel run: results/LABEL.json and its section")
    ap.add_argument("-k", dest="select", help="only the pytest cases matching this -k")
    args, rest = ap.parse_known_args(argv)
    try:
        suites = parse_only(args.only)
    except ValueError as exc:
        ap.error(str(exc))
    import report

    if args.report:
        report.build()
        return 0
    if args.quick:
        results = tempfile.mkdtemp(prefix="fastnn-bench-")
        readme = os.path.join(results, "README.md")
        plot = os.path.join(results, "ratios.png")
    else:
        results, readme, plot = report.RESULTS, report.README, report.PLOT
    run_id = datetime.datetime.now().strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    t0 = time.perf_counter()
    status = {}
    for suite in suites:
        status[suite] = run_suite(suite, results, run_id, args, rest)
    total = time.perf_counter() - t0
    print("\n=== suites: " + ", ".join(f"{s} {sec:.0f} s (exit {rc})"
                                      for s, (rc, sec) in status.items())
          + f"; total {total:.0f} s")
    _, table = report.build(results, readme, plot)
    print("\n" + table)
    if args.quick:
        print(f"\nquick run: results and their report in {results}; "
              "benchmarks/README.md and ratios.png not rewritten")
    failed = [s for s, (rc, _) in status.items() if rc != 0]
    if failed:
        print(f"failed suites: {', '.join(failed)} (see the table)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
