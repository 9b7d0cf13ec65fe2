"""Sonda da superfície da perda ao longo do gradiente (bnlib.lab.landscape)."""

import numpy as np
import pytest
import torch
from torch import nn

from bnlib.lab.landscape import LandscapeProbe, probe_gradient_direction
from bnlib.lab.models import make_mlp
from bnlib.lab.training import train_classifier


def _data(n=64, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return x, y


def _manual_probe(model, x, y, lr, ks):
    """Oráculo: a mesma conta, num modelo copiado, com backward() comum."""
    import copy

    losses, changes = [], []
    base = copy.deepcopy(model)
    base.zero_grad()
    nn.functional.cross_entropy(base(x), y).backward()
    g0 = [p.grad.clone() for p in base.parameters()]
    for k in ks:
        m = copy.deepcopy(model)
        with torch.no_grad():
            for p, g in zip(m.parameters(), g0, strict=True):
                p -= k * lr * g
        m.zero_grad()
        loss = nn.functional.cross_entropy(m(x), y)
        loss.backward()
        losses.append(loss.item())
        changes.append(
            torch.sqrt(
                sum(((p.grad - g) ** 2).sum() for p, g in zip(m.parameters(), g0, strict=True))
            ).item()
        )
    return np.array(losses), np.array(changes), torch.sqrt(sum((g**2).sum() for g in g0)).item()


@pytest.mark.parametrize("norm", [None, nn.BatchNorm1d])
def test_probe_matches_manual_computation(norm):
    torch.manual_seed(0)
    model = make_mlp([5, 8, 8, 2], "relu", norm).double()
    x, y = _data()
    x = x.double()
    ks = (0.5, 1.0, 2.0, 4.0)
    result = probe_gradient_direction(model, x, y, lr=0.3, multipliers=ks)
    losses, changes, gnorm = _manual_probe(model, x, y, 0.3, ks)
    assert np.allclose(result.losses, losses, rtol=1e-10)
    assert np.allclose(result.grad_changes, changes, rtol=1e-8)
    assert result.grad_norm == pytest.approx(gnorm, rel=1e-10)
    assert result.loss_range == pytest.approx(losses.max() - losses.min())
    assert result.max_grad_change == pytest.approx(changes.max())
    assert np.all(result.grad_changes > 0)


def test_probe_restores_parameters_buffers_and_grads():
    torch.manual_seed(0)
    model = make_mlp([5, 8, 2], "relu", nn.BatchNorm1d)
    x, y = _data()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    probe_gradient_direction(model, x, y, lr=1.0)
    after = model.state_dict()
    for key, value in before.items():
        assert torch.equal(after[key], value), key
    assert all(p.grad is None for p in model.parameters())
    assert model.training


def test_quadratic_loss_has_known_answers():
    # perda L(w) = ½‖w‖² (uma "rede" de um parâmetro vetorial): g = w, e o ponto
    # w − kηg = (1 − kη) w tem perda ½(1 − kη)²‖w‖² e gradiente (1 − kη) w.
    class Quadratic(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.tensor([3.0, 4.0], dtype=torch.float64))

        def forward(self, x):
            return self.w

    def loss_fn(out, y):
        return 0.5 * (out**2).sum()

    model = Quadratic()
    x = torch.zeros(1, 1)
    y = torch.zeros(1)
    result = probe_gradient_direction(model, x, y, lr=0.1, multipliers=(1, 2), loss_fn=loss_fn)
    assert result.loss0 == pytest.approx(12.5)
    assert result.grad_norm == pytest.approx(5.0)
    assert np.allclose(result.losses, [0.5 * 0.81 * 25, 0.5 * 0.64 * 25])
    assert np.allclose(result.grad_changes, [0.1 * 5, 0.2 * 5])


def test_landscape_probe_as_on_step():
    torch.manual_seed(0)
    model = make_mlp([5, 8, 2], "relu")
    x, y = _data()
    probe = LandscapeProbe(x[:32], y[:32], lr=0.1, every=5)
    probe.probe(0, model)
    train_classifier(model, x, y, steps=20, batch_size=16, lr=0.1, on_step=probe)
    assert probe.steps == [0, 5, 10, 15, 20]
    assert probe.losses.shape == (5, 4)
    assert probe.grad_changes.shape == (5, 4)
    assert probe.grad_norms.shape == (5,)


def test_probe_does_not_change_training():
    x, y = _data()
    final = []
    for with_probe in (False, True):
        torch.manual_seed(0)
        model = make_mlp([5, 8, 2], "relu", nn.BatchNorm1d)
        probe = LandscapeProbe(x, y, lr=0.1, every=3) if with_probe else None
        train_classifier(model, x, y, steps=12, batch_size=16, lr=0.1, on_step=probe)
        final.append({k: v.clone() for k, v in model.state_dict().items()})
    for key in final[0]:
        assert torch.equal(final[0][key], final[1][key]), key


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0.0}, "`lr`"),
        ({"lr": -1.0}, "`lr`"),
        ({"lr": 0.1, "multipliers": ()}, "`multipliers`"),
        ({"lr": 0.1, "multipliers": (1.0, -2.0)}, "`multipliers`"),
    ],
)
def test_probe_rejects_bad_arguments(kwargs, message):
    model = make_mlp([5, 3, 2], "relu")
    x, y = _data()
    with pytest.raises(ValueError, match=message):
        probe_gradient_direction(model, x, y, **kwargs)


def test_probe_rejects_mismatched_batch_and_bad_model():
    x, y = _data()
    with pytest.raises(ValueError, match="mesmo número de exemplos"):
        probe_gradient_direction(make_mlp([5, 3, 2]), x, y[:10], lr=0.1)
    with pytest.raises(TypeError, match="`model`"):
        probe_gradient_direction("rede", x, y, lr=0.1)
    with pytest.raises(ValueError, match="`every`"):
        LandscapeProbe(x, y, lr=0.1, every=0)
