/* fastnn's C kernels: plain C99 on contiguous row-major buffers, no Python.
 * Every float kernel exists as _f32 (float) and _f64 (double), from one body.
 * Conventions: outputs first, then inputs, then sizes, then n_threads (the most
 * OpenMP threads to use; small inputs use fewer).  Outputs are overwritten unless a
 * comment says "accumulated".  Inputs are trusted: the Python layer validates.
 * Outputs never alias inputs, except that an activation may run in place. */
#ifndef FASTNN_H
#define FASTNN_H

#include <stddef.h>
#include <stdint.h>

#define FNN_DECLARE(REAL, SFX)                                                           \
    /* activations.c: x, y, dout, dx all (n,); backward from x (relu) or y = f(x) */     \
    void fnn_relu_##SFX(REAL *y, const REAL *x, ptrdiff_t n, int n_threads);             \
    void fnn_relu_backward_##SFX(REAL *dx, const REAL *dout, const REAL *x, ptrdiff_t n, \
                                 int n_threads);                                         \
    void fnn_tanh_##SFX(REAL *y, const REAL *x, ptrdiff_t n, int n_threads);             \
    void fnn_tanh_backward_##SFX(REAL *dx, const REAL *dout, const REAL *y, ptrdiff_t n, \
                                 int n_threads);                                         \
    void fnn_sigmoid_##SFX(REAL *y, const REAL *x, ptrdiff_t n, int n_threads);          \
    void fnn_sigmoid_backward_##SFX(REAL *dx, const REAL *dout, const REAL *y,           \
                                    ptrdiff_t n, int n_threads);                         \
    /* softmax.c: z, out (B, K) */                                                       \
    void fnn_softmax_##SFX(REAL *out, const REAL *z, ptrdiff_t B, ptrdiff_t K,           \
                           int n_threads);                                               \
    void fnn_log_softmax_##SFX(REAL *out, const REAL *z, ptrdiff_t B, ptrdiff_t K,       \
                               int n_threads);                                           \
    /* logits, dlogits (B, K), labels (B,) in [0, K), w (B,) or NULL; returns the     */ \
    /* weighted mean loss; dlogits = (softmax - onehot) w_i / sum(w)                  */ \
    double fnn_softmax_xent_##SFX(REAL *dlogits, const REAL *logits,                     \
                                  const int32_t *labels, const REAL *w, ptrdiff_t B,     \
                                  ptrdiff_t K, int n_threads);                           \
    /* logits, dlogits, targets, w (n,); dlogits = (sigmoid - target) w_i / sum(w)    */ \
    double fnn_bce_with_logits_##SFX(REAL *dlogits, const REAL *logits,                  \
                                     const REAL *targets, const REAL *w, ptrdiff_t n,    \
                                     int n_threads);                                     \
    /* update.c: p, g, v (n,); v NULL without momentum; p and v updated in place */      \
    void fnn_sgd_update_##SFX(REAL *p, const REAL *g, REAL *v, ptrdiff_t n, double lr,   \
                              double momentum, int nesterov, double weight_decay,        \
                              int n_threads);                                            \
    /* dense.c: b (N,) -> y (B, N) rows = b; dout (B, N) -> db (N,) column sums */       \
    void fnn_fill_rows_##SFX(REAL *y, const REAL *b, ptrdiff_t B, ptrdiff_t N,           \
                             int n_threads);                                             \
    void fnn_column_sum_##SFX(REAL *db, const REAL *dout, ptrdiff_t B, ptrdiff_t N,      \
                              int n_threads);                                            \
    /* rows.c: X (n, F), rows (B,) in [0, n), W (K, F), G (B, K):                    */ \
    /* out (B, K) = X[rows] W^T; out (K, F) += G^T X[rows] (accumulated)               */ \
    void fnn_rows_matmul_##SFX(REAL *out, const REAL *X, const int64_t *rows,            \
                               const REAL *W, ptrdiff_t B, ptrdiff_t F, ptrdiff_t K,     \
                               int n_threads);                                           \
    void fnn_rows_t_matmul_##SFX(REAL *out, const REAL *X, const int64_t *rows,          \
                                 const REAL *G, ptrdiff_t B, ptrdiff_t F, ptrdiff_t K,   \
                                 int n_threads);                                         \
    /* embedding.c: table, dtable (V, d), ids (N, n), out, dout (N, n*d);             */ \
    /* scatter_add accumulates into dtable                                            */ \
    void fnn_embedding_gather_##SFX(REAL *out, const REAL *table, const int32_t *ids,    \
                                    ptrdiff_t N, ptrdiff_t n, ptrdiff_t d,               \
                                    int n_threads);                                      \
    void fnn_embedding_scatter_add_##SFX(REAL *dtable, const REAL *dout,                 \
                                         const int32_t *ids, ptrdiff_t N, ptrdiff_t n,   \
                                         ptrdiff_t d, int n_threads);                    \
    /* sparse.c: X as CSR (data, indices (nnz,) in [0, F), indptr (n_rows + 1,)), rows */ \
    /* (B,) batch row ids or NULL, WT (F, K), G (B, K): out (B, K) = X[rows] WT,       */ \
    /* out (F, K) += X[rows]^T G (accumulated)                                         */ \
    void fnn_csr_matmul_##SFX(REAL *out, const REAL *data, const int32_t *indices,       \
                              const int64_t *indptr, const int64_t *rows, const REAL *WT, \
                              ptrdiff_t B, ptrdiff_t K, int n_threads);                  \
    void fnn_csr_t_matmul_##SFX(REAL *out, const REAL *data, const int32_t *indices,     \
                                const int64_t *indptr, const int64_t *rows,              \
                                const REAL *G, ptrdiff_t B, ptrdiff_t F, ptrdiff_t K,    \
                                int n_threads);

FNN_DECLARE(float, f32)
FNN_DECLARE(double, f64)

/* rnn.c: the Elman RNN's non-BLAS pieces; act is FNN_RNN_RELU or FNN_RNN_TANH (the   */
/* op codes of fastnn._kernels.activations).  dh, carry (NULL: none), h, da (n,):      */
/* da = (dh + carry) g'(a) from the step's output h = g(a); da may be dh itself.       */
/* mask_rows: in, out (B, Hd), keep (B,): out[b] = keep[b] ? in[b] : 0 (out may be in).  */
/* sum_squares: x (n,) -> sum x^2 in double; scale: x (n,) *= alpha in place.          */
#define FNN_RNN_RELU 0
#define FNN_RNN_TANH 1
#define FNN_DECLARE_RNN(REAL, SFX)                                                       \
    void fnn_rnn_act_backward_##SFX(REAL *da, const REAL *dh, const REAL *carry,         \
                                    const REAL *h, ptrdiff_t n, int act, int n_threads); \
    void fnn_rnn_mask_rows_##SFX(REAL *out, const REAL *in, const uint8_t *keep,         \
                                 ptrdiff_t B, ptrdiff_t Hd);                             \
    double fnn_sum_squares_##SFX(const REAL *x, ptrdiff_t n, int n_threads);             \
    void fnn_scale_##SFX(REAL *x, ptrdiff_t n, double alpha, int n_threads);

FNN_DECLARE_RNN(float, f32)
FNN_DECLARE_RNN(double, f64)

/* windows.c: ids (N,), starts (S,) sorted sentence starts -> contexts (N, n), targets (N,) */
void fnn_lm_windows(int32_t *contexts, int32_t *targets, const int32_t *ids, ptrdiff_t N,
                    ptrdiff_t n, int32_t pad, const int64_t *starts, ptrdiff_t S, int n_threads);

/* threads.c */
int fnn_openmp_enabled(void);
int fnn_max_threads(void);

/* sgns.c: word2vec with negative sampling.  syn0 (input) and syn1neg (output) vectors
 * (V, d), updated in place.  An epoch's corpus and settings: */
typedef struct {
    const int32_t *ids;          /* (starts[S],) word ids in [0, V) */
    const int64_t *starts;       /* (S + 1,) sentence k is ids[starts[k] .. starts[k + 1]) */
    ptrdiff_t S;                 /* sentences */
    const double *keep;          /* (V,) sub-sampling keep probability of each word */
    const uint32_t *alias_prob;  /* (V,) alias table of the noise distribution */
    const int32_t *alias_idx;    /* (V,) */
    const int32_t *hot_rows;     /* (n_hot,) distinct output rows each thread trains in a
                                    private copy, merged often (only with > 1 thread) */
    ptrdiff_t n_hot;
    ptrdiff_t V, d;
    int sg, cbow_mean, window, shrink, negative, want_loss;
    double alpha0, alpha1;       /* learning rate at the start / end of this epoch */
    uint64_t seed;               /* thread t's generator starts from seed and t */
} fnn_sgns_task;

#define FNN_DECLARE_SGNS(REAL, SFX)                                                      \
    /* skip-gram pair: syn0[context] predicts center against negs (K,); returns loss */  \
    double fnn_sg_update_##SFX(REAL *syn0, REAL *syn1neg, int32_t context,               \
                               int32_t center, const int32_t *negs, int K, ptrdiff_t d,  \
                               double alpha, int want_loss);                             \
    /* CBOW: sum / mean of syn0[contexts] (C,) predicts center against negs (K,)     */  \
    double fnn_cbow_update_##SFX(REAL *syn0, REAL *syn1neg, const int32_t *contexts,     \
                                 int C, int32_t center, const int32_t *negs, int K,      \
                                 ptrdiff_t d, double alpha, int cbow_mean, int want_loss); \
    /* one epoch (Hogwild over n_threads); returns 0, or -1 when out of memory        */ \
    int fnn_sgns_epoch_##SFX(REAL *syn0, REAL *syn1neg, double *loss, int64_t *n_trained, \
                             const fnn_sgns_task *task, int n_threads);

FNN_DECLARE_SGNS(float, f32)
FNN_DECLARE_SGNS(double, f64)

/* alias table of weights (V,) -> prob (V,) (out of 2^32), alias (V,); 0, or -1 (memory) */
int fnn_alias_build(uint32_t *prob, int32_t *alias, const double *weights, ptrdiff_t V);

/* linsgd.c: one epoch of mini-batch SGD of a linear classifier on a dense X (see
 * linsgd.inc).  K = 1: one logit and the sigmoid loss of labels 0 / 1; K >= 2: softmax. */
typedef struct {
    const int64_t *order;   /* (n,) the rows of X in training order */
    const int32_t *labels;  /* (n_rows,) the class of every row of X, in [0, max(K, 2)) */
    const double *etas;     /* (ceil(n / batch),) the step size of every update */
    ptrdiff_t n, F, K, batch;
    double momentum, l2, l1;
} fnn_linsgd_task;

#define FNN_DECLARE_LINSGD(REAL, SFX)                                                    \
    /* W (K, F), b (K,) or NULL, VW (K, F) / Vb (K,) or NULL: updated in place; AW, Ab */ \
    /* (shaped as W, b) zeros in, the mean of the epoch's iterates out, or NULL;      */ \
    /* X (n_rows, F), sw (n_rows,) or NULL; loss = the epoch's summed weighted loss,  */ \
    /* nonfinite = 1 if a logit was NaN / inf.  Returns 0, or -1 when out of memory.  */ \
    int fnn_linsgd_dense_epoch_##SFX(REAL *W, REAL *b, REAL *VW, REAL *Vb, REAL *AW,     \
                                     REAL *Ab, double *loss, int *nonfinite,             \
                                     const REAL *X, const REAL *sw,                      \
                                     const fnn_linsgd_task *task, int n_threads);         \
    /* X (rows, F) -> out (n_out,) = ||X[i step]||^2 (double), n_out = ceil(rows/step) */ \
    void fnn_row_sq_norms_##SFX(double *out, const REAL *X, ptrdiff_t n_out,            \
                                ptrdiff_t step, ptrdiff_t F, int n_threads);             \
    /* a, w (n,): a += (w - a) frac, the running mean of iterates w (in place)        */ \
    void fnn_running_mean_##SFX(REAL *a, const REAL *w, double frac, ptrdiff_t n,        \
                                int n_threads);

FNN_DECLARE_LINSGD(float, f32)
FNN_DECLARE_LINSGD(double, f64)

/* order (n,) = a uniform random permutation of 0 .. n - 1, the same for the same seed
 * (Fisher-Yates on splitmix64: ~5x faster than NumPy's legacy permutation) */
void fnn_shuffled_order(int64_t *order, ptrdiff_t n, uint64_t seed);

/* linsparse.c: one epoch of mini-batch SGD of a linear classifier on a CSR X with lazy
 * updates (see linsparse.inc).  K = 1: the sigmoid loss of labels 0 / 1; K >= 2: softmax. */
enum { FNN_LSP_AUTO, FNN_LSP_LAZY, FNN_LSP_SCALED, FNN_LSP_SWEEP };
typedef struct {
    const int64_t *order;   /* (n,) the rows of X in training order */
    const int32_t *labels;  /* (n_rows,) the class of every row of X, in [0, max(K, 2)) */
    const double *etas;     /* (ceil(n / batch),) the step size of every update */
    const int32_t *bounds;  /* (P + 1,) column blocks: 0 = bounds[0] <= .. <= bounds[P] = F */
    ptrdiff_t n, F, K, batch, P;
    int mode;               /* FNN_LSP_AUTO, _LAZY, _SCALED or _SWEEP (speed and round-off
                               only; L1 needs _SWEEP or _AUTO) */
    ptrdiff_t window;       /* lazy: steps between catch-ups of every weight (speed only) */
    ptrdiff_t grain;        /* batch non-zeros x K per thread, at least (speed only) */
    double momentum, l2;
    double l1;              /* > 0: the L1 soft-threshold after each step (sweep mode) */
} fnn_linsparse_task;

#define FNN_DECLARE_LINSPARSE(REAL, SFX)                                                 \
    /* WT (F, K), b (K,) or NULL, VT (F, K) / Vb (K,) or NULL: updated in place; AT, Ab */ \
    /* (shaped as WT, b) the mean of the epoch's iterates out, or NULL; X as CSR with   */ \
    /* sorted indices, sw (n_rows,) or NULL; loss = the epoch's summed weighted loss,   */ \
    /* nonfinite = 1 if a logit was NaN / inf.  Returns 0, or -1 when out of memory.    */ \
    int fnn_linsparse_epoch_##SFX(REAL *WT, REAL *b, REAL *VT, REAL *Vb, REAL *AT,      \
                                  REAL *Ab, double *loss, int *nonfinite,                \
                                  const REAL *data, const int32_t *indices,              \
                                  const int64_t *indptr, const REAL *sw,                 \
                                  const fnn_linsparse_task *task, int n_threads);  \
    /* CSR X (data, indptr) -> out (n_out,) = ||X[i step]||^2 (double)                 */ \
    void fnn_csr_row_sq_norms_##SFX(double *out, const REAL *data, const int64_t *indptr, \
                                    ptrdiff_t n_out, ptrdiff_t step, int n_threads);

FNN_DECLARE_LINSPARSE(float, f32)
FNN_DECLARE_LINSPARSE(double, f64)

/* mlp.c: one mini-batch of a dense MLP, forward + backward (+ plain SGD step) in one
 * parallel region (see mlp.inc).  The network: */
#define FNN_MLP_IDENTITY 0
#define FNN_MLP_RELU 1
#define FNN_MLP_TANH 2
#define FNN_MLP_LOGISTIC 3
typedef struct {
    int n_layers;              /* L >= 1 dense layers */
    const ptrdiff_t *units;    /* (L + 1,) widths: inputs, hidden..., outputs */
    int activation;            /* of the hidden layers: FNN_MLP_IDENTITY ... LOGISTIC */
    int softmax;               /* 1: softmax cross-entropy of int labels; 0: independent
                                  logistic outputs of 0/1 targets Y */
    ptrdiff_t grain;           /* multiply-adds of a batch per thread at least (fewer
                                  threads below); 0: the default */
} fnn_mlp_net;

/* work (n_real,) and dwork (n_double,) scratch sizes of a batch of B rows */
void fnn_mlp_work_size(ptrdiff_t *n_real, ptrdiff_t *n_double, const fnn_mlp_net *net,
                       ptrdiff_t B);

/* BLAS ?gemm as SciPy's cython_blas exports it (Fortran conventions, column-major) */
typedef void (*fnn_gemm_fn_f32)(char *, char *, int *, int *, int *, float *, float *,
                                int *, float *, int *, float *, float *, int *);
typedef void (*fnn_gemm_fn_f64)(char *, char *, int *, int *, int *, double *, double *,
                                int *, double *, int *, double *, double *, int *);

#define FNN_DECLARE_MLP(REAL, SFX)                                                       \
    /* params, grads (n_params,) flat as fastnn.nn.FeedForward lays them out; X        */ \
    /* (n_rows, units[0]); rows (B,) the batch's row ids, or NULL for rows 0 .. B-1;   */ \
    /* labels (n_rows,) int32 in [0, K) (softmax) or Y (n_rows, K) (logistic); sw     */ \
    /* (n_rows,) sample weights or NULL; BLAS must run single-threaded.  grads =      */ \
    /* the gradient of the weighted mean loss (no penalty); lr > 0: then the step     */ \
    /* p -= lr (g + l2 p), l2 = alpha / sum(w) on weights only.  result[0] = mean     */ \
    /* loss, [1] = sum(w) (when <= 0 nothing else is done), [2] = ||W||^2 before the  */ \
    /* step (alpha > 0 only).  Returns 0, or -1 when out of memory.                   */ \
    int fnn_mlp_batch_##SFX(REAL *params, REAL *grads, double *result, REAL *work,       \
                            double *dwork, const REAL *X, const int64_t *rows,           \
                            const int32_t *labels, const REAL *Y, const REAL *sw,        \
                            const fnn_mlp_net *net, fnn_gemm_fn_##SFX gemm, ptrdiff_t B, \
                            double lr, double alpha, int n_threads);                     \
    /* an epoch of plain SGD (lr > 0) in one parallel region: the batches order[start: */ \
    /* start + batch] (order (n,) or NULL: rows in order) as fnn_mlp_batch, those     */ \
    /* whose weights sum to <= 0 skipped; work / dwork sized for `batch` rows.        */ \
    /* result[0] = sum over batches of (mean loss + 0.5 l2 ||W||^2) x rows,           */ \
    /* [1] = batches skipped.  Returns 0, or -1 when out of memory.                   */ \
    int fnn_mlp_epoch_##SFX(REAL *params, REAL *grads, double *result, REAL *work,       \
                            double *dwork, const REAL *X, const int64_t *order,          \
                            const int32_t *labels, const REAL *Y, const REAL *sw,        \
                            const fnn_mlp_net *net, fnn_gemm_fn_##SFX gemm, ptrdiff_t n, \
                            ptrdiff_t batch, double lr, double alpha, int n_threads);

FNN_DECLARE_MLP(float, f32)
FNN_DECLARE_MLP(double, f64)

#endif
