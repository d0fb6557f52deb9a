/* Shared helpers of the C kernels: SIMD dispatch, OpenMP thread choice, and
 * vectorisable exp / tanh / sigmoid (libm's are scalar unless -ffast-math). */
#ifndef FNN_COMMON_H
#define FNN_COMMON_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Runtime SIMD dispatch: one build runs everywhere, the hot loops use AVX-512 or
 * AVX2+FMA where the CPU has them.  OpenMP-outlined bodies are not cloned by GCC,
 * so only serial per-chunk workers carry this attribute. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(FNN_NO_CLONES)
#define FNN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FNN_CLONES
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

/* Threads worth using for `work` elementwise operations: small inputs stay serial
 * because waking a team costs more than the work. */
static inline int fnn_threads_for(int n_threads, ptrdiff_t work, ptrdiff_t grain)
{
#ifdef _OPENMP
    ptrdiff_t useful = work / grain;
    if (n_threads < 1) n_threads = 1;
    if (useful < n_threads) n_threads = useful < 1 ? 1 : (int)useful;
    return n_threads;
#else
    (void)n_threads; (void)work; (void)grain;
    return 1;
#endif
}

/* splitmix64: a 64-bit counter through a bijective mixer (one state per stream) */
static inline uint64_t fnn_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The calling thread's number in its OpenMP team (0 in a serial build). */
static inline int fnn_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* [begin, end) of part `part` when `n` items are split into `parts` near-equal runs. */
static inline void fnn_split(ptrdiff_t n, int parts, int part, ptrdiff_t *begin, ptrdiff_t *end)
{
    ptrdiff_t base = n / parts, extra = n % parts;
    *begin = part * base + (part < extra ? part : extra);
    *end = *begin + base + (part < extra ? 1 : 0);
}

/* exp(x) for x <= 0, the only range the kernels need (softmax shifts by the row max,
 * sigmoid and tanh use exp(-|x|)): exp(x) = 2^n exp(r), n = round(x / ln 2),
 * |r| <= ln2 / 2.  Branch-free so that loops calling it vectorise.  Results below the
 * normal range flush to 0; NaN propagates. */
static inline float fnn_expneg_f32(float x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float xc = x < -87.0f ? -87.0f : x;
    float t = xc * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f; /* Cody-Waite ln 2 split */
    /* exp(r) = 1 + r + r^2 P(r): least-squares fit on |r| <= ln2/2, within 1.4 ulp */
    float p = 0.00137514085508883f;
    p = p * r + 0.008368918672204018f;
    p = p * r + 0.04166953265666962f;
    p = p * r + 0.166665181517601f;
    p = p * r + 0.49999988079071045f;
    p = p * (r * r) + r + 1.0f;
    uint32_t tb, sb;
    memcpy(&tb, &t, 4);
    sb = (tb << 23) + ((uint32_t)127 << 23); /* the low bits of t hold n: 2^n */
    float scale;
    memcpy(&scale, &sb, 4);
    return x < -87.0f ? 0.0f : p * scale;
}

static inline double fnn_expneg_f64(double x)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    double xc = x < -708.0 ? -708.0 : x;
    double t = xc * 1.4426950408889634074 + magic;
    double n = t - magic;
    double r = (xc - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0; /* Taylor series to r^13 / 13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t tb, sb;
    memcpy(&tb, &t, 8);
    sb = (tb << 52) + ((uint64_t)1023 << 52);
    double scale;
    memcpy(&scale, &sb, 8);
    return x < -708.0 ? 0.0 : p * scale;
}

/* tanh: an odd polynomial near 0 (least-squares fit of (tanh x - x) / x^3 in x^2 on
 * |x| <= 0.55, within 1.2 half-ulps), (1 - e) / (1 + e) with e = exp(-2|x|) beyond,
 * where 1 - e no longer cancels. */
static inline float fnn_scalar_tanh_f32(float x)
{
    float a = fabsf(x), z = x * x;
    float p = -0.0062876008450984955f;
    p = p * z + 0.021082019433379173f;
    p = p * z - 0.053855109959840775f;
    p = p * z + 0.13332617282867432f;
    p = p * z - 0.33333319425582886f;
    float small = x + x * z * p;
    float e = fnn_expneg_f32(-2.0f * a);
    float big = (1.0f - e) / (1.0f + e);
    big = x < 0 ? -big : big;
    return a <= 0.55f ? small : big;
}

static inline double fnn_scalar_tanh_f64(double x) { return tanh(x); }

/* Type-generic names, so that one kernel body serves float and double. */
#define FNN_EXPNEG(x) _Generic((x), float: fnn_expneg_f32, default: fnn_expneg_f64)(x)
#define FNN_TANH(x) _Generic((x), float: fnn_scalar_tanh_f32, default: fnn_scalar_tanh_f64)(x)
#define FNN_ABS(x) _Generic((x), float: fabsf, default: fabs)(x)

/* Vectorise the next loop (honoured under -fopenmp or -fopenmp-simd).  A reduction's
 * order then follows the vector width: the bits may differ between CPUs, never
 * between thread counts. */
#define FNN_PRAGMA(x) _Pragma(#x)
#define FNN_SIMD FNN_PRAGMA(omp simd)
#define FNN_SIMD_REDUCE(op_var) FNN_PRAGMA(omp simd reduction(op_var))

/* Ask for the `bytes` bytes at p to be brought into cache (rw 0 read, 1 write;
 * locality 0 .. 3 as GCC's __builtin_prefetch): for rows read in a scattered order. */
#if defined(__GNUC__)
#define FNN_PREFETCH(p, bytes, rw, locality)                                            \
    do {                                                                               \
        for (size_t off_ = 0; off_ < (size_t)(bytes); off_ += 64)                      \
            __builtin_prefetch((const char *)(p) + off_, rw, locality);                \
    } while (0)
#else
#define FNN_PREFETCH(p, bytes, rw, locality) ((void)(p), (void)(bytes))
#endif

/* Run BODY over near-equal [begin, end) splits of n items on at most n_threads
 * threads: fewer when work / grain is small, and no split under min_items items.
 * BODY sees `begin` and `end`. */
#define FNN_PARALLEL_SPLIT(n, min_items, n_threads, work, grain, BODY)                  \
    do {                                                                               \
        int nt_ = fnn_threads_for((n_threads), (work), (grain));                       \
        ptrdiff_t most_ = ((n) + (min_items) - 1) / (min_items);                       \
        if (nt_ > most_) nt_ = most_ < 1 ? 1 : (int)most_;                             \
        _Pragma("omp parallel for num_threads(nt_) schedule(static) if(nt_ > 1)")      \
        for (int t_ = 0; t_ < nt_; t_++) {                                             \
            ptrdiff_t begin, end;                                                      \
            fnn_split((n), nt_, t_, &begin, &end);                                     \
            BODY;                                                                      \
        }                                                                              \
    } while (0)

#endif
