"""Blocos e redes residuais, e a medida da variância do caminho residual."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bnlib import nn as bnn
from bnlib.lab.residual import (
    ResidualBlock,
    make_residual_block,
    make_residual_mlp,
    residual_blocks,
    residual_stream_variance,
)


def kinds(module):
    return [type(m).__name__ for m in module]


def test_block_layouts():
    assert kinds(make_residual_block(4, "post").branch) == [
        "Linear",
        "BatchNorm1d",
        "ReLU",
        "Linear",
        "BatchNorm1d",
    ]
    assert kinds(make_residual_block(4, "pre").branch) == [
        "BatchNorm1d",
        "ReLU",
        "Linear",
        "BatchNorm1d",
        "ReLU",
        "Linear",
    ]
    plain = make_residual_block(4, "pre", norm=None)
    assert kinds(plain.branch) == ["ReLU", "Linear", "ReLU", "Linear"]
    assert all(m.bias is not None for m in plain.branch if isinstance(m, nn.Linear))
    conv = make_residual_block(3, "post", norm=bnn.BatchNorm2d, layer="conv")
    assert kinds(conv.branch) == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d"]
    assert tuple(conv(torch.randn(2, 3, 5, 5)).shape) == (2, 3, 5, 5)


@pytest.mark.parametrize("order", ["post", "pre"])
def test_block_computes_the_documented_formula(order):
    torch.manual_seed(0)
    block = make_residual_block(5, order).double()
    for bn in (m for m in block.branch if isinstance(m, nn.BatchNorm1d)):
        nn.init.normal_(bn.weight)
        nn.init.normal_(bn.bias)
    x = torch.randn(16, 5, dtype=torch.float64)
    lin = [m for m in block.branch if isinstance(m, nn.Linear)]
    bns = [m for m in block.branch if isinstance(m, nn.BatchNorm1d)]

    def bn(i, v):
        return F.batch_norm(v, None, None, bns[i].weight, bns[i].bias, training=True)

    if order == "post":
        expected = F.relu(x + bn(1, lin[1](F.relu(bn(0, lin[0](x))))))
    else:
        expected = x + lin[1](F.relu(bn(1, lin[0](F.relu(bn(0, x))))))
    torch.testing.assert_close(block(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("order", ["post", "pre"])
@pytest.mark.parametrize("layer", ["dense", "conv"])
def test_zero_init_starts_as_the_identity(order, layer):
    torch.manual_seed(1)
    norm = nn.BatchNorm1d if layer == "dense" else nn.BatchNorm2d
    block = make_residual_block(4, order, norm=norm, layer=layer, zero_init=True)
    x = torch.randn(8, 4) if layer == "dense" else torch.randn(8, 4, 3, 3)
    assert torch.count_nonzero(block.branch(x)) == 0
    torch.testing.assert_close(block(x), F.relu(x) if order == "post" else x)
    norms = [m for m in block.branch if isinstance(m, norm)]
    assert torch.all(norms[-1].weight == 0) and torch.all(norms[0].weight == 1)


def test_skip_init_starts_as_the_identity_and_learns_alpha():
    torch.manual_seed(2)
    block = make_residual_block(4, "pre", norm=None, skip_init=True)
    x = torch.randn(8, 4)
    torch.testing.assert_close(block(x), x)
    assert isinstance(block.alpha, nn.Parameter) and block.alpha.item() == 0.0
    block(x).pow(2).sum().backward()
    assert block.alpha.grad is not None and block.alpha.grad.abs() > 0
    assert make_residual_block(4).alpha is None


@pytest.mark.parametrize("order", ["post", "pre"])
@pytest.mark.parametrize("norm", [nn.BatchNorm1d, None])
def test_mlp_layout_and_shapes(order, norm):
    net = make_residual_mlp(12, 6, depth=4, num_classes=3, order=order, norm=norm)
    assert len(residual_blocks(net)) == 4
    assert tuple(net(torch.randn(7, 12)).shape) == (7, 3)
    names = kinds(net)
    expected_tail = ["ReLU", "Linear"] if norm is None else ["BatchNorm1d", "ReLU", "Linear"]
    if order == "pre":
        assert names[-len(expected_tail) :] == expected_tail
        assert names[1:5] == ["ResidualBlock"] * 4
    else:
        assert names[-5:] == ["ResidualBlock"] * 4 + ["Linear"]


def manual_moments(model, x):
    """A variância do caminho residual calculada sem ganchos, camada a camada."""
    stream, branch = [], []
    h = x
    for module in model:
        if isinstance(module, ResidualBlock):
            stream.append(h.double().pow(2).mean().item())
            branch.append(module.branch(h).double().pow(2).mean().item())
        h = module(h)
        if isinstance(module, ResidualBlock) and module is residual_blocks(model)[-1]:
            stream.append(h.double().pow(2).mean().item())
    return np.array(stream), np.array(branch)


@pytest.mark.parametrize("order", ["post", "pre"])
def test_stream_variance_matches_a_manual_forward_and_leaves_the_model_alone(order):
    torch.manual_seed(3)
    model = make_residual_mlp(10, 8, depth=5, num_classes=2, order=order)
    x = torch.randn(32, 10)
    state = copy.deepcopy(model.state_dict())
    result = residual_stream_variance(model, x)
    with torch.no_grad():
        stream, branch = manual_moments(copy.deepcopy(model), x)
    np.testing.assert_allclose(result["stream"], stream, rtol=1e-6)
    np.testing.assert_allclose(result["branch"], branch, rtol=1e-6)
    np.testing.assert_allclose(result["ratio"], branch / stream[:-1], rtol=1e-6)
    assert result["stream"].shape == (6,) and result["branch"].shape == (5,)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_zero_init_keeps_the_stream_constant():
    torch.manual_seed(4)
    model = make_residual_mlp(10, 8, depth=6, num_classes=2, order="pre", zero_init=True)
    result = residual_stream_variance(model, torch.randn(16, 10))
    np.testing.assert_allclose(result["stream"], result["stream"][0], rtol=1e-6)
    assert np.all(result["branch"] == 0)


def test_batchnorm_grows_the_stream_linearly_and_plain_networks_double_it():
    # Previsão de De e Smith (2020) para a ordem pré-ativação na inicialização de He: com BN
    # cada ramo soma ~1 à variância; sem normalização, cada bloco a multiplica por ~2.
    torch.manual_seed(5)
    x = torch.randn(512, 32)
    with_bn = residual_stream_variance(make_residual_mlp(32, 128, 20, 2), x)["stream"]
    slope = np.polyfit(np.arange(21), with_bn, 1)[0]
    assert 0.85 < slope < 1.25
    plain = make_residual_mlp(32, 128, 20, 2, norm=None)
    growth = residual_stream_variance(plain, x)["stream"]
    factor = (growth[-1] / growth[0]) ** (1 / 20)
    assert 1.6 < factor < 2.4


def test_errors_are_explained_in_portuguese():
    with pytest.raises(ValueError, match="`order`"):
        make_residual_block(4, order="middle")
    with pytest.raises(ValueError, match="`width`"):
        make_residual_block(0)
    with pytest.raises(ValueError, match="`layer`"):
        make_residual_block(4, layer="attention")
    with pytest.raises(ValueError, match="skip_init"):
        make_residual_block(4, norm=None, zero_init=True)
    with pytest.raises(ValueError, match="affine"):
        make_residual_block(4, norm=lambda w: nn.BatchNorm1d(w, affine=False), zero_init=True)
    with pytest.raises(ValueError, match="`depth`"):
        make_residual_mlp(4, 4, depth=0, num_classes=2)
    with pytest.raises(ValueError, match="ResidualBlock"):
        residual_stream_variance(nn.Linear(3, 3), torch.randn(4, 3))
    with pytest.raises(ValueError, match="N ≥ 2"):
        residual_stream_variance(make_residual_mlp(3, 4, 1, 2), torch.randn(1, 3))
    with pytest.raises(TypeError, match="`model`"):
        residual_stream_variance("rede", torch.randn(4, 3))
