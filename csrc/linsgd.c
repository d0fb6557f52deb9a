/* float and double instances of linsgd.inc */
#include <stdlib.h>

/* the per-row helpers must be inlined into the FNN_CLONES workers: called out of line
 * they would run the baseline instruction set */
#if defined(__GNUC__)
#define LIN_INLINE static inline __attribute__((always_inline))
#else
#define LIN_INLINE static inline
#endif

/* a thread waiting for the previous batch's update yields its core after a few polls */
#if defined(__unix__) || defined(__APPLE__)
#include <sched.h>
#define FNN_LIN_YIELD() sched_yield()
#else
#define FNN_LIN_YIELD() ((void)0)
#endif

#define FNN_TEMPLATE "linsgd.inc"
#include "fnn_instantiate.h"
