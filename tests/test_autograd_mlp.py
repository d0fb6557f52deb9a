"""A two-layer MLP written with Tensors: the same gradients as explicit backward passes
(a hand-written NumPy one, and fastnn.nn.FeedForward, MLPClassifier's network), and
it trains on scikit-learn's digits, by hand and with fastnn.optim."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from fastnn import autograd as ag
from fastnn.autograd import Tensor


def init_params(rng, n_in, n_hidden, n_out, dtype=np.float64):
    """Glorot-uniform weights in the (out, in) layout of fastnn.nn.Linear."""
    def glorot(fan_out, fan_in):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(dtype)
    return [Tensor(glorot(n_hidden, n_in), requires_grad=True, name="W1"),
            Tensor(rng.uniform(-0.1, 0.1, n_hidden).astype(dtype), requires_grad=True),
            Tensor(glorot(n_out, n_hidden), requires_grad=True, name="W2"),
            Tensor(rng.uniform(-0.1, 0.1, n_out).astype(dtype), requires_grad=True)]


def mlp_loss(params, X, y, activation="tanh", use_linear=False):
    W1, b1, W2, b2 = params
    if use_linear:
        h = getattr(ag, activation)(ag.linear(X, W1, b1))
        return ag.cross_entropy(ag.linear(h, W2, b2), y)
    h = getattr(ag, activation)(X @ W1.T + b1)
    return ag.cross_entropy(h @ W2.T + b2, y)


def numpy_backward(params, X, y):
    """The two-layer tanh MLP's gradients, derived by hand."""
    W1, b1, W2, b2 = (p.data for p in params)
    h = np.tanh(X @ W1.T + b1)
    z = h @ W2.T + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dz = p.copy()
    dz[np.arange(len(y)), y] -= 1
    dz /= len(y)
    dh = (dz @ W2) * (1 - h ** 2)
    return [dh.T @ X, dh.sum(0), dz.T @ h, dz.sum(0)]


@pytest.mark.parametrize("use_linear", [False, True])
def test_gradients_equal_a_hand_written_backward(rng, use_linear):
    X = rng.normal(size=(16, 10))
    y = rng.integers(0, 4, size=16)
    params = init_params(rng, 10, 8, 4)
    mlp_loss(params, X, y, use_linear=use_linear).backward()
    for p, want in zip(params, numpy_backward(params, X, y)):
        np.testing.assert_allclose(p.grad, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradients_equal_mlp_explicit_backward(rng, activation, dtype):
    nn = pytest.importorskip("fastnn.nn")
    X = rng.normal(size=(32, 12)).astype(dtype)
    y = rng.integers(0, 5, size=32)
    params = init_params(rng, 12, 9, 5, dtype)
    net = nn.FeedForward([12, 9, 5], activation, "softmax", dtype)
    net.set_weights([params[0].data.T, params[2].data.T], [params[1].data, params[3].data])
    want_loss = net.loss_grad(X, y.astype(np.int32), None, 1)
    loss = mlp_loss(params, X, y, activation, use_linear=True)
    loss.backward()
    tol = dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(loss.item(), want_loss, **tol)
    layers = net.layers
    for p, want in zip(params, [layers[0].dW, layers[0].db, layers[1].dW, layers[1].db]):
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad, want, **tol)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_gradients_equal_mlp_classifier_sgd_step(rng, activation):
    """Through the estimator's public API: one full-batch plain-SGD partial_fit step
    moves the weights by -lr * gradient; the Tensor MLP's gradient at the weights
    before the step must be that gradient."""
    nn_module = pytest.importorskip("fastnn.neural_network")
    X = rng.normal(size=(24, 7))
    y = np.arange(24) % 4
    lr = 0.1
    clf = nn_module.MLPClassifier(
        hidden_layer_sizes=(6,), activation=activation, solver="sgd", alpha=0.0,
        learning_rate_init=lr, momentum=0.0, nesterovs_momentum=False,
        batch_size=len(X), shuffle=False, random_state=0, dtype=np.float64, n_jobs=1)
    clf.partial_fit(X, y, classes=np.arange(4))
    before = [a.copy() for a in clf.coefs_] + [a.copy() for a in clf.intercepts_]
    clf.partial_fit(X, y)
    after = list(clf.coefs_) + list(clf.intercepts_)
    step_grads = [(b - a) / lr for b, a in zip(before, after)]

    params = [Tensor(before[0].T.copy(), requires_grad=True),
              Tensor(before[2].copy(), requires_grad=True),
              Tensor(before[1].T.copy(), requires_grad=True),
              Tensor(before[3].copy(), requires_grad=True)]
    ag_activation = "sigmoid" if activation == "logistic" else activation
    mlp_loss(params, X, y, ag_activation).backward()
    want = [step_grads[0].T, step_grads[2], step_grads[1].T, step_grads[3]]
    for p, w in zip(params, want):
        assert np.abs(w).max() > 1e-4          # the step really moved these weights
        np.testing.assert_allclose(p.grad, w, rtol=1e-6, atol=1e-10)


def digits_split():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def accuracy(params, X, y):
    W1, b1, W2, b2 = params
    with ag.no_grad():
        z = ag.linear(ag.relu(ag.linear(X, W1, b1)), W2, b2)
    return float(np.mean(z.data.argmax(axis=1) == y))


def train(params, X, y, step, epochs=12, batch=32, seed=0):
    order_rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = order_rng.permutation(len(X))
        for start in range(0, len(X), batch):
            idx = order[start:start + batch]
            loss = mlp_loss(params, X[idx], y[idx], "relu", use_linear=True)
            loss.backward()
            step()
            losses.append(loss.item())
    return losses


def test_trains_on_digits_by_hand():
    X_train, X_test, y_train, y_test = digits_split()
    params = init_params(np.random.default_rng(0), 64, 32, 10, np.float32)

    def sgd_step():
        with ag.no_grad():
            for p in params:
                p.data -= 0.2 * p.grad
                p.grad = None
    losses = train(params, X_train, y_train, sgd_step)
    assert np.mean(losses[-20:]) < 0.3 * np.mean(losses[:20])
    assert accuracy(params, X_test, y_test) > 0.93


def test_trains_on_digits_with_fastnn_optim():
    optim = pytest.importorskip("fastnn.optim")
    X_train, X_test, y_train, y_test = digits_split()
    params = init_params(np.random.default_rng(1), 64, 32, 10, np.float32)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)

    def step():
        opt.step()
        opt.zero_grad()
    train(params, X_train, y_train, step, epochs=6)
    assert all(p.grad is None for p in params)
    assert accuracy(params, X_test, y_test) > 0.93

    adam_params = init_params(np.random.default_rng(2), 64, 32, 10, np.float32)
    adam = optim.Adam(adam_params, lr=0.01)

    def adam_step():
        adam.step()
        adam.zero_grad()
    train(adam_params, X_train, y_train, adam_step, epochs=6)
    assert accuracy(adam_params, X_test, y_test) > 0.93
