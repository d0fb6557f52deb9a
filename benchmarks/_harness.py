"""Interleaved timing of fastnn against its peers, inside one pytest-benchmark test.

pytest-benchmark times the fastnn callable at 2 threads (``benchmark.pedantic``); the
``setup`` hook it calls before every round times, once each, all the other contenders
(fastnn at 1 thread, NumPy, PyTorch, the copy that measures memory bandwidth), in
forward order on even rounds and reversed on odd ones.  So the run reads
F2 | f1 A B C F2 | C B A f1 F2 | ...: every contender is measured between two
measurements of fastnn, under the same machine load, and round i of a peer pairs with
round i of fastnn.  Statistics: min ("best"), median, and the median of the per-round
ratios peer / fastnn (robust to the load drifting between rounds).

Every contender is called a few times before timing (first-touch page faults, lazy
initialisation, thread-pool start-up), and its first output is checked against
fastnn's so that peers and fastnn are known to compute the same thing.  The cyclic
garbage collector is off during the measurement.
"""
import gc
import math
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

FASTNN = "fastnn"


@dataclass
class Contender:
    """One way of doing a case's work.  `family` groups the thread counts of one peer
    ("torch autograd" at 1 and 2 threads); a family's result is its faster thread count.
    `skip`, when set, says why the contender is absent (e.g. "torch not installed")."""
    family: str
    threads: Optional[int]
    fn: Optional[Callable] = None
    skip: Optional[str] = None
    check: bool = True          # compare its first output with fastnn's
    nbytes: Optional[int] = None  # STREAM-counted bytes per call, when it differs from the case's

    @property
    def name(self):
        return self.family if self.threads is None else f"{self.family} {self.threads}t"


@dataclass
class Target:
    """kind "speedup": fastnn 2t must be >= `min` x faster than the fastest of `vs`
    (peer families); kind "bandwidth": fastnn 2t's GB/s must be >= `min` of the GB/s of
    the family `vs[0]` (the copy) at its faster thread count."""
    kind: str
    min: float
    vs: tuple

    def describe(self):
        if self.kind == "speedup":
            return f">= {self.min:g}x vs {' / '.join(self.vs)}"
        return f">= {self.min:.0%} of {self.vs[0]} GB/s"


@dataclass
class Case:
    name: str
    fastnn: Callable[[int], Callable]   # n_threads -> the callable
    peers: list
    nbytes: Optional[int] = None        # STREAM-counted minimal bytes per call
    flops: Optional[int] = None
    target: Optional[Target] = None
    rtol: float = 1e-3                  # output check: max |a - b| <= rtol * max |fastnn|
    gap: float = 0.0                    # seconds of sleep before each timed call
    gap_busy: bool = False              # busy-wait the gap instead (the core stays awake)
    note: str = ""
    fastnn_threads: tuple = (2, 1)      # the first is the one pytest-benchmark times
    contenders: list = field(init=False)

    def __post_init__(self):
        self.contenders = [Contender(FASTNN, t, self.fastnn(t)) for t in self.fastnn_threads]
        self.contenders += list(self.peers)


def _arrays(out):
    """A callable's result as a flat list of float64 NumPy arrays (tensors converted)."""
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _arrays(o)]
    if hasattr(out, "detach"):            # torch tensor
        out = out.detach().numpy()
    return [np.array(out, dtype=np.float64, copy=True)]


def _check(case, ref, c, out):
    got = _arrays(out)
    if len(got) != len(ref):
        raise AssertionError(f"{case.name}: {c.name} returned {len(got)} arrays, "
                             f"fastnn {len(ref)}")
    for i, (a, b) in enumerate(zip(ref, got)):
        if a.size != b.size:
            raise AssertionError(f"{case.name}: {c.name} output {i} has {b.size} "
                                 f"values, fastnn's has {a.size}")
        scale = float(np.max(np.abs(a))) if a.size else 0.0
        err = float(np.max(np.abs(a.ravel() - b.ravel()))) if a.size else 0.0
        if not err <= case.rtol * max(scale, 1e-30):
            raise AssertionError(f"{case.name}: {c.name} output {i} differs from fastnn's "
                                 f"by {err:.3g} (scale {scale:.3g})")


def _time_once(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _cpu_times():
    """(busy seconds of the whole machine, CPU seconds of this process), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / hz   # minus idle and iowait
    t = os.times()
    return busy, t.user + t.system


def foreign_load(before, after, seconds):
    """Cores' worth of CPU that other processes used between two _cpu_times()."""
    if not before or not after or seconds <= 0:
        return None
    return max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / seconds)


def wait_for_idle(max_wait, threshold, window=0.5):
    """Sleep until other processes use < `threshold` cores over a `window`, at most
    `max_wait` seconds; returns the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait:
        a = _cpu_times()
        time.sleep(window)
        load = foreign_load(a, _cpu_times(), window)
        if load is None or load < threshold:
            break
    return time.perf_counter() - t0


class LoadMonitor:
    """The CPU other processes use while a case runs, per round.

    /proc/stat counts in 10 ms ticks, so rounds are grouped into windows of at least
    `window` seconds and each round gets its window's load.  After a window with more
    than `threshold` cores of foreign load, it waits for quiet (within `wait_budget`
    seconds for the whole case)."""

    def __init__(self, threshold=0.25, wait_budget=15.0, window=0.2):
        self.threshold, self.budget, self.window = threshold, wait_budget, window
        self.loads, self.pending, self.waited = [], 0, 0.0
        self.start_case = None

    def _open(self):
        self.t0, self.c0 = time.perf_counter(), _cpu_times()

    def begin(self):
        """Before the rounds: wait for quiet, then open the first window."""
        if self.budget > 0:
            self.waited += wait_for_idle(self.budget, self.threshold)
        self._open()
        self.start_case = (self.t0, self.c0)

    def _close(self):
        now = time.perf_counter()
        load = foreign_load(self.c0, _cpu_times(), now - self.t0)
        self.loads += [load] * self.pending
        self.pending = 0
        return load

    def round(self):
        """At the start of every round."""
        if self.pending and time.perf_counter() - self.t0 >= self.window:
            load = self._close()
            if load is not None and load > self.threshold and self.waited < self.budget:
                self.waited += wait_for_idle(self.budget - self.waited, self.threshold)
            self._open()
        self.pending += 1

    def end(self):
        if self.pending:
            self._close()
        t0, c0 = self.start_case
        return foreign_load(c0, _cpu_times(), time.perf_counter() - t0)

    def clean(self):
        """(indices of the rounds to keep, noisy): the quiet rounds when there are
        enough of them (at least 5 and a third of all), else every round, noisy."""
        quiet = [i for i, v in enumerate(self.loads) if v is None or v <= self.threshold]
        if len(quiet) == len(self.loads) or len(quiet) >= max(5, len(self.loads) / 3):
            return quiet, False
        return list(range(len(self.loads))), True


def _summary(samples):
    return {"min": min(samples), "median": statistics.median(samples), "n": len(samples)}


def _pause(case):
    """The case's gap before a timed call: a sleep, or a busy wait (on this VM a core
    left idle for 0.15 s ran the next short call ~10 % slower)."""
    if not case.gap:
        return
    if not case.gap_busy:
        time.sleep(case.gap)
        return
    end = time.perf_counter() + case.gap
    while time.perf_counter() < end:
        pass


def run_case(benchmark, case, budget, min_rounds, max_rounds, wait_idle=0.0, warmup=3,
             threshold=0.25):
    """Measure `case` interleaved; returns (and stores in benchmark.extra_info) a dict
    of per-contender statistics, family bests, ratios and the target verdict.
    Rounds during which other processes used more than `threshold` cores are left out
    of the statistics when enough quiet rounds remain; `wait_idle` bounds the seconds
    spent waiting for quiet, per case."""
    live = [c for c in case.contenders if c.fn is not None]
    timed, others = live[0], live[1:]
    monitor = LoadMonitor(threshold, wait_idle)
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        ref = _arrays(timed.fn())
        for c in others:
            out = c.fn()
            if c.check:
                _check(case, ref, c, out)
            del out
        # warm-up rounds, interleaved like the real ones; the last one sizes the run
        for _ in range(warmup - 1):
            round_time = sum(_time_once(c.fn) for c in live)
        round_time += case.gap * len(live)
        rounds = max(min_rounds, min(max_rounds, int(budget / max(round_time, 1e-9))))

        samples = {c.name: [] for c in others}
        state = {"round": 0}

        def setup():
            monitor.round()
            order = others if state["round"] % 2 == 0 else others[::-1]
            for c in order:
                _pause(case)
                samples[c.name].append(_time_once(c.fn))
            state["round"] += 1
            _pause(case)

        monitor.begin()
        wall0 = time.perf_counter()
        if benchmark.enabled:
            benchmark.pedantic(timed.fn, setup=setup, rounds=rounds, iterations=1)
            samples[timed.name] = list(benchmark.stats.stats.data)
        else:   # --benchmark-disable: keep the same schedule, timed here
            samples[timed.name] = []
            for _ in range(rounds):
                setup()
                samples[timed.name].append(_time_once(timed.fn))
        seconds = time.perf_counter() - wall0
        load = monitor.end()
    finally:
        if gc_was_enabled:
            gc.enable()
    keep, noisy = monitor.clean()
    result = summarise(case, {k: [v[i] for i in keep] for k, v in samples.items()})
    result["raw"] = raw_rounds(samples, monitor.loads, keep)
    result.update(
        rounds=rounds, rounds_kept=len(keep), noisy=noisy, seconds=seconds,
        foreign_load=load,                         # cores, over the whole case
        foreign_load_max=max((v for v in monitor.loads if v is not None), default=None),
        waited_for_idle=monitor.waited, load_threshold=threshold)
    benchmark.extra_info.update(result)
    return result


def raw_rounds(samples, loads, keep):
    """Every round's data, for a closer look at odd medians, as compact strings (the
    JSON file is indented one number a line otherwise): per contender the times in µs,
    the other processes' load per round (cores, "nan" where unknown), the kept rounds."""
    return {"unit": "µs",
            "samples": {k: " ".join(f"{x * 1e6:.1f}" for x in v) for k, v in samples.items()},
            "round_load": " ".join("nan" if x is None else f"{x:.3f}" for x in loads),
            "kept": " ".join(map(str, keep))}


def _median_ratio(num, den):
    return statistics.median(a / b for a, b in zip(num, den))


def summarise(case, samples):
    """Per-contender stats, each family's faster thread count, ratios vs fastnn 2t
    (peer time / fastnn time: > 1 means fastnn is faster), GB/s, and the verdict."""
    fast = case.contenders[0]
    fs = samples[fast.name]
    contenders = []
    for c in case.contenders:
        row = {"family": c.family, "threads": c.threads, "name": c.name}
        if c.fn is None:
            row["skip"] = c.skip
        else:
            s = samples[c.name]
            row.update(_summary(s))
            row["ratio_best"] = row["min"] / min(fs)
            row["ratio_paired_median"] = _median_ratio(s, fs)
            nbytes = c.nbytes or case.nbytes
            if nbytes:
                row["nbytes"] = nbytes
                row["gbps_best"] = nbytes / row["min"] / 1e9
                row["gbps_median"] = nbytes / row["median"] / 1e9
            if case.flops and c.nbytes is None:
                row["gflops_best"] = case.flops / row["min"] / 1e9
        contenders.append(row)

    families = {}
    for row in contenders:
        fam = families.setdefault(row["family"], {"family": row["family"], "rows": []})
        fam["rows"].append(row)
    for fam in families.values():
        live = [r for r in fam["rows"] if "skip" not in r]
        if live:
            fam["best"] = min(live, key=lambda r: r["median"])["name"]
        else:
            fam["skip"] = fam["rows"][0]["skip"]
        del fam["rows"]

    out = {"case": case.name, "note": case.note, "nbytes": case.nbytes, "flops": case.flops,
           "contenders": contenders, "families": list(families.values())}
    if case.target:
        out["target"] = _verdict(case, samples, contenders, families)
    return out


def _verdict(case, samples, contenders, families):
    t = case.target
    fast = case.contenders[0]
    fs = samples[fast.name]
    by_name = {r["name"]: r for r in contenders}
    v = {"kind": t.kind, "min": t.min, "describe": t.describe()}
    if t.kind == "speedup":
        cands = [by_name[families[f]["best"]] for f in t.vs if "best" in families[f]]
        missing = [f"{f} ({families[f]['skip']})" for f in t.vs if "best" not in families[f]]
        if not cands:
            v.update(result="n/a", why="no peer measured: " + ", ".join(missing))
            return v
        peer = min(cands, key=lambda r: r["median"])
        ratio = _median_ratio(samples[peer["name"]], fs)
        v.update(vs=peer["name"], value=ratio, ratio_best=peer["ratio_best"],
                 missing=missing, result="PASS" if ratio >= t.min else "MISS")
    else:  # bandwidth vs the copy family at its faster thread count
        fam = families.get(t.vs[0], {})
        if "best" not in fam:
            v.update(result="n/a", why="copy not measured")
            return v
        copy = by_name[fam["best"]]
        cs = samples[copy["name"]]
        # GB/s ratio per round: (case bytes / t_fastnn) / (copy bytes / t_copy)
        frac = statistics.median(case.nbytes / f / (copy["nbytes"] / c) for f, c in zip(fs, cs))
        best = (case.nbytes / min(fs)) / (copy["nbytes"] / min(cs))
        v.update(vs=copy["name"], value=frac, ratio_best=best,
                 result="PASS" if frac >= t.min else "MISS")
    return v


def fmt_time(s):
    if s is None or (isinstance(s, float) and math.isnan(s)):
        return "-"
    if s >= 0.9995:             # what rounds to 1000 ms is shown as seconds
        return f"{s:.2f} s"
    if s >= 0.9995e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def summary_line(case, res):
    """One line per case for the pytest output (-s): each contender's best time, the
    target's verdict, and how many rounds survived the load check."""
    best = {r["name"]: r for r in res["contenders"] if "min" in r}
    parts = [f"{n} {fmt_time(r['min'])}" for n, r in best.items()]
    t = res.get("target")
    if t:
        parts.append(f"target {t['describe']}: {t.get('value', float('nan')):.3g} "
                     f"{t['result']}")
    noisy = ", NOISY" if res["noisy"] else ""
    return (f"{case.name} ({res['rounds_kept']} of {res['rounds']} rounds, other load "
            f"{res['foreign_load'] or 0:.2f}{noisy}): " + "; ".join(parts))
