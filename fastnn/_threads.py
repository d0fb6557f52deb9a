"""How many threads a kernel call uses, and `fastnn.threads`, the context that sets it."""
import contextlib
import contextvars
import functools
import numbers
import os

from threadpoolctl import ThreadpoolController

from fastnn._kernels.openmp import max_threads, openmp_enabled

_default_threads = contextvars.ContextVar("fastnn_default_threads", default=None)


@functools.lru_cache(maxsize=None)
def available_cores():
    """Cores this process may run on (its CPU affinity where the OS reports it), read
    once: the system call would otherwise cost more than a small kernel."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def resolve_threads(n_threads, name="n_threads"):
    """The thread count an `n_threads` / `n_jobs` argument asks for.

    None: the current `fastnn.threads` setting, else every core the process may use
    (OMP_NUM_THREADS, when set, wins).  A positive int: that many.  A negative int
    counts back from the cores as in joblib: -1 is every core, -2 all but one.
    Always 1 when the kernels were built without OpenMP.
    """
    if n_threads is None:
        n_threads = _default_threads.get()
    if n_threads is None:
        n = max_threads() if "OMP_NUM_THREADS" in os.environ else available_cores()
    elif isinstance(n_threads, numbers.Integral) and not isinstance(n_threads, bool):
        if n_threads == 0:
            raise ValueError(f"{name}=0 is not a thread count; use None or -1 for every core")
        n = int(n_threads) if n_threads > 0 else max(1, available_cores() + 1 + int(n_threads))
    else:
        raise TypeError(f"{name} must be an int or None, got {type(n_threads).__name__}")
    return n if openmp_enabled() else 1


@functools.lru_cache(maxsize=None)
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, built once (it costs milliseconds);
    a BLAS loaded after the first `fastnn.threads` block is not limited by it."""
    return ThreadpoolController()


@contextlib.contextmanager
def threads(n):
    """Use `n` threads (None: every core) in every fastnn call inside the block.

    BLAS is limited to the same count (through threadpoolctl), so NumPy / SciPy
    products inside the block follow it too::

        with fastnn.threads(1):
            fastnn.functional.softmax(z)
    """
    token = _default_threads.set(None if n is None else resolve_threads(n, "n"))
    count = resolve_threads(None)
    try:
        with _blas_controller().limit(limits=count, user_api="blas"):
            yield count
    finally:
        _default_threads.reset(token)
