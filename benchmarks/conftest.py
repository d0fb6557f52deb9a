"""pytest options and hooks of the benchmark suite (see README.md to run it)."""
import datetime

import fastnn  # noqa: F401 - imported before torch: one OpenMP runtime, fastnn's
import pytest

from _env import environment, read_text, runtimes


def pytest_addoption(parser):
    g = parser.getgroup("fastnn benchmarks")
    g.addoption("--bench-budget", type=float, default=4.0,
                help="seconds of interleaved rounds per case (default 4)")
    g.addoption("--bench-min-rounds", type=int, default=15,
                help="rounds per case at least (default 15)")
    g.addoption("--bench-max-rounds", type=int, default=400,
                help="rounds per case at most (default 400)")
    g.addoption("--bench-wait-idle", type=float, default=15.0,
                help="before each case, wait up to this many seconds for other processes "
                     "to leave the CPUs (default 15; 0: don't wait)")
    g.addoption("--bench-label", default="default",
                help="name of the run in the report (default 'default')")
    g.addoption("--bench-quick", action="store_true",
                help="smoke run: suites that can shrink their data do (bench_mlp.py)")


@pytest.fixture
def bench_opts(request):
    get = request.config.getoption
    return {"budget": get("--bench-budget"), "min_rounds": get("--bench-min-rounds"),
            "max_rounds": get("--bench-max-rounds"), "wait_idle": get("--bench-wait-idle")}


@pytest.fixture
def bench_quick(request):
    """True under --bench-quick: a smoke run, data may be smaller."""
    return request.config.getoption("--bench-quick")


def pytest_configure(config):
    # taken before the first case runs, so the start load average is the machine's own
    config._fastnn_env = environment()


def pytest_benchmark_update_machine_info(config, machine_info):
    env = getattr(config, "_fastnn_env", None) or environment()
    env["label"] = config.getoption("--bench-label")
    env["pytest_args"] = list(config.invocation_params.args)
    machine_info["fastnn_bench"] = env


def pytest_benchmark_update_json(config, benchmarks, output_json):
    info = output_json["machine_info"]["fastnn_bench"]
    info["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    info["loadavg_end"] = (read_text("/proc/loadavg") or "").strip()
    # threadpool_info again, now that every library of every case is loaded
    info["runtimes"] = runtimes()
