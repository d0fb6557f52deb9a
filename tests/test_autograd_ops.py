"""Every autograd operation: forward against NumPy / fastnn.functional, backward by
gradcheck in float64 on random shapes (broadcasting included), and gradcheck itself."""
import numpy as np
import pytest

from fastnn import autograd as ag
from fastnn import functional as F
from fastnn.autograd import Tensor


def leaf(rng, *shape, low=-1.0, high=1.0):
    return Tensor(rng.uniform(low, high, size=shape), requires_grad=True)


BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)),
                    ((5,), ())]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "power"])
def test_binary_ops_broadcast(rng, op, shapes):
    a = leaf(rng, *shapes[0], low=0.5, high=2.0)
    b = leaf(rng, *shapes[1], low=0.5, high=2.0)
    fn = getattr(ag, op)
    want = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
            "power": np.power}[op](a.data, b.data)
    np.testing.assert_allclose(fn(a, b).data, want)
    assert ag.gradcheck(fn, (a, b))


@pytest.mark.parametrize("op", ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__",
                                "__rmul__", "__truediv__", "__rtruediv__", "__pow__",
                                "__rpow__"])
def test_operators_with_numbers(rng, op):
    x = leaf(rng, 2, 3, low=0.5, high=2.0)
    assert ag.gradcheck(lambda t: getattr(t, op)(1.7), x)
    assert ag.gradcheck(lambda t: -t, x)


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)),
                                    ((4,), (4,)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4),
                                                                        (5, 4, 2))], ids=str)
def test_matmul(rng, shapes):
    a, b = leaf(rng, *shapes[0]), leaf(rng, *shapes[1])
    np.testing.assert_allclose((a @ b).data, a.data @ b.data)
    assert ag.gradcheck(lambda x, y: x @ y, (a, b))
    assert ag.gradcheck(lambda y: a.data @ y, (b,))   # an array on the left


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reductions(rng, op, axis, keepdims):
    x = leaf(rng, 2, 3, 4)
    got = getattr(x, op)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(got.data, getattr(np, op)(x.data, axis=axis, keepdims=keepdims))
    assert ag.gradcheck(lambda t: getattr(ag, op)(t, axis, keepdims), x)


@pytest.mark.parametrize("op", ["exp", "log", "relu", "tanh", "sigmoid"])
def test_elementwise(rng, op):
    x = leaf(rng, 3, 5, low=0.1, high=2.0) if op == "log" else leaf(rng, 3, 5, low=-3, high=3)
    want = {"exp": np.exp, "log": np.log, "relu": F.relu, "tanh": F.tanh,
            "sigmoid": F.sigmoid}[op](x.data)
    np.testing.assert_allclose(getattr(x, op)().data, want, rtol=1e-12)
    assert ag.gradcheck(getattr(ag, op), x)


@pytest.mark.parametrize("op", ["relu", "tanh", "sigmoid"])
def test_activation_backward_matches_kernel(rng, op, dtype):
    x = Tensor(rng.normal(size=(7, 9)).astype(dtype), requires_grad=True)
    y = getattr(ag, op)(x)
    g = rng.normal(size=(7, 9)).astype(dtype)
    y.backward(g)
    want = getattr(F, f"{op}_backward")(g, x.data if op == "relu" else y.data)
    np.testing.assert_array_equal(x.grad, want)
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_family(rng, op, axis):
    x = leaf(rng, 3, 4, 5, low=-3, high=3)
    np.testing.assert_allclose(getattr(ag, op)(x, axis).data,
                               getattr(F, op)(x.data, axis=axis), rtol=1e-12)
    weights = rng.normal(size=(3, 4, 5))   # a non-trivial scalar of the output
    assert ag.gradcheck(lambda t: (getattr(ag, op)(t, axis) * weights).sum(), x)


def test_cross_entropy_matches_the_fused_kernel(rng, dtype):
    z = Tensor(rng.normal(size=(6, 4)).astype(dtype), requires_grad=True)
    y = rng.integers(0, 4, size=6)
    loss = ag.cross_entropy(z, y)
    want_loss, want_grad = F.softmax_cross_entropy(z.data, y)
    assert loss.dtype == dtype and loss.shape == ()
    np.testing.assert_allclose(loss.item(), want_loss, rtol=1e-6)
    (3 * loss).backward()
    np.testing.assert_allclose(z.grad, 3 * want_grad, rtol=1e-6)


def test_cross_entropy_gradcheck_and_weights(rng):
    z = leaf(rng, 5, 3, low=-2, high=2)
    y = np.array([0, 2, 1, 1, 0])
    w = rng.uniform(0.5, 2, size=5)
    assert ag.gradcheck(lambda t: ag.cross_entropy(t, y), z)
    assert ag.gradcheck(lambda t: ag.cross_entropy(t, y, sample_weight=w), z)
    # equals the composed form: -mean(log_softmax[range, y])
    composed = -(ag.log_softmax(z)[np.arange(5), y]).mean()
    np.testing.assert_allclose(ag.cross_entropy(z, Tensor(y)).item(), composed.item())


def test_binary_cross_entropy_with_logits(rng):
    z = leaf(rng, 4, 3, low=-3, high=3)
    y = rng.uniform(size=(4, 3))
    want, _ = F.binary_cross_entropy_with_logits(z.data, y)
    np.testing.assert_allclose(ag.binary_cross_entropy_with_logits(z, y).item(), want)
    assert ag.gradcheck(lambda t: ag.binary_cross_entropy_with_logits(t, y), z)


@pytest.mark.parametrize("ids_shape", [(), (5,), (4, 3), (2, 3, 2)], ids=str)
def test_embedding(rng, ids_shape):
    table = leaf(rng, 6, 4)
    ids = rng.integers(0, 6, size=ids_shape)
    ids.flat[0] = ids.flat[-1]            # at least one repeated id (when size > 1)
    out = ag.embedding(ids, table)
    assert out.shape == ids_shape + (4,)
    np.testing.assert_array_equal(out.data, table.data[ids])
    weights = rng.normal(size=out.shape)
    assert ag.gradcheck(lambda t: (ag.embedding(ids, t) * weights).sum(), table)


def test_embedding_float32_kernel_matches_numpy(rng):
    table = Tensor(rng.normal(size=(10, 3)).astype(np.float32), requires_grad=True)
    ids = rng.integers(0, 10, size=(8, 2))
    out = ag.embedding(ids, table)
    g = rng.normal(size=out.shape).astype(np.float32)
    out.backward(g)
    want = np.zeros((10, 3))
    np.add.at(want, ids, g.astype(np.float64))
    np.testing.assert_allclose(table.grad, want, rtol=1e-5, atol=1e-6)


def test_linear(rng):
    x, W, b = leaf(rng, 5, 3), leaf(rng, 4, 3), leaf(rng, 4)
    np.testing.assert_allclose(ag.linear(x, W, b).data, x.data @ W.data.T + b.data)
    assert ag.gradcheck(ag.linear, (x, W, b))
    assert ag.gradcheck(ag.linear, (x, W))
    assert ag.gradcheck(lambda w: ag.linear(x.data, w), (W,))


def test_reshape_transpose(rng):
    x = leaf(rng, 2, 3, 4)
    assert ag.gradcheck(lambda t: t.reshape(4, 6) * np.arange(24.0).reshape(4, 6), x)
    assert ag.gradcheck(lambda t: t.reshape((3, -1)), x)
    assert ag.gradcheck(lambda t: t.transpose(2, 0, 1) * np.arange(24.0).reshape(4, 2, 3), x)
    assert ag.gradcheck(lambda t: t.T, x)
    assert x.transpose(1, 2, 0).shape == (3, 4, 2)


@pytest.mark.parametrize("index", [1, (0, slice(1, 3)), (Ellipsis, -1), (slice(None), None, 2),
                                   ([0, 1, 1], [2, 2, 2]), np.array([1, 1, 0]),
                                   "mask"], ids=str)
def test_indexing(rng, index):
    x = leaf(rng, 2, 3, 4)
    if isinstance(index, str):
        index = x.data > 0
    np.testing.assert_array_equal(x[index].data, x.data[index])
    assert ag.gradcheck(lambda t: t[index] * 1.5, x)


def test_indexing_repeats_add_up():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    x[[0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 0, 1])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(rng, axis):
    a, b = leaf(rng, 2, 3), leaf(rng, 2, 3)
    np.testing.assert_array_equal(ag.concatenate([a, b], axis).data,
                                  np.concatenate([a.data, b.data], axis))
    np.testing.assert_array_equal(ag.stack([a, b], axis).data,
                                  np.stack([a.data, b.data], axis))
    weights = rng.normal(size=ag.concatenate([a, b], axis).shape)
    assert ag.gradcheck(lambda s, t: ag.concatenate([s, t], axis) * weights, (a, b))
    assert ag.gradcheck(lambda s, t: ag.stack([s, t], axis), (a, b))


def test_concatenate_with_constants(rng):
    a = leaf(rng, 2, 3)
    out = ag.concatenate([a, np.ones((1, 3))])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones((2, 3)))


def test_composite_network_gradcheck(rng):
    """A small network mixing most operations."""
    x = rng.normal(size=(4, 3))
    W1, b1, W2 = leaf(rng, 3, 5), leaf(rng, 5), leaf(rng, 5, 2)

    def net(W1, b1, W2):
        h = ag.tanh(x @ W1 + b1)
        z = ag.concatenate([h.sigmoid() @ W2, h.relu()[:, :1]], axis=1)
        return ag.cross_entropy(z, [0, 1, 2, 1]) + 0.1 * (W1 ** 2).sum()
    assert ag.gradcheck(net, (W1, b1, W2))


def test_gradcheck_catches_a_wrong_rule(rng):
    from fastnn.autograd._tensor import record

    def bad_square(t):
        return record(t.data ** 2, "bad", (t,), lambda g: (g * t.data,))   # misses the 2
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, name="x")
    with pytest.raises(ag.GradcheckError, match=r"input 0 \('x'\).*element \(1, 1\)"):
        ag.gradcheck(bad_square, x)
    assert ag.gradcheck(bad_square, x, raise_exception=False) is False


def test_gradcheck_works_in_float64_and_leaves_inputs_alone(rng):
    x = Tensor(rng.normal(size=3).astype(np.float32), requires_grad=True)
    before = x.data.copy()
    assert ag.gradcheck(lambda t: t.tanh() * t, x)
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


def test_gradcheck_with_several_outputs_and_non_tensor_arguments(rng):
    x, w = leaf(rng, 3), leaf(rng, 3)
    assert ag.gradcheck(lambda t, u, k: (t.tanh() * k, (t * u).sum()), (x, w, 2.5))


def test_gradcheck_argument_errors():
    x = Tensor(np.ones(2))
    with pytest.raises(ValueError, match="requires_grad=True"):
        ag.gradcheck(lambda t: t * 2, x)
    with pytest.raises(ValueError, match="eps"):
        ag.gradcheck(lambda t: t * 2, Tensor(np.ones(2), requires_grad=True), eps=0)
    with pytest.raises(TypeError, match="fn must return"):
        ag.gradcheck(lambda t: t.data, Tensor(np.ones(2), requires_grad=True))


def random_broadcast_pair(rng):
    """Two shapes that broadcast: a random shape and a copy with leading axes dropped
    and some lengths set to 1 (either side)."""
    ndim = int(rng.integers(0, 4))
    full = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
    other = full[int(rng.integers(0, ndim + 1)):]
    other = tuple(1 if rng.random() < 0.4 else n for n in other)
    return (full, other) if rng.random() < 0.5 else (other, full)


@pytest.mark.parametrize("seed", range(8))
def test_random_broadcast_shapes(seed):
    rng = np.random.default_rng(seed)
    sa, sb = random_broadcast_pair(rng)
    a = leaf(rng, *sa, low=0.5, high=2.0)
    b = leaf(rng, *sb, low=0.5, high=2.0)
    weights = rng.normal(size=np.broadcast_shapes(sa, sb))
    assert ag.gradcheck(lambda s, t: ((s * t - s / t) ** 2 + s - t) * weights, (a, b))


def test_non_contiguous_inputs_reach_the_kernels(rng):
    x = leaf(rng, 4, 3)
    for op in (ag.tanh, ag.sigmoid, ag.relu, ag.softmax, ag.log_softmax):
        np.testing.assert_allclose(op(x.T).data, op(Tensor(x.data.T.copy())).data)
        assert ag.gradcheck(lambda t: op(t.T) * np.arange(12.0).reshape(3, 4), x)
    table = leaf(rng, 3, 5)
    assert ag.gradcheck(lambda t: ag.embedding([[0, 4], [4, 2]], t.T), table)
    assert ag.gradcheck(lambda t: ag.cross_entropy(t.T, [0, 1, 2]), x)
    assert ag.gradcheck(lambda t: ag.linear(t.T, t[:, :2].T), x)


def test_empty_arrays_never_reach_a_kernel():
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    for op in (ag.tanh, ag.relu, ag.sigmoid, ag.softmax, ag.log_softmax):
        out = op(x)
        assert out.shape == (0, 3)
        out.sum().backward()
        assert x.grad.shape == (0, 3)
