"""`fastnn.show_config()`: what this build of fastnn runs with."""
import platform
import sys

from threadpoolctl import threadpool_info


def config():
    """The build and run-time facts show_config prints, as a dict."""
    import fastnn
    from fastnn._kernels.openmp import openmp_enabled
    from fastnn._threads import resolve_threads
    import numpy
    import scipy

    blas = [
        {k: info.get(k) for k in ("internal_api", "version", "threading_layer",
                                  "architecture", "num_threads", "filepath")}
        for info in threadpool_info() if info.get("user_api") == "blas"
    ]
    return {
        "fastnn": fastnn.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "openmp": openmp_enabled(),
        "threads": resolve_threads(None),
        "blas": blas,
    }


def show_config(file=None):
    """Print fastnn's version, whether OpenMP is on, the thread count it uses, and the
    BLAS that SciPy / NumPy load (from threadpoolctl)."""
    c = config()
    lines = [f"fastnn {c['fastnn']}",
             f"  python:   {c['python']} on {c['platform']}",
             f"  numpy:    {c['numpy']}   scipy: {c['scipy']}",
             f"  openmp:   {'on' if c['openmp'] else 'off (serial build)'}",
             f"  threads:  {c['threads']}"]
    for b in c["blas"] or [{}]:
        lines.append("  blas:     " + (", ".join(f"{k}={b[k]}" for k in b) or "none found"))
    print("\n".join(lines), file=file or sys.stdout)
