"""Branqueamento ZCA (bnlib.core.whitening) contra a decomposição em autovalores feita à mão."""

import doctest

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import bnlib
from bnlib.core import whitening
from bnlib.core.whitening import batch_covariance, inverse_sqrt, whiten, whitening_flops


def _correlated(n, d, seed=0, dtype=np.float64):
    """Dados com atributos correlacionados, escalas diferentes e média longe de zero."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d)) * rng.uniform(0.2, 3.0, size=d)
    return (rng.normal(size=(n, d)) @ mixing + rng.normal(0, 5, size=d)).astype(dtype)


def _direct_zca(x, eps):
    """O oráculo: média, covariância enviesada e Σ^(-1/2) escritas direto, em float64."""
    x = x.astype(np.float64)
    mean = x.sum(axis=0) / len(x)
    cov = np.einsum("ni,nj->ij", x - mean, x - mean) / len(x)
    lam, u = np.linalg.eigh(cov)
    w = u @ np.diag(1.0 / np.sqrt(lam + eps)) @ u.T
    return (x - mean) @ w, mean, w, cov


def test_module_examples_run():
    assert doctest.testmod(whitening, raise_on_error=False).failed == 0


@given(
    n=st.integers(12, 60),
    d=st.integers(1, 8),
    eps=st.sampled_from([0.0, 1e-5, 0.3]),
    seed=st.integers(0, 10_000),
)
def test_zca_matches_direct_eigendecomposition(n, d, eps, seed):
    x = _correlated(n, d, seed)
    y_ref, mean_ref, w_ref, _ = _direct_zca(x, eps)
    result = whiten(x, eps=eps)
    scale = np.abs(w_ref).max()
    assert np.allclose(result.mean, mean_ref, rtol=1e-12, atol=1e-12)
    assert np.abs(result.matrix - w_ref).max() <= 1e-9 * scale
    assert np.abs(result.y - y_ref).max() <= 1e-9 * max(np.abs(y_ref).max(), 1.0)


@given(n=st.integers(12, 60), d=st.integers(1, 8), seed=st.integers(0, 10_000))
def test_matrix_is_the_symmetric_inverse_square_root(n, d, seed):
    # Propriedades que definem Σ^(-1/2) sem usar autovalores: W simétrica, positiva
    # definida e W (Σ + εI) W = I.
    eps = 1e-3
    x = _correlated(n, d, seed)
    _, cov = batch_covariance(x)
    w = inverse_sqrt(cov, eps)
    assert np.allclose(w, w.T, rtol=0, atol=1e-12 * np.abs(w).max())
    assert np.linalg.eigvalsh(w).min() > 0
    assert np.allclose(w @ (cov + eps * np.eye(d)) @ w, np.eye(d), atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_whitened_batch_has_identity_covariance(dtype):
    x = _correlated(400, 6, seed=3, dtype=dtype)
    result = whiten(x, eps=0.0)
    assert result.y.dtype == dtype and result.matrix.dtype == dtype and result.mean.dtype == dtype
    y = result.y.astype(np.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert np.abs(y.mean(axis=0)).max() < tol
    assert np.abs(np.cov(y.T, bias=True) - np.eye(6)).max() < 10 * tol


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_agrees_with_float64(dtype):
    x = _correlated(200, 5, seed=4)
    reference = whiten(x, eps=1e-5).y
    result = whiten(x.astype(dtype), eps=1e-5).y
    tol = 2e-4 if dtype == np.float32 else 1e-12
    assert np.abs(result - reference).max() < tol * np.abs(reference).max()


def test_zca_commutes_with_rotations():
    # ZCA é a única matriz de branqueamento simétrica: girar os dados gira a saída.
    x = _correlated(300, 5, seed=5)
    q, _ = np.linalg.qr(np.random.default_rng(6).normal(size=(5, 5)))
    assert np.allclose(whiten(x @ q, eps=0.0).y, whiten(x, eps=0.0).y @ q, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_group_size_one_is_batchnorm_standardization(dtype, eps):
    x = _correlated(64, 7, seed=7, dtype=dtype)
    y_bn, _ = bnlib.batchnorm_forward(x, np.ones(7, dtype), np.zeros(7, dtype), eps=eps)
    result = whiten(x, eps=eps, group_size=1)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.abs(result.y - y_bn).max() < tol
    assert np.count_nonzero(result.matrix - np.diag(np.diag(result.matrix))) == 0


@pytest.mark.parametrize("group_size", [2, 3, 6])
def test_groups_are_whitened_separately(group_size):
    x = _correlated(100, 6, seed=8)
    result = whiten(x, eps=1e-4, group_size=group_size)
    for start in range(0, 6, group_size):
        block = slice(start, start + group_size)
        alone = whiten(x[:, block], eps=1e-4)
        assert np.allclose(result.y[:, block], alone.y, atol=1e-12)
        assert np.allclose(result.matrix[block, block], alone.matrix, atol=1e-12)
        outside = np.ones(6, dtype=bool)
        outside[block] = False
        assert np.count_nonzero(result.matrix[block][:, outside]) == 0
    full = whiten(x, eps=1e-4, group_size=6)
    assert np.array_equal(full.matrix, whiten(x, eps=1e-4).matrix)


def test_statistics_apply_to_other_data():
    x = _correlated(500, 4, seed=9)
    result = whiten(x[:250], eps=0.0)
    again = (x[:250] - result.mean) @ result.matrix
    assert np.allclose(again, result.y, atol=1e-12)


def test_batch_covariance_is_biased():
    x = _correlated(30, 4, seed=10)
    mean, cov = batch_covariance(x)
    assert np.allclose(mean, x.mean(axis=0))
    assert np.allclose(cov, np.cov(x.T, bias=True), atol=1e-10)
    assert np.allclose(np.diag(cov), x.var(axis=0))


def test_small_batch_covariance_is_singular():
    x = _correlated(8, 10, seed=11)
    _, cov = batch_covariance(x)
    assert np.linalg.matrix_rank(cov) == 7  # N - 1
    with pytest.raises(ValueError) as error:
        whiten(x, eps=0.0)
    message = str(error.value)
    assert "singular" in message and "N ≤ D" in message and "eps" in message
    assert np.all(np.isfinite(whiten(x, eps=1e-5).y))


@pytest.mark.parametrize(
    ("x", "fragment"),
    [
        (np.zeros(5), "2 dimensões (N, D)"),
        (np.zeros((4, 3, 2)), "(4, 3, 2)"),
        (np.zeros((4, 3), dtype=np.int64), "float32 ou float64"),
        (np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]), "NaN"),
        (np.zeros((1, 3)), "N ≥ 2"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(x, fragment):
    with pytest.raises((ValueError, TypeError)) as error:
        whiten(x)
    assert "whiten" in str(error.value) and fragment in str(error.value)


@pytest.mark.parametrize("group_size", [0, 4, 2.0, True])
def test_bad_group_size(group_size):
    with pytest.raises(ValueError) as error:
        whiten(np.ones((5, 6)) + np.eye(5, 6), group_size=group_size)
    assert "`group_size`" in str(error.value) and "D = 6" in str(error.value)


def test_bad_eps_and_bad_covariance():
    with pytest.raises(ValueError, match="`eps`"):
        whiten(_correlated(10, 2), eps=-1.0)
    with pytest.raises(ValueError, match="quadrada"):
        inverse_sqrt(np.ones((2, 3)))
    with pytest.raises(ValueError, match="simétrico"):
        inverse_sqrt(np.array([[1.0, 0.5], [0.0, 1.0]]))


def test_flop_counts():
    n, d = 256, 64
    per_feature = whitening_flops(n, d, group_size=1)
    assert per_feature["total"] == 6 * n * d + 12 * d
    full = whitening_flops(n, d)
    assert full == whitening_flops(n, d, group_size=d)
    assert full["covariance"] == full["apply"] == 2 * n * d * d
    assert full["eigendecomposition"] == 9 * d**3
    assert full["total"] == sum(v for k, v in full.items() if k != "total")
    # ZCA custa ao menos (2/3)·D vezes a padronização: os dois produtos já dão 4·N·D².
    for dim in (16, 64, 256, 1024):
        ratio = whitening_flops(n, dim)["total"] / whitening_flops(n, dim, 1)["total"]
        assert ratio > 2 * dim / 3


@pytest.mark.parametrize("group_size", [1, 2, 4, 8])
def test_apply_count_matches_the_nonzeros_of_the_matrix(group_size):
    n, d = 20, 8
    matrix = whiten(_correlated(n, d, seed=12), group_size=group_size).matrix
    assert whitening_flops(n, d, group_size)["apply"] == 2 * n * np.count_nonzero(matrix)


@pytest.mark.parametrize(("n", "d"), [(0, 4), (4, -1), (2.5, 3), (True, 3)])
def test_flop_count_refuses_bad_sizes(n, d):
    with pytest.raises(ValueError, match="inteiro positivo"):
        whitening_flops(n, d)
