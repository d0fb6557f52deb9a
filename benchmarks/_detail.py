"""Detail sections of benchmarks/README.md for the harness-based pytest suites
(test_kernels.py, bench_mlp.py): one section per pytest-benchmark JSON file, every
contender at 1 and 2 threads, throughput, targets, and the run's environment."""
import json
import os

from _harness import FASTNN, fmt_time

HERE = os.path.dirname(os.path.abspath(__file__))
COPY = "copy"

METHOD = """\
The kernel cases (`benchmarks/cases.py`, run by `benchmarks/test_kernels.py`) call
fastnn's public functions in `fastnn.functional` with `check_finite=False`, timed in the
same run and the same rounds as their peers: the NumPy reference
(`fastnn/reference.py`), hand-written NumPy float32 versions, PyTorch CPU at its faster
thread count, and a large array copy that measures the memory bandwidth.

- **Interleaved, paired.** Each case is one pytest-benchmark test.  pytest-benchmark
  times fastnn on 2 threads (`benchmark.pedantic`); its `setup` hook, called before every
  round, times every other contender once (fastnn on 1 thread, the peers, the copy), in
  forward order on even rounds and reversed on odd ones.  So every contender runs between
  two fastnn runs, and round *i* of a peer pairs with round *i* of fastnn.
  Reported: median and best (min) per contender, and two ratios, always
  *peer time / fastnn 2-thread time* (> 1: fastnn is faster): best against best, and the
  median over rounds of the paired ratio (robust to load that drifts between rounds).
  Targets are judged on the median paired ratio.
- **Warm-up and checks.** Every callable runs 3 times before timing (first-touch page
  faults, lazy initialisation, thread pools) and its first output is compared with
  fastnn's, so every peer is known to compute the same result.  The garbage collector is
  off while a case is timed.  Rounds per case: as many as fit in `--bench-budget` seconds,
  at least 15, at most 400.
- **Allocation, apples to apples.** fastnn's functional API allocates its outputs on
  every call, and so do NumPy's and PyTorch's functions here: outputs of 64 MB (16M
  float32) are fresh `mmap`s whose pages are faulted in on every call, by everyone.  The
  exceptions, named in the table: the copy writes into a preallocated array (the
  bandwidth yardstick, as STREAM does), `sgd_update` works in place for all but the
  reference, and in the relu / tanh bandwidth cases fastnn writes into preallocated
  arrays through its public `out=` (the kernel's speed, as the copy's), with a
  "fastnn, allocating outputs" row for the same public call with fresh outputs.  The
  "copy, allocating" row is the same copy into a fresh array each call.
  With transparent huge pages in `madvise` mode, NumPy (so fastnn too) asks for huge
  pages for large arrays; PyTorch's CPU allocator does not unless
  `THP_MEM_ALLOC_ENABLE=1` is set, so its fresh 64 MB outputs fault in 4 KB pages, which
  dominates its 16M-element times (set it for the whole command, with its own `--label`,
  to see PyTorch with huge pages).
- **Bandwidth, STREAM-counted.** Bytes = every array read once + every array written
  once: the copy moves 8 bytes per float (64M floats: 512 MB); relu / tanh / sigmoid
  forward + backward on n floats move 20n bytes (forward reads x, writes y: 8n; backward
  reads dout and x or y, writes dx: 12n).  Achieved GB/s is compared with the copy's GB/s
  at its faster thread count, the machine's copy bandwidth (1 thread: `np.copyto`;
  2 threads: two Python threads each copying a half with `np.copyto`, which releases
  the GIL).
- **Threads.** fastnn runs with `n_threads=1` and `2` (for `linear`, whose GEMMs
  follow BLAS's thread count, BLAS is also limited to t threads around the call, with
  threadpoolctl, as for NumPy; a 0.15 s pause before every timed call there lets the
  other OpenBLAS pool's spinning threads go to sleep).  PyTorch runs at 1 and 2 threads
  (`torch.set_num_threads` before each call) and is reported at its faster count; NumPy
  ufuncs are single-threaded; NumPy's BLAS runs at 1 and 2 threads (threadpoolctl).
- **Load from other processes.** The machine has 2 cores: any other process (a
  compiler, a test run) slows 2-thread runs the most, by whole scheduler time slices.
  The suite reads /proc/stat between rounds (in windows of >= 0.2 s: it counts in 10 ms
  ticks): rounds during which other processes used more than 0.25 cores are left out of
  every statistic when at least 5 rounds and a third of all remain quiet (else all are
  kept), and after such a window it waits for quiet (at most `--bench-wait-idle`
  seconds per case, including a wait before the first round).  Below each case: rounds
  kept of rounds run, and the other processes' load (cores) over the case and its
  worst window.  pytest-benchmark's own table and JSON `stats` hold all rounds; every
  round's time per contender and its load are in the JSON's `extra_info.raw`.
- **Missing peers** (torch not installed, a changed private API) are listed as skipped,
  with the reason, never estimated.
"""


def load(paths):
    """[{path, info, cases}] of pytest-benchmark JSON files, oldest run first."""
    runs = []
    for p in paths:
        with open(p) as f:
            data = json.load(f)
        info = data.get("machine_info", {}).get("fastnn_bench", {})
        cases = [b["extra_info"] for b in data.get("benchmarks", []) if b.get("extra_info")]
        runs.append({"path": p, "info": info, "cases": cases})
    runs.sort(key=lambda r: r["info"].get("date", ""))
    return runs


def _by_name(case):
    return {r["name"]: r for r in case["contenders"]}


def _cell(row):
    if row is None:
        return "-"
    if "skip" in row:
        return f"skipped ({row['skip']})"
    return f"{fmt_time(row['median'])} / {fmt_time(row['min'])}"


def _copy_best(case):
    """The copy at its faster thread count (the machine's copy bandwidth), or None."""
    fam = next((f for f in case["families"] if f["family"] == COPY and "best" in f), None)
    return _by_name(case)[fam["best"]] if fam else None


def _pct_of_copy(case, row):
    copy = _copy_best(case)
    if not copy or "gbps_best" not in row:
        return ""
    return f" ({row['gbps_best'] / copy['gbps_best']:.0%} of copy)"


def _throughput(case, row):
    if "gbps_best" in row:
        pct = "" if row["family"] == COPY else _pct_of_copy(case, row)
        return f"{row['gbps_best']:.1f} GB/s{pct}"
    if "gflops_best" in row:
        return f"{row['gflops_best']:.0f} GFLOP/s"
    return ""


def _verdict(t):
    if t["result"] == "n/a":
        return "n/a: " + t["why"]
    if t["kind"] == "speedup":
        val, best = f"{t['value']:.2f}x", f"{t['ratio_best']:.2f}x"
    else:
        val, best = f"{t['value']:.0%}", f"{t['ratio_best']:.0%}"
    return f"**{t['result']}** {val} (median paired vs {t['vs']}; best/best {best})"


def table(case_list):
    """The markdown table of every contender of every case of one run."""
    lines = ["| case | contender | 1 thread: median / best | 2 threads: median / best "
             "| best (at threads) | ratio: best/best, median paired | throughput at best "
             "| target | result |",
             "|---|---|---|---|---|---|---|---|---|"]
    for case in case_list:
        rows = _by_name(case)
        load, peak = case.get("foreign_load"), case.get("foreign_load_max")
        head = (f"{case['case']}<br><sub>{case['rounds_kept']} of {case['rounds']} rounds"
                + (f"; other load {load:.2f}, max {peak:.2f}" if load is not None else "")
                + ("; **noisy: too few quiet rounds, all kept**" if case.get("noisy") else "")
                + "</sub>")
        for fam in case["families"]:
            name = fam["family"]
            one = next((r for r in case["contenders"]
                        if r["family"] == name and r["threads"] in (1, None)), None)
            two = next((r for r in case["contenders"]
                        if r["family"] == name and r["threads"] == 2), None)
            if "skip" in fam:
                lines.append(f"| {head} | {name} | skipped ({fam['skip']}) | | | | | | |")
                head = ""
                continue
            best = rows[fam["best"]]
            if name == FASTNN:
                t = case.get("target")
                ratio = "(reference)"
                best_row = rows.get(f"{FASTNN} 2t", best)
                best_cell = f"{fmt_time(best_row['min'])} (2)"
                target = t["describe"] if t else ""
                result = _verdict(t) if t else ""
            else:
                best_row = best
                best_cell = f"{fmt_time(best['min'])} ({best['threads']})"
                ratio = f"{best['ratio_best']:.2f}x, {best['ratio_paired_median']:.2f}x"
                target = result = ""
            lines.append(f"| {head} | {name} | {_cell(one)} | {_cell(two)} | {best_cell} "
                         f"| {ratio} | {_throughput(case, best_row)} | {target} | {result} |")
            head = ""
    return "\n".join(lines)


def _env_lines(info):
    out = []
    cpu = info.get("cpu", {})
    out.append(f"- CPU: {cpu.get('model')}, {cpu.get('logical_cpus')} logical CPUs "
               f"({cpu.get('usable_cpus')} usable), SIMD: {', '.join(cpu.get('simd', []))}")
    out.append(f"- Platform: {info.get('platform')}")
    v = info.get("versions", {})
    out.append("- Versions: " + ", ".join(f"{k} {v[k]}" for k in v))
    for lib in info.get("runtimes", []):
        if lib.get("user_api") == "blas":
            out.append(f"- BLAS: {lib.get('internal_api')} {lib.get('version')}, "
                       f"architecture {lib.get('architecture')}, "
                       f"num_threads {lib.get('num_threads')}, "
                       f"{lib.get('threading_layer')} threads ({lib.get('file')})")
        elif lib.get("user_api") == "openmp":
            omp = [x for x in info.get("runtimes", []) if x.get("user_api") == "openmp"]
            shared = (" (the only one: fastnn and torch share it)"
                      if len(omp) == 1 and "torch" in info.get("versions", {})
                      and info["versions"]["torch"] != "not installed" else "")
            out.append(f"- OpenMP runtime: {lib.get('file')}{shared}")
    if info.get("torch_default_threads") is not None:
        out.append(f"- PyTorch: MKL linked in (not listed by threadpoolctl), default "
                   f"{info['torch_default_threads']} threads")
    env = info.get("env", {})
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        val = env.get(k)
        out.append(f"- `{k}`: " + (f"**set** to `{val}` during the run" if val is not None
                                  else "**not set** during the run"))
    others = [f"`{k}={val}`" for k, val in env.items()
              if val is not None and k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")]
    out.append("- Other thread / BLAS variables: " + (", ".join(others) or "none set"))
    out.append(f"- Transparent huge pages: `{info.get('transparent_hugepage')}`")
    loads = [f"{k} {info[f'loadavg_{k}']}" for k in ("start", "end")
             if info.get(f"loadavg_{k}")]
    if loads:
        out.append("- Load average (1, 5, 15 min) at " + "; at ".join(loads))
    b = info.get("fastnn_build", {})
    dirty = b.get("uncommitted") or []
    out.append(f"- fastnn: commit {b.get('commit')}"
               + (f" with uncommitted changes ({'; '.join(d.strip() for d in dirty)})"
                  if dirty else "") + f"; kernels built {b.get('kernels_built')}")
    if info.get("date"):
        out.append(f"- Date: {info['date']}"
                   + (f" to {info['finished']}" if info.get("finished") else ""))
    if info.get("pytest_args"):
        out.append(f"- pytest arguments: `{' '.join(info['pytest_args'])}`")
    return out


def _copy_line(cases):
    for case in cases:
        rows = _by_name(case)
        got = [rows.get(f"{COPY} {t}t") for t in (1, 2)]
        if all(r and "gbps_best" in r for r in got):
            return ("- Copy bandwidth (64M float32, np.copyto into a preallocated array, "
                    f"STREAM-counted), measured in \"{case['case']}\": "
                    + ", ".join(f"{r['threads']} thread(s) {r['gbps_best']:.1f} GB/s best, "
                                f"{r['gbps_median']:.1f} median" for r in got))
    return None


def section(run):
    """The markdown section of one run: environment, table, targets, case notes."""
    info = run["info"]
    label = info.get("label", os.path.splitext(os.path.basename(run["path"]))[0])
    coretype = info.get("env", {}).get("OPENBLAS_CORETYPE")
    out = [f"## Results: run `{label}` "
           f"(OPENBLAS_CORETYPE {'= ' + coretype if coretype else 'unset'})", ""]
    out += _env_lines(info)
    copy = _copy_line(run["cases"])
    if copy:
        out.append(copy)
    out += ["", f"Raw data: `{os.path.relpath(run['path'], HERE)}`.  Times are median / "
            "best (min) per call; ratio = peer time / fastnn 2-thread time (> 1: fastnn "
            "faster), the peer at its faster thread count; throughput in STREAM-counted "
            "GB/s (or GFLOP/s), % of the copy's best GB/s (at its faster thread count).", ""]
    out.append(table(run["cases"]))
    verdicts = [(c["case"], c["target"]) for c in run["cases"] if c.get("target")]
    if verdicts:
        out += ["", "Targets (fastnn on 2 threads):", ""]
        out += [f"- {name}: {t['describe']}: {_verdict(t)}" for name, t in verdicts]
    notes = [f"- {c['case']}: {c['note']}" for c in run["cases"] if c.get("note")]
    if notes:
        out += ["", "Case notes:", ""] + notes
    return "\n".join(out)
