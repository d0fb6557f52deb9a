"""The common result schema of every benchmark suite, its writer and reader, and the
adapters that turn each suite's own output into it.

One JSON file per suite, ``<results>/summary/<suite>.json``::

    {"schema": "fastnn-bench-suite/1", "suite": "kernels", "status": "ok",
     "reason": null, "run_id": "...", "started": "...", "finished": "...",
     "quick": false, "command": "...", "env": {... _env.environment() ...},
     "detail_md": "markdown the suite printed (may be empty)",
     "rows": [ROW, ...]}

A ROW compares fastnn with one peer in one case (the peer at its faster thread count):
``suite, case, contender, peer_threads, fastnn_threads, fastnn_median_s, fastnn_best_s,
median_s, best_s, ratio_median, ratio_best, target, target_min, target_value, status,
notes``.  Ratios are always *peer time / fastnn time* (> 1: fastnn is faster):
``ratio_median`` the median over rounds of the paired ratio, ``ratio_best`` best against
best.  ``target_value`` is the number the target is judged on (a ratio, or a fraction of
the copy's GB/s for bandwidth targets).  ``status`` is one of STATUSES: PASS / MISS (the
row carries a target), n/a (target not measurable), info (no target on this row),
skipped (the peer is missing: ``notes`` says why; no numbers).

A suite that did not finish (failed, or skipped as a whole because a peer library is
missing) leaves its last good ``<suite>.json`` alone and writes
``<suite>.attempt.json`` with status "failed" or "skipped" and the reason.
"""
import datetime
import json
import math
import os
import statistics

SCHEMA = "fastnn-bench-suite/1"
SUITES = ("kernels", "linear", "mlp", "autograd", "word2vec", "lm", "rnn")
ROW_KEYS = ("suite", "case", "contender", "peer_threads", "fastnn_threads",
            "fastnn_median_s", "fastnn_best_s", "median_s", "best_s", "ratio_median",
            "ratio_best", "target", "target_min", "target_value", "status", "notes")
STATUSES = ("PASS", "MISS", "n/a", "info", "skipped")
SUITE_STATUSES = ("ok", "failed", "skipped")
FASTNN = "fastnn"


def now():
    """The current local time, ISO 8601 to the second."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _number(v, key):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"row field {key!r} must be a number or None, got {v!r}")
    v = float(v)
    return None if math.isnan(v) else v     # NaN is not JSON: "not measured" is None


def make_row(suite, case, contender, **fields):
    """One summary row; every field of ROW_KEYS not given is None (status: "info").
    Raises KeyError for an unknown field, ValueError for an unknown status."""
    unknown = set(fields) - set(ROW_KEYS)
    if unknown:
        raise KeyError(f"unknown row field(s): {sorted(unknown)}")
    row = {k: None for k in ROW_KEYS}
    row.update(fields, suite=suite, case=case, contender=contender)
    row["status"] = row["status"] or "info"
    if row["status"] not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {row['status']!r}")
    for k in ("fastnn_median_s", "fastnn_best_s", "median_s", "best_s", "ratio_median",
              "ratio_best", "target_min", "target_value"):
        row[k] = _number(row[k], k)
    for k in ("suite", "case", "contender"):
        if not isinstance(row[k], str) or not row[k]:
            raise ValueError(f"row field {k!r} must be a non-empty string, got {row[k]!r}")
    return row


def suite_record(suite, rows, status="ok", reason=None, detail_md="", env=None,
                 quick=False, command=None, run_id=None, started=None):
    """A whole suite's result, ready for write_suite."""
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {SUITES}, got {suite!r}")
    if status not in SUITE_STATUSES:
        raise ValueError(f"status must be one of {SUITE_STATUSES}, got {status!r}")
    if status != "ok" and not reason:
        raise ValueError(f"a suite with status {status!r} needs a reason")
    return {"schema": SCHEMA, "suite": suite, "status": status, "reason": reason,
            "run_id": run_id, "started": started or now(), "finished": now(),
            "quick": bool(quick), "command": command, "env": env or {},
            "detail_md": detail_md or "", "rows": [dict(r) for r in rows]}


def suite_path(results_dir, suite, attempt=False):
    """Where a suite's record lives: summary/<suite>.json, or .attempt.json for a
    failed / skipped run."""
    name = f"{suite}.attempt.json" if attempt else f"{suite}.json"
    return os.path.join(results_dir, "summary", name)


def write_suite(results_dir, record):
    """Write `record` atomically: a successful one to <suite>.json (removing an older
    failed attempt), a failed / skipped one to <suite>.attempt.json.  Returns the path."""
    ok = record["status"] == "ok"
    path = write_record(suite_path(results_dir, record["suite"], attempt=not ok), record)
    stale = suite_path(results_dir, record["suite"], attempt=True)
    if ok and os.path.exists(stale):
        os.remove(stale)
    return path


def write_record(path, record):
    """Check `record` and write it to `path` atomically (a partial file, renamed)."""
    check_record(record, "record")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".partial"
    with open(tmp, "w") as f:
        json.dump(record, f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


def check_record(record, where):
    """ValueError naming `where` unless `record` follows the schema."""
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        raise ValueError(f"{where}: not a {SCHEMA} record")
    if record.get("suite") not in SUITES:
        raise ValueError(f"{where}: unknown suite {record.get('suite')!r}")
    if record.get("status") not in SUITE_STATUSES:
        raise ValueError(f"{where}: unknown status {record.get('status')!r}")
    rows = record.get("rows")
    if not isinstance(rows, list):
        raise ValueError(f"{where}: 'rows' must be a list")
    for i, row in enumerate(rows):
        missing = [k for k in ROW_KEYS if k not in row]
        if missing:
            raise ValueError(f"{where}: row {i} lacks {missing}")
        if row["status"] not in STATUSES:
            raise ValueError(f"{where}: row {i} has unknown status {row['status']!r}")


def read_suite(path):
    """Load and check one record; ValueError naming the file if it is not one."""
    try:
        with open(path) as f:
            record = json.load(f)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    check_record(record, path)
    return record


def load_results(results_dir):
    """{suite: {"ok": record or None, "attempt": record or None}} for every suite of
    SUITES, from <results_dir>/summary/."""
    out = {}
    for suite in SUITES:
        got = {}
        for key, attempt in (("ok", False), ("attempt", True)):
            path = suite_path(results_dir, suite, attempt)
            got[key] = read_suite(path) if os.path.exists(path) else None
        out[suite] = got
    return out


# ------------------------------------------------------------------ adapters

def _fmt_target(t):
    text = t.get("describe", "")
    if t.get("kind") == "bandwidth":
        text += " (judged on GB/s)"
    return text


def rows_from_harness(suite, res, case=None):
    """Rows of one `_harness.run_case` result (or a pytest-benchmark `extra_info`):
    every peer family against the first contender (fastnn at its timed thread count),
    the family at its faster thread count, its target verdict on the row it names."""
    case = case or res["case"]
    contenders = res["contenders"]
    ref = contenders[0]
    by_name = {r["name"]: r for r in contenders}
    t = res.get("target") or {}
    noisy = "noisy: too few quiet rounds, all kept" if res.get("noisy") else ""
    rounds = (f"{res['rounds_kept']} of {res['rounds']} rounds"
              if res.get("rounds") is not None else "")
    rows = []
    for fam in res["families"]:
        name = fam["family"]
        if name == FASTNN:
            continue
        if "best" not in fam:
            targeted = bool(t) and name in t.get("describe", "")
            rows.append(make_row(
                suite, case, name, status="skipped", notes=fam.get("skip") or "missing",
                target=_fmt_target(t) if targeted else None))
            continue
        r = by_name[fam["best"]]
        fields = dict(peer_threads=r.get("threads"), fastnn_threads=ref.get("threads"),
                      fastnn_median_s=ref.get("median"), fastnn_best_s=ref.get("min"),
                      median_s=r["median"], best_s=r["min"],
                      ratio_median=r["ratio_paired_median"], ratio_best=r["ratio_best"],
                      notes="; ".join(x for x in (rounds, noisy) if x))
        if t and t.get("vs") == r["name"]:
            fields.update(target=_fmt_target(t), target_min=t.get("min"),
                          target_value=t.get("value"), status=t.get("result"))
        rows.append(make_row(suite, case, name, **fields))
    if t.get("result") == "n/a" and not any(r["target"] for r in rows):
        rows.append(make_row(suite, case, "(target)", status="n/a",
                             target=_fmt_target(t), notes=t.get("why")))
    return rows


def rows_from_pytest_benchmark(path, suite):
    """(rows, env) from a pytest-benchmark JSON file written by the harness-based
    pytest suites (test_kernels.py, bench_mlp.py)."""
    with open(path) as f:
        data = json.load(f)
    benches = [b for b in data.get("benchmarks", []) if b.get("extra_info")]
    names = [b["extra_info"]["case"] for b in benches]
    rows = []
    for b, name in zip(benches, names):
        label = f"{name} [{b.get('param')}]" if names.count(name) > 1 else name
        rows += rows_from_harness(suite, b["extra_info"], case=label)
    return rows, data.get("machine_info", {}).get("fastnn_bench", {})


def rows_from_word2vec(raw, target_speedup, target_scaling):
    """Rows from bench_word2vec.py's --json file: gensim 2 workers against fastnn 2
    threads (words/s of `train` calls), and fastnn 1 thread (thread scaling)."""
    times = raw["seconds"]
    fast = times["fastnn 2t"]
    wps = raw.get("best_words_per_s", {})
    case = f"word2vec skip-gram train call, {raw['tokens']:,} tokens"
    quality = raw.get("quality", {})
    rows = []
    for name, target, what in (("gensim 2t", target_speedup, "gensim"),
                               ("fastnn 1t", target_scaling, "fastnn 1 thread (scaling)")):
        if name not in times:
            rows.append(make_row("word2vec", case, what, status="skipped",
                                 notes=f"{name} not in the results"))
            continue
        peer = times[name]
        ratio = statistics.median(p / f for p, f in zip(peer, fast))
        q = quality.get(name)
        notes = (f"{len(fast)} rounds; best words/s fastnn 2t "
                 f"{wps.get('fastnn 2t', 0):,.0f}"
                 f", {name} {wps.get(name, 0):,.0f}")
        if q:
            notes += f"; {name} analogy {q[0]:.2f} %, wordsim353 {q[1]:.3f}"
        rows.append(make_row(
            "word2vec", case, what, peer_threads=int(name[-2]), fastnn_threads=2,
            fastnn_median_s=statistics.median(fast), fastnn_best_s=min(fast),
            median_s=statistics.median(peer), best_s=min(peer), ratio_median=ratio,
            ratio_best=min(peer) / min(fast), target=f">= {target:g}x vs {name}",
            target_min=target, target_value=ratio,
            status="PASS" if ratio >= target else "MISS", notes=notes))
    return rows


PYTEST_RAW = {"kernels": "default.json", "mlp": "mlp.json"}


def import_pytest_records(results_dir):
    """For a pytest suite with a stored pytest-benchmark file (default.json, mlp.json)
    but no common-schema record yet, write the record converted from that file (the
    numbers it measured, nothing else).  Returns the paths written."""
    written = []
    for suite, name in PYTEST_RAW.items():
        raw = os.path.join(results_dir, name)
        if os.path.exists(suite_path(results_dir, suite)) or not os.path.exists(raw):
            continue
        rows, env = rows_from_pytest_benchmark(raw, suite)
        rec = suite_record(suite, rows, env=env, started=env.get("date"),
                           command=f"converted from results/{name} "
                                   f"(pytest {' '.join(env.get('pytest_args', []))})")
        rec["finished"] = env.get("finished") or rec["finished"]
        written.append(write_suite(results_dir, rec))
    return written
