"""What the benchmark ran on: CPU, versions, BLAS / OpenMP runtimes, environment."""
import datetime
import glob
import os
import platform
import subprocess
import sys

# the variables that change which BLAS kernels or how many threads run
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
            "OPENBLAS_THREAD_TIMEOUT", "THP_MEM_ALLOC_ENABLE")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def cpu():
    info = read_text("/proc/cpuinfo") or ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines()
                  if line.startswith("flags")), [])
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl") if f in flags]
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"model": model, "logical_cpus": os.cpu_count(), "usable_cpus": affinity,
            "simd": simd}


def _git(*args):
    try:
        return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def versions():
    import numpy
    import scipy
    import threadpoolctl
    import pytest_benchmark
    import fastnn
    out = {"python": sys.version.split()[0], "numpy": numpy.__version__,
           "scipy": scipy.__version__, "fastnn": fastnn.__version__,
           "threadpoolctl": threadpoolctl.__version__,
           "pytest-benchmark": pytest_benchmark.__version__}
    try:
        import torch
        out["torch"] = torch.__version__
    except ImportError:
        out["torch"] = "not installed"
    return out


def runtimes():
    """threadpoolctl's view of the loaded BLAS and OpenMP libraries (after numpy, scipy,
    fastnn and torch are imported; torch's MKL is linked in statically and not listed)."""
    import scipy.linalg  # noqa: F401 - loads SciPy's OpenBLAS, which fastnn's linear uses
    from threadpoolctl import threadpool_info
    keep = ("user_api", "internal_api", "version", "architecture", "threading_layer",
            "num_threads", "prefix")
    libs = []
    for info in threadpool_info():
        row = {k: info.get(k) for k in keep if info.get(k) is not None}
        row["file"] = os.path.basename(info.get("filepath", ""))
        libs.append(row)
    return libs


def fastnn_build():
    import fastnn
    kdir = os.path.join(os.path.dirname(fastnn.__file__), "_kernels")
    sos = glob.glob(os.path.join(kdir, "*.so")) + glob.glob(os.path.join(kdir, "*.pyd"))
    built = max((os.path.getmtime(p) for p in sos), default=None)
    dirty = _git("status", "--porcelain", "--", "csrc", "fastnn", "setup.py")
    return {"path": os.path.dirname(fastnn.__file__),
            "commit": _git("rev-parse", "--short", "HEAD"),
            "uncommitted": dirty.splitlines() if dirty else [],
            "kernels_built": (datetime.datetime.fromtimestamp(built).astimezone().isoformat(
                timespec="seconds") if built else None)}


def scheduling():
    """The process's scheduling policy: a run under `chrt -f N` (real-time, so that other
    jobs on a shared machine cannot preempt it) says so in its record."""
    if not hasattr(os, "sched_getscheduler"):
        return None
    names = {getattr(os, n): n for n in ("SCHED_OTHER", "SCHED_BATCH", "SCHED_IDLE",
                                         "SCHED_FIFO", "SCHED_RR") if hasattr(os, n)}
    policy = os.sched_getscheduler(0)
    prio = os.sched_getparam(0).sched_priority
    return names.get(policy, str(policy)) + (f" priority {prio}" if prio else "")


def environment():
    thp = read_text("/sys/kernel/mm/transparent_hugepage/enabled")
    try:
        import torch
        torch_threads = torch.get_num_threads()
    except ImportError:
        torch_threads = None
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": cpu(),
        "versions": versions(),
        "runtimes": runtimes(),
        "torch_default_threads": torch_threads,
        "env": {k: os.environ.get(k) for k in ENV_VARS},
        "transparent_hugepage": thp.strip() if thp else None,
        "loadavg_start": (read_text("/proc/loadavg") or "").strip(),
        "scheduling": scheduling(),
        "fastnn_build": fastnn_build(),
    }
