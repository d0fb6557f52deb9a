/* Instantiates sparse.inc for float (_f32) and double (_f64). */
#include "fastnn.h"
#include "fnn_common.h"

#define REAL float
#define FN(name) name##_f32
#include "sparse.inc"
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_f64
#include "sparse.inc"
#undef REAL
#undef FN
