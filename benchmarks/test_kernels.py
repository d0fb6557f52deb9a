"""One pytest-benchmark test per case: fastnn at 2 threads is the benchmarked callable,
everything else is timed in the same rounds (see _harness.py)."""
import pytest

from _harness import run_case, summary_line
from cases import CASES


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(case_id, benchmark, bench_opts):
    case = CASES[case_id]()
    benchmark.group = case.name
    benchmark.name = f"{case_id} [fastnn 2t]"
    res = run_case(benchmark, case, **bench_opts)
    print("\n" + summary_line(case, res))
