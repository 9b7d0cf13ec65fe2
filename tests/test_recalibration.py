"""Recalibração das estatísticas de população, contra ``torch.optim.swa_utils.update_bn``."""

import copy

import pytest
import torch
from torch import nn
from torch.optim.swa_utils import update_bn

import bnlib.nn as bnn
from bnlib.lab.models import make_small_cnn
from bnlib.nn.recalibration import batchnorm_layers, recalibrate_batchnorm


def buffers_of(model):
    return [
        (m.running_mean.clone(), m.running_var.clone(), int(m.num_batches_tracked))
        for m in batchnorm_layers(model)
    ]


@pytest.mark.parametrize("norm", [nn.BatchNorm2d, bnn.BatchNorm2d])
@pytest.mark.parametrize("batch_size", [8, 20])
def test_matches_torch_update_bn(norm, batch_size):
    torch.manual_seed(0)
    model = make_small_cnn((4, 6), norm=norm)
    x = torch.randn(60, 1, 28, 28) * 2 + 1
    model(x[:30])  # estatísticas acumuladas "velhas"
    # O oráculo é sempre um modelo do torch com os mesmos pesos e estatísticas:
    # update_bn só reconhece as camadas BN do próprio torch.
    reference = make_small_cnn((4, 6), norm=nn.BatchNorm2d)
    reference.load_state_dict(copy.deepcopy(model.state_dict()))
    batches = recalibrate_batchnorm(model, x, batch_size=batch_size)
    update_bn([x[i : i + batch_size] for i in range(0, 60, batch_size)], reference)
    assert batches == -(-60 // batch_size)
    for (m1, v1, n1), (m2, v2, n2) in zip(buffers_of(model), buffers_of(reference), strict=True):
        torch.testing.assert_close(m1, m2, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(v1, v2, rtol=1e-5, atol=1e-6)
        assert n1 == n2 == batches


def test_mean_is_the_exact_population_mean_with_equal_batches():
    torch.manual_seed(1)
    bn = nn.BatchNorm1d(3, dtype=torch.float64)
    model = nn.Sequential(bn)
    x = torch.randn(40, 3, dtype=torch.float64) * 5 + 3
    recalibrate_batchnorm(model, x, batch_size=10)
    torch.testing.assert_close(bn.running_mean, x.mean(dim=0), rtol=1e-12, atol=1e-12)
    within = torch.stack([x[i : i + 10].var(dim=0) for i in range(0, 40, 10)]).mean(dim=0)
    torch.testing.assert_close(bn.running_var, within, rtol=1e-12, atol=1e-12)


def test_restores_mode_momentum_and_weights():
    model = make_small_cnn((4,))
    model.eval()
    weights = [p.clone() for p in model.parameters()]
    recalibrate_batchnorm(model, torch.randn(16, 1, 28, 28), batch_size=8)
    assert not model.training
    assert all(m.momentum == 0.1 for m in batchnorm_layers(model))
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters(), strict=True))


def test_errors_are_explained_in_portuguese():
    model = make_small_cnn((4,))
    with pytest.raises(ValueError, match="batch_size"):
        recalibrate_batchnorm(model, torch.randn(8, 1, 28, 28), batch_size=1)
    with pytest.raises(ValueError, match="um só exemplo"):
        recalibrate_batchnorm(model, torch.randn(9, 1, 28, 28), batch_size=4)
    with pytest.raises(ValueError, match="nenhuma camada BN"):
        recalibrate_batchnorm(nn.Sequential(nn.Linear(2, 2)), torch.randn(4, 2), batch_size=2)
    with pytest.raises(ValueError, match="tensor"):
        recalibrate_batchnorm(model, [1, 2, 3], batch_size=2)
