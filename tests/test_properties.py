"""Property tests (hypothesis): the kernels agree with the reference on arbitrary
shapes and values, and keep the invariants of their math."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fastnn import functional as F
from fastnn import reference as R

from conftest import assert_close

dtypes = st.sampled_from([np.float32, np.float64])


@st.composite
def logits_and_labels(draw):
    dtype = draw(dtypes)
    B = draw(st.integers(1, 40))
    K = draw(st.integers(1, 70))
    z = draw(arrays(dtype, (B, K), elements=st.floats(-1e4, 1e4, width=32)))
    y = draw(arrays(np.int64, B, elements=st.integers(0, K - 1)))
    return z, y, dtype


@settings(max_examples=200, deadline=None)
@given(logits_and_labels(), st.integers(1, 3))
def test_softmax_cross_entropy_properties(case, n_threads):
    z, y, dtype = case
    p = F.softmax(z, n_threads=n_threads)
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert_close(p, R.softmax(z), dtype)
    loss, grad = F.softmax_cross_entropy(z, y, n_threads=n_threads)
    want_loss, want_grad = R.softmax_cross_entropy(z, y)
    assert loss >= 0
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5, atol=1e-5)
    assert_close(grad, want_grad, dtype)
    # the gradient of a mean loss sums to zero over each row
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-6 if dtype == np.float32 else 1e-14)


@settings(max_examples=200, deadline=None)
@given(dtypes.flatmap(lambda d: arrays(d, st.integers(1, 300),
                                       elements=st.floats(-3e4, 3e4, width=32))))
def test_activation_properties(x):
    dtype = x.dtype.type
    t = F.tanh(x)
    s = F.sigmoid(x)
    assert (np.abs(t) <= 1).all() and ((s >= 0) & (s <= 1)).all()
    assert_close(t, np.tanh(x.astype(np.float64)), dtype)
    assert_close(s, R.sigmoid(x.astype(np.float64)), dtype)
    np.testing.assert_array_equal(F.relu(x), np.maximum(x, 0))
    # odd / point-symmetric: tanh(-x) = -tanh(x), sigmoid(-x) = 1 - sigmoid(x)
    np.testing.assert_array_equal(F.tanh(-x), -t)
    assert_close(F.sigmoid(-x), 1 - R.sigmoid(x.astype(np.float64)), dtype)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=200), st.integers(1, 6),
       st.data())
def test_lm_windows_properties(ids, n, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(ids)), max_size=5)))
    contexts, targets = F.lm_windows(ids, n, 1001, cuts)
    want_c, want_t = R.lm_windows(ids, n, 1001, cuts)
    np.testing.assert_array_equal(contexts, want_c)
    np.testing.assert_array_equal(targets, ids)
