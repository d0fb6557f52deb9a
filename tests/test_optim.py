"""fastnn.optim: SGD and Adam against PyTorch's, tensor-like parameters, schedules,
and the scikit-learn-convention flat solvers behind MLPClassifier."""
import numpy as np
import pytest

from fastnn import optim, reference as ref


def _problem(rng, dtype, shapes=((4, 3), (3,))):
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(5)]
    return params, grads


def _torch_run(cls, params, grads, **kw):
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = cls(ts, **kw)
    for step in grads:
        for t, g in zip(ts, step):
            t.grad = torch.tensor(g)
        opt.step()
    return [t.detach().numpy() for t in ts]


SGD_SETTINGS = [dict(lr=0.1), dict(lr=0.1, weight_decay=0.2), dict(lr=0.05, momentum=0.9),
                dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)]


@pytest.mark.parametrize("kw", SGD_SETTINGS, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_matches_torch(rng, kw, dtype):
    torch = pytest.importorskip("torch")
    params, grads = _problem(rng, dtype)
    want = _torch_run(torch.optim.SGD, params, grads, **kw)
    opt = optim.SGD(params, **kw)
    for step in grads:
        opt.step(step)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    for p, w in zip(params, want):
        assert p.dtype == dtype
        np.testing.assert_allclose(p, w, rtol=tol, atol=tol)


@pytest.mark.parametrize("kw", SGD_SETTINGS, ids=str)
def test_sgd_non_contiguous_params_take_the_numpy_path_with_the_same_math(rng, kw):
    params, grads = _problem(rng, np.float64)
    strided = [np.asfortranarray(params[0]), params[1].copy()]
    a, b = optim.SGD(params, **kw), optim.SGD(strided, **kw)
    for step in grads:
        a.step(step)
        b.step(step)
    for p, q in zip(params, strided):
        np.testing.assert_allclose(q, p, rtol=1e-14)


@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6,
                                                     weight_decay=0.1)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_matches_torch(rng, kw, dtype):
    torch = pytest.importorskip("torch")
    params, grads = _problem(rng, dtype)
    want = _torch_run(torch.optim.Adam, params, grads, **kw)
    opt = optim.Adam(params, **kw)
    for step in grads:
        opt.step(step)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for p, w in zip(params, want):
        np.testing.assert_allclose(p, w, rtol=tol, atol=tol)


class Holder:
    """What an autograd tensor looks like to an optimizer."""

    def __init__(self, data):
        self.data, self.grad = data, None


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam])
def test_tensor_like_params_use_grad_and_skip_none(rng, cls):
    params, grads = _problem(rng, np.float64)
    holders = [Holder(p.copy()) for p in params]
    frozen = holders[1].data.copy()
    opt = cls(holders, lr=0.1)
    holders[0].grad = grads[0][0]
    opt.step()
    plain = cls([params[0]], lr=0.1)
    plain.step([grads[0][0]])
    np.testing.assert_allclose(holders[0].data, params[0], rtol=1e-15)
    np.testing.assert_array_equal(holders[1].data, frozen)     # grad None: skipped
    opt.zero_grad()
    assert all(h.grad is None for h in holders)
    with pytest.raises(TypeError, match="grads"):
        cls([params[0]], lr=0.1).step()


def test_optimizer_validation(rng):
    p = [np.zeros(3)]
    with pytest.raises(ValueError, match="lr"):
        optim.SGD(p, lr=0)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD(p, momentum=-1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD(p, nesterov=True)
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps"):
        optim.Adam(p, eps=0)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([])
    with pytest.raises(TypeError, match=r"params\[0\]"):
        optim.SGD([np.zeros(3, dtype=int)])
    opt = optim.SGD(p)
    with pytest.raises(ValueError, match="grads has 2"):
        opt.step([np.zeros(3), np.zeros(3)])
    with pytest.raises(ValueError, match="shape"):
        opt.step([np.zeros(4)])


def test_schedules_follow_sklearn():
    s = optim.make_schedule("invscaling", 0.5, power_t=0.25)
    s.epoch_end(99)
    assert s.lr == pytest.approx(0.5 / 100 ** 0.25)
    assert s.plateau() is True
    a = optim.make_schedule("adaptive", 1e-5)
    assert a.plateau() is False and a.lr == pytest.approx(2e-6)
    assert a.plateau() is False and a.lr == pytest.approx(4e-7)
    assert a.plateau() is True                          # lr <= 1e-6: stop
    c = optim.make_schedule("constant", 0.1)
    c.epoch_end(1000)
    assert c.lr == 0.1 and c.plateau() is True
    with pytest.raises(ValueError, match="learning_rate"):
        optim.make_schedule("cosine", 0.1)


@pytest.mark.parametrize("nesterov", [False, True])
def test_scikit_sgd_equals_reference_across_lr_changes(rng, nesterov):
    """The PyTorch-form kernel with a rescaled velocity is scikit-learn's
    v = mu v - lr g even when the schedule changes lr between steps."""
    n_weights, n = 6, 9
    params = rng.normal(size=n)
    schedule = optim.make_schedule("invscaling", 0.3, power_t=0.5)
    solver = optim._ScikitSGD(n, np.float64, schedule, 0.9, nesterov)
    ref_params = [params[:n_weights].copy(), params[n_weights:].copy()]
    vel = [np.zeros(n_weights), np.zeros(n - n_weights)]
    for t in range(6):
        g = rng.normal(size=n)
        l2 = 0.05
        ref_grads = [g[:n_weights] + l2 * ref_params[0], g[n_weights:].copy()]
        ref.mlp_sgd_update(ref_params, ref_grads, vel, schedule.lr, 0.9, nesterov)
        solver.step(params, g.copy(), n_weights, l2, 1)
        if t % 2:
            schedule.epoch_end(10 * (t + 1))
    np.testing.assert_allclose(params, np.concatenate(ref_params), rtol=1e-13)


def test_scikit_adam_equals_reference(rng):
    n_weights, n = 5, 8
    params = rng.normal(size=n)
    solver = optim._ScikitAdam(n, np.float64, 0.01, 0.9, 0.999, 1e-8)
    ref_params = [params[:n_weights].copy(), params[n_weights:].copy()]
    ms = [np.zeros_like(p) for p in ref_params]
    vs = [np.zeros_like(p) for p in ref_params]
    for t in range(1, 6):
        g = rng.normal(size=n)
        ref_grads = [g[:n_weights] + 0.1 * ref_params[0], g[n_weights:].copy()]
        ref.mlp_adam_update(ref_params, ref_grads, ms, vs, t, 0.01)
        solver.step(params, g.copy(), n_weights, 0.1, 1)
    np.testing.assert_allclose(params, np.concatenate(ref_params), rtol=1e-13)


def test_adam_leaves_the_gradients_alone():
    r = np.random.default_rng(5)
    p, g = r.standard_normal(50), r.standard_normal(50)
    g0 = g.copy()
    opt = optim.Adam([p], lr=0.01, weight_decay=0.1)
    for _ in range(3):
        opt.step([g])
    np.testing.assert_array_equal(g, g0)
