# Declarations of the C kernels in csrc/fastnn.h (see there for shapes and contracts).
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

cdef extern from "fastnn.h" nogil:
    void fnn_relu_f32(float *y, const float *x, Py_ssize_t n, int n_threads)
    void fnn_relu_f64(double *y, const double *x, Py_ssize_t n, int n_threads)
    void fnn_tanh_f32(float *y, const float *x, Py_ssize_t n, int n_threads)
    void fnn_tanh_f64(double *y, const double *x, Py_ssize_t n, int n_threads)
    void fnn_sigmoid_f32(float *y, const float *x, Py_ssize_t n, int n_threads)
    void fnn_sigmoid_f64(double *y, const double *x, Py_ssize_t n, int n_threads)
    void fnn_relu_backward_f32(float *dx, const float *dout, const float *x, Py_ssize_t n, int n_threads)
    void fnn_relu_backward_f64(double *dx, const double *dout, const double *x, Py_ssize_t n, int n_threads)
    void fnn_tanh_backward_f32(float *dx, const float *dout, const float *y, Py_ssize_t n, int n_threads)
    void fnn_tanh_backward_f64(double *dx, const double *dout, const double *y, Py_ssize_t n, int n_threads)
    void fnn_sigmoid_backward_f32(float *dx, const float *dout, const float *y, Py_ssize_t n, int n_threads)
    void fnn_sigmoid_backward_f64(double *dx, const double *dout, const double *y, Py_ssize_t n, int n_threads)

    void fnn_softmax_f32(float *out, const float *z, Py_ssize_t B, Py_ssize_t K, int n_threads)
    void fnn_softmax_f64(double *out, const double *z, Py_ssize_t B, Py_ssize_t K, int n_threads)
    void fnn_log_softmax_f32(float *out, const float *z, Py_ssize_t B, Py_ssize_t K, int n_threads)
    void fnn_log_softmax_f64(double *out, const double *z, Py_ssize_t B, Py_ssize_t K, int n_threads)
    double fnn_softmax_xent_f32(float *dlogits, const float *logits, const int32_t *labels,
                                const float *w, Py_ssize_t B, Py_ssize_t K, int n_threads)
    double fnn_softmax_xent_f64(double *dlogits, const double *logits, const int32_t *labels,
                                const double *w, Py_ssize_t B, Py_ssize_t K, int n_threads)
    double fnn_bce_with_logits_f32(float *dlogits, const float *logits, const float *targets,
                                   const float *w, Py_ssize_t n, int n_threads)
    double fnn_bce_with_logits_f64(double *dlogits, const double *logits, const double *targets,
                                   const double *w, Py_ssize_t n, int n_threads)

    void fnn_sgd_update_f32(float *p, const float *g, float *v, Py_ssize_t n, double lr,
                            double momentum, int nesterov, double weight_decay, int n_threads)
    void fnn_sgd_update_f64(double *p, const double *g, double *v, Py_ssize_t n, double lr,
                            double momentum, int nesterov, double weight_decay, int n_threads)

    void fnn_fill_rows_f32(float *y, const float *b, Py_ssize_t B, Py_ssize_t N, int n_threads)
    void fnn_fill_rows_f64(double *y, const double *b, Py_ssize_t B, Py_ssize_t N, int n_threads)
    void fnn_column_sum_f32(float *db, const float *dout, Py_ssize_t B, Py_ssize_t N, int n_threads)
    void fnn_column_sum_f64(double *db, const double *dout, Py_ssize_t B, Py_ssize_t N, int n_threads)

    void fnn_embedding_gather_f32(float *out, const float *table, const int32_t *ids,
                                  Py_ssize_t N, Py_ssize_t n, Py_ssize_t d, int n_threads)
    void fnn_embedding_gather_f64(double *out, const double *table, const int32_t *ids,
                                  Py_ssize_t N, Py_ssize_t n, Py_ssize_t d, int n_threads)
    void fnn_embedding_scatter_add_f32(float *dtable, const float *dout, const int32_t *ids,
                                       Py_ssize_t N, Py_ssize_t n, Py_ssize_t d, int n_threads)
    void fnn_embedding_scatter_add_f64(double *dtable, const double *dout, const int32_t *ids,
                                       Py_ssize_t N, Py_ssize_t n, Py_ssize_t d, int n_threads)
    void fnn_lm_windows(int32_t *contexts, int32_t *targets, const int32_t *ids, Py_ssize_t N,
                        Py_ssize_t n, int32_t pad, const int64_t *starts, Py_ssize_t S,
                        int n_threads)

    int fnn_openmp_enabled()
    int fnn_max_threads()

cdef extern from "fastnn.h" nogil:
    void fnn_csr_matmul_f32(float *out, const float *data, const int32_t *indices,
                            const int64_t *indptr, const int64_t *rows, const float *WT,
                            Py_ssize_t B, Py_ssize_t K, int n_threads)
    void fnn_csr_matmul_f64(double *out, const double *data, const int32_t *indices,
                            const int64_t *indptr, const int64_t *rows, const double *WT,
                            Py_ssize_t B, Py_ssize_t K, int n_threads)
    void fnn_csr_t_matmul_f32(float *out, const float *data, const int32_t *indices,
                              const int64_t *indptr, const int64_t *rows, const float *G,
                              Py_ssize_t B, Py_ssize_t F, Py_ssize_t K, int n_threads)
    void fnn_csr_t_matmul_f64(double *out, const double *data, const int32_t *indices,
                              const int64_t *indptr, const int64_t *rows, const double *G,
                              Py_ssize_t B, Py_ssize_t F, Py_ssize_t K, int n_threads)

cdef extern from "fastnn.h" nogil:
    # rnn.c
    int FNN_RNN_RELU
    int FNN_RNN_TANH
    void fnn_rnn_act_backward_f32(float *da, const float *dh, const float *carry,
                                  const float *h, Py_ssize_t n, int act, int n_threads)
    void fnn_rnn_act_backward_f64(double *da, const double *dh, const double *carry,
                                  const double *h, Py_ssize_t n, int act, int n_threads)
    void fnn_rnn_mask_rows_f32(float *out, const float *inp, const uint8_t *keep,
                               Py_ssize_t B, Py_ssize_t Hd)
    void fnn_rnn_mask_rows_f64(double *out, const double *inp, const uint8_t *keep,
                               Py_ssize_t B, Py_ssize_t Hd)
    double fnn_sum_squares_f32(const float *x, Py_ssize_t n, int n_threads)
    double fnn_sum_squares_f64(const double *x, Py_ssize_t n, int n_threads)
    void fnn_scale_f32(float *x, Py_ssize_t n, double alpha, int n_threads)
    void fnn_scale_f64(double *x, Py_ssize_t n, double alpha, int n_threads)

cdef extern from "fastnn.h" nogil:
    void fnn_rows_matmul_f32(float *out, const float *X, const int64_t *rows, const float *W,
                             Py_ssize_t B, Py_ssize_t F, Py_ssize_t K, int n_threads)
    void fnn_rows_matmul_f64(double *out, const double *X, const int64_t *rows, const double *W,
                             Py_ssize_t B, Py_ssize_t F, Py_ssize_t K, int n_threads)
    void fnn_rows_t_matmul_f32(float *out, const float *X, const int64_t *rows, const float *G,
                               Py_ssize_t B, Py_ssize_t F, Py_ssize_t K, int n_threads)
    void fnn_rows_t_matmul_f64(double *out, const double *X, const int64_t *rows,
                               const double *G, Py_ssize_t B, Py_ssize_t F, Py_ssize_t K,
                               int n_threads)

cdef extern from "fastnn.h" nogil:
    ctypedef struct fnn_sgns_task:
        const int32_t *ids
        const int64_t *starts
        Py_ssize_t S
        const double *keep
        const uint32_t *alias_prob
        const int32_t *alias_idx
        const int32_t *hot_rows
        Py_ssize_t n_hot
        Py_ssize_t V
        Py_ssize_t d
        int sg, cbow_mean, window, shrink, negative, want_loss
        double alpha0, alpha1
        uint64_t seed

    double fnn_sg_update_f32(float *syn0, float *syn1neg, int32_t context, int32_t center,
                             const int32_t *negs, int K, Py_ssize_t d, double alpha,
                             int want_loss)
    double fnn_sg_update_f64(double *syn0, double *syn1neg, int32_t context, int32_t center,
                             const int32_t *negs, int K, Py_ssize_t d, double alpha,
                             int want_loss)
    double fnn_cbow_update_f32(float *syn0, float *syn1neg, const int32_t *contexts, int C,
                               int32_t center, const int32_t *negs, int K, Py_ssize_t d,
                               double alpha, int cbow_mean, int want_loss)
    double fnn_cbow_update_f64(double *syn0, double *syn1neg, const int32_t *contexts, int C,
                               int32_t center, const int32_t *negs, int K, Py_ssize_t d,
                               double alpha, int cbow_mean, int want_loss)
    int fnn_sgns_epoch_f32(float *syn0, float *syn1neg, double *loss, int64_t *n_trained,
                           const fnn_sgns_task *task, int n_threads)
    int fnn_sgns_epoch_f64(double *syn0, double *syn1neg, double *loss, int64_t *n_trained,
                           const fnn_sgns_task *task, int n_threads)
    int fnn_alias_build(uint32_t *prob, int32_t *alias, const double *weights, Py_ssize_t V)

    ctypedef struct fnn_linsgd_task:
        const int64_t *order
        const int32_t *labels
        const double *etas
        Py_ssize_t n, F, K, batch
        double momentum, l2, l1

    int fnn_linsgd_dense_epoch_f32(float *W, float *b, float *VW, float *Vb, float *AW,
                                   float *Ab, double *loss, int *nonfinite, const float *X,
                                   const float *sw, const fnn_linsgd_task *task,
                                   int n_threads)
    int fnn_linsgd_dense_epoch_f64(double *W, double *b, double *VW, double *Vb, double *AW,
                                   double *Ab, double *loss, int *nonfinite, const double *X,
                                   const double *sw, const fnn_linsgd_task *task,
                                   int n_threads)
    void fnn_shuffled_order(int64_t *order, Py_ssize_t n, uint64_t seed)
    void fnn_row_sq_norms_f32(double *out, const float *X, Py_ssize_t n_out, Py_ssize_t step,
                              Py_ssize_t F, int n_threads)
    void fnn_row_sq_norms_f64(double *out, const double *X, Py_ssize_t n_out, Py_ssize_t step,
                              Py_ssize_t F, int n_threads)
    void fnn_running_mean_f32(float *a, const float *w, double frac, Py_ssize_t n,
                              int n_threads)
    void fnn_running_mean_f64(double *a, const double *w, double frac, Py_ssize_t n,
                              int n_threads)

cdef extern from "fastnn.h" nogil:
    # linsparse.c
    int FNN_LSP_AUTO
    int FNN_LSP_LAZY
    int FNN_LSP_SCALED
    int FNN_LSP_SWEEP
    ctypedef struct fnn_linsparse_task:
        const int64_t *order
        const int32_t *labels
        const double *etas
        const int32_t *bounds
        Py_ssize_t n, F, K, batch, P, window, grain
        int mode
        double momentum, l2, l1

    int fnn_linsparse_epoch_f32(float *WT, float *b, float *VT, float *Vb, float *AT,
                                float *Ab, double *loss, int *nonfinite, const float *data,
                                const int32_t *indices, const int64_t *indptr,
                                const float *sw, const fnn_linsparse_task *task,
                                int n_threads)
    int fnn_linsparse_epoch_f64(double *WT, double *b, double *VT, double *Vb, double *AT,
                                double *Ab, double *loss, int *nonfinite, const double *data,
                                const int32_t *indices, const int64_t *indptr,
                                const double *sw, const fnn_linsparse_task *task,
                                int n_threads)
    void fnn_csr_row_sq_norms_f32(double *out, const float *data, const int64_t *indptr,
                                  Py_ssize_t n_out, Py_ssize_t step, int n_threads)
    void fnn_csr_row_sq_norms_f64(double *out, const double *data, const int64_t *indptr,
                                  Py_ssize_t n_out, Py_ssize_t step, int n_threads)

    # mlp.c
    int FNN_MLP_IDENTITY
    int FNN_MLP_RELU
    int FNN_MLP_TANH
    int FNN_MLP_LOGISTIC
    ctypedef struct fnn_mlp_net:
        int n_layers
        const Py_ssize_t *units
        int activation
        int softmax
        Py_ssize_t grain
    ctypedef void (*fnn_gemm_fn_f32)(char *, char *, int *, int *, int *, float *, float *,
                                     int *, float *, int *, float *, float *, int *) noexcept nogil
    ctypedef void (*fnn_gemm_fn_f64)(char *, char *, int *, int *, int *, double *, double *,
                                     int *, double *, int *, double *, double *,
                                     int *) noexcept nogil
    void fnn_mlp_work_size(Py_ssize_t *n_real, Py_ssize_t *n_double, const fnn_mlp_net *net,
                           Py_ssize_t B)
    int fnn_mlp_batch_f32(float *params, float *grads, double *result, float *work,
                          double *dwork, const float *X, const int64_t *rows,
                          const int32_t *labels, const float *Y, const float *sw,
                          const fnn_mlp_net *net, fnn_gemm_fn_f32 gemm, Py_ssize_t B,
                          double lr, double alpha, int n_threads)
    int fnn_mlp_batch_f64(double *params, double *grads, double *result, double *work,
                          double *dwork, const double *X, const int64_t *rows,
                          const int32_t *labels, const double *Y, const double *sw,
                          const fnn_mlp_net *net, fnn_gemm_fn_f64 gemm, Py_ssize_t B,
                          double lr, double alpha, int n_threads)
    int fnn_mlp_epoch_f32(float *params, float *grads, double *result, float *work,
                          double *dwork, const float *X, const int64_t *order,
                          const int32_t *labels, const float *Y, const float *sw,
                          const fnn_mlp_net *net, fnn_gemm_fn_f32 gemm, Py_ssize_t n,
                          Py_ssize_t batch, double lr, double alpha, int n_threads)
    int fnn_mlp_epoch_f64(double *params, double *grads, double *result, double *work,
                          double *dwork, const double *X, const int64_t *order,
                          const int32_t *labels, const double *Y, const double *sw,
                          const fnn_mlp_net *net, fnn_gemm_fn_f64 gemm, Py_ssize_t n,
                          Py_ssize_t batch, double lr, double alpha, int n_threads)
