import numpy as np
import pytest

# kernel vs reference tolerances per dtype: float32 kernels use their own vectorised
# exp / tanh (a few ulp), float64 ones agree to round-off
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def n_threads(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def assert_close(got, want, dtype, scale=1.0):
    """got equals want within the kernel tolerance of dtype (atol scaled by `scale`)."""
    tol = TOL[np.dtype(dtype).type]
    np.testing.assert_allclose(got, want, rtol=tol["rtol"], atol=tol["atol"] * scale)


def assert_epoch_close(got, loss, want, want_loss, dtype):
    """An SGD epoch kernel's state arrays (None where a state is absent) and summed loss
    equal the reference's, in dtype."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            assert g.dtype == dtype
            assert_close(g, w, dtype, scale=10)
    assert_close(loss, want_loss, dtype, scale=100)
