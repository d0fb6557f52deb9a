"""Package-level API: version, show_config, threads, the command line."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import fastnn
from fastnn._threads import resolve_threads


def test_version_and_show_config():
    assert isinstance(fastnn.__version__, str) and fastnn.__version__.count(".") >= 2
    buf = io.StringIO()
    fastnn.show_config(file=buf)
    text = buf.getvalue()
    assert fastnn.__version__ in text
    assert "openmp:" in text and "threads:" in text and "blas:" in text


def test_threads_context_sets_default_and_blas():
    from fastnn._kernels.openmp import openmp_enabled
    with fastnn.threads(1) as n:
        assert n == 1 and resolve_threads(None) == 1
        blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        assert all(b == 1 for b in blas)
        with fastnn.threads(2):
            assert resolve_threads(None) == (2 if openmp_enabled() else 1)
        assert resolve_threads(None) == 1
    assert resolve_threads(3) == (3 if openmp_enabled() else 1)
    assert resolve_threads(-1) == resolve_threads(None) or "OMP_NUM_THREADS" in os.environ


def test_threads_rejects_bad_counts():
    with pytest.raises(ValueError):
        with fastnn.threads(0):
            pass
    with pytest.raises(TypeError):
        resolve_threads("2")


def test_results_do_not_depend_on_threads_context():
    z = np.random.default_rng(0).standard_normal((5000, 20))
    with fastnn.threads(1):
        one = fastnn.functional.softmax(z)
    with fastnn.threads(2):
        two = fastnn.functional.softmax(z)
    np.testing.assert_array_equal(one, two)


def test_python_dash_m_runs_every_kernel():
    out = subprocess.run([sys.executable, "-m", "fastnn"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "all kernels agree" in out.stdout
    assert "softmax_cross_entropy" in out.stdout


def test_ci_runs_the_readme_test_command():
    import re
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.exists(os.path.join(root, ".ci", "run")):
        pytest.skip("not a source checkout (no .ci/run)")
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    quick = re.search(r"^## Quick start\s*$(.*?)(?=^## |\Z)", readme, re.S | re.M).group(1)
    test_block = re.findall(r"```[a-z]*\n(.*?)```", quick, re.S)[1]
    ci = open(os.path.join(root, ".ci", "run"), encoding="utf-8").read()
    assert test_block.strip() in ci


def test_every_public_name_resolves():
    import fastnn
    for name in fastnn.__all__:
        assert getattr(fastnn, name) is not None, name
