# cython: language_level=3
"""What the compiled kernels know about OpenMP."""
from fastnn._kernels.cfastnn cimport fnn_openmp_enabled, fnn_max_threads


def openmp_enabled():
    """True when the kernels were built with OpenMP."""
    return bool(fnn_openmp_enabled())


def max_threads():
    """OpenMP's default team size (honours OMP_NUM_THREADS); 1 without OpenMP."""
    return fnn_max_threads()
