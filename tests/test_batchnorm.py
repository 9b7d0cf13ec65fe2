"""bnlib (numpy) contra o oráculo torch e contra diferenças finitas."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import bnlib
from bnlib import batchnorm_backward, batchnorm_forward, batchnorm_inference, update_running_stats
from bnlib.core.gradcheck import numerical_gradient, relative_error, scaled_error

# Tolerâncias pedidas: erro relativo (na escala do resultado) ≤ 1e-5 em float32, ≤ 1e-10 em float64.
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = [np.float32, np.float64]

dense_shapes = st.tuples(st.integers(2, 64), st.integers(1, 32))
spatial_shapes = st.tuples(
    st.integers(1, 6), st.integers(1, 6), st.integers(1, 7), st.integers(1, 7)
).filter(lambda s: s[0] * s[2] * s[3] >= 2)
any_shape = st.one_of(dense_shapes, spatial_shapes)


def make_inputs(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    num_features = shape[1]
    x = (rng.normal(size=shape) * rng.uniform(0.1, 10) + rng.uniform(-5, 5)).astype(dtype)
    gamma = rng.normal(size=num_features).astype(dtype)
    beta = rng.normal(size=num_features).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    return x, gamma, beta, dy


def torch_reference(x, gamma, beta, dy, eps=1e-5):
    xt = torch.from_numpy(x).requires_grad_()
    gt = torch.from_numpy(gamma).requires_grad_()
    bt = torch.from_numpy(beta).requires_grad_()
    y = F.batch_norm(xt, None, None, gt, bt, training=True, eps=eps)
    y.backward(torch.from_numpy(dy))
    return [t.detach().numpy() for t in (y, xt.grad, gt.grad, bt.grad)]


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=60, deadline=None)
@given(shape=any_shape, seed=st.integers(0, 2**32 - 1))
def test_forward_and_backward_match_torch(dtype, shape, seed):
    x, gamma, beta, dy = make_inputs(shape, dtype, seed)
    y, cache = batchnorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = batchnorm_backward(dy, cache)
    expected = torch_reference(x, gamma, beta, dy)
    # O erro é medido na escala das parcelas de cada resultado, não na do próprio resultado:
    # dx, dgamma e dbeta são somas que podem cancelar quase por inteiro (N = 2, por exemplo),
    # e então o arredondamento de float32 das parcelas domina.
    axes = bnlib.core.reference.reduction_axes(x.ndim)
    scales = [
        np.max(np.abs(expected[0])),
        np.max(np.abs(gamma)) * np.max(cache.inv_std) * np.max(np.abs(dy)),
        np.abs(dy * cache.x_hat).sum(axis=axes),
        np.abs(dy).sum(axis=axes),
    ]
    for ours, theirs, scale in zip((y, dx, dgamma, dbeta), expected, scales, strict=True):
        assert ours.dtype == dtype
        assert ours.shape == theirs.shape
        assert np.all(np.abs(ours - theirs) <= TOLERANCE[dtype] * scale)


@pytest.mark.parametrize("shape", [(4, 5), (7, 3), (2, 3, 4, 5), (3, 2, 2, 1)])
def test_backward_matches_finite_differences(shape):
    x, gamma, beta, dy = make_inputs(shape, np.float64, seed=sum(shape))

    def forward_x(x_):
        return batchnorm_forward(x_, gamma, beta)[0]

    def forward_gamma(g):
        return batchnorm_forward(x, g, beta)[0]

    def forward_beta(b):
        return batchnorm_forward(x, gamma, b)[0]

    dx, dgamma, dbeta = batchnorm_backward(dy, batchnorm_forward(x, gamma, beta)[1])
    assert relative_error(dx, numerical_gradient(forward_x, x.copy(), dy)) < 1e-6
    assert relative_error(dgamma, numerical_gradient(forward_gamma, gamma.copy(), dy)) < 1e-6
    assert relative_error(dbeta, numerical_gradient(forward_beta, beta.copy(), dy)) < 1e-6


@pytest.mark.parametrize("dtype", DTYPES)
def test_output_has_zero_mean_and_unit_variance_per_feature(dtype):
    x, _, _, _ = make_inputs((200, 50, 6, 3), dtype, seed=1)
    gamma = np.array(np.linspace(1, 3, 50), dtype=dtype)
    beta = np.array(np.linspace(11, 13, 50), dtype=dtype)
    y, _ = batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), beta, rtol=1e-4)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), gamma, rtol=1e-4)


def test_large_mean_float32_stays_accurate():
    rng = np.random.default_rng(0)
    x64 = 1e4 + rng.normal(size=(1024, 64))
    x32 = x64.astype(np.float32)
    ones, zeros = np.ones(64), np.zeros(64)
    y32, _ = batchnorm_forward(x32, ones.astype(np.float32), zeros.astype(np.float32))
    y64, _ = batchnorm_forward(x32.astype(np.float64), ones, zeros)
    assert np.max(np.abs(y32 - y64)) <= 1e-3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(16, 4), (8, 3, 5, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_running_stats_and_inference_match_torch_after_ten_steps(dtype, shape, momentum):
    rng = np.random.default_rng(3)
    num_features = shape[1]
    gamma = rng.normal(size=num_features).astype(dtype)
    beta = rng.normal(size=num_features).astype(dtype)
    running_mean = np.zeros(num_features, dtype=dtype)
    running_var = np.ones(num_features, dtype=dtype)
    torch_mean = torch.zeros(num_features, dtype=torch.from_numpy(gamma).dtype)
    torch_var = torch.ones(num_features, dtype=torch_mean.dtype)
    for step in range(1, 11):
        x = (rng.normal(size=shape) * 3 + 2).astype(dtype)
        _, cache = batchnorm_forward(x, gamma, beta)
        running_mean, running_var = update_running_stats(
            running_mean, running_var, cache, momentum=momentum, num_batches_tracked=step
        )
        torch_momentum = 1.0 / step if momentum is None else momentum
        F.batch_norm(
            torch.from_numpy(x), torch_mean, torch_var, training=True, momentum=torch_momentum
        )
    # Iguais a 1e-6 relativo (cerca de 8 ulp em float32).
    np.testing.assert_allclose(running_mean, torch_mean.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(running_var, torch_var.numpy(), rtol=1e-6, atol=1e-6)

    x = (rng.normal(size=shape) * 3 + 2).astype(dtype)
    ours = batchnorm_inference(x, gamma, beta, running_mean, running_var)
    theirs = F.batch_norm(
        torch.from_numpy(x),
        torch_mean,
        torch_var,
        torch.from_numpy(gamma),
        torch.from_numpy(beta),
        training=False,
    )
    assert ours.dtype == dtype
    assert scaled_error(ours, theirs.numpy()) <= TOLERANCE[dtype]


def test_inference_accepts_a_single_example():
    y = batchnorm_inference(np.ones((1, 3)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    np.testing.assert_allclose(y, np.ones((1, 3)) / np.sqrt(1 + 1e-5))


def test_inputs_are_not_modified():
    x, gamma, beta, dy = make_inputs((6, 3), np.float64, seed=5)
    copies = [a.copy() for a in (x, gamma, beta, dy)]
    _, cache = batchnorm_forward(x, gamma, beta)
    batchnorm_backward(dy, cache)
    for original, copy in zip((x, gamma, beta, dy), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


def test_zero_variance_feature_is_finite_thanks_to_eps():
    x = np.array([[1.0, 2.0], [1.0, 4.0], [1.0, 6.0]])
    y, cache = batchnorm_forward(x, np.ones(2), np.zeros(2))
    dx, _, _ = batchnorm_backward(np.ones_like(x), cache)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    np.testing.assert_array_equal(y[:, 0], 0.0)


def test_public_api_is_exported():
    for name in bnlib.__all__:
        assert hasattr(bnlib, name)


def test_numpy_part_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, bnlib; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "make_view",
    [
        lambda a: a.T,  # transposta
        lambda a: a[:, ::2],  # fatia com passo
        lambda a: np.asfortranarray(a),  # ordem de Fortran
        lambda a: a.reshape(3, 4, 2).transpose(2, 0, 1),  # 3-D permutado
    ],
)
def test_numerical_gradient_any_memory_layout(make_view):
    rng = np.random.default_rng(0)
    x = make_view(rng.normal(size=(6, 4)).copy())
    before = x.copy()
    dy = rng.normal(size=x.shape)
    got = numerical_gradient(lambda z: np.sin(z) * z, x, dy)
    expected = (np.cos(before) * before + np.sin(before)) * dy
    assert relative_error(got, expected) < 1e-7
    np.testing.assert_array_equal(x, before)  # x restaurado


def test_numerical_gradient_rejects_unusable_x():
    read_only = np.ones(3)
    read_only.setflags(write=False)
    with pytest.raises(ValueError, match="gravável"):
        numerical_gradient(np.sin, read_only, np.ones(3))
    with pytest.raises(TypeError, match="ponto flutuante"):
        numerical_gradient(np.sin, np.arange(3), np.ones(3))
    with pytest.raises(ValueError, match="`h`"):
        numerical_gradient(np.sin, np.ones(3), np.ones(3), h=0.0)
