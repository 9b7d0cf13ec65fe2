"""Ferramentas do capítulo de vantagens: percentis, BN com ruído, varreduras, progresso."""

import numpy as np
import pytest
import torch
from torch import nn

from bnlib.lab.models import initialize_weights, make_mlp
from bnlib.lab.percentiles import PercentileRecorder
from bnlib.lab.progress import progress_bar, with_progress
from bnlib.lab.sweeps import run_grid
from bnlib.lab.training import train_classifier
from bnlib.nn.noisy import NoisyBatchNorm1d


def _data(n=256, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = (x[:, 0] > 0).long()
    return x, y


def test_recorder_matches_numpy_percentile():
    torch.manual_seed(0)
    model = make_mlp([6, 8, 5, 2], activation="sigmoid", norm=nn.BatchNorm1d)
    x, y = _data()
    layer = model[4]  # a BN da última camada oculta
    rec = PercentileRecorder(layer, unit=3, probe=x[:100], every=5)
    train_classifier(model, x, y, steps=20, batch_size=16, lr=0.1, on_step=rec)
    assert rec.steps == [5, 10, 15, 20]
    assert rec.values.shape == (4, 3)
    # oráculo: a mesma conta feita à mão, com a rede em modo de avaliação
    model.eval()
    with torch.no_grad():
        h = model[:5](x[:100])[:, 3].numpy()
    assert np.allclose(rec.values[-1], np.percentile(h, [15, 50, 85]), atol=1e-6)
    # todas as unidades: coluna a coluna, os mesmos percentis; a unidade 3 é `values`
    assert rec.all_values.shape == (4, 3, 5)
    assert np.array_equal(rec.all_values[:, :, 3], rec.values)
    with torch.no_grad():
        h_all = model[:5](x[:100]).numpy()
    for unit in range(5):
        expected = np.percentile(h_all[:, unit], [15, 50, 85])
        assert np.allclose(rec.all_values[-1, :, unit], expected, atol=1e-6)
    assert model.training is False  # o registrador restaura o modo que encontrou


def test_recorder_does_not_touch_running_stats_and_restores_mode():
    torch.manual_seed(0)
    model = make_mlp([6, 4, 2], activation="sigmoid", norm=nn.BatchNorm1d)
    x, _ = _data()
    before = model[1].running_mean.clone()
    rec = PercentileRecorder(model[1], unit=0, probe=x)
    model.train()
    rec.record(0, model)
    assert torch.equal(model[1].running_mean, before)
    assert model.training


def test_recorder_before_any_record_is_empty():
    model = make_mlp([6, 4, 2])
    rec = PercentileRecorder(model[0], 1, _data()[0], q=(10, 90))
    assert rec.values.shape == (0, 2) and rec.all_values.shape[:2] == (0, 2)


def test_recorder_errors():
    model = make_mlp([6, 4, 2])
    x, _ = _data()
    with pytest.raises(ValueError, match="`every`"):
        PercentileRecorder(model[0], 0, x, every=0)
    with pytest.raises(ValueError, match="`q`"):
        PercentileRecorder(model[0], 0, x, q=(15, 150))
    with pytest.raises(ValueError, match="`unit`=9"):
        PercentileRecorder(model[0], 9, x).record(0, model)
    with pytest.raises(ValueError, match="`layer`"):
        PercentileRecorder(nn.Linear(6, 4), 0, x).record(0, model)


def test_noisy_bn_without_noise_equals_bn():
    x = torch.randn(32, 5) * 3 + 1
    ref = nn.BatchNorm1d(5)
    noisy = NoisyBatchNorm1d(5, mean_range=0.0, scale_max=1.0, mean_jitter=0.0, scale_jitter=0.0)
    for _ in range(3):
        assert torch.allclose(noisy(x), ref(x), atol=1e-6)
    assert torch.allclose(noisy.running_mean, ref.running_mean)
    assert torch.allclose(noisy.running_var, ref.running_var)


def test_noisy_bn_noise_statistics_and_eval():
    torch.manual_seed(0)
    d = 2000
    noisy = NoisyBatchNorm1d(d, generator=torch.Generator().manual_seed(1))
    x = torch.randn(64, d)
    y = noisy(x)
    z = nn.functional.batch_norm(x, None, None, training=True)
    # por atributo: média deslocada em [-0,6, 0,6], escala entre ~0,7 e ~1,6
    shift = (y - z).mean(dim=0)
    assert shift.abs().max() < 0.6 + 0.05
    assert shift.std() > 0.2  # U(-0,5, 0,5) tem desvio padrão 0,29
    ratio = (y - y.mean(0)).std(0) / (z - z.mean(0)).std(0)
    assert 1.0 < ratio.median() < 1.25
    # chamadas diferentes sorteiam ruídos diferentes
    assert not torch.allclose(noisy(x), y)
    noisy.eval()
    assert torch.allclose(
        noisy(x), nn.functional.batch_norm(x, noisy.running_mean, noisy.running_var), atol=1e-5
    )


def test_noisy_bn_errors():
    with pytest.raises(ValueError, match="`scale_max`"):
        NoisyBatchNorm1d(3, scale_max=0.5)
    with pytest.raises(ValueError, match="`mean_range`"):
        NoisyBatchNorm1d(3, mean_range=-1)
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        NoisyBatchNorm1d(3)(torch.zeros(4, 2))


def test_normal_init_with_generator_sets_scale_and_zero_bias():
    model = make_mlp([100, 200, 10], norm=nn.BatchNorm1d)
    initialize_weights(model, "normal", std=0.05, generator=torch.Generator().manual_seed(0))
    assert abs(model[0].weight.std().item() - 0.05) < 0.002
    assert torch.count_nonzero(model[0].bias) == 0
    assert torch.equal(model[1].weight, torch.ones(200))  # a BN não é tocada
    same = make_mlp([100, 200, 10], norm=nn.BatchNorm1d)
    initialize_weights(same, "normal", std=0.05, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model[0].weight, same[0].weight)
    with pytest.raises(ValueError, match="`std`"):
        initialize_weights(model, "normal", std=0.0)
    with pytest.raises(ValueError, match="Linear ou Conv"):
        initialize_weights(nn.Sequential(nn.ReLU()), "normal", std=1.0)
    with pytest.raises(ValueError, match="`seed` ou `generator`"):
        initialize_weights(model, "he", seed=0, generator=torch.Generator())


def test_run_grid_shapes_and_order():
    table = run_grid(lambda v, s: {"a": v * 10 + s, "b": -v}, [1.0, 2.0, 3.0], [0, 1])
    assert table["a"].shape == (3, 2)
    assert np.array_equal(table["a"], [[10, 11], [20, 21], [30, 31]])
    assert np.array_equal(table["b"][:, 1], [-1, -2, -3])
    with pytest.raises(ValueError, match="`values`"):
        run_grid(lambda v, s: {}, [], [0])


def test_with_progress_calls_everything():
    calls = []
    with progress_bar(3, "teste") as bar:
        cb = with_progress(bar, lambda s, m: calls.append(s), None)
        for step in (1, 2, 3):
            cb(step, None)
        assert bar.n == 3
    assert calls == [1, 2, 3]
