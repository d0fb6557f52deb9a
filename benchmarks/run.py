"""Run the benchmark suite and rewrite benchmarks/README.md.

    python benchmarks/run.py [--label NAME] [--quick] [-k EXPR] [pytest args ...]

Runs pytest-benchmark on benchmarks/ (results in benchmarks/results/NAME.json), then
benchmarks/report.py over every results file.  Run from anywhere; pytest runs from the
repository root so that an in-place build of fastnn is the one imported.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--label", default="default",
                    help="name of this run: results/LABEL.json and its README section")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 0.3 s and at least 3 rounds per case, no idle wait; "
                         "results to a temporary file, README.md left alone")
    ap.add_argument("-k", dest="select", help="only the cases matching this pytest -k")
    args, rest = ap.parse_known_args()

    if args.quick:
        final = os.path.join(tempfile.mkdtemp(prefix="fastnn-bench-"), f"{args.label}.json")
    else:
        final = os.path.join(HERE, "results", f"{args.label}.json")
        os.makedirs(os.path.dirname(final), exist_ok=True)
    # pytest writes a hidden partial file, moved into place only when the run wrote it:
    # an interrupted run leaves the previous results (and README.md) as they were
    out = os.path.join(os.path.dirname(final), f".{args.label}.partial.json")
    if os.path.exists(out):
        os.remove(out)
    cmd = [sys.executable, "-m", "pytest", "benchmarks", "-p", "no:cacheprovider",
           "--benchmark-disable-gc", "--benchmark-json", os.path.relpath(out, ROOT),
           "--bench-label", args.label, "--benchmark-columns=min,median,rounds", "-s"]
    if args.quick:
        cmd += ["--bench-budget", "0.3", "--bench-min-rounds", "3", "--bench-wait-idle", "0"]
    if args.select:
        cmd += ["-k", args.select]
    cmd += rest
    print("+", " ".join(cmd), flush=True)
    rc = subprocess.call(cmd, cwd=ROOT)
    if not os.path.exists(out):
        print("no results written; previous results and README.md left as they were")
        return rc or 1
    os.replace(out, final)
    if args.quick:
        print(f"quick run: results in {final}; README.md not rewritten")
        return rc
    sys.path.insert(0, HERE)
    import report
    report.main()
    return rc


if __name__ == "__main__":
    sys.exit(main())
