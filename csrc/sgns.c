/* word2vec with negative sampling: float and double instances of sgns.inc, plus the
 * type-free parts they share (random numbers, the alias table of the noise words). */
#include <stdlib.h>

#include "fastnn.h"
#include "fnn_common.h"

/* the per-pair helpers must be inlined into the FNN_CLONES workers: called out of line
 * they would run the baseline instruction set */
#if defined(__GNUC__)
#define SGNS_INLINE static inline __attribute__((always_inline))
#else
#define SGNS_INLINE static inline
#endif

/* |f| beyond this saturates the sigmoid to 0 / 1 in the gradient, as in the C tool */
#define SGNS_MAX_EXP 6

/* uniform integer in [0, n) from the high 32 bits (n < 2^31): a multiply, no division */
static inline uint32_t sgns_below(uint64_t r, uint32_t n)
{
    return (uint32_t)(((r >> 32) * (uint64_t)n) >> 32);
}

/* a noise word: column i uniform, then i with probability prob[i] / 2^32, else alias[i] */
static inline int32_t sgns_draw(uint64_t *state, const uint32_t *prob, const int32_t *alias,
                                uint32_t V)
{
    uint64_t r = fnn_splitmix64(state);
    uint32_t i = sgns_below(r, V);
    return (uint32_t)r < prob[i] ? (int32_t)i : alias[i];
}

/* log(1 + u) for u in [0, 1]: 2 atanh(z), z = u / (2 + u) <= 1/3, series to z^15
 * (relative error below 1e-8): the loss needs no libm call */
static inline double sgns_log1p01(double u)
{
    double z = u / (2.0 + u), z2 = z * z;
    double p = 1.0 / 15;
    p = p * z2 + 1.0 / 13;
    p = p * z2 + 1.0 / 11;
    p = p * z2 + 1.0 / 9;
    p = p * z2 + 1.0 / 7;
    p = p * z2 + 1.0 / 5;
    p = p * z2 + 1.0 / 3;
    p = p * z2 + 1.0;
    return 2.0 * z * p;
}

/* a center word's reduced window [lo, hi) in its sentence */
typedef struct { int lo, hi; } sgns_plan;

/* first k in [0, S] with starts[k] >= t (starts sorted) */
static ptrdiff_t sgns_lower_bound(const int64_t *starts, ptrdiff_t S, int64_t t)
{
    ptrdiff_t lo = 0, hi = S;
    while (lo < hi) {
        ptrdiff_t mid = lo + (hi - lo) / 2;
        if (starts[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
}

#define FNN_TEMPLATE "sgns.inc"
#include "fnn_instantiate.h"

/* Vose's alias method: weights (V,) >= 0 with a positive sum -> prob (V,) thresholds out
 * of 2^32 and alias (V,): draw i uniform, keep it when a uniform 32-bit number is below
 * prob[i], else take alias[i].  Returns 0, or -1 when out of memory. */
int fnn_alias_build(uint32_t *prob, int32_t *alias, const double *weights, ptrdiff_t V)
{
    double *q = malloc((size_t)V * sizeof(double));
    int32_t *small = malloc((size_t)V * sizeof(int32_t));
    int32_t *large = malloc((size_t)V * sizeof(int32_t));
    if (!q || !small || !large) {
        free(q); free(small); free(large);
        return -1;
    }
    double total = 0;
    for (ptrdiff_t i = 0; i < V; i++) total += weights[i];
    ptrdiff_t ns = 0, nl = 0;
    for (ptrdiff_t i = 0; i < V; i++) {
        q[i] = weights[i] * (double)V / total;
        alias[i] = (int32_t)i;
        prob[i] = UINT32_MAX;
        if (q[i] < 1.0) small[ns++] = (int32_t)i; else large[nl++] = (int32_t)i;
    }
    while (ns > 0 && nl > 0) {
        int32_t s = small[--ns], l = large[nl - 1];
        prob[s] = (uint32_t)(q[s] * 4294967296.0);
        alias[s] = l;
        q[l] -= 1.0 - q[s];
        if (q[l] < 1.0) { nl--; small[ns++] = l; }
    }
    /* what is left has q == 1 up to round-off: always kept (prob UINT32_MAX, alias self) */
    free(q); free(small); free(large);
    return 0;
}
