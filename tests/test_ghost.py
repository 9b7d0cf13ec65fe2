"""BN fantasma (bnlib.nn.ghost) contra a BN do torch aplicada a cada minilote fantasma."""

import doctest

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from bnlib.lab.models import make_mlp
from bnlib.nn import ghost
from bnlib.nn.ghost import GhostBatchNorm1d


def _layer(c, ghost_size, seed=0, momentum=0.1):
    layer = GhostBatchNorm1d(c, ghost_size, momentum=momentum).double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        layer.weight.copy_(torch.rand(c, generator=g, dtype=torch.float64) + 0.5)
        layer.bias.copy_(torch.randn(c, generator=g, dtype=torch.float64))
    return layer


def test_module_examples_run():
    assert doctest.testmod(ghost, raise_on_error=False).failed == 0


@given(
    ghosts=st.integers(1, 4),
    ghost_size=st.integers(2, 9),
    c=st.integers(1, 5),
    length=st.sampled_from([None, 3]),
    seed=st.integers(0, 1000),
)
def test_each_ghost_is_a_torch_batchnorm(ghosts, ghost_size, c, length, seed):
    g = torch.Generator().manual_seed(seed)
    shape = (ghosts * ghost_size, c) if length is None else (ghosts * ghost_size, c, length)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 3 + 2
    layer = _layer(c, ghost_size, seed)
    running_mean, running_var = (
        torch.zeros(c, dtype=torch.float64),
        torch.ones(c, dtype=torch.float64),
    )
    expected, means, variances = [], [], []
    for chunk in x.split(ghost_size):
        rm, rv = running_mean.clone(), running_var.clone()
        expected.append(F.batch_norm(chunk, rm, rv, layer.weight, layer.bias, True, 1.0, layer.eps))
        means.append(rm)  # momentum 1: a média e a variância não enviesada do fantasma
        variances.append(rv)
    y = layer(x)
    assert torch.allclose(y, torch.cat(expected), atol=1e-12)
    # Estatísticas acumuladas: a média dos fantasmas entra com o peso `momentum`.
    assert torch.allclose(layer.running_mean, 0.1 * torch.stack(means).mean(0), atol=1e-12)
    assert torch.allclose(layer.running_var, 0.9 + 0.1 * torch.stack(variances).mean(0), atol=1e-12)


def test_one_ghost_is_plain_batchnorm():
    x = torch.randn(32, 6, dtype=torch.float64) * 2 - 1
    layer = _layer(6, 32)
    reference = torch.nn.BatchNorm1d(6).double()
    with torch.no_grad():
        reference.weight.copy_(layer.weight)
        reference.bias.copy_(layer.bias)
    for _ in range(3):
        assert torch.allclose(layer(x), reference(x), atol=1e-12)
    assert torch.allclose(layer.running_mean, reference.running_mean, atol=1e-12)
    assert torch.allclose(layer.running_var, reference.running_var, atol=1e-12)
    layer.eval()
    reference.eval()
    z = torch.randn(5, 6, dtype=torch.float64)
    assert torch.allclose(layer(z), reference(z), atol=1e-12)


def test_eval_mode_uses_running_statistics_for_any_batch_size():
    layer = _layer(3, 4)
    layer(torch.randn(16, 3, dtype=torch.float64))
    layer.eval()
    z = torch.randn(
        7, 3, dtype=torch.float64
    )  # 7 não é múltiplo de 4: no modo de avaliação, tanto faz
    expected = (z - layer.running_mean) / torch.sqrt(layer.running_var + layer.eps)
    assert torch.allclose(layer(z), expected * layer.weight + layer.bias, atol=1e-12)


def test_gradients_match_finite_differences():
    layer = _layer(3, 4)
    x = torch.randn(12, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: layer(t), (x,))


def test_gradient_is_per_ghost():
    # A saída de um fantasma não depende dos exemplos dos outros fantasmas.
    layer = _layer(2, 4)
    x = torch.randn(8, 2, dtype=torch.float64, requires_grad=True)
    layer(x)[:4].sum().backward()
    assert torch.count_nonzero(x.grad[4:]) == 0


def test_works_inside_an_mlp():
    model = make_mlp([10, 8, 3], "relu", norm=lambda f: GhostBatchNorm1d(f, ghost_size=4))
    assert model(torch.randn(16, 10)).shape == (16, 3)
    assert "ghost_size=4" in repr(model)


@pytest.mark.parametrize("ghost_size", [0, 1, 2.0, True, None])
def test_bad_ghost_size(ghost_size):
    with pytest.raises(ValueError) as error:
        GhostBatchNorm1d(4, ghost_size)
    assert "`ghost_size`" in str(error.value) and repr(ghost_size) in str(error.value)


def test_batch_not_multiple_of_ghost_size():
    with pytest.raises(ValueError) as error:
        GhostBatchNorm1d(4, 8)(torch.randn(12, 4))
    message = str(error.value)
    assert "ghost_size = 8" in message and "12 exemplos" in message


def test_wrong_number_of_features():
    with pytest.raises(ValueError, match="C = 4"):
        GhostBatchNorm1d(4, 2)(torch.randn(8, 5))
