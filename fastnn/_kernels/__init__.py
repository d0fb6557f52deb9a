"""Cython glue over the C kernels in csrc/.

No validation happens here: callers hand in C-contiguous arrays of one float dtype,
outputs preallocated, sizes consistent (see fastnn._validation and fastnn.functional).
"""
