"""Write benchmarks/README.md and benchmarks/ratios.png from the stored results.

    python benchmarks/report.py [--results DIR] [--readme PATH] [--plot PATH]

Reads the suites' common-schema records (DIR/summary/<suite>.json, see _results.py),
the pytest-benchmark files of the kernel and MLP suites (DIR/*.json) and the curated
notes (DIR/<suite>.md); runs nothing.  `python benchmarks/run.py --report` calls it.
"""
import argparse
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _detail import METHOD, load, section, _env_lines  # noqa: E402
from _harness import fmt_time  # noqa: E402
from _plot import plot_ratios  # noqa: E402
from _results import SUITES, import_pytest_records, load_results  # noqa: E402

RESULTS = os.path.join(HERE, "results")
README = os.path.join(HERE, "README.md")
PLOT = os.path.join(HERE, "ratios.png")
PYTEST_SUITE = {"mlp": "mlp"}        # pytest-benchmark label -> suite; others: kernels

HEADER = """\
# fastnn benchmarks

Every kernel and every model of fastnn against its peers (the NumPy reference,
hand-written NumPy (+ BLAS), scikit-learn, gensim, PyTorch CPU), timed in interleaved
rounds on the same machine, in the same process.  This file is written by
`benchmarks/report.py` from `benchmarks/results/`; edit the text there, not here.

## How to run

From the repository root, with fastnn built in place
(`python setup.py build_ext --inplace`) and the peers installed
(`pip install -e '.[bench,plot]'`: pytest-benchmark, torch, gensim, matplotlib;
scikit-learn and threadpoolctl come with fastnn's own dependencies):

    python benchmarks/run.py

That one command runs every suite, one after another, each in its own process:
`kernels` (`test_kernels.py` + `cases.py` under pytest-benchmark), `linear`
(`bench_linear.py`), `mlp` (`bench_mlp.py` under pytest-benchmark), `autograd`
(`bench_autograd.py`), `word2vec` (`bench_word2vec.py`), `lm` (`bench_lm.py`, training
speed only) and `rnn` (`bench_rnn.py`).  Each writes its rows in one common schema to
`results/summary/<suite>.json` (the pytest suites also keep pytest-benchmark's raw file,
`results/default.json` and `results/mlp.json`); then this file and `ratios.png` are
rebuilt; the run prints each suite's duration at its end.  `results/<suite>.md` are
notes kept by hand (earlier runs, analysis, the LM's quality runs): the run never
changes them, they follow each suite's detail below.  Options:

- `--quick`: a smoke run of every suite (few rounds, smaller data); results, README and
  plot go to a temporary directory, this file is left alone.
- `--only kernels,lm`: only these suites; the others keep their stored results.
- `--report`: run nothing, rebuild this file and `ratios.png` from the stored results.
- `--label NAME` (kernel suite's raw file and section name), `-k EXPR` (a subset of the
  pytest cases); other arguments go to pytest (kernels, mlp), e.g. `--bench-budget 8`.

To see the effect of the machine's OpenBLAS settings, run the kernels once more
without them: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py
--only kernels --label no-coretype`.  The summary's scheduling column shows how each
suite's process was scheduled (e.g. a word2vec run at real-time priority, `chrt -f 50`,
on a machine shared with other jobs: fine for two OpenMP threads on two cores, but not
for a BLAS thread pool, whose spinning threads then starve each other).

Conventions everywhere: ratio = *peer time / fastnn time* (> 1: fastnn is faster),
fastnn at 2 threads, the peer at its faster thread count (1 or 2); "median" is the
median over rounds of the per-round paired ratio (every peer is timed between two fastnn
runs), "best" is best against best.  Targets are judged on the median paired ratio.
A peer missing from the environment is listed as skipped with the reason, a suite that
failed as FAILED with its error, never estimated.
"""


def _x(v, pct=False):
    if v is None:
        return "-"
    return f"{v:.0%}" if pct else f"{v:.2f}x"


def _status(row):
    s = row["status"]
    if s in ("PASS", "MISS"):
        noisy = " (noisy)" if "noisy" in (row.get("notes") or "") else ""
        return f"**{s}**{noisy}"
    if s == "skipped":
        return f"skipped: {row['notes']}"
    if row["contender"] == "(all)":
        return row["notes"] or ""
    if s == "n/a":
        return "n/a" + (f": {row['notes']}" if row.get("notes") else "")
    return ""


def _target(row):
    if not row.get("target"):
        return ""
    pct = "GB/s" in row["target"]
    got = row.get("target_value")
    return row["target"] + ("" if got is None else f": {_x(got, pct)}")


def _threads(row, key):
    t = row.get(key)
    return f" ({t}t)" if t else ""


def _state(results, suite):
    """(record whose rows are shown or None, text of the suite's state)."""
    ok, att = results[suite]["ok"], results[suite]["attempt"]
    if att and (not ok or att["finished"] >= ok["finished"]):
        what = "FAILED" if att["status"] == "failed" else "skipped"
        text = f"**{what}** {att['finished']}: {att['reason']}"
        if ok:
            text += f"; rows below from the last good run, {ok['finished']}"
        return ok, text
    if ok:
        return ok, "ok" + (" (quick smoke run)" if ok.get("quick") else "")
    return None, ("**not run**: no stored result "
                  f"(`python benchmarks/run.py --only {suite}`)")


def suites_table(results):
    """One line per suite: state, date, command, PASS / MISS counts, BLAS settings."""
    lines = ["| suite | state | finished | PASS / MISS / skipped rows | "
             "OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE | scheduling | command |",
             "|---|---|---|---|---|---|---|"]
    for suite in SUITES:
        rec, text = _state(results, suite)
        if rec is None:
            lines.append(f"| {suite} | {text} | | | | | |")
            continue
        rows = rec["rows"]
        count = " / ".join(str(sum(r["status"] == s for r in rows))
                           for s in ("PASS", "MISS", "skipped"))
        env = rec.get("env", {}).get("env", {})
        blas = ", ".join(str(env.get(k) or "unset")
                         for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"))
        sched = rec.get("env", {}).get("scheduling") or "not recorded"
        lines.append(f"| {suite} | {text} | {rec['finished']} | {count} | {blas} | {sched} | "
                     f"`{rec.get('command') or ''}` |")
    return "\n".join(lines)


def summary_rows(results):
    """Every shown row, suites in SUITES order; a suite with no rows gets one row
    that says why (failed, skipped, not run)."""
    from _results import make_row
    out = []
    for suite in SUITES:
        rec, text = _state(results, suite)
        rows = rec["rows"] if rec else []
        if rec is None or not rows or not text.startswith("ok"):
            out.append(make_row(suite, "(suite)", "(all)", status="n/a",
                                notes=text if rows or rec is None
                                else f"{text}; the run wrote no rows"))
        out += rows
    return out


def summary_table(results):
    """The markdown table: one row per case x peer."""
    lines = ["| suite | case | peer | fastnn median | peer median "
             "| ratio: median paired (best/best) | target: measured | status |",
             "|---|---|---|---|---|---|---|---|"]
    last = None
    for r in summary_rows(results):
        head = (r["suite"], r["case"])
        suite, case = (r["suite"], r["case"]) if head != last else ("", "")
        last = head
        ratio = "-" if r["ratio_median"] is None and r["ratio_best"] is None else (
            f"{_x(r['ratio_median'])} ({_x(r['ratio_best'])})")
        fast = ("-" if r["fastnn_median_s"] is None and r["fastnn_best_s"] is None else
                f"{fmt_time(r['fastnn_median_s'])}{_threads(r, 'fastnn_threads')}")
        if r["fastnn_median_s"] is None and r["fastnn_best_s"] is not None:
            fast = f"best {fmt_time(r['fastnn_best_s'])}{_threads(r, 'fastnn_threads')}"
        peer = fmt_time(r["median_s"]) if r["median_s"] is not None else (
            f"best {fmt_time(r['best_s'])}" if r["best_s"] is not None else "-")
        lines.append(f"| {suite} | {case} | {r['contender']}{_threads(r, 'peer_threads')} "
                     f"| {fast} | {peer} | {ratio} | {_target(r)} | {_status(r)} |")
    return "\n".join(lines)


def environment_section(results):
    """The environment of the newest stored run, once (every suite records its own,
    in its JSON; the suites table above shows the OpenBLAS variables of each)."""
    recs = [r for s in SUITES for r in (results[s]["ok"], results[s]["attempt"]) if r]
    recs = [r for r in recs if r.get("env")]
    if not recs:
        return "No stored run records its environment."
    newest = max(recs, key=lambda r: r["finished"])
    info = newest["env"]
    lines = [f"From the newest record (suite `{newest['suite']}`, finished "
             f"{newest['finished']}):", ""]
    lines += _env_lines(info)
    cpu = info.get("cpu", {})
    lines.append(f"- Threads: fastnn timed at `n_threads` 1 and 2 (ratios against 2), "
                 f"peers at 1 and 2 each, reported at the faster; "
                 f"{cpu.get('usable_cpus')} usable CPUs")
    return "\n".join(lines)


def demote(text, levels=2):
    """Markdown headings pushed down `levels` levels (notes included under a section)."""
    return re.sub(r"(?m)^(#+) ", lambda m: "#" * (len(m.group(1)) + levels) + " ", text)


def _notes(results_dir, suite):
    path = os.path.join(results_dir, f"{suite}.md")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        body = f.read().rstrip()
    return [f"### Notes and earlier runs (`results/{suite}.md`)", "", demote(body, 3), ""]


def detail_sections(results_dir, results):
    """Per suite: the raw pytest-benchmark sections (kernels, mlp) or the markdown the
    suite printed in its last run, then its curated notes results/<suite>.md."""
    raw = load(sorted(glob.glob(os.path.join(results_dir, "*.json"))))
    out = []
    for suite in SUITES:
        out += [f"## Detail: {suite}", ""]
        if suite == "kernels":
            out += ["### Method", "", METHOD.rstrip(), ""]
        runs = [r for r in raw if PYTEST_SUITE.get(r["info"].get("label"), "kernels")
                == suite]
        rec = results[suite]["ok"]
        if suite in ("kernels", "mlp"):
            out += [demote(section(r), 1) + "\n" for r in runs]
        elif rec and rec.get("detail_md"):
            out += [f"### Last run ({rec['finished']}: `{rec.get('command') or ''}`)", "",
                    demote(rec["detail_md"].rstrip(), 3), ""]
        att = results[suite]["attempt"]
        if att:
            out += [f"Last unsuccessful attempt ({att['finished']}): {att['status']}: "
                    f"{att['reason']}", ""]
        notes = _notes(results_dir, suite)
        out += notes
        if len(out) and out[-2:] == [f"## Detail: {suite}", ""]:
            out += ["No stored detail.", ""]
    extra = [p for p in sorted(glob.glob(os.path.join(results_dir, "*.md")))
             if os.path.splitext(os.path.basename(p))[0] not in SUITES]
    for p in extra:
        with open(p) as f:
            out += [f"## Notes: `results/{os.path.basename(p)}`", "",
                    demote(f.read().rstrip()), ""]
    return "\n".join(out)


def build(results_dir=RESULTS, readme=README, plot=PLOT):
    """Write `readme` and `plot` from `results_dir`; returns (text, summary table)."""
    for path in import_pytest_records(results_dir):
        print(f"converted the stored pytest-benchmark results to {path}")
    results = load_results(results_dir)
    table = summary_table(results)
    plot_name = os.path.relpath(plot, os.path.dirname(os.path.abspath(readme)))
    written = plot_ratios(summary_rows(results), plot)
    if written:
        plot_line = f"![ratios: peer time / fastnn time per row, log scale]({plot_name})"
    elif os.path.exists(plot):
        plot_line = (f"(`{plot_name}` was not rewritten by this report (matplotlib missing "
                     "or no ratio): it shows an earlier state of the results.)")
    else:
        plot_line = f"(`{plot_name}` not written: matplotlib is not installed.)"
    text = "\n".join([
        HEADER, "## Summary", "", suites_table(results), "", table, "", plot_line, "",
        "## Environment", "", environment_section(results), "",
        detail_sections(results_dir, results)]).rstrip() + "\n"
    with open(readme, "w") as f:
        f.write(text)
    print(f"wrote {readme}" + (f" and {written}" if written else ""))
    return text, table


def main(argv=None):
    """Command line: rebuild README.md and ratios.png from stored results."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default=RESULTS, help="results directory")
    ap.add_argument("--readme", default=README, help="markdown file to write")
    ap.add_argument("--plot", default=PLOT, help="PNG file to write")
    args = ap.parse_args(argv)
    return build(args.results, args.readme, args.plot)


if __name__ == "__main__":
    main(sys.argv[1:])
