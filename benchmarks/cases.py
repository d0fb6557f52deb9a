"""The benchmark cases: fastnn's public functions against NumPy, PyTorch and a copy.

Each builder makes its data (fixed seeds) and returns a `Case`.  Conventions:

- fastnn is called through `fastnn.functional` with check_finite=False and an explicit
  n_threads (1 and 2); for `linear`, whose GEMMs follow BLAS's thread count, not
  n_threads, BLAS is limited to t threads around the call (threadpoolctl).
- Every contender allocates its outputs on every call, as fastnn's functional API does
  (the "hand" NumPy versions reuse their own temporaries in place, never a buffer kept
  between calls).  Exceptions, named as such: the copy (np.copyto into a preallocated
  array, the bandwidth yardstick), the in-place `sgd_update` for everyone, and the
  elementwise bandwidth cases, where fastnn writes through its public `out=` into
  preallocated arrays (as the copy does) and a "fastnn, allocating" row shows the same
  public call allocating its outputs.
- PyTorch runs at 1 and 2 threads (torch.set_num_threads before each call) and is
  reported at its faster count; tensors are made with torch.from_numpy outside the
  timed call (zero-copy), integer indices converted to int64 once, outside too.
- Bytes are counted STREAM-style, minimal traffic: each array read once plus each array
  written once (e.g. relu fwd+bwd on n floats = (4+4) n + (4+4+4) n = 20 n bytes).
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import fastnn.functional as F
import fastnn.reference as R
from _harness import Case, Contender, Target

try:
    import torch
    import torch.nn.functional as TF
    TORCH_SKIP = None
except ImportError as exc:      # reported by name, never faked
    torch = TF = None
    TORCH_SKIP = "torch not installed" if exc.name == "torch" else f"torch: {exc}"

THREADS = (1, 2)
F32 = np.float32
COPY_N = 64 << 20          # floats in the bandwidth copy (256 MB per array)
ACT_N = 16 << 20           # floats in the elementwise cases

NP_REF, NP_HAND = "numpy reference", "numpy hand f32"
T_AUTO, T_HAND, T_OPT = "torch autograd", "torch hand", "torch.optim.SGD"
COPY, COPY_ALLOC = "copy", "copy, allocating"
ALLOCATING = "fastnn, allocating outputs"


def rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- helpers

def torch_peers(family, make):
    """`make()` builds the tensors and returns the callable; one contender per thread
    count, or a single skipped one when torch is missing."""
    if torch is None:
        return [Contender(family, None, skip=TORCH_SKIP)]

    def at(t):
        fn = make()             # per thread count: stateful peers (SGD) get their own

        def call():
            torch.set_num_threads(t)
            return fn()
        return call
    return [Contender(family, t, at(t)) for t in THREADS]


def numpy_peer(family, fn, threads=1, **kw):
    """NumPy ufuncs, fancy indexing and the reference run on one thread."""
    return Contender(family, threads, fn, **kw)


_copy_state = {}


def _copy_arrays():
    if not _copy_state:
        src = np.full(COPY_N, 1.5, dtype=F32)
        dst = np.zeros_like(src)           # touched: no page faults while timed
        _copy_state.update(src=src, dst=dst, pool=ThreadPoolExecutor(max_workers=1))
    return _copy_state["src"], _copy_state["dst"], _copy_state["pool"]


def _split_copy(pool, dst, src):
    """np.copyto on two threads (NumPy releases the GIL): half here, half in `pool`."""
    h = src.size // 2
    f = pool.submit(np.copyto, dst[h:], src[h:])
    np.copyto(dst[:h], src[:h])
    f.result()


def copy_peers(allocating=False):
    """The bandwidth yardstick: 64M float32 copied into a preallocated array, 8 bytes
    per float (STREAM copy counting), on 1 and 2 threads; `allocating` adds the same
    copy into a freshly allocated array (page faults included, as for the kernels)."""
    src, dst, pool = _copy_arrays()
    nbytes = 8 * src.size
    peers = [
        Contender(COPY, 1, lambda: np.copyto(dst, src), check=False, nbytes=nbytes),
        Contender(COPY, 2, lambda: _split_copy(pool, dst, src), check=False, nbytes=nbytes),
    ]
    if allocating:
        def alloc2():
            out = np.empty_like(src)
            _split_copy(pool, out, src)
            return out
        peers += [
            Contender(COPY_ALLOC, 1, lambda: src.copy(), check=False, nbytes=nbytes),
            Contender(COPY_ALLOC, 2, alloc2, check=False, nbytes=nbytes),
        ]
    return peers


def _fast(fn):
    """fn(t, **kw) -> a callable per thread count, with check_finite=False."""
    return lambda t: (lambda: fn(n_threads=t, check_finite=False))


# ---------------------------------------------------------------- softmax family

def _logits(B, K, seed=1):
    r = rng(seed)
    z = (2 * r.standard_normal((B, K))).astype(F32)
    y = r.integers(0, K, B)                 # int64, as NumPy and torch make labels
    return z, y


def softmax_xent(B, K):
    z, y = _logits(B, K)
    rows = np.arange(B)

    def hand():
        # softmax-CE by hand in float32: z - max, exp, sum, divide, subtract one-hot
        m = z.max(axis=1, keepdims=True)
        e = z - m
        zy = e[rows, y]
        np.exp(e, out=e)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) - zy))
        e *= 1 / (s * B)
        e[rows, y] -= 1 / B
        return loss, e

    def t_auto():
        zt, yt = torch.from_numpy(z).requires_grad_(), torch.from_numpy(y)

        def f():
            zt.grad = None
            loss = TF.cross_entropy(zt, yt)
            loss.backward()
            return loss.item(), zt.grad
        return f

    def t_hand():
        zt, yt, r = torch.from_numpy(z), torch.from_numpy(y), torch.arange(B)

        def f():
            p = torch.softmax(zt, 1)
            loss = -torch.log(p[r, yt]).mean()
            p[r, yt] -= 1
            p /= B
            return loss.item(), p
        return f

    if (B, K) == (4096, 10):
        target = Target("speedup", 5, (NP_REF,))
    elif (B, K) == (512, 10000):
        target = Target("speedup", 1.5, (NP_HAND, T_AUTO, T_HAND))
    else:
        target = None
    return Case(
        f"softmax_cross_entropy fwd+bwd ({B}, {K})",
        _fast(lambda **kw: F.softmax_cross_entropy(z, y, **kw)),
        [numpy_peer(NP_REF, lambda: R.softmax_cross_entropy(z, y)),
         numpy_peer(NP_HAND, hand),
         *torch_peers(T_AUTO, t_auto), *torch_peers(T_HAND, t_hand)],
        nbytes=8 * B * K, target=target,
        note="labels int64; loss = mean, dlogits = (softmax - onehot) / B; the NumPy "
             "reference works in float64")


def softmax_rows(B, K, log):
    z, _ = _logits(B, K, seed=2)
    if log:
        fast = _fast(lambda **kw: F.log_softmax(z, **kw))
        ref = lambda: R.log_softmax(z)

        def hand():
            s = z - z.max(axis=1, keepdims=True)
            s -= np.log(np.exp(s).sum(axis=1, keepdims=True))
            return s

        def t_make():
            zt = torch.from_numpy(z)
            return lambda: torch.log_softmax(zt, 1)
    else:
        fast = _fast(lambda **kw: F.softmax(z, **kw))
        ref = lambda: R.softmax(z)

        def hand():
            e = z - z.max(axis=1, keepdims=True)
            np.exp(e, out=e)
            e /= e.sum(axis=1, keepdims=True)
            return e

        def t_make():
            zt = torch.from_numpy(z)
            return lambda: torch.softmax(zt, 1)
    name = "log_softmax" if log else "softmax"
    return Case(f"{name} ({B}, {K})", fast,
                [numpy_peer(NP_REF, ref), numpy_peer(NP_HAND, hand),
                 *torch_peers("torch", t_make)],
                nbytes=8 * B * K, rtol=1e-4)


# ---------------------------------------------------------------- activations

def _act_data(seed=3):
    r = rng(seed)
    return r.standard_normal(ACT_N, dtype=F32), r.standard_normal(ACT_N, dtype=F32)


def _preallocated(x):
    """Output arrays for the `out=` calls, touched once: no page faults while timed."""
    return np.zeros_like(x), np.zeros_like(x)


def _allocating(fn):
    """The same public call with fresh outputs on every call, at 1 and 2 threads."""
    return [Contender(ALLOCATING, t, lambda t=t: fn(n_threads=t, check_finite=False))
            for t in THREADS]


def _torch_autograd(op, x, dout):
    """torch.<op> forward and backward through autograd, as a `torch_peers` maker."""
    def make():
        xt, dt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)

        def f():
            xt.grad = None
            y = getattr(torch, op)(xt)
            y.backward(dt)
            return y, xt.grad
        return f
    return make


def relu():
    x, dout = _act_data()

    def t_hand():
        xt, dt = torch.from_numpy(x), torch.from_numpy(dout)
        return lambda: (torch.relu(xt), dt * (xt > 0))

    y, dx = _preallocated(x)

    def fast(**kw):
        return F.relu(x, out=y, **kw), F.relu_backward(dout, x, out=dx, **kw)

    def allocating(**kw):
        return F.relu(x, **kw), F.relu_backward(dout, x, **kw)

    return Case(
        "relu fwd+bwd 16M", _fast(fast),
        [numpy_peer(NP_REF, lambda: (R.relu(x), R.relu_backward(dout, x))),
         numpy_peer(NP_HAND, lambda: (np.maximum(x, 0), dout * (x > 0))),
         *torch_peers(T_AUTO, _torch_autograd("relu", x, dout)), *torch_peers(T_HAND, t_hand),
         *copy_peers(allocating=True), *_allocating(allocating)],
        nbytes=20 * ACT_N, target=Target("bandwidth", 0.6, (COPY,)), rtol=1e-6,
        note="fwd reads x, writes y (8n B); bwd reads dout, x, writes dx (12n B)")


def tanh():
    x, dout = _act_data()

    def hand():
        y = np.tanh(x)
        g = y * y
        np.subtract(1, g, out=g)
        g *= dout
        return y, g

    def t_hand():
        xt, dt = torch.from_numpy(x), torch.from_numpy(dout)

        def f():
            y = torch.tanh(xt)
            return y, (y * y).neg_().add_(1).mul_(dt)
        return f

    y_out, dx_out = _preallocated(x)

    def fast(**kw):
        y = F.tanh(x, out=y_out, **kw)
        return y, F.tanh_backward(dout, y, out=dx_out, **kw)

    def allocating(**kw):
        y = F.tanh(x, **kw)
        return y, F.tanh_backward(dout, y, **kw)

    def ref():
        y = R.tanh(x)
        return y, R.tanh_backward(dout, y)

    return Case(
        "tanh fwd+bwd 16M", _fast(fast),
        [numpy_peer(NP_REF, ref), numpy_peer(NP_HAND, hand),
         *torch_peers(T_AUTO, _torch_autograd("tanh", x, dout)), *torch_peers(T_HAND, t_hand),
         *copy_peers(), *_allocating(allocating)],
        nbytes=20 * ACT_N, target=Target("bandwidth", 0.6, (COPY,)), rtol=1e-5,
        note="fwd reads x, writes y (8n B); bwd reads dout, y, writes dx (12n B)")


def sigmoid():
    x, dout = _act_data()

    def hand():
        y = np.negative(x)
        np.exp(y, out=y)
        y += 1
        np.reciprocal(y, out=y)
        g = 1 - y
        g *= y
        g *= dout
        return y, g

    def t_hand():
        xt, dt = torch.from_numpy(x), torch.from_numpy(dout)

        def f():
            y = torch.sigmoid(xt)
            return y, (1 - y).mul_(y).mul_(dt)
        return f

    def fast(**kw):
        y = F.sigmoid(x, **kw)
        return y, F.sigmoid_backward(dout, y, **kw)

    def ref():
        y = R.sigmoid(x)
        return y, R.sigmoid_backward(dout, y)

    return Case(
        "sigmoid fwd+bwd 16M", _fast(fast),
        [numpy_peer(NP_REF, ref), numpy_peer(NP_HAND, hand),
         *torch_peers(T_AUTO, _torch_autograd("sigmoid", x, dout)),
         *torch_peers(T_HAND, t_hand), *copy_peers()],
        nbytes=20 * ACT_N, rtol=1e-5)


# ---------------------------------------------------------------- optimiser, dense

def sgd_momentum(n=10_000_000, lr=0.01, momentum=0.9):
    r = rng(4)
    p0 = r.standard_normal(n, dtype=F32)
    g = r.standard_normal(n, dtype=F32)

    def fast(t):
        p, v = p0.copy(), np.zeros_like(p0)

        def f():
            F.sgd_update(p, g, lr, velocity=v, momentum=momentum, n_threads=t,
                         check_finite=False)
            return p
        return f

    ref_state = {"p": p0.copy(), "v": np.zeros_like(p0)}

    def ref():
        s = ref_state
        s["p"], s["v"] = R.sgd_update(s["p"], g, lr, velocity=s["v"], momentum=momentum)
        return s["p"]

    hp, hv, tmp = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)

    def hand():
        np.multiply(hv, momentum, out=hv)
        np.add(hv, g, out=hv)
        np.multiply(hv, lr, out=tmp)
        np.subtract(hp, tmp, out=hp)
        return hp

    def t_opt():
        pt = torch.from_numpy(p0.copy())
        pt.grad = torch.from_numpy(g)
        opt = torch.optim.SGD([pt], lr=lr, momentum=momentum)

        def f():
            opt.step()
            return pt
        return f

    return Case(
        "sgd_update momentum 10M", fast,
        [numpy_peer(NP_REF, ref), numpy_peer(NP_HAND, hand), *torch_peers(T_OPT, t_opt)],
        nbytes=20 * n, rtol=1e-5,
        note="in place for fastnn, hand NumPy and torch; the reference returns new arrays; "
             "reads param, grad, velocity, writes param, velocity (20n B)")


def linear(B=256, n_in=1024, n_out=1024):
    from threadpoolctl import ThreadpoolController
    blas = ThreadpoolController()
    r = rng(5)
    x = r.standard_normal((B, n_in), dtype=F32)
    W = (r.standard_normal((n_out, n_in)) / 32).astype(F32)
    b = r.standard_normal(n_out, dtype=F32)
    dout = r.standard_normal((B, n_out), dtype=F32)

    def fast(t):
        def f():
            with blas.limit(limits=t, user_api="blas"):
                out = F.linear(x, W, b, n_threads=t, check_finite=False)
                return (out, *F.linear_backward(dout, x, W, n_threads=t, check_finite=False))
        return f

    def ref_at(t):
        def f():
            with blas.limit(limits=t, user_api="blas"):
                return (R.linear(x, W, b), *R.linear_backward(dout, x, W))
        return f

    def t_auto():
        xt = torch.from_numpy(x).requires_grad_()
        Wt = torch.from_numpy(W).requires_grad_()
        bt = torch.from_numpy(b).requires_grad_()
        dt = torch.from_numpy(dout)

        def f():
            xt.grad = Wt.grad = bt.grad = None
            out = TF.linear(xt, Wt, bt)
            out.backward(dt)
            return out, Wt.grad, bt.grad, xt.grad
        return f

    def t_hand():
        xt, Wt, bt, dt = map(torch.from_numpy, (x, W, b, dout))
        return lambda: (torch.addmm(bt, xt, Wt.T), dt.T @ xt, dt.sum(0), dt @ Wt)

    return Case(
        f"linear fwd+bwd ({B},{n_in})x({n_out},{n_in})^T", fast,
        [Contender(NP_REF, t, ref_at(t)) for t in THREADS]
        + [*torch_peers(T_AUTO, t_auto), *torch_peers(T_HAND, t_hand)],
        flops=3 * 2 * B * n_in * n_out, gap=0.15,
        note="3 GEMMs + bias; BLAS threads set per call with a threadpoolctl "
             "ThreadpoolController.limit(t) (~20 µs) for fastnn and NumPy alike "
             "(fastnn.threads(t) re-inspects the loaded libraries: ~1 ms per entry); "
             "fastnn calls SciPy's OpenBLAS, NumPy its own, a separate build; "
             "0.15 s pause before every timed call so that the other pool's "
             "spin-waiting BLAS threads are asleep")


# ---------------------------------------------------------------- windows, embedding

def _token_stream(N, V=10000, seed=6):
    r = rng(seed)
    ids = r.integers(1, V, N).astype(np.int32)
    # sentences of 5-40 tokens
    starts = np.cumsum(r.integers(5, 41, N // 5))
    starts = np.concatenate(([0], starts[starts < N])).astype(np.int64)
    return ids, starts


def lm_windows_numpy(ids, n, pad, boundaries):
    """Vectorised NumPy lm_windows: each token's sentence start by a running max."""
    N = ids.shape[0]
    start = np.zeros(N, dtype=np.int64)
    b = boundaries[boundaries < N]
    start[b] = b
    np.maximum.accumulate(start, out=start)
    t = np.arange(N)
    contexts = np.empty((N, n), dtype=np.int32)
    for j in range(n):
        src = t - (n - j)
        contexts[:, j] = np.where(src >= start, ids[np.maximum(src, 0)], pad)
    return contexts, ids.astype(np.int32)


def lm_windows(N, vs_reference):
    ids, starts = _token_stream(N)
    n, pad = 3, 0
    fast = _fast(lambda check_finite, **kw: F.lm_windows(ids, n, pad, starts, **kw))
    if vs_reference:
        peers = [numpy_peer(NP_REF, lambda: R.lm_windows(ids, n, pad, starts))]
    else:
        peers = [numpy_peer("numpy vectorised", lambda: lm_windows_numpy(ids, n, pad, starts))]
    return Case(f"lm_windows n=3 {N // 1000}k tokens", fast, peers, rtol=0,
                note="int32 ids, sentence boundaries every 5-40 tokens")


def embedding(N=4096, n=3, V=10000, d=64):
    r = rng(7)
    ids = r.integers(0, V, (N, n)).astype(np.int32)   # as lm_windows makes them
    table = r.standard_normal((V, d), dtype=F32)
    dout = r.standard_normal((N, n * d), dtype=F32)
    flat = ids.ravel()

    def fast(**kw):
        return F.embedding(ids, table, **kw), F.embedding_backward(dout, ids, V, **kw)

    def hand():
        out = np.take(table, flat, axis=0).reshape(N, n * d)
        rows = dout.reshape(-1, d)
        order = np.argsort(flat, kind="stable")
        sf = flat[order]
        first = np.flatnonzero(np.concatenate(([True], sf[1:] != sf[:-1])))
        dtable = np.zeros((V, d), dtype=F32)
        dtable[sf[first]] = np.add.reduceat(rows[order], first, axis=0)
        return out, dtable

    def t_auto():
        tab = torch.from_numpy(table).requires_grad_()
        it, dt = torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(dout)

        def f():
            tab.grad = None
            out = TF.embedding(it, tab).reshape(N, n * d)
            out.backward(dt)
            return out, tab.grad
        return f

    def t_hand():
        tab, dt = torch.from_numpy(table), torch.from_numpy(dout).reshape(-1, d)
        it = torch.from_numpy(flat.astype(np.int64))

        def f():
            out = tab.index_select(0, it).reshape(N, n * d)
            return out, torch.zeros(V, d).index_add_(0, it, dt)
        return f

    return Case(
        f"embedding gather+scatter-add N={N} n={n} V={V} d={d}", _fast(fast),
        [numpy_peer(NP_REF, lambda: (R.embedding(ids, table),
                                     R.embedding_backward(dout, ids, V))),
         numpy_peer("numpy take + sort/reduceat", hand),
         *torch_peers(T_AUTO, t_auto), *torch_peers(T_HAND, t_hand)],
        rtol=1e-5, note="reference scatter is np.add.at; ids int32 (int64 copies for torch)")


CASES = {
    "sce_4096x10": lambda: softmax_xent(4096, 10),
    "sce_512x10000": lambda: softmax_xent(512, 10000),
    "relu_16M": relu,
    "tanh_16M": tanh,
    "sigmoid_16M": sigmoid,
    "softmax_4096x10": lambda: softmax_rows(4096, 10, log=False),
    "softmax_512x10000": lambda: softmax_rows(512, 10000, log=False),
    "log_softmax_4096x10": lambda: softmax_rows(4096, 10, log=True),
    "log_softmax_512x10000": lambda: softmax_rows(512, 10000, log=True),
    "sgd_momentum_10M": sgd_momentum,
    "linear_256x1024x1024": linear,
    "lm_windows_1M": lambda: lm_windows(1_000_000, vs_reference=False),
    "lm_windows_20k_vs_ref": lambda: lm_windows(20_000, vs_reference=True),
    "embedding_4096x3_V10k_d64": embedding,
}
