"""The benchmark suite's common result schema and report (benchmarks/_results.py,
benchmarks/report.py) on a tiny synthetic result set: no benchmark runs here."""
import json
import math
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "benchmarks")
sys.path.insert(0, BENCH)

import _results as R  # noqa: E402
import report  # noqa: E402


def harness_result():
    """What _harness.run_case returns for a case with a measured peer carrying the
    target, a measured peer without one and a skipped peer."""
    def row(family, threads, median, best, ratio_med, ratio_best):
        return {"family": family, "threads": threads, "name": f"{family} {threads}t",
                "min": best, "median": median, "ratio_paired_median": ratio_med,
                "ratio_best": ratio_best}
    return {
        "case": "softmax (4, 3)", "rounds": 20, "rounds_kept": 18, "noisy": False,
        "contenders": [row("fastnn", 2, 1.0e-3, 0.9e-3, 1.0, 1.0),
                       row("fastnn", 1, 1.5e-3, 1.4e-3, 1.5, 1.55),
                       row("numpy", 1, 4.0e-3, 3.0e-3, 4.1, 3.33),
                       row("numpy", 2, 5.0e-3, 3.5e-3, 5.0, 3.9),
                       row("jax", 1, 2.0e-3, 1.8e-3, 2.0, 2.0),
                       {"family": "torch", "threads": None, "name": "torch",
                        "skip": "torch not installed"}],
        "families": [{"family": "fastnn", "best": "fastnn 2t"},
                     {"family": "numpy", "best": "numpy 1t"},
                     {"family": "jax", "best": "jax 1t"},
                     {"family": "torch", "skip": "torch not installed"}],
        "target": {"kind": "speedup", "min": 3.0, "describe": ">= 3x vs numpy / torch",
                   "vs": "numpy 1t", "value": 4.1, "ratio_best": 3.33, "result": "PASS"},
    }


@pytest.fixture
def results_dir(tmp_path):
    """kernels: measured rows; rnn: failed; word2vec: skipped as a whole; others none."""
    rows = R.rows_from_harness("kernels", harness_result())
    R.write_suite(str(tmp_path), R.suite_record("kernels", rows, command="synthetic",
                                                env={"cpu": {"usable_cpus": 2}}))
    R.write_suite(str(tmp_path), R.suite_record(
        "rnn", [], status="failed", reason="RuntimeError: boom in the rnn suite"))
    R.write_suite(str(tmp_path), R.suite_record(
        "word2vec", [], status="skipped", reason="gensim not installed"))
    return str(tmp_path)


def test_rows_from_harness_keeps_every_peer_and_the_verdict():
    rows = R.rows_from_harness("kernels", harness_result())
    by = {r["contender"]: r for r in rows}
    assert set(by) == {"numpy", "jax", "torch"}        # fastnn is the reference
    numpy = by["numpy"]
    assert numpy["peer_threads"] == 1 and numpy["fastnn_threads"] == 2
    assert numpy["median_s"] == 4.0e-3 and numpy["fastnn_median_s"] == 1.0e-3
    assert numpy["ratio_median"] == 4.1 and numpy["ratio_best"] == 3.33
    assert numpy["status"] == "PASS" and numpy["target_value"] == 4.1
    assert by["jax"]["status"] == "info" and by["jax"]["target"] is None
    torch = by["torch"]
    assert torch["status"] == "skipped" and torch["notes"] == "torch not installed"
    assert torch["median_s"] is None and torch["ratio_median"] is None


def test_write_read_roundtrip_and_attempts(tmp_path):
    row = R.make_row("lm", "case", "torch", median_s=float("nan"), ratio_median=2.0,
                     status="MISS", target=">= 3x vs torch", target_min=3.0)
    assert row["median_s"] is None                      # NaN stored as "not measured"
    rec = R.suite_record("lm", [row], command="x")
    path = R.write_suite(str(tmp_path), rec)
    back = R.read_suite(path)
    assert back["rows"] == [row] and back["status"] == "ok"
    # a failed rerun keeps the good record and adds an attempt; a good one clears it
    R.write_suite(str(tmp_path), R.suite_record("lm", [], status="failed", reason="x"))
    got = R.load_results(str(tmp_path))["lm"]
    assert got["ok"]["rows"] == [row] and got["attempt"]["status"] == "failed"
    R.write_suite(str(tmp_path), rec)
    assert R.load_results(str(tmp_path))["lm"]["attempt"] is None


def test_schema_errors_name_the_problem(tmp_path):
    with pytest.raises(KeyError, match="speed"):
        R.make_row("lm", "c", "p", speed=1.0)
    with pytest.raises(ValueError, match="status"):
        R.make_row("lm", "c", "p", status="GREAT")
    with pytest.raises(TypeError, match="median_s"):
        R.make_row("lm", "c", "p", median_s="1 ms")
    with pytest.raises(ValueError, match="suite"):
        R.suite_record("nosuch", [])
    with pytest.raises(ValueError, match="reason"):
        R.suite_record("lm", [], status="failed")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        R.read_suite(str(bad))
    bad.write_text(json.dumps({"schema": "other"}))
    with pytest.raises(ValueError, match="bad.json"):
        R.read_suite(str(bad))


def test_word2vec_adapter_ratios():
    raw = {"tokens": 1000, "seconds": {"fastnn 2t": [1.0, 2.0, 1.0],
                                       "gensim 2t": [3.0, 4.0, 2.5],
                                       "fastnn 1t": [1.5, 3.0, 1.6]},
           "best_words_per_s": {"fastnn 2t": 1000.0, "gensim 2t": 400.0},
           "quality": {"gensim 2t": [5.0, 0.3]}}
    rows = {r["contender"]: r for r in R.rows_from_word2vec(raw, 2.0, 1.6)}
    g = rows["gensim"]
    assert g["ratio_median"] == 2.5 and g["ratio_best"] == 2.5 and g["status"] == "PASS"
    s = rows["fastnn 1 thread (scaling)"]
    assert math.isclose(s["ratio_median"], 1.5) and s["status"] == "MISS"


def test_summary_table_names_skipped_and_failed(results_dir):
    table = report.summary_table(R.load_results(results_dir))
    lines = table.splitlines()
    assert any("numpy (1t)" in ln and "4.10x (3.33x)" in ln and "**PASS**" in ln
               for ln in lines)
    assert any("torch" in ln and "skipped: torch not installed" in ln for ln in lines)
    assert any(ln.startswith("| rnn |") and "**FAILED**" in ln and "boom" in ln
               for ln in lines)
    assert any(ln.startswith("| word2vec |") and "gensim not installed" in ln
               for ln in lines)
    for suite in ("linear", "mlp", "autograd", "lm"):       # never dropped silently
        assert any(ln.startswith(f"| {suite} |") and "not run" in ln for ln in lines)


def test_build_without_matplotlib(results_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)    # import raises ImportError
    readme, plot = tmp_path / "README.md", tmp_path / "ratios.png"
    text, table = report.build(results_dir, str(readme), str(plot))
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert not plot.exists()
    assert readme.read_text() == text
    assert text.startswith("# fastnn benchmarks") and "python benchmarks/run.py" in text
    assert table in text and "## Environment" in text and "## Detail: rnn" in text


def test_build_with_matplotlib_writes_the_plot(results_dir, tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "ratios.png"
    report.build(results_dir, str(tmp_path / "README.md"), str(plot))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
