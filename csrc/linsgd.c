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

/* a uniform integer in [0, n) (n >= 1), exactly: Lemire's multiply-shift with rejection
 * (32-bit draws while n < 2^32), else rejection and a remainder */
static inline uint64_t lin_below(uint64_t *state, uint64_t n)
{
    if (n > UINT32_MAX) {
        const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        uint64_t r;
        do r = fnn_splitmix64(state); while (r >= limit);
        return r % n;
    }
    const uint32_t n32 = (uint32_t)n;
    uint64_t m = (fnn_splitmix64(state) >> 32) * n32;
    if ((uint32_t)m < n32) {
        const uint32_t threshold = (uint32_t)(0u - n32) % n32;
        while ((uint32_t)m < threshold) m = (fnn_splitmix64(state) >> 32) * n32;
    }
    return m >> 32;
}

void fnn_shuffled_order(int64_t *order, ptrdiff_t n, uint64_t seed)
{
    for (ptrdiff_t i = 0; i < n; i++) order[i] = i;
    uint64_t state = seed;
    for (ptrdiff_t i = n - 1; i > 0; i--) {     /* Fisher-Yates */
        const ptrdiff_t j = (ptrdiff_t)lin_below(&state, (uint64_t)i + 1);
        const int64_t t = order[i];
        order[i] = order[j], order[j] = t;
    }
}
