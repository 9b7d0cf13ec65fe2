"""Dropout antes da BN: a razão de variâncias, a medida nos dois modos e a recalibração."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from bnlib.lab.variance_shift import (
    dropout_variance_ratio,
    measure_variance_shift,
    recalibrate_without_dropout,
)
from bnlib.nn.recalibration import recalibrate_batchnorm


def gaussian(n, mean, std, seed=0, features=4):
    """Dados do numpy: um gerador do torch com a mesma semente das máscaras do dropout
    daria máscaras correlacionadas com os dados."""
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.normal(mean, std, size=(n, features)))


@pytest.mark.parametrize(("p", "mean", "std"), [(0.5, 0.0, 1.0), (0.2, 2.0, 1.0), (0.7, 1.0, 3.0)])
def test_ratio_matches_torch_dropout(p, mean, std):
    x = gaussian(400_000, mean, std, features=1)
    torch.manual_seed(0)
    train = nn.Dropout(p).train()(x)
    measured = x.var().item() / train.var().item()
    assert measured == pytest.approx(dropout_variance_ratio(p, mean, std**2), rel=0.02)


def test_ratio_formula_limits():
    assert dropout_variance_ratio(0.0, 5.0, 2.0) == 1.0  # sem dropout, sem deslocamento
    assert dropout_variance_ratio(0.3, 0.0, 2.0) == pytest.approx(0.7)  # média 0: q
    np.testing.assert_allclose(
        dropout_variance_ratio(0.5, np.array([0.0, 1.0, 3.0]), 1.0), [0.5, 1 / 3, 1 / 11]
    )


def test_measure_dropout_right_before_bn():
    p, mean, std = 0.4, 1.5, 2.0
    torch.manual_seed(0)
    model = nn.Sequential(nn.Dropout(p), nn.BatchNorm1d(4)).double()
    x = gaussian(8192, mean, std)
    for start in range(0, 4096, 64):  # "treino": as estatísticas acumuladas veem o dropout
        model(x[start : start + 64])
    before = copy.deepcopy(model.state_dict())
    state = torch.random.get_rng_state()
    shift = measure_variance_shift(model, model[1], x[4096:], batch_size=64)
    assert torch.equal(state, torch.random.get_rng_state())  # o gerador global não mudou
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    predicted = dropout_variance_ratio(p, mean, std**2)
    assert shift.train_var.shape == shift.eval_var.shape == (4,)
    np.testing.assert_allclose(shift.ratio, predicted, rtol=0.05)
    np.testing.assert_allclose(shift.running_var, shift.train_var, rtol=0.1)
    np.testing.assert_allclose(shift.eval_var, std**2, rtol=0.05)
    # a mesma semente dá as mesmas máscaras
    again = measure_variance_shift(model, model[1], x[4096:], batch_size=64)
    np.testing.assert_array_equal(again.train_var, shift.train_var)


def test_no_dropout_means_no_shift_and_channels_are_pooled():
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), bn)
    x = torch.randn(32, 2, 6, 6)
    shift = measure_variance_shift(model, bn, x, batch_size=8)
    np.testing.assert_array_equal(shift.ratio, np.ones(3))  # a entrada é a mesma nos dois modos
    with torch.no_grad():
        out = model[0](x).double()
    expected = out.transpose(0, 1).reshape(3, -1).var(dim=1, correction=0).numpy()
    np.testing.assert_allclose(shift.eval_var, expected, rtol=1e-10)


def test_dead_units_give_nan_ratio():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Dropout(0.5), nn.BatchNorm1d(2))
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.copy_(torch.tensor([-1.0, 0.0]))
        model[0].weight[1, 0] = 1.0  # a unidade 0 está sempre "morta"
    shift = measure_variance_shift(model, model[3], torch.randn(64, 3), batch_size=32)
    assert np.isnan(shift.ratio[0]) and 0 < shift.ratio[1] < 1


def test_recalibration_without_dropout_equals_removing_the_dropouts():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(5, 8),
        nn.BatchNorm1d(8),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(8, 8),
        nn.BatchNorm1d(8),
        nn.ReLU(),
        nn.AlphaDropout(0.3),
        nn.Linear(8, 2),
    )
    x = torch.randn(600, 5)
    for start in range(0, 600, 50):
        model(x[start : start + 50])
    no_dropout = copy.deepcopy(model)
    for i in (3, 7):
        no_dropout[i] = nn.Identity()
    assert recalibrate_without_dropout(model, x, batch_size=100) == 6
    recalibrate_batchnorm(no_dropout, x, batch_size=100)
    for i in (1, 5):
        torch.testing.assert_close(model[i].running_var, no_dropout[i].running_var)
        torch.testing.assert_close(model[i].running_mean, no_dropout[i].running_mean)
    assert (model[3].p, model[7].p) == (0.5, 0.3)  # as taxas voltam
    # agora a BN que recebe o dropout guarda a variância que verá na avaliação
    shift = measure_variance_shift(model, model[5], x, batch_size=100)
    np.testing.assert_allclose(shift.running_var, shift.eval_var, rtol=0.1)
    assert np.median(shift.ratio) < 0.9  # o dropout continua lá no modo de treino


def test_errors_name_the_argument():
    model = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(4))
    x = torch.randn(10, 4)
    with pytest.raises(ValueError, match="`layer`"):
        measure_variance_shift(model, nn.BatchNorm1d(4), x)
    with pytest.raises(TypeError, match="`model`"):
        measure_variance_shift("rede", model[1], x)
    with pytest.raises(ValueError, match="`x`"):
        measure_variance_shift(model, model[1], torch.randn(10))
    with pytest.raises(ValueError, match="`batch_size`"):
        measure_variance_shift(model, model[1], x, batch_size=1)
    with pytest.raises(ValueError, match="`batch_size`"):
        measure_variance_shift(model, model[1], x, batch_size=3)  # sobraria 1 exemplo
    with pytest.raises(ValueError, match="`p`"):
        dropout_variance_ratio(1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="`var`"):
        dropout_variance_ratio(0.5, 0.0, [1.0, 0.0])
    with pytest.raises(ValueError, match="`mean`"):
        dropout_variance_ratio(0.5, np.nan, 1.0)
