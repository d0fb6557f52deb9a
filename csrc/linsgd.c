/* float and double instances of linsgd.inc */
#include <stdlib.h>

/* the per-row helpers must be inlined into the FNN_CLONES workers: called out of line
 * they would run the baseline instruction set */
#if defined(__GNUC__)
#define LIN_INLINE static inline __attribute__((always_inline))
#else
#define LIN_INLINE static inline
#endif

#define FNN_TEMPLATE "linsgd.inc"
#include "fnn_instantiate.h"
