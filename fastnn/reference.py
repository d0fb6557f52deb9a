"""Plain-NumPy versions of every compiled kernel: the executable specification.

The tests compare each kernel with the function of the same name here.  Clarity over
speed; float64 math where it costs nothing.  Imports only NumPy.
"""
import numpy as np


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits, labels, sample_weight=None):
    """(weighted mean of -log softmax(logits)[i, labels[i]], d loss / d logits)."""
    B = logits.shape[0]
    w = np.ones(B) if sample_weight is None else np.asarray(sample_weight, np.float64)
    logp = log_softmax(logits.astype(np.float64))
    loss = -(w * logp[np.arange(B), labels]).sum() / w.sum()
    grad = np.exp(logp)
    grad[np.arange(B), labels] -= 1
    grad *= (w / w.sum())[:, None]
    return loss, grad.astype(logits.dtype)


def binary_cross_entropy_with_logits(z, y, sample_weight=None):
    """Weighted mean of -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], and dz."""
    z64, y64 = z.astype(np.float64), np.asarray(y, np.float64)
    w = np.ones_like(z64) if sample_weight is None else np.asarray(sample_weight, np.float64)
    losses = np.logaddexp(0, z64) - z64 * y64          # log(1 + e^z) - z y
    grad = (sigmoid(z64) - y64) * w / w.sum()
    return (w * losses).sum() / w.sum(), grad.astype(z.dtype)


def sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def sigmoid_backward(dout, y):
    return dout * y * (1 - y)


def relu(x):
    return np.maximum(x, 0)


def relu_backward(dout, x):
    return np.where(x > 0, dout, 0).astype(dout.dtype)


def tanh(x):
    return np.tanh(x)


def tanh_backward(dout, y):
    return dout * (1 - y * y)


def linear(x, W, b=None):
    return x @ W.T if b is None else x @ W.T + b


def linear_backward(dout, x, W):
    """(dW, db, dx) of y = x W^T + b."""
    return dout.T @ x, dout.sum(axis=0), dout @ W


def lm_windows(ids, context_size, pad_id, boundaries=None):
    """(contexts (N, n), targets (N,)): the n ids before each token in its sentence."""
    ids = np.asarray(ids)
    N, n = len(ids), context_size
    starts = np.zeros(N, dtype=np.int64)               # each token's sentence start
    for b in (boundaries if boundaries is not None else []):
        starts[b:] = b
    contexts = np.full((N, n), pad_id, dtype=np.int64)
    for t in range(N):
        for j in range(n):
            src = t - n + j
            if src >= starts[t]:
                contexts[t, j] = ids[src]
    return contexts, ids.copy()


def embedding(ids, table):
    ids = np.asarray(ids).reshape(len(ids), -1)
    return table[ids].reshape(ids.shape[0], -1)


def embedding_backward(dout, ids, num_embeddings):
    ids = np.asarray(ids).reshape(len(ids), -1)
    d = dout.shape[1] // ids.shape[1]
    dtable = np.zeros((num_embeddings, d), dtype=dout.dtype)
    np.add.at(dtable, ids.ravel(), dout.reshape(-1, d))
    return dtable


def sparse_matmul(data, indices, indptr, shape, WT, rows=None):
    """X[rows] @ WT for X given by its CSR arrays."""
    X = _csr_to_dense(data, indices, indptr, shape)
    return (X if rows is None else X[rows]) @ WT


def sparse_t_matmul(data, indices, indptr, shape, G, rows=None):
    X = _csr_to_dense(data, indices, indptr, shape)
    return (X if rows is None else X[rows]).T @ G


def rows_matmul(X, rows, W):
    """X[rows] @ W.T: picked rows of a dense X times narrow weights W (K, F)."""
    return X[rows] @ W.T


def rows_t_matmul(X, rows, G):
    """G.T @ X[rows], (K, F)."""
    return G.T @ X[rows]


def _csr_to_dense(data, indices, indptr, shape):
    X = np.zeros(shape, dtype=data.dtype)
    row_of = np.repeat(np.arange(shape[0]), np.diff(indptr))
    np.add.at(X, (row_of, indices), data)
    return X


def sgd_update(param, grad, lr, velocity=None, momentum=0.0, nesterov=False, weight_decay=0.0):
    """Returns the new (param, velocity) of one SGD step (PyTorch's conventions)."""
    g = grad + weight_decay * param
    if velocity is None:
        return param - lr * g, None
    velocity = momentum * velocity + g
    step = g + momentum * velocity if nesterov else velocity
    return param - lr * step, velocity


# ============================================================================
# Feed-forward network (MLPClassifier, issue 4): forward, backward, update.
# Weights in scikit-learn's layout: coefs[i] (fan_in, fan_out), intercepts[i].
# output: 'softmax' (Y one-hot) or 'logistic' (Y 0/1 per output unit).
# ============================================================================
_MLP_ACTIVATIONS = {
    "identity": (lambda z: z, lambda d, y: d),
    "relu": (relu, lambda d, y: np.where(y > 0, d, 0)),
    "tanh": (np.tanh, tanh_backward),
    "logistic": (sigmoid, sigmoid_backward),
}


def mlp_forward(X, coefs, intercepts, activation):
    """[X, h1, ..., logits]: every layer's output (the last one before the output
    non-linearity)."""
    g = _MLP_ACTIVATIONS[activation][0]
    outs = [X]
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        z = outs[-1] @ W + b
        outs.append(z if i == len(coefs) - 1 else g(z))
    return outs


def mlp_loss_grad(X, Y, coefs, intercepts, activation, output, alpha=0.0,
                  sample_weight=None):
    """(loss, coef_grads, intercept_grads) of scikit-learn's MLP objective on a batch:
    sum over output units of the weighted mean cross-entropy, from the logits, plus
    0.5 alpha ||W||^2 / sum(w)  (w = sample_weight, or ones)."""
    outs = mlp_forward(X, coefs, intercepts, activation)
    z = outs[-1].astype(np.float64)
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    if output == "softmax":
        logp = log_softmax(z)
        losses = -(Y * logp).sum(axis=1)
        p = np.exp(logp)
    else:
        losses = (np.logaddexp(0, z) - z * Y).sum(axis=1)
        p = 1 / (1 + np.exp(-z))
    sw = w.sum()
    loss = (w * losses).sum() / sw + 0.5 * alpha * sum((W * W).sum() for W in coefs) / sw
    delta = (p - Y) * w[:, None] / sw
    back = _MLP_ACTIVATIONS[activation][1]
    coef_grads, intercept_grads = [None] * len(coefs), [None] * len(coefs)
    for i in range(len(coefs) - 1, -1, -1):
        coef_grads[i] = outs[i].T @ delta + alpha * coefs[i] / sw
        intercept_grads[i] = delta.sum(axis=0)
        if i > 0:
            delta = back(delta @ coefs[i].T, outs[i])
    return loss, coef_grads, intercept_grads


def mlp_sgd_update(params, grads, velocities, lr, momentum, nesterov):
    """scikit-learn's SGD step on lists of arrays, in place:
    v = momentum v - lr g;  p += v  (Nesterov: p += momentum v - lr g)."""
    for p, g, v in zip(params, grads, velocities):
        v *= momentum
        v -= lr * g
        p += momentum * v - lr * g if nesterov else v


def mlp_adam_update(params, grads, ms, vs, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """scikit-learn's Adam step number t (from 1), in place:
    p -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + epsilon)."""
    lr_t = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    for p, g, m, v in zip(params, grads, ms, vs):
        m *= beta_1
        m += (1 - beta_1) * g
        v *= beta_2
        v += (1 - beta_2) * g * g
        p -= lr_t * m / (np.sqrt(v) + epsilon)


# ============================================================================
# Feed-forward language model (FeedForwardLM, issue 6): one SGD training step.
# E (V, d) embedding table; Ws[i] (out, in) and bs[i] as fastnn.nn.Linear stores them
# (hidden layers, then the output layer); contexts (B, n) ids, targets (B,) ids.
# ============================================================================
def fflm_forward(contexts, E, Ws, bs, activation):
    """[x, h1, ..., logits]: the concatenated embeddings, each hidden layer's output
    and the output layer's logits."""
    g = {"tanh": np.tanh, "relu": relu}[activation]
    outs = [embedding(contexts, E)]
    for i, (W, b) in enumerate(zip(Ws, bs)):
        z = linear(outs[-1], W, b)
        outs.append(z if i == len(Ws) - 1 else g(z))
    return outs


def fflm_loss_grad(contexts, targets, E, Ws, bs, activation):
    """(mean cross-entropy, dE, [dW], [db]) of one batch."""
    back = {"tanh": tanh_backward, "relu": lambda d, y: np.where(y > 0, d, 0)}[activation]
    outs = fflm_forward(contexts, E, Ws, bs, activation)
    loss, delta = softmax_cross_entropy(outs[-1], targets)
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for i in range(len(Ws) - 1, -1, -1):
        dWs[i], dbs[i], delta = linear_backward(delta, outs[i], Ws[i])
        if i > 0:
            delta = back(delta, outs[i])
    dE = embedding_backward(delta, contexts, E.shape[0])
    return loss, dE, dWs, dbs


def fflm_sgd_step(contexts, targets, E, Ws, bs, activation, lr, momentum=0.0,
                  weight_decay=0.0, velocities=None):
    """One SGD step (sgd_update's PyTorch conventions) on every parameter, embeddings
    included.  velocities: None, or arrays like [E, *Ws, *bs] (needed with momentum).
    Returns (loss, new E, new Ws, new bs, new velocities or None)."""
    loss, dE, dWs, dbs = fflm_loss_grad(contexts, targets, E, Ws, bs, activation)
    params, grads = [E, *Ws, *bs], [dE, *dWs, *dbs]
    vels = velocities if velocities is not None else [None] * len(params)
    new = [sgd_update(p, g, lr, v, momentum, False, weight_decay)
           for p, g, v in zip(params, grads, vels)]
    k = len(Ws)
    new_p = [p for p, _ in new]
    new_v = None if velocities is None else [v for _, v in new]
    return loss, new_p[0], new_p[1:1 + k], new_p[1 + k:], new_v


# ---------------------------------------------------------------------------------------
# word2vec: one negative-sampling update (skip-gram pair, CBOW window), as the sgns kernel
# ---------------------------------------------------------------------------------------
SGNS_MAX_EXP = 6.0


def _sgns_output_update(syn1neg, l1, rows, alpha):
    """Scores of l1 against syn1neg[rows] (rows[0] the true word, label 1; the others
    label 0), all computed first; then in order: neu1e += g_k syn1neg[r_k],
    syn1neg[r_k] += g_k l1 with g_k = (label_k - sigma(f_k)) alpha, sigma saturated to
    0 / 1 beyond |f| > 6.  Returns (neu1e, loss), loss = -log sigma(f_0) - sum log sigma(-f_k)."""
    dt = syn1neg.dtype.type
    f = np.array([syn1neg[r] @ l1 for r in rows], dtype=dt)
    sig = (1 / (1 + np.exp(-f.astype(np.float64)))).astype(dt)
    sig = np.where(f > SGNS_MAX_EXP, dt(1), np.where(f < -SGNS_MAX_EXP, dt(0), sig))
    labels = np.zeros(len(rows), dtype=dt)
    labels[0] = 1
    g = (labels - sig) * dt(alpha)
    y = np.where(labels == 1, f, -f).astype(np.float64)
    loss = float(np.logaddexp(0, -y).sum())
    neu1e = np.zeros_like(l1)
    for r, gk in zip(rows, g):
        neu1e += gk * syn1neg[r]
        syn1neg[r] += gk * l1
    return neu1e, loss


def _sgns_rows(center, negs):
    return [center] + [int(n) for n in negs if n != center]


def sgns_update(syn0, syn1neg, context, center, negs, alpha):
    """Skip-gram with negative sampling, one (center, context) pair, in place: the
    input vector syn0[context] predicts center against the negatives (a negative equal
    to center is skipped), as the C tool and gensim.  Returns the pair's loss."""
    l1 = syn0[context].copy()
    neu1e, loss = _sgns_output_update(syn1neg, l1, _sgns_rows(center, negs), alpha)
    syn0[context] += neu1e
    return loss


def cbow_update(syn0, syn1neg, contexts, center, negs, alpha, cbow_mean=True):
    """CBOW with negative sampling, one window, in place: l1 = mean (cbow_mean) or sum of
    syn0[contexts] predicts center; each context row then gets neu1e (mean) or
    neu1e / len(contexts) (sum), gensim's convention.  Returns the loss."""
    dt = syn0.dtype.type
    l1 = np.zeros(syn0.shape[1], dtype=dt)
    for c in contexts:
        l1 += syn0[c]
    inv = dt(1) / dt(len(contexts))
    if cbow_mean:
        l1 *= inv
    neu1e, loss = _sgns_output_update(syn1neg, l1, _sgns_rows(center, negs), alpha)
    scale = dt(1) if cbow_mean else inv
    for c in contexts:
        syn0[c] += scale * neu1e
    return loss


# ---------------------------------------------------------------------------------------
# Recurrent LM (Elman RNN): forward over a window of T steps of B parallel streams,
# backpropagation through time, global-norm gradient clipping.
#   a_t = x_t W_x^T + h_{t-1} W_h^T + b,  h_t = g(a_t),  P(w_{t+1}) = softmax(h_t U^T + c)
# ---------------------------------------------------------------------------------------

def _rnn_act(activation):
    """(g, g' expressed through the output h = g(a))."""
    if activation == "tanh":
        return np.tanh, lambda h: 1 - h * h
    if activation == "relu":
        return relu, lambda h: (h > 0).astype(h.dtype)
    raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")


def _prev_states(H, keep):
    """The previous state of each step: H[t], rows with keep[t, b] == 0 zeroed."""
    P = H[:-1].copy()
    if keep is not None:
        P[np.asarray(keep) == 0] = 0
    return P


def rnn_forward(X, W_x, W_h, b, h0, activation, keep=None):
    """X (T, B, E), h0 (B, Hd) -> H (T + 1, B, Hd) with H[0] = h0, H[t + 1] = h_t.
    keep (T, B) or None: where 0, step t of stream b starts from a zero state."""
    g, _ = _rnn_act(activation)
    T = X.shape[0]
    H = np.empty((T + 1,) + h0.shape, dtype=np.result_type(X, h0))
    H[0] = h0
    for t in range(T):
        prev = H[t] if keep is None else H[t] * (np.asarray(keep[t]) != 0)[:, None]
        H[t + 1] = g(X[t] @ W_x.T + prev @ W_h.T + b)
    return H


def rnn_backward(dH, H, X, W_x, W_h, activation, keep=None):
    """dH (T, B, Hd) = d loss / d H[1:] -> dict dA (T, B, Hd) (d loss / d a_t), dW_x,
    dW_h, db, dX (T, B, E), dh0 (B, Hd)."""
    _, dg = _rnn_act(activation)
    T = X.shape[0]
    dA = np.empty_like(dH)
    carry = np.zeros_like(H[0])
    for t in range(T - 1, -1, -1):
        dA[t] = (dH[t] + carry) * dg(H[t + 1])
        carry = dA[t] @ W_h
        if keep is not None:
            carry = carry * (np.asarray(keep[t]) != 0)[:, None]
    return {"dA": dA,
            "dW_x": np.einsum("tbh,tbe->he", dA, X),
            "dW_h": np.einsum("tbh,tbk->hk", dA, _prev_states(H, keep)),
            "db": dA.sum(axis=(0, 1)),
            "dX": dA @ W_x,
            "dh0": carry}


def rnn_lm_loss_grad(ids, targets, h0, params, activation, keep=None, weights=None):
    """One window of the recurrent LM.  ids, targets (T, B) ints, h0 (B, Hd), params a
    dict of emb (V, E), W_x (Hd, E), W_h (Hd, Hd), b (Hd,), U (V, Hd), c (V,); keep
    (T, B) or None restarts streams (see rnn_forward); weights (T, B) or None weigh the
    predictions.  Returns (weighted mean cross-entropy over the T B predictions, dict of
    the gradients of every parameter plus h0, H (T + 1, B, Hd))."""
    T, B = ids.shape
    X = params["emb"][ids]
    H = rnn_forward(X, params["W_x"], params["W_h"], params["b"], h0, activation, keep)
    hs = H[1:].reshape(T * B, -1)
    w = None if weights is None else np.asarray(weights).reshape(-1)
    loss, dlogits = softmax_cross_entropy(linear(hs, params["U"], params["c"]),
                                          targets.reshape(-1), w)
    dU, dc, dhs = linear_backward(dlogits, hs, params["U"])
    g = rnn_backward(dhs.reshape(H[1:].shape), H, X, params["W_x"], params["W_h"],
                     activation, keep)
    grads = {"emb": embedding_backward(g["dX"].reshape(T * B, -1), ids.reshape(-1, 1),
                                       params["emb"].shape[0]),
             "W_x": g["dW_x"], "W_h": g["dW_h"], "b": g["db"], "U": dU, "c": dc,
             "h0": g["dh0"]}
    return loss, grads, H


def clip_grad_norm(grads, max_norm):
    """(grads scaled by max_norm / norm when their joint 2-norm exceeds max_norm, the
    norm before clipping)."""
    norm = float(np.sqrt(sum(float(np.sum(np.asarray(g, np.float64) ** 2)) for g in grads)))
    factor = max_norm / norm if norm > max_norm else 1.0
    return [g * np.asarray(factor, g.dtype) if factor != 1.0 else g.copy() for g in grads], norm


# ============================================================================
# Linear classifiers (issue 3): one fused epoch of mini-batch SGD on a dense X.
# ============================================================================
def linear_sgd_epoch(X, order, labels, sample_weight, W, b, VW, Vb, etas, batch_size,
                     momentum, l2, l1, average=False):
    """One epoch over the rows `order` of X in batches of batch_size: per batch, the
    logits z = X_b W^T + b, the sigmoid (K = 1, labels 0/1) or softmax (K >= 2) loss,
    g_i = sw_i dloss_i/dz_i / m, the SGD step with momentum and weight decay l2 on W
    (none on b), then the L1 soft-threshold on W.  b, VW, Vb may be None.  Returns
    (W, b, VW, Vb, summed weighted loss) as new float64 arrays, and with average=True
    also (AW, Ab): the mean of the epoch's iterates (W, b after each update)."""
    W = np.array(W, np.float64)
    b = None if b is None else np.array(b, np.float64)
    VW = None if VW is None else np.array(VW, np.float64)
    Vb = None if Vb is None else np.array(Vb, np.float64)
    X = np.asarray(X, np.float64)
    total = 0.0
    iterates = []
    for batch, start in enumerate(range(0, order.shape[0], batch_size)):
        rows = order[start:start + batch_size]
        m = rows.shape[0]
        z = X[rows] @ W.T + (0.0 if b is None else b)
        sw = (np.ones(m) if sample_weight is None
              else np.asarray(sample_weight, np.float64)[rows])
        if W.shape[0] == 1:
            mean, g = binary_cross_entropy_with_logits(z[:, 0], labels[rows], sw)
            g = g[:, None]
        else:
            mean, g = softmax_cross_entropy(z, labels[rows], sw)
        total += mean * sw.sum()
        g = g * (sw.sum() / m)          # the mean over the batch's m rows, weighted
        eta = etas[batch]
        W, VW = sgd_update(W, g.T @ X[rows], eta, VW, momentum, False, l2)
        if b is not None:
            b, Vb = sgd_update(b, g.sum(axis=0), eta, Vb, momentum, False, 0.0)
        if l1 > 0:
            W = np.sign(W) * np.maximum(np.abs(W) - eta * l1, 0.0)
        iterates.append((W, b))
    if not average:
        return W, b, VW, Vb, total
    AW = np.mean([w for w, _ in iterates], axis=0)
    Ab = None if b is None else np.mean([c for _, c in iterates], axis=0)
    return W, b, VW, Vb, total, AW, Ab


def linear_sgd_epoch_csr(data, indices, indptr, shape, order, labels, sample_weight, W, b,
                         VW, Vb, etas, batch_size, momentum, l2, average=False, l1=0.0):
    """`linear_sgd_epoch` on X given by its CSR arrays: the eager reference of the CSR
    epoch kernel.  W (K, F) as there; returns what it returns."""
    X = _csr_to_dense(data, indices, indptr, shape)
    return linear_sgd_epoch(X, order, labels, sample_weight, W, b, VW, Vb, etas, batch_size,
                            momentum, l2, l1, average)
