"""The fused MLP batch kernel (fastnn._kernels.mlp) against the NumPy reference
(fastnn.reference.mlp_loss_grad): loss, gradients, the SGD step and the penalty norm,
in float32 and float64, on 1, 2 and 3 threads (teams forced with grain=1)."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from fastnn import reference as ref
from fastnn._kernels import mlp
from fastnn.nn import FeedForward
from conftest import assert_close

N_ROWS = 60


@pytest.fixture(autouse=True)
def one_blas_thread():
    """The kernel's threads call BLAS: it must run single-threaded meanwhile."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(params=[1, 2, 3], ids=["1thread", "2threads", "3threads"])
def team(request):
    return request.param


def _problem(rng, units, activation, output, dtype, weights):
    """A network with random weights and a training set over N_ROWS rows."""
    net = FeedForward(units, activation, output, dtype)
    net.params[:] = rng.normal(scale=0.5, size=net.params.size)
    X = rng.normal(size=(N_ROWS, units[0])).astype(dtype)
    K = units[-1]
    if output == "softmax":
        labels = rng.integers(0, K, N_ROWS).astype(np.int32)
        Y, targets = np.eye(K)[labels], labels
    else:
        Y = (rng.random((N_ROWS, K)) < 0.4).astype(dtype)
        targets = Y
    sw = rng.random(N_ROWS).astype(dtype) + 0.1 if weights else None
    return net, X, Y, targets, sw


def _step(net, X, targets, sw, order, batch_size, nt):
    return net.batch_step(X, order, targets, sw, batch_size, nt, grain=1)


def _reference(net, X, Y, sw, rows):
    """(loss, flat gradient in the network's layout) of the batch X[rows], float64."""
    coefs = [c.astype(np.float64) for c in net.coefs()]
    intercepts = [b.astype(np.float64) for b in net.intercepts()]
    loss, cg, ig = ref.mlp_loss_grad(X[rows].astype(np.float64), Y[rows], coefs, intercepts,
                                     net.activation.name, net.output, 0.0,
                                     None if sw is None else sw[rows].astype(np.float64))
    flat = FeedForward(net.layer_units, net.activation.name, net.output, np.float64)
    flat.set_weights(cg, ig)
    return loss, flat.params


@pytest.mark.parametrize("units", [[6, 5, 4], [7, 9, 5, 3], [5, 8, 6, 7, 4]],
                         ids=["1hidden", "2hidden", "3hidden"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("output", ["softmax", "logistic"])
@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
def test_loss_and_gradient_match_reference(rng, dtype, team, units, activation, output,
                                           weights):
    net, X, Y, targets, sw = _problem(rng, units, activation, output, dtype, weights)
    order = rng.permutation(N_ROWS).astype(np.int64)
    step = _step(net, X, targets, sw, order, 23, team)
    for start, stop in ((0, 23), (23, 46), (46, 60)):        # the last batch is short
        loss, wsum, sq = step.run(start, stop, 0.0, 0.0)
        rows = order[start:stop]
        want_loss, want_grad = _reference(net, X, Y, sw, rows)
        assert_close(loss, want_loss, dtype)
        assert_close(wsum, stop - start if sw is None else sw[rows].sum(dtype=np.float64),
                     dtype)
        assert_close(net.grads, want_grad, dtype)


@pytest.mark.parametrize("output", ["softmax", "logistic"])
def test_rows_in_order_without_a_row_list(rng, dtype, team, output):
    """order=None: the batch is rows start:stop, read in place."""
    net, X, Y, targets, sw = _problem(rng, [8, 6, 3], "tanh", output, dtype, True)
    step = _step(net, X, targets, sw, None, 16, team)
    loss, _, _ = step.run(30, 46, 0.0, 0.0)
    want_loss, want_grad = _reference(net, X, Y, sw, np.arange(30, 46))
    assert_close(loss, want_loss, dtype)
    assert_close(net.grads, want_grad, dtype)


@pytest.mark.parametrize("units", [[4, 2, 1], [5, 1, 2, 3], [3, 2]],
                         ids=["binary", "width1", "nohidden"])
def test_layers_narrower_than_the_team_and_one_row(rng, dtype, team, units):
    """Threads with no units of a layer, and with no row of a batch of one."""
    output = "logistic" if units[-1] == 1 else "softmax"
    net, X, Y, targets, sw = _problem(rng, units, "relu", output, dtype, False)
    order = rng.permutation(N_ROWS).astype(np.int64)
    step = _step(net, X, targets, sw, order, 2, team)
    for start, stop in ((0, 1), (1, 3)):
        loss, _, _ = step.run(start, stop, 0.0, 0.0)
        want_loss, want_grad = _reference(net, X, Y, sw, order[start:stop])
        assert_close(loss, want_loss, dtype)
        assert_close(net.grads, want_grad, dtype)


@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
def test_sgd_step_and_penalty(rng, dtype, team, weights):
    """lr > 0: p -= lr (g + alpha / sum(w) W) (weights), p -= lr g (biases); the
    returned norm is ||W||^2 before the step."""
    net, X, Y, targets, sw = _problem(rng, [6, 7, 5, 4], "tanh", "softmax", dtype, weights)
    order = rng.permutation(N_ROWS).astype(np.int64)
    before = net.params.astype(np.float64)
    _, want_grad = _reference(net, X, Y, sw, order[10:30])
    step = _step(net, X, targets, sw, order, 20, team)
    lr, alpha = 0.3, 0.7
    _, wsum, sq = step.run(10, 30, lr, alpha)
    nw = net.n_weights
    assert_close(sq, before[:nw] @ before[:nw], dtype)
    want = before - lr * want_grad
    want[:nw] -= lr * alpha / wsum * before[:nw]
    assert_close(net.params, want, dtype)
    assert_close(net.grads, want_grad, dtype)       # the data gradient, no penalty


def test_zero_weight_batch_is_skipped(rng, dtype, team):
    net, X, Y, targets, sw = _problem(rng, [5, 4, 3], "relu", "softmax", dtype, True)
    sw[:10] = 0
    net.grads[:] = 7
    before = net.params.copy()
    loss, wsum, sq = _step(net, X, targets, sw, None, 10, team).run(0, 10, 0.5, 0.1)
    assert (loss, wsum, sq) == (0.0, 0.0, 0.0)
    assert np.array_equal(net.params, before) and np.all(net.grads == 7)


def test_same_threads_same_bits(rng, dtype, team):
    """The same thread count gives the same bits (the team's work split is fixed)."""
    results = []
    for _ in range(2):
        net, X, Y, targets, sw = _problem(np.random.default_rng(3), [9, 17, 6, 4], "relu",
                                          "softmax", dtype, True)
        order = np.random.default_rng(4).permutation(N_ROWS).astype(np.int64)
        step = _step(net, X, targets, sw, order, 16, team)
        losses = [step.run(s, min(s + 16, N_ROWS), 0.1, 0.01) for s in range(0, N_ROWS, 16)]
        results.append((net.params.copy(), losses))
    assert np.array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


def test_default_grain_keeps_small_batches_serial_and_agrees(rng, dtype):
    """Without grain the kernel picks its team from the work: the result agrees."""
    net, X, Y, targets, sw = _problem(rng, [6, 5, 4], "tanh", "softmax", dtype, False)
    step = net.batch_step(X, None, targets, None, 20, 2)
    loss, _, _ = step.run(0, 20, 0.0, 0.0)
    want_loss, want_grad = _reference(net, X, Y, sw, np.arange(20))
    assert_close(loss, want_loss, dtype)
    assert_close(net.grads, want_grad, dtype)


def test_bad_batch_range_raises(rng):
    net, X, Y, targets, sw = _problem(rng, [5, 4, 3], "relu", "softmax", np.float64, False)
    step = net.batch_step(X, None, targets, None, 10, 1)
    for start, stop in ((0, 11), (5, 5), (-1, 3), (55, 61)):
        with pytest.raises(ValueError, match="batch"):
            step.run(start, stop, 0.0, 0.0)


def test_sparse_network_has_no_batch_step():
    net = FeedForward([5, 3, 2], "relu", "softmax", np.float64, sparse_input=True)
    with pytest.raises(ValueError, match="dense-input"):
        net.batch_step(np.zeros((4, 5)), None, np.zeros(4, np.int32), None, 2, 1)


def test_work_size_counts_every_buffer():
    # gathered batch 7*4, outputs 7*(5+3), hidden deltas 7*5; row losses 7, norms 5+3
    assert mlp.work_size([4, 5, 3], 7) == (7 * 4 + 7 * 8 + 7 * 5, 7 + 8)


@pytest.mark.parametrize("order", [True, False], ids=["shuffled", "in_order"])
def test_epoch_is_the_batches_in_turn(rng, dtype, team, order):
    """epoch(lr, alpha) = run(start, stop, lr, alpha) over every batch: the same bits
    of the weights, the summed (loss + penalty) x rows, zero-weight batches skipped."""
    results = []
    for whole in (True, False):
        net, X, Y, targets, sw = _problem(np.random.default_rng(7), [8, 12, 5, 4], "tanh",
                                          "softmax", dtype, True)
        sw[16:32] = 0                                 # the second batch of in-order rows
        rows = np.random.default_rng(8).permutation(N_ROWS).astype(np.int64) if order \
            else None
        step = _step(net, X, targets, sw, rows, 16, team)
        if whole:
            total, skipped = step.epoch(0.2, 0.05)
        else:
            total, skipped = 0.0, 0
            for s in range(0, N_ROWS, 16):
                stop = min(s + 16, N_ROWS)
                loss, wsum, sq = step.run(s, stop, 0.2, 0.05)
                if wsum > 0:
                    total += (loss + 0.5 * 0.05 * sq / wsum) * (stop - s)
                else:
                    skipped += 1
        results.append((net.params.copy(), total, skipped))
    assert np.array_equal(results[0][0], results[1][0])
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-12)
    assert results[0][2] == results[1][2] == (0 if order else 1)


def test_units_need_inputs_and_outputs():
    with pytest.raises(ValueError, match="units"):
        mlp.work_size([5], 4)
