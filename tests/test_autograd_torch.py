"""fastnn.autograd against PyTorch's autograd on random programs: many operations
over shared intermediate values (diamonds, reuse, broadcasting), the same gradients."""
import numpy as np
import pytest

from fastnn import autograd as ag
from fastnn.autograd import Tensor

torch = pytest.importorskip("torch")

# (name, arity, fastnn op, torch op); every op maps (3, 4)-broadcastable values to (3, 4)
OPS = [
    ("add", 2, lambda a, b: a + b, lambda a, b: a + b),
    ("sub", 2, lambda a, b: a - b, lambda a, b: a - b),
    ("mul", 2, lambda a, b: a * b, lambda a, b: a * b),
    ("div", 2, lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    ("tanh", 1, ag.tanh, torch.tanh),
    ("sigmoid", 1, ag.sigmoid, torch.sigmoid),
    ("relu", 1, lambda a: ag.relu(a) + 0.1 * a, lambda a: torch.relu(a) + 0.1 * a),
    ("exp", 1, lambda a: ag.exp(-a * a), lambda a: torch.exp(-a * a)),
    ("log", 1, lambda a: ag.log(a * a + 1), lambda a: torch.log(a * a + 1)),
    ("softmax", 1, lambda a: ag.softmax(a, axis=0), lambda a: torch.softmax(a, dim=0)),
    ("log_softmax", 1, ag.log_softmax, lambda a: torch.log_softmax(a, dim=-1)),
    ("rowmean", 1, lambda a: a - a.mean(axis=1, keepdims=True),
     lambda a: a - a.mean(dim=1, keepdim=True)),
    ("colsum", 1, lambda a: a * a.sum(axis=0) / 4, lambda a: a * a.sum(dim=0) / 4),
    ("matmul", 2, lambda a, b: (a @ b.T) @ b / 4, lambda a, b: (a @ b.T) @ b / 4),
    ("transpose", 1, lambda a: a.T.reshape(3, 4), lambda a: a.T.reshape(3, 4)),
    ("index", 1, lambda a: ag.concatenate([a[:, 1:], a[:, :1] ** 2], axis=1),
     lambda a: torch.cat([a[:, 1:], a[:, :1] ** 2], dim=1)),
]


@pytest.mark.parametrize("seed", range(12))
def test_random_programs_match_torch(seed):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (3, 1), (3, 4)]
    arrays = [rng.normal(size=s) for s in shapes]
    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    def start(a, b, c, d):       # (3, 4) values over every leaf, broadcasting b and c
        return [a, a + b, c * d + a, d - c]
    values_ours, values_theirs = start(*ours), start(*theirs)
    for _ in range(25):
        name, arity, f_ours, f_theirs = OPS[rng.integers(len(OPS))]
        # prefer recent values but reach back often: shared subexpressions
        picks = [int(rng.integers(max(0, len(values_ours) - 6), len(values_ours)))
                 for _ in range(arity)]
        values_ours.append(f_ours(*(values_ours[i] for i in picks)))
        values_theirs.append(f_theirs(*(values_theirs[i] for i in picks)))
    weights = rng.normal(size=(3, 4))
    loss_ours = sum((v * weights).sum() for v in values_ours[-4:] if v.shape == (3, 4))
    loss_theirs = sum((v * torch.tensor(weights)).sum() for v in values_theirs[-4:]
                      if v.shape == (3, 4))
    loss_ours.backward()
    loss_theirs.backward()
    np.testing.assert_allclose(loss_ours.item(), loss_theirs.item(), rtol=1e-10)
    for a, b in zip(ours, theirs):
        want = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_cross_entropy_and_embedding_match_torch(rng):
    table = rng.normal(size=(7, 3))
    ids = rng.integers(0, 7, size=(5, 2))
    W = rng.normal(size=(4, 6))
    labels = rng.integers(0, 4, size=5)
    t_ours, W_ours = Tensor(table, requires_grad=True), Tensor(W, requires_grad=True)
    t_theirs = torch.tensor(table, requires_grad=True)
    W_theirs = torch.tensor(W, requires_grad=True)
    z_ours = ag.linear(ag.embedding(ids, t_ours).reshape(5, 6), W_ours)
    z_theirs = torch.nn.functional.linear(
        torch.nn.functional.embedding(torch.tensor(ids), t_theirs).reshape(5, 6), W_theirs)
    ag.cross_entropy(z_ours, labels).backward()
    torch.nn.functional.cross_entropy(z_theirs, torch.tensor(labels)).backward()
    np.testing.assert_allclose(t_ours.grad, t_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W_ours.grad, W_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
