"""The CSR kernels against the dense reference, and their input checks."""
import numpy as np
import pytest
import scipy.sparse as sp

from fastnn import functional as F
from fastnn import reference as R

from conftest import assert_close


def random_csr(rng, n, F_, density, dtype, fmt="csr"):
    X = sp.random(n, F_, density=density, format=fmt, random_state=rng, dtype=np.float64)
    return X.astype(dtype)


def parts(X):
    X = X.tocsr()
    return X.data, X.indices, X.indptr, X.shape


@pytest.mark.parametrize("n, F_, K, density", [(1, 1, 1, 1.0), (7, 30, 1, 0.2), (50, 200, 5, 0.05),
                                               (3000, 500, 3, 0.02), (20, 10, 1, 0.0)])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_products_match_reference(rng, dtype, n_threads, n, F_, K, density, fmt):
    X = random_csr(rng, n, F_, density, dtype, fmt)
    WT = rng.standard_normal((F_, K)).astype(dtype)
    G = rng.standard_normal((n, K)).astype(dtype)
    got = F.sparse_matmul(X, WT, n_threads=n_threads)
    assert got.dtype == dtype and got.shape == (n, K)
    assert_close(got, R.sparse_matmul(*parts(X), WT), dtype, scale=10)
    assert_close(F.sparse_t_matmul(X, G, n_threads=n_threads),
                 R.sparse_t_matmul(*parts(X), G), dtype, scale=10)


def test_sparse_products_with_row_subset_and_duplicates(rng, dtype):
    X = random_csr(rng, 40, 25, 0.3, dtype)
    rows = rng.permutation(40)[:17]
    rows[3] = rows[5]  # a row may appear twice in a batch
    WT = rng.standard_normal((25, 4)).astype(dtype)
    G = rng.standard_normal((17, 4)).astype(dtype)
    assert_close(F.sparse_matmul(X, WT, rows), R.sparse_matmul(*parts(X), WT, rows), dtype)
    assert_close(F.sparse_t_matmul(X, G, rows), R.sparse_t_matmul(*parts(X), G, rows), dtype)


def test_sparse_t_matmul_is_deterministic_across_threads(rng, dtype):
    X = random_csr(rng, 5000, 3000, 0.01, dtype)
    G = rng.standard_normal((5000, 2)).astype(dtype)
    outs = [F.sparse_t_matmul(X, G, n_threads=k) for k in (1, 2, 3)]
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


def test_sparse_input_checks():
    X = sp.random(5, 4, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match="X must be a scipy.sparse matrix"):
        F.sparse_matmul(np.ones((5, 4)), np.ones((4, 1)))
    with pytest.raises(ValueError, match="WT has 3 rows, but X has 4 columns"):
        F.sparse_matmul(X, np.ones((3, 1)))
    with pytest.raises(ValueError, match="G has 4 rows, but the batch has 5"):
        F.sparse_t_matmul(X, np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"rows must lie in \[0, 5\)"):
        F.sparse_matmul(X, np.ones((4, 1)), rows=[0, 5])
    with pytest.raises(TypeError, match="X must hold float32 or float64"):
        F.sparse_matmul(X.astype(np.int64), np.ones((4, 1)))
    bad = X.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        F.sparse_matmul(bad, np.ones((4, 1)))


# picked rows of a dense X (the linear models' mini-batches, read in place)
@pytest.mark.parametrize("B,F_,K", [(1, 1, 1), (17, 300, 5), (64, 1000, 3), (200, 70, 40)])
def test_rows_products_match_reference(rng, dtype, n_threads, B, F_, K):
    from fastnn._kernels import dense as _dense
    X = rng.standard_normal((B + 13, F_)).astype(dtype)
    rows = rng.integers(0, X.shape[0], B).astype(np.int64)   # repeats allowed
    W = rng.standard_normal((K, F_)).astype(dtype)
    G = rng.standard_normal((B, K)).astype(dtype)
    out = np.full((B, K), np.nan, dtype)
    _dense.rows_matmul(X, rows, W, out, n_threads)
    assert_close(out, R.rows_matmul(X, rows, W), dtype, scale=10)
    acc = np.ones((K, F_), dtype)             # accumulates
    _dense.rows_t_matmul(X, rows, G, acc, n_threads)
    assert_close(acc, 1 + R.rows_t_matmul(X, rows, G), dtype, scale=10)


def test_rows_t_matmul_is_deterministic_across_threads(rng, dtype):
    from fastnn._kernels import dense as _dense
    X = rng.standard_normal((500, 4099)).astype(dtype)
    rows = rng.integers(0, 500, 300).astype(np.int64)
    G = rng.standard_normal((300, 4)).astype(dtype)
    outs = []
    for nt in (1, 2, 3):
        out = np.zeros((4, 4099), dtype)
        _dense.rows_t_matmul(X, rows, G, out, nt)
        outs.append(out)
    assert all(np.array_equal(outs[0], o) for o in outs[1:])
