/* Compiles the kernel body FNN_TEMPLATE (a .inc file) twice: for float, names ending
 * in _f32, and for double, names ending in _f64.  The body writes REAL for the type
 * and FN(name) for a suffixed name. */
#include "fastnn.h"
#include "fnn_common.h"

#define REAL float
#define FN(name) name##_f32
#include FNN_TEMPLATE
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_f64
#include FNN_TEMPLATE
#undef REAL
#undef FN
