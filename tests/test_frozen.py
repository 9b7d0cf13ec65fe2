"""BN congelada: a conta do modo de avaliação em qualquer modo, sem parâmetros nem atualizações."""

import copy

import pytest
import torch
from torch import nn

from bnlib import nn as bnn
from bnlib.lab.models import make_small_cnn
from bnlib.nn.frozen import FrozenBatchNorm1d, FrozenBatchNorm2d, freeze_batchnorm
from bnlib.nn.recalibration import batchnorm_layers, recalibrate_batchnorm

TOLERANCE = {torch.float32: 1e-6, torch.float64: 1e-13}
CASES = [
    (nn.BatchNorm1d, FrozenBatchNorm1d, (9, 5)),
    (nn.BatchNorm1d, FrozenBatchNorm1d, (4, 5, 6)),
    (nn.BatchNorm2d, FrozenBatchNorm2d, (3, 5, 4, 6)),
]


def trained_torch_bn(kind, dtype, seed):
    """Uma BN do torch com estatísticas acumuladas, γ e β quaisquer."""
    generator = torch.Generator().manual_seed(seed)
    bn = kind(5, dtype=dtype, eps=1e-3)
    with torch.no_grad():
        bn.running_mean.normal_(generator=generator).mul_(3)
        bn.running_var.uniform_(0.1, 4.0, generator=generator)
        bn.weight.normal_(generator=generator)
        bn.bias.normal_(generator=generator)
    return bn.eval()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("kind", "frozen_kind", "shape"), CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_torch_batchnorm_in_eval_mode_forward_and_backward(
    kind, frozen_kind, shape, dtype, seed
):
    reference = trained_torch_bn(kind, dtype, seed)
    frozen = frozen_kind.from_batchnorm(reference).train()
    x = (torch.randn(shape, dtype=dtype) * 2 + 1).requires_grad_(True)
    x_ref = x.detach().clone().requires_grad_(True)
    out, expected = frozen(x), reference(x_ref)
    scale = expected.abs().max()
    assert (out - expected).abs().max() <= TOLERANCE[dtype] * scale
    dy = torch.randn(shape, dtype=dtype)
    out.backward(dy)
    expected.backward(dy)
    assert (x.grad - x_ref.grad).abs().max() <= TOLERANCE[dtype] * x_ref.grad.abs().max()


def test_gradient_through_the_frozen_layer_matches_finite_differences():
    frozen = FrozenBatchNorm2d.from_batchnorm(trained_torch_bn(nn.BatchNorm2d, torch.float64, 3))
    x = torch.randn(2, 5, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(frozen, (x,))


def test_stays_in_eval_mode_has_no_parameters_and_never_updates():
    frozen = FrozenBatchNorm2d.from_batchnorm(trained_torch_bn(nn.BatchNorm2d, torch.float32, 4))
    before = {k: v.clone() for k, v in frozen.state_dict().items()}
    frozen.train()
    assert frozen.training is False
    assert list(frozen.parameters()) == []
    frozen(torch.randn(1, 5, 2, 2) * 10)  # um exemplo só: aceito, como no modo de avaliação
    frozen.reset_running_stats()
    for key, value in frozen.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_state_dict_has_the_keys_of_a_batchnorm_and_loads_one():
    reference = trained_torch_bn(nn.BatchNorm2d, torch.float32, 5)
    frozen = FrozenBatchNorm2d(5, eps=1e-3)
    assert set(frozen.state_dict()) == set(reference.state_dict())
    frozen.load_state_dict(reference.state_dict())
    x = torch.randn(4, 5, 3, 3)
    torch.testing.assert_close(frozen(x), reference(x))


@pytest.mark.parametrize("norm", [nn.BatchNorm2d, bnn.BatchNorm2d])
def test_freeze_batchnorm_replaces_every_layer_and_keeps_the_function(norm):
    torch.manual_seed(6)
    model = nn.Sequential(
        make_small_cnn((4, 6), norm=norm)[:-2],
        nn.Flatten(),
        nn.Linear(6 * 7 * 7, 8, bias=False),
        bnn.BatchNorm1d(8),
        nn.Linear(8, 3),
    )
    model.train()
    for _ in range(3):
        model(torch.randn(16, 1, 28, 28) * 2 + 0.5)
    model.eval()
    x = torch.randn(10, 1, 28, 28)
    expected = model(x)
    freeze_batchnorm(model)
    kinds = [type(m) for m in model.modules() if "BatchNorm" in type(m).__name__]
    assert kinds == [FrozenBatchNorm2d, FrozenBatchNorm2d, FrozenBatchNorm1d]
    model.train()
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-6)
    assert freeze_batchnorm(model) is model  # congelar de novo não muda nada


def test_recalibration_leaves_frozen_layers_alone():
    torch.manual_seed(7)
    model = make_small_cnn((4, 6))
    model(torch.randn(8, 1, 28, 28))
    model[1] = FrozenBatchNorm2d.from_batchnorm(model[1])
    frozen_state = copy.deepcopy(model[1].state_dict())
    x = torch.randn(40, 1, 28, 28) * 3 + 2
    recalibrate_batchnorm(model, x, batch_size=20)
    for key, value in model[1].state_dict().items():
        assert torch.equal(value, frozen_state[key]), key
    live = batchnorm_layers(model)[1]
    assert int(live.num_batches_tracked) == 2


def test_errors_are_explained_in_portuguese():
    with pytest.raises(TypeError, match="`bn`"):
        FrozenBatchNorm2d.from_batchnorm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="track_running_stats"):
        FrozenBatchNorm2d.from_batchnorm(nn.BatchNorm2d(3, track_running_stats=False))
    with pytest.raises(ValueError, match="nenhuma camada"):
        freeze_batchnorm(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(TypeError, match="`model`"):
        freeze_batchnorm("rede")
    with pytest.raises(ValueError, match="4 dimensões"):
        FrozenBatchNorm2d(3)(torch.randn(2, 3))
