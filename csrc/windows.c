/* LM window batching: every token of a stream becomes a target, with the ids of the
 * words before it (within its sentence) as context. */
#include "fastnn.h"
#include "fnn_common.h"

/* Index of the sentence holding token t: the last k with starts[k] <= t, or -1. */
static ptrdiff_t sentence_of(const int64_t *starts, ptrdiff_t S, ptrdiff_t t)
{
    ptrdiff_t lo = 0, hi = S; /* first k with starts[k] > t is in [lo, hi] */
    while (lo < hi) {
        ptrdiff_t mid = lo + (hi - lo) / 2;
        if (starts[mid] <= t) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
}

static void windows_run(int32_t *restrict contexts, int32_t *restrict targets,
                        const int32_t *restrict ids, ptrdiff_t n, int32_t pad,
                        const int64_t *restrict starts, ptrdiff_t S, ptrdiff_t r0, ptrdiff_t r1)
{
    ptrdiff_t k = sentence_of(starts, S, r0);
    for (ptrdiff_t t = r0; t < r1; t++) {
        while (k + 1 < S && starts[k + 1] <= t) k++;
        ptrdiff_t first = k >= 0 ? (ptrdiff_t)starts[k] : 0;
        for (ptrdiff_t j = 0; j < n; j++) {
            ptrdiff_t src = t - n + j;
            contexts[t * n + j] = src >= first ? ids[src] : pad;
        }
        targets[t] = ids[t];
    }
}

/* ids (N,), starts (S,) sorted sentence start offsets (S may be 0) -> contexts (N, n):
 * contexts[t, j] = ids[t - n + j], or pad before the start of t's sentence;
 * targets (N,) = ids. */
void fnn_lm_windows(int32_t *contexts, int32_t *targets, const int32_t *ids, ptrdiff_t N,
                    ptrdiff_t n, int32_t pad, const int64_t *starts, ptrdiff_t S, int n_threads)
{
    FNN_PARALLEL_SPLIT(N, 1, n_threads, N * n, 65536,
                       windows_run(contexts, targets, ids, n, pad, starts, S, begin, end));
}
