"""Fusão da BN na camada anterior, contra ``torch.nn.utils.fusion`` e contra o modelo original."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

import bnlib.nn as bnn
from bnlib.lab.models import make_small_cnn
from bnlib.nn.folding import (
    fold_batchnorm_conv2d,
    fold_batchnorm_linear,
    fold_sequential,
    folded_parameters,
)

DTYPES = [torch.float32, torch.float64]
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}


def trained_bn(bn_type, features, dtype, seed, spatial):
    """Uma BN com gamma, beta e estatísticas acumuladas não triviais, no modo de avaliação."""
    gen = torch.Generator().manual_seed(seed)
    bn = bn_type(features, dtype=dtype)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(features, generator=gen, dtype=dtype))
        bn.bias.copy_(torch.randn(features, generator=gen, dtype=dtype))
    shape = (16, features, 3, 3) if spatial else (16, features)
    for _ in range(3):
        bn(3 * torch.randn(shape, generator=gen, dtype=dtype) + 2)
    return bn.eval()


def scaled(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


@settings(max_examples=25)
@given(
    st.integers(1, 20),
    st.integers(1, 20),
    st.booleans(),
    st.sampled_from(DTYPES),
    st.integers(0, 10_000),
)
def test_linear_matches_torch_fusion(fan_in, fan_out, has_bias, dtype, seed):
    torch.manual_seed(seed)
    linear = nn.Linear(fan_in, fan_out, bias=has_bias, dtype=dtype).eval()
    bn = trained_bn(nn.BatchNorm1d, fan_out, dtype, seed, spatial=False)
    ours = fold_batchnorm_linear(linear, bn)
    reference = fuse_linear_bn_eval(linear, bn)
    assert ours.weight.dtype == dtype
    assert scaled(ours.weight, reference.weight) < TOLERANCE[dtype]
    assert scaled(ours.bias, reference.bias) < TOLERANCE[dtype]
    x = torch.randn(7, fan_in, dtype=dtype)
    with torch.no_grad():
        assert scaled(ours(x), bn(linear(x))) < 10 * TOLERANCE[dtype]


@settings(max_examples=25)
@given(
    st.integers(1, 5),
    st.integers(1, 6),
    st.sampled_from([1, 3]),
    st.sampled_from([1, 2]),
    st.booleans(),
    st.sampled_from(DTYPES),
    st.integers(0, 10_000),
)
def test_conv2d_matches_torch_fusion(c_in, c_out, kernel, stride, has_bias, dtype, seed):
    torch.manual_seed(seed)
    conv = nn.Conv2d(
        c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=has_bias, dtype=dtype
    ).eval()
    bn = trained_bn(nn.BatchNorm2d, c_out, dtype, seed, spatial=True)
    ours = fold_batchnorm_conv2d(conv, bn)
    reference = fuse_conv_bn_eval(conv, bn)
    assert ours.stride == conv.stride and ours.padding == conv.padding
    assert scaled(ours.weight, reference.weight) < TOLERANCE[dtype]
    assert scaled(ours.bias, reference.bias) < TOLERANCE[dtype]
    x = torch.randn(2, c_in, 6, 6, dtype=dtype)
    with torch.no_grad():
        assert scaled(ours(x), bn(conv(x))) < 10 * TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
def test_bnlib_batchnorm_folds_like_torch_batchnorm(dtype):
    conv = nn.Conv2d(3, 4, 3, dtype=dtype).eval()
    ours = trained_bn(bnn.BatchNorm2d, 4, dtype, 1, spatial=True)
    theirs = trained_bn(nn.BatchNorm2d, 4, dtype, 1, spatial=True)
    a, b = fold_batchnorm_conv2d(conv, ours), fuse_conv_bn_eval(conv, theirs)
    assert scaled(a.weight, b.weight) < TOLERANCE[dtype]
    assert scaled(a.bias, b.bias) < TOLERANCE[dtype]


def test_originals_are_not_modified():
    linear = nn.Linear(4, 3)
    bn = trained_bn(nn.BatchNorm1d, 3, torch.float32, 0, spatial=False)
    before = [p.clone() for p in (*linear.parameters(), *bn.parameters(), *bn.buffers())]
    fold_batchnorm_linear(linear, bn)
    after = list((*linear.parameters(), *bn.parameters(), *bn.buffers()))
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_fold_sequential_keeps_the_output_of_a_cnn():
    torch.manual_seed(0)
    model = make_small_cnn((4, 8))
    x = torch.randn(32, 1, 28, 28)
    for _ in range(3):
        model(x)
    model.eval()
    folded = fold_sequential(model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    with torch.no_grad():
        assert scaled(folded(x), model(x)) < 1e-5


def test_bn_after_activation_is_kept():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4)).eval()
    folded = fold_sequential(model)
    assert isinstance(folded[2], nn.BatchNorm1d)


def test_bn_without_affine_parameters():
    linear = nn.Linear(5, 3).eval()
    bn = nn.BatchNorm1d(3, affine=False)
    bn(torch.randn(10, 3) * 4)
    bn.eval()
    fused = fold_batchnorm_linear(linear, bn)
    x = torch.randn(6, 5)
    with torch.no_grad():
        assert scaled(fused(x), bn(linear(x))) < 1e-5


def test_errors_are_explained_in_portuguese():
    linear = nn.Linear(4, 3)
    with pytest.raises(ValueError, match="modo de treino"):
        fold_batchnorm_linear(linear, nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match="3 saídas"):
        fold_batchnorm_linear(linear, nn.BatchNorm1d(5).eval())
    with pytest.raises(ValueError, match="track_running_stats=False"):
        fold_batchnorm_linear(linear, nn.BatchNorm1d(3, track_running_stats=False).eval())
    with pytest.raises(TypeError, match="torch.nn.Conv2d"):
        fold_batchnorm_conv2d(linear, nn.BatchNorm2d(3).eval())
    with pytest.raises(TypeError, match="normalização em lote"):
        folded_parameters(linear.weight, linear.bias, nn.LayerNorm(3))
    with pytest.raises(ValueError, match="eval"):
        fold_sequential(nn.Sequential(linear, nn.BatchNorm1d(3)))


def test_float64_computation_is_cast_back():
    linear = nn.Linear(2, 2).eval()
    bn = trained_bn(nn.BatchNorm1d, 2, torch.float32, 3, spatial=False)
    w, b = folded_parameters(linear.weight, linear.bias, bn)
    assert w.dtype == b.dtype == torch.float32
    assert np.isfinite(w.numpy()).all()
