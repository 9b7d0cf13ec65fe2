"""Pesos invariantes à escala: o rastreador da norma, a taxa efetiva e o equilíbrio."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from bnlib.lab.training import train_classifier
from bnlib.lab.weight_decay import (
    ScaleInvariantTracker,
    effective_learning_rate,
    equilibrium_weight_norm,
)


def scale_invariant_net(seed=0, eps=1e-12):
    """``Linear → BN → ReLU → Linear`` em float64: os pesos da camada "0" são invariantes."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8, eps=eps), nn.ReLU(), nn.Linear(8, 3)
    ).double()


def data(n=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g, dtype=torch.float64)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()


def test_tracker_matches_a_step_done_by_hand():
    model = scale_invariant_net()
    x, y = data()
    reference = copy.deepcopy(model)
    tracker = ScaleInvariantTracker(model, ["0", "3"])
    everyone = lambda g: torch.arange(len(y))  # noqa: E731
    train_classifier(model, x, y, 1, len(y), 0.3, sample_batch=everyone, on_step=tracker)
    nn.functional.cross_entropy(reference(x), y).backward()
    for j, name in enumerate(["0", "3"]):
        w = dict(reference.named_modules())[name].weight
        g = w.grad
        w = w.detach()
        w_new = dict(model.named_modules())[name].weight.detach()
        cos = (w * g).sum() / (w.norm() * g.norm())
        angle = math.acos((w * w_new).sum() / (w.norm() * w_new.norm()))
        assert tracker.weight_norm[0, j] == pytest.approx(w.norm().item(), rel=1e-12)
        assert tracker.grad_norm[0, j] == pytest.approx(g.norm().item(), rel=1e-12)
        assert tracker.cosine[0, j] == pytest.approx(cos.item(), abs=1e-12)
        assert tracker.angle[0, j] == pytest.approx(angle, rel=1e-9)
    assert tracker.steps == [1] and tracker.weight_norm.shape == (1, 2)


def test_gradient_is_orthogonal_only_for_the_weights_before_bn():
    model = scale_invariant_net()
    x, y = data()
    tracker = ScaleInvariantTracker(model)  # todas as camadas densas: "0" e "3"
    train_classifier(model, x, y, 30, 32, 0.2, weight_decay=0.05, on_step=tracker)
    assert tracker.names == ["0", "3"]
    assert np.abs(tracker.cosine[:, 0]).max() < 1e-9  # antes da BN: ortogonal
    assert np.abs(tracker.cosine[:, 1]).max() > 1e-3  # a última camada não é invariante


@pytest.mark.parametrize("decay", [0.0, 0.05])
def test_norm_follows_the_pythagorean_recursion(decay):
    """‖W_{t+1}‖² = (1 − ηλ)²‖W_t‖² + η²‖G_t‖², porque G_t ⟂ W_t."""
    model = scale_invariant_net()
    x, y = data()
    tracker = ScaleInvariantTracker(model, ["0"])
    lr = 0.2
    train_classifier(model, x, y, 40, 32, lr, weight_decay=decay, on_step=tracker)
    w, g = tracker.weight_norm[:, 0], tracker.grad_norm[:, 0]
    predicted = (1 - lr * decay) ** 2 * w[:-1] ** 2 + lr**2 * g[:-1] ** 2
    np.testing.assert_allclose(w[1:] ** 2, predicted, rtol=1e-9)
    if decay == 0:
        assert np.all(np.diff(w) > 0)  # sem decaimento, a norma só cresce


def test_scale_free_gradient_does_not_depend_on_the_scale():
    x, y = data()
    norms = []
    for scale in (1.0, 7.0):
        model = scale_invariant_net()
        with torch.no_grad():
            model[0].weight.mul_(scale)
        tracker = ScaleInvariantTracker(model, ["0"])
        train_classifier(model, x, y, 1, 32, 0.1, on_step=tracker)
        norms.append((tracker.grad_norm[0, 0], tracker.scale_free_grad_norm[0, 0]))
    assert norms[0][0] / norms[1][0] == pytest.approx(7.0, rel=1e-6)  # G encolhe como 1/a
    assert norms[0][1] == pytest.approx(norms[1][1], rel=1e-6)


def test_equilibrium_is_the_fixed_point_and_is_reached():
    lr, decay, grad_sq = 0.3, 0.02, 1.7
    norm = equilibrium_weight_norm(lr, decay, grad_sq)
    x = norm**2
    assert (1 - lr * decay) ** 2 * x + lr**2 * grad_sq / x == pytest.approx(x, rel=1e-12)
    # ηλ ≪ 1: a aproximação η‖g̃‖²/(2λ)
    assert equilibrium_weight_norm(1e-3, 1e-3, 2.0) == pytest.approx(1.0, rel=1e-6)
    # num treino com ηλ = 0,04 (equilíbrio em poucas dezenas de passos), a norma medida
    # nos últimos passos fica perto da prevista com o ‖g̃‖² medido
    model = scale_invariant_net(seed=1, eps=1e-5)
    xs, ys = data(256)
    tracker = ScaleInvariantTracker(model, ["0"])
    train_classifier(model, xs, ys, 150, 32, 0.4, weight_decay=0.1, on_step=tracker, seed=1)
    last = slice(50, None)
    predicted = equilibrium_weight_norm(
        0.4, 0.1, float(np.mean(tracker.scale_free_grad_norm[last, 0] ** 2))
    )
    assert np.mean(tracker.weight_norm[last, 0]) == pytest.approx(predicted, rel=0.05)


def test_effective_learning_rate():
    assert effective_learning_rate(0.5, 2.0) == 0.125
    np.testing.assert_allclose(effective_learning_rate(1.0, np.array([[1.0, 4.0]])), [[1, 1 / 16]])


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="`lr`"):
        effective_learning_rate(0.0, 1.0)
    with pytest.raises(ValueError, match="`weight_norm`"):
        effective_learning_rate(0.1, [1.0, 0.0])
    with pytest.raises(ValueError, match="`weight_decay`"):
        equilibrium_weight_norm(0.1, 0.0, 1.0)
    with pytest.raises(ValueError, match="`weight_decay`"):
        equilibrium_weight_norm(0.1, True, 1.0)
    with pytest.raises(ValueError, match="ηλ < 2"):
        equilibrium_weight_norm(10.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="`scale_free_grad_sq`"):
        equilibrium_weight_norm(0.1, 0.1, -1.0)
    model = scale_invariant_net()
    with pytest.raises(ValueError, match="`names`"):
        ScaleInvariantTracker(model, ["1"])  # a BN não é camada com pesos
    with pytest.raises(TypeError, match="`model`"):
        ScaleInvariantTracker("rede")
    with pytest.raises(RuntimeError, match="gradiente"):
        ScaleInvariantTracker(model)(1, model)  # sem backward antes
