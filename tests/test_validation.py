"""Bad input raises a clear exception naming the argument; nothing crashes."""
import numpy as np
import pytest

from fastnn import functional as F

Z = np.zeros((4, 3))
Y = np.array([0, 1, 2, 0])


@pytest.mark.parametrize("call, exc, match", [
    (lambda: F.softmax(np.array([1, 2, 3])), TypeError, "z must be a float32 or float64"),
    (lambda: F.softmax(np.ones(3, np.complex128)), TypeError, "complex"),
    (lambda: F.softmax(np.ones(3, np.float16)), TypeError, "float16"),
    (lambda: F.softmax(np.array(["a"])), TypeError, "z must be"),
    (lambda: F.softmax(np.zeros((0, 3))), ValueError, "z is empty"),
    (lambda: F.softmax([[1.0, 2.0], [3.0]]), ValueError, "z could not be read"),
    (lambda: F.softmax(np.array([1.0, np.nan])), ValueError, "z contains NaN"),
    (lambda: F.softmax(np.array([1.0, np.inf])), ValueError, "z contains NaN"),
    (lambda: F.softmax(Z, axis=2), np.exceptions.AxisError, "axis"),
    (lambda: F.softmax_cross_entropy(np.zeros(3), [0]), ValueError, "logits must be 2-D"),
    (lambda: F.softmax_cross_entropy(Z.astype(int), Y), TypeError, "logits"),
    (lambda: F.softmax_cross_entropy(Z, [0, 1, 3, 0]), ValueError, r"labels must lie in \[0, 3\)"),
    (lambda: F.softmax_cross_entropy(Z, [0, -1, 2, 0]), ValueError, "labels must lie"),
    (lambda: F.softmax_cross_entropy(Z, [0.0, 1.0, 2.0, 0.0]), TypeError, "labels must be an integer"),
    (lambda: F.softmax_cross_entropy(Z, [0, 1]), ValueError, "labels has 2 entries"),
    (lambda: F.softmax_cross_entropy(Z, Y, np.zeros(4)), ValueError, "sample_weight must have a positive total"),
    (lambda: F.softmax_cross_entropy(Z, Y, -np.ones(4)), ValueError, "sample_weight must be non-negative"),
    (lambda: F.softmax_cross_entropy(Z, Y, np.ones(3)), ValueError, "sample_weight has 3 entries"),
    (lambda: F.softmax_cross_entropy(Z, Y, [1, 1, np.nan, 1]), ValueError, "sample_weight contains NaN"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros(3), [0, 1, 2]), ValueError, r"y must hold targets in \[0, 1\]"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros(3), [0, 1]), ValueError, "y has shape"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros(3), [0, 1, 1], [1, 1]), ValueError, "sample_weight has shape"),
    (lambda: F.relu_backward(np.zeros(3), np.zeros(4)), ValueError, "x has shape"),
    (lambda: F.tanh_backward(np.zeros(3), np.zeros(4)), ValueError, "y has shape"),
    (lambda: F.linear(np.zeros((2, 3)), np.zeros((4, 5))), ValueError, "W has shape"),
    (lambda: F.linear(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3)), ValueError, "b has 3 entries"),
    (lambda: F.linear_backward(np.zeros((2, 5)), np.zeros((2, 3)), np.zeros((4, 3))), ValueError, "dout has shape"),
    (lambda: F.lm_windows([1, -2, 3], 2, 0), ValueError, "ids must lie"),
    (lambda: F.lm_windows([1, 2, 2**31], 2, 0), ValueError, "ids must lie"),
    (lambda: F.lm_windows([1, 2, 3], 0, 0), ValueError, "context_size must be >= 1"),
    (lambda: F.lm_windows([1, 2, 3], 2, -1), ValueError, "pad_id must be >= 0"),
    (lambda: F.lm_windows([1, 2, 3], 2.0, 0), TypeError, "context_size must be an int"),
    (lambda: F.lm_windows([1, 2, 3], 2, 0, [2, 1]), ValueError, "boundaries must be sorted"),
    (lambda: F.lm_windows([1, 2, 3], 2, 0, [0, 4]), ValueError, "boundaries must be sorted"),
    (lambda: F.lm_windows([], 2, 0), ValueError, "ids is empty"),
    (lambda: F.embedding([0, 5], np.zeros((5, 2))), ValueError, r"ids must lie in \[0, 5\)"),
    (lambda: F.embedding_backward(np.zeros((2, 3)), [[0, 1], [1, 1]], 2), ValueError, "dout has shape"),
    (lambda: F.softmax(Z, n_threads=0), ValueError, "n_threads=0"),
    (lambda: F.softmax(Z, n_threads=1.5), TypeError, "n_threads must be an int"),
])
def test_bad_input_names_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_check_finite_false_skips_the_scan_without_crashing():
    z = np.array([[1.0, np.nan, 2.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0]])
    p = F.softmax(z, check_finite=False)
    assert p.shape == z.shape
    assert np.isfinite(p[2]).all()
    F.softmax_cross_entropy(z, [0, 1, 2], check_finite=False)
    F.tanh(z, check_finite=False)


@pytest.mark.parametrize("param, velocity, exc, match", [
    ([1.0, 2.0], None, TypeError, "param must be a NumPy array"),
    (np.ones(4, int), None, TypeError, "param must be float32 or float64"),
    (np.ones((4, 4))[:, ::2], None, ValueError, "param must be a writable C-contiguous"),
    (np.ones(4), np.ones(3), ValueError, "velocity has shape"),
    (np.ones(4), np.ones(4, np.float32), TypeError, "velocity has dtype"),
])
def test_sgd_update_refuses_arrays_it_cannot_update(param, velocity, exc, match):
    with pytest.raises(exc, match=match):
        F.sgd_update(param, np.ones(np.shape(param)), 0.1, velocity=velocity, momentum=0.9)


def test_sgd_update_checks():
    p = np.ones(4)
    ro = np.ones(4)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="param must be a writable"):
        F.sgd_update(ro, np.ones(4), 0.1)
    with pytest.raises(ValueError, match="velocity is required"):
        F.sgd_update(p, np.ones(4), 0.1, momentum=0.9)
    with pytest.raises(ValueError, match="nesterov=True needs momentum"):
        F.sgd_update(p, np.ones(4), 0.1, nesterov=True)
    with pytest.raises(ValueError, match="must not share memory"):
        F.sgd_update(p, np.ones(4), 0.1, velocity=p, momentum=0.9)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        F.sgd_update(p, np.ones(4), -0.1)
    with pytest.raises(ValueError, match="lr must be a finite"):
        F.sgd_update(p, np.ones(4), float("nan"))
    with pytest.raises(ValueError, match="grad has shape"):
        F.sgd_update(p, np.ones(3), 0.1)
    with pytest.raises(ValueError, match="grad contains NaN"):
        F.sgd_update(p, np.array([1.0, np.nan, 1, 1]), 0.1)
    assert (p == 1).all()  # nothing was touched by the refused calls


def test_inputs_are_not_modified_and_readonly_noncontiguous_accepted(rng):
    z = rng.standard_normal((6, 8))
    z.flags.writeable = False
    strided = z[:, ::2]
    before = strided.copy()
    p = F.softmax(strided)
    np.testing.assert_array_equal(strided, before)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    loss, grad = F.softmax_cross_entropy(strided, [0, 1, 2, 3, 0, 1])
    assert grad.flags.c_contiguous


def test_float32_is_kept_and_lists_work():
    assert F.softmax(np.ones((2, 3), np.float32)).dtype == np.float32
    assert F.softmax([[1.0, 2.0, 3.0]]).dtype == np.float64
    assert F.relu_backward(np.ones(3, np.float32), np.ones(3)).dtype == np.float64


def test_out_must_fit_and_not_partly_overlap():
    x = np.ones(10)
    with pytest.raises(ValueError, match="out must have shape"):
        F.relu(x, out=np.empty(9))
    with pytest.raises(ValueError, match="out must have shape"):
        F.relu(x, out=np.empty(10, np.float32))
    with pytest.raises(TypeError, match="out must be a NumPy array"):
        F.relu(x, out=[0.0] * 10)
    buf = np.ones(11)
    with pytest.raises(ValueError, match="partly overlaps"):
        F.relu(buf[:10], out=buf[1:])
