# Pointers to the data of optional (None-able) typed memoryviews, for the Cython glue
from cython cimport floating


cdef inline floating *vec_or_null(floating[::1] a) noexcept nogil:
    return NULL if a is None else &a[0]


cdef inline floating *mat_or_null(floating[:, ::1] a) noexcept nogil:
    return NULL if a is None else &a[0, 0]
