"""fastnn.autograd: the Tensor, backward(), graph freeing, errors and the DOT picture."""
import sys

import numpy as np
import pytest

from fastnn import autograd as ag
from fastnn.autograd import Tensor


def scalar(value, name):
    return Tensor(float(value), requires_grad=True, name=name)


def test_lecture_example():
    """d = 2b, e = a + d, L = c e at a = 3, b = 1, c = -2 (the lecture's graph)."""
    a, b, c = scalar(3, "a"), scalar(1, "b"), scalar(-2, "c")
    d = (2 * b).retain_grad()
    e = (a + d).retain_grad()
    L = c * e
    L.backward()
    assert L.item() == -10
    assert (a.grad, b.grad, c.grad) == (-2, -4, 5)
    assert d.grad == -2 and e.grad == -2
    assert L.grad is None               # not retained: only leaves keep gradients


def test_lecture_graph_as_dot():
    a, b, c = scalar(3, "a"), scalar(1, "b"), scalar(-2, "c")
    L = c * (a + 2 * b)
    L.backward()
    dot = L.to_dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for text in ('label="a\\nscalar\\nvalue 3\\ngrad -2"',
                 'label="b\\nscalar\\nvalue 1\\ngrad -4"',
                 'label="c\\nscalar\\nvalue -2\\ngrad 5"', 'label="* 2"', 'label="+"'):
        assert text in dot
    assert dot.count("->") == 3 + 2 + 2 + 1    # op -> result, plus every input edge
    graph = L.graph()
    assert str(graph) == dot and "edges" in repr(graph)


def test_dot_shows_shapes_for_large_arrays(tmp_path):
    x = Tensor(np.ones((3, 4)), requires_grad=True, name="x")
    y = ag.tanh(x @ np.ones((4, 5))).sum()
    dot = y.to_dot()
    assert "3x4" in dot and "3x5" in dot and 'label="tanh"' in dot and 'label="@"' in dot
    assert "value" not in dot.split("3x4")[1].split("]")[0]   # 12 values: shape only
    y.graph().save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == dot


def test_gradients_accumulate_and_zero_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2 + 3, 4 + 3])
    x.zero_grad()
    assert x.grad is None
    y = Tensor(np.ones(2), requires_grad=True)
    (x + y).sum().backward()
    ag.zero_grad([x, y])
    assert x.grad is None and y.grad is None


def test_same_input_twice_and_shared_subexpression():
    x = Tensor(np.array([1.5, -2.0]), requires_grad=True)
    s = x + x                      # the engine must not alias the two gradients
    y = (s * s + s).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * (2 * s.data + 1))


def test_grad_never_aliases_user_arrays():
    seed = np.ones(3)
    x = Tensor(np.zeros(3), requires_grad=True)
    y = x + 1.0
    y.backward(seed)
    y2 = x + 1.0
    y2.backward(seed)
    np.testing.assert_array_equal(seed, np.ones(3))
    np.testing.assert_array_equal(x.grad, 2 * np.ones(3))


def test_backward_with_grad_for_non_scalar():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = 2 * x
    y.backward(np.full((2, 3), 0.5))
    np.testing.assert_allclose(x.grad, np.ones((2, 3)))


def test_detach_and_no_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.data, x.data)
    with ag.no_grad():
        y = x * 2
        assert not ag.is_grad_enabled()
        with ag.enable_grad():
            z = x * 2
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @ag.no_grad()
    def predict(t):
        return t * 3
    assert not predict(x).requires_grad


def test_float32_kept():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (2.5 * x + 1).tanh().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_mixed_dtypes_give_each_input_its_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    w = Tensor(np.ones(3), requires_grad=True)
    (x * w).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64


def test_numpy_arrays_and_numbers_mix_with_tensors():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (np.array([3.0, 4.0]) * x + 1 - x / 2 + 2 ** x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, [3 - 0.5 + 2 * np.log(2), 4 - 0.5 + 4 * np.log(2)])
    assert isinstance(np.ones(2) + x, Tensor)


def test_long_chain_needs_no_recursion():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    n = 100_000
    for _ in range(n):
        y = y * 1.0 + 1e-6
    limit = sys.getrecursionlimit()
    assert y.to_dot().count("->") == 4 * n   # two ops per step, each: input and result edge
    y.backward()
    assert sys.getrecursionlimit() == limit
    assert x.grad == 1.0
    np.testing.assert_allclose(y.item(), 1 + n * 1e-6)
    del y                                # tearing down a deep graph must not crash


def test_backward_frees_saved_values():
    x = Tensor(np.ones(4), requires_grad=True)
    h = x.tanh()
    y = (h * h).sum()
    y.backward()
    assert y.grad_fn.freed and h.grad_fn.freed
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        (h * 2).sum().backward()         # a new graph over a freed part


def test_retain_graph_allows_a_second_backward():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    y = (x.sigmoid() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_backward_errors():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match="one-value output"):
        (x * 2).backward()
    with pytest.raises(ValueError, match="grad has shape"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(2)).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(2)).retain_grad()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="float32 and float64"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match="float32 and float64"):
        Tensor([1, 2]).requires_grad_()
    with pytest.raises(TypeError, match="real numbers"):
        Tensor(np.array(["a"]))
    with pytest.raises(TypeError, match="real numbers"):
        Tensor(np.ones(2, dtype=complex))
    ids = Tensor(np.arange(3))       # allowed without gradients (ids, labels)
    assert ids.dtype.kind == "i"


def test_shape_mismatch_errors():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4,\)"):
        a + np.ones(4)
    with pytest.raises(ValueError, match="matmul"):
        a @ Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="cannot reshape"):
        a.reshape(4, 2)
    with pytest.raises(ValueError, match="concatenate"):
        ag.concatenate([a, Tensor(np.ones((2, 2)))], axis=0)
    with pytest.raises(ValueError, match="axis"):
        a.sum(axis=2)
    with pytest.raises(IndexError):
        a[5]
    with pytest.raises(TypeError, match="a Tensor, an array or a real number"):
        a + "x"
    with pytest.raises(ValueError, match="labels has 3 entries"):
        ag.cross_entropy(a, [0, 1, 2])
    with pytest.raises(ValueError, match="labels must lie in"):
        ag.cross_entropy(a, [0, 3])
    with pytest.raises(ValueError, match="logits must be 2-D"):
        ag.cross_entropy(Tensor(np.ones(3)), [0])
    with pytest.raises(ValueError, match="ids must lie in"):
        ag.embedding([[0, 7]], a)
    with pytest.raises(ValueError, match="linear needs"):
        ag.linear(a, Tensor(np.ones((4, 2))))
    with pytest.raises(TypeError, match="float32 or float64"):
        ag.relu(Tensor(np.arange(3)))


def test_item_repr_and_properties():
    x = Tensor([[1.0, 2.0]], requires_grad=True, name="x")
    assert x.shape == (1, 2) and x.ndim == 2 and x.size == 2 and len(x) == 1
    assert "requires_grad=True" in repr(x) and "grad_fn=tanh" in repr(x.tanh())
    with pytest.raises(ValueError, match="one value"):
        x.item()
    assert x.sum().item() == 3.0 and isinstance(x.sum().item(), float)
    assert x.numpy() is x.data and x.T.shape == (2, 1)


def test_item_in_place_update_through_data():
    """Optimizers update .data in place: the Tensor sees it."""
    w = np.ones(3)
    x = Tensor(w, requires_grad=True)
    x.data -= 0.5
    assert x.data is w and np.all(w == 0.5)


def test_backward_releases_what_the_closures_saved(rng):
    import gc
    import weakref
    z = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    loss = ag.cross_entropy(z, [0, 1, 2, 0])
    saved = [c.cell_contents for c in loss.grad_fn.backward_fn.__closure__
             if isinstance(c.cell_contents, np.ndarray)]
    assert saved                       # the fused kernel's dlogits
    refs = [weakref.ref(a) for a in saved]
    del saved
    loss.backward()
    gc.collect()
    assert all(r() is None for r in refs)


def test_deep_graph_teardown_without_backward():
    x = Tensor(np.array(0.5), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = (y * 1.0).tanh()
    del y                               # must not overflow the C stack
    assert x.grad is None


def test_results_do_not_depend_on_threads(rng):
    import fastnn
    x = rng.normal(size=(64, 33))
    labels = rng.integers(0, 33, 64)
    results = []
    for n in (1, 2):
        with fastnn.threads(n):
            t = Tensor(x, requires_grad=True)
            ag.cross_entropy(ag.tanh(t).sigmoid().relu() * 3 - 1, labels).backward()
            results.append(t.grad)
    np.testing.assert_array_equal(results[0], results[1])


def test_numpy_sees_the_data():
    t = Tensor(np.arange(3.0), requires_grad=True)
    assert np.asarray(t) is t.data
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_graph_svg_needs_the_dot_program(monkeypatch):
    from fastnn.autograd import _dot
    graph = (Tensor(1.0, requires_grad=True) * 2).graph()
    monkeypatch.setattr(_dot.shutil, "which", lambda name: None)
    assert graph._repr_svg_() is None    # Jupyter then shows the text


def test_float_of_a_one_value_tensor():
    assert float(Tensor(np.array([2.5]))) == 2.5
    with pytest.raises(ValueError, match="one value"):
        float(Tensor(np.ones(2)))
