"""One pytest-benchmark test per case: fastnn at 2 threads is the benchmarked callable,
everything else is timed in the same rounds (see _harness.py)."""
import pytest

from _harness import fmt_time, run_case
from cases import CASES


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(case_id, benchmark, bench_opts):
    case = CASES[case_id]()
    benchmark.group = case.name
    benchmark.name = f"{case_id} [fastnn 2t]"
    res = run_case(benchmark, case, **bench_opts)
    # a one-line summary per case in the pytest output (-s); the table is in README.md
    best = {r["name"]: r for r in res["contenders"] if "min" in r}
    parts = [f"{n} {fmt_time(r['min'])}" for n, r in best.items()]
    t = res.get("target")
    if t:
        parts.append(f"target {t['describe']}: {t.get('value', float('nan')):.3g} "
                     f"{t['result']}")
    noisy = ", NOISY" if res["noisy"] else ""
    print(f"\n{case.name} ({res['rounds_kept']} of {res['rounds']} rounds, other load "
          f"{res['foreign_load'] or 0:.2f}{noisy}): " + "; ".join(parts))
