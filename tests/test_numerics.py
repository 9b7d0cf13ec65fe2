"""Estabilidade numérica e buffers de saída da versão rápida de bnlib."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import bnlib.core._blocked as blocked
from bnlib import batch_statistics, batchnorm_backward, batchnorm_forward
from bnlib.core.reference import batchnorm_backward_staged, batchnorm_forward_steps


def reference_normalize(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """x_hat em float64, calculado direto com numpy (independente de bnlib)."""
    x64 = x.astype(np.float64)
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    mean = x64.mean(axis=axes, keepdims=True)
    var = ((x64 - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x64 - mean) / np.sqrt(var + eps)


def large_mean_input(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (1e4 + rng.normal(size=shape)).astype(np.float32)


@pytest.mark.parametrize("shape", [(4096, 128), (64, 8, 16, 16)])
def test_large_mean_float32_error_below_1e4(shape):
    x = large_mean_input(shape)
    f = shape[1]
    y, cache = batchnorm_forward(x, np.ones(f, np.float32), np.zeros(f, np.float32))
    expected = reference_normalize(x)
    assert y.dtype == np.float32
    assert np.max(np.abs(y - expected)) <= 1e-4
    assert np.max(np.abs(cache.x_hat - expected)) <= 1e-4


@pytest.mark.parametrize("shape", [(8192, 64), (16, 8, 32, 32)])
def test_small_mean_float32_one_pass_is_accurate(shape):
    """Com média² ≤ variância, basta uma passada: o erro fica perto do float32 (≤ 1e-5)."""
    rng = np.random.default_rng(1)
    x = (rng.normal(size=shape) * 3 + 2).astype(np.float32)
    y, cache = batchnorm_forward(x, np.ones(shape[1], np.float32), np.zeros(shape[1], np.float32))
    expected = reference_normalize(x)
    assert np.max(np.abs(y - expected)) <= 1e-5
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    np.testing.assert_allclose(cache.var, x.astype(np.float64).var(axis=axes), rtol=1e-5)


def test_textbook_float32_fails_where_bnlib_succeeds():
    """O teste acima pode falhar: a fórmula de livro em float32 erra muito mais que 1e-4."""
    x = large_mean_input((4096, 128))
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    textbook = (x - mean) / np.sqrt(var + np.float32(1e-5))
    assert np.max(np.abs(textbook - reference_normalize(x))) > 1e-3
    one_pass = (x * x).mean(axis=0) - mean * mean
    assert np.max(np.abs(one_pass - x.astype(np.float64).var(axis=0))) > 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_statistics_large_mean(dtype):
    x = large_mean_input((2048, 16)).astype(dtype)
    mean, var = batch_statistics(x)
    x64 = x.astype(np.float64)
    assert mean.dtype == var.dtype == dtype
    np.testing.assert_allclose(mean, x64.mean(axis=0), rtol=1e-7)
    np.testing.assert_allclose(var, x64.var(axis=0), rtol=1e-4)


def torch_training_step(x, gamma, beta, dy):
    xt = torch.from_numpy(x).requires_grad_()
    gt = torch.from_numpy(gamma).requires_grad_()
    bt = torch.from_numpy(beta).requires_grad_()
    y = F.batch_norm(xt, None, None, gt, bt, training=True)
    y.backward(torch.from_numpy(dy))
    return [t.detach().numpy() for t in (y, xt.grad, gt.grad, bt.grad)]


@pytest.mark.parametrize("shape", [(37, 5), (7, 3, 5, 4)])
def test_many_small_blocks_give_the_same_result(shape, monkeypatch):
    """Blocos de um ou poucos exemplos (e um último bloco incompleto) não mudam nada."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape) * 3 + 1
    gamma, beta = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    dy = rng.normal(size=shape)
    expected = torch_training_step(x, gamma, beta, dy)
    for block_bytes in (1, x[:1].nbytes * 3, 2**20):
        monkeypatch.setattr(blocked, "BLOCK_BYTES", block_bytes)
        y, cache = batchnorm_forward(x, gamma, beta)
        got = (y, *batchnorm_backward(dy, cache))
        for ours, theirs in zip(got, expected, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(300, 7), (6, 4, 9, 9)])
def test_fast_and_teaching_versions_agree(dtype, shape):
    rng = np.random.default_rng(4)
    x = (rng.normal(size=shape) * 5 - 3).astype(dtype)
    gamma = rng.normal(size=shape[1]).astype(dtype)
    beta = rng.normal(size=shape[1]).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    steps = batchnorm_forward_steps(x, gamma, beta)
    slow = (steps["y"], steps["x_hat"], *batchnorm_backward_staged(dy, steps))
    y, cache = batchnorm_forward(x, gamma, beta)
    fast = (y, cache.x_hat, *batchnorm_backward(dy, cache))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(slow, fast, strict=True):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol * np.abs(a).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(50, 6), (4, 3, 5, 5)])
def test_out_buffers_are_used_and_dtype_is_preserved(dtype, shape):
    rng = np.random.default_rng(5)
    x = rng.normal(size=shape).astype(dtype)
    gamma = rng.normal(size=shape[1]).astype(dtype)
    beta = rng.normal(size=shape[1]).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    y_ref, cache_ref = batchnorm_forward(x, gamma, beta)
    dx_ref, dgamma_ref, dbeta_ref = batchnorm_backward(dy, cache_ref)

    y_buf, x_hat_buf, dx_buf = (np.full_like(x, np.nan) for _ in range(3))
    y, cache = batchnorm_forward(x, gamma, beta, out=(y_buf, x_hat_buf))
    dx, dgamma, dbeta = batchnorm_backward(dy, cache, out=dx_buf)
    assert y is y_buf and cache.x_hat is x_hat_buf and dx is dx_buf
    for got, ref in [(y, y_ref), (cache.x_hat, cache_ref.x_hat), (dx, dx_ref)]:
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(dgamma, dgamma_ref)
    np.testing.assert_array_equal(dbeta, dbeta_ref)
    for field in (cache.inv_std, cache.mean, cache.var, dgamma, dbeta):
        assert field.dtype == dtype

    # dx pode ser escrito por cima do próprio dy.
    dy_copy = dy.copy()
    dx_inplace, _, _ = batchnorm_backward(dy_copy, cache, out=dy_copy)
    assert dx_inplace is dy_copy
    np.testing.assert_array_equal(dx_inplace, dx_ref)


def test_bad_out_buffers_are_refused_with_clear_messages():
    x = np.ones((4, 3), np.float32) + np.arange(4, dtype=np.float32)[:, None]
    gamma, beta = np.ones(3, np.float32), np.zeros(3, np.float32)
    with pytest.raises(TypeError, match=r"`out\[0\] \(y\)`.*float32.*float64"):
        batchnorm_forward(x, gamma, beta, out=(np.empty((4, 3)), np.empty_like(x)))
    with pytest.raises(ValueError, match=r"`out\[1\] \(x_hat\)`.*\(4, 3\).*\(3, 4\)"):
        batchnorm_forward(x, gamma, beta, out=(np.empty_like(x), np.empty((3, 4), np.float32)))
    with pytest.raises(ValueError, match="contíguo"):
        batchnorm_forward(x, gamma, beta, out=(np.empty((3, 4), np.float32).T, np.empty_like(x)))
    with pytest.raises(TypeError, match=r"`out` deve ser um par \(y, x_hat\)"):
        batchnorm_forward(x, gamma, beta, out=np.empty_like(x))
    _, cache = batchnorm_forward(x, gamma, beta)
    with pytest.raises(TypeError, match=r"`out \(dx\)`"):
        batchnorm_backward(np.ones_like(x), cache, out=[0.0])


def test_non_finite_values_are_still_reported():
    x = np.ones((5, 2)) + np.arange(5)[:, None]
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match="`x` contém 1 valor"):
        batchnorm_forward(x, np.ones(2), np.zeros(2))
    _, cache = batchnorm_forward(np.arange(10.0).reshape(5, 2), np.ones(2), np.zeros(2))
    dy = np.ones((5, 2))
    dy[0, 0] = np.inf
    with pytest.raises(ValueError, match="`dy` contém 1 valor"):
        batchnorm_backward(dy, cache)


def test_non_contiguous_input_gives_the_same_result():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(8, 20))
    gamma, beta = np.ones(8), np.zeros(8)
    y_t, _ = batchnorm_forward(x.T, gamma, beta)
    y_c, _ = batchnorm_forward(np.ascontiguousarray(x.T), gamma, beta)
    np.testing.assert_array_equal(y_t, y_c)


def test_threads_do_not_share_scratch_buffers():
    """Os rascunhos reaproveitados são por *thread*: chamadas simultâneas não se misturam."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(7)
    cases = []
    for shape in [(3000, 40), (2000, 70), (20, 6, 16, 16), (30, 5, 12, 12)] * 2:
        x = rng.normal(size=shape) * 2 + 1e3
        cases.append((x, rng.normal(size=shape[1]), rng.normal(size=shape[1])))
    expected = [batchnorm_forward(*case)[0] for case in cases]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda case: batchnorm_forward(*case)[0], cases))
            for ours, reference in zip(got, expected, strict=True):
                np.testing.assert_array_equal(ours, reference)
