"""As medidas da mudança interna de covariáveis (bnlib.lab.covariate_shift)."""

import copy
import doctest

import numpy as np
import pytest
import torch
from torch import nn

from bnlib.lab import covariate_shift as shift_module
from bnlib.lab.covariate_shift import CovariateShiftProbe, covariate_shift
from bnlib.lab.models import make_mlp, make_small_cnn
from bnlib.lab.training import train_classifier


def _data(n=48, d=6, classes=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(n, d, generator=g) * 2 + 1).to(dtype)
    y = torch.randint(classes, (n,), generator=g)
    return x, y


def _manual(model, x, y, lr):
    """Oráculo: cópias do modelo, backward() comum e o passo de SGD escrito à mão."""
    base = copy.deepcopy(model)
    nn.functional.cross_entropy(base(x), y).backward()
    names = [n for n, _ in base.named_parameters()]
    grads = {n: p.grad.clone() for n, p in base.named_parameters()}
    layers = [n for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    rows = []
    for layer in layers[1:]:
        captured = []

        def keep(module, args, output, captured=captured):
            captured.append(args[0].detach())

        before = copy.deepcopy(model)
        dict(before.named_modules())[layer].register_forward_hook(keep)
        before(x)
        moved = copy.deepcopy(model)
        stop = names.index(f"{layer}.weight")
        with torch.no_grad():
            for name, p in list(moved.named_parameters())[:stop]:
                p -= lr * grads[name]
        dict(moved.named_modules())[layer].register_forward_hook(keep)
        nn.functional.cross_entropy(moved(x), y).backward()
        g_old = grads[f"{layer}.weight"]
        g_new = dict(moved.named_parameters())[f"{layer}.weight"].grad

        def moments(h):
            h = h.transpose(0, 1).reshape(h.shape[1], -1)
            return h.mean(1), h.var(1, correction=0).sqrt()

        (m0, s0), (m1, s1) = moments(captured[0]), moments(captured[1])
        rows.append(
            {
                "grad_change": (g_old - g_new).norm().item(),
                "grad_norm": g_old.norm().item(),
                "cosine": torch.nn.functional.cosine_similarity(
                    g_old.flatten(), g_new.flatten(), dim=0
                ).item(),
                "mean_shift": ((m1 - m0).abs().mean() / s0.mean()).item(),
                "std_shift": ((s1 - s0).abs().mean() / s0.mean()).item(),
            }
        )
    return layers[1:], rows


def test_module_examples_run():
    assert doctest.testmod(shift_module, raise_on_error=False).failed == 0


@pytest.mark.parametrize("norm", [None, nn.BatchNorm1d])
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_matches_manual_computation(norm, activation):
    torch.manual_seed(1)
    model = make_mlp([6, 9, 7, 5, 3], activation, norm).double()
    x, y = _data()
    result = covariate_shift(model, x, y, lr=0.3)
    layers, rows = _manual(model, x, y, 0.3)
    assert [r.layer for r in result] == layers == ["2", "4", "6"] if norm is None else True
    assert [r.layer for r in result] == layers
    for measured, expected in zip(result, rows, strict=True):
        for key, value in expected.items():
            assert getattr(measured, key) == pytest.approx(value, rel=1e-9, abs=1e-12), key
        assert measured.relative_change == pytest.approx(
            measured.grad_change / measured.grad_norm, rel=1e-12
        )
        assert measured.grad_change > 0 and -1 <= measured.cosine <= 1 + 1e-12


def test_convolutional_model_matches_manual_computation():
    torch.manual_seed(2)
    model = make_small_cnn((3, 4), nn.BatchNorm2d).double()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 1, 28, 28, generator=g, dtype=torch.float64)
    y = torch.randint(10, (6,), generator=g)
    result = covariate_shift(model, x, y, lr=0.2)
    _, rows = _manual(model, x, y, 0.2)
    assert len(result) == 2
    for measured, expected in zip(result, rows, strict=True):
        for key, value in expected.items():
            assert getattr(measured, key) == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_model_is_left_untouched():
    torch.manual_seed(3)
    model = make_mlp([6, 8, 8, 3], "relu", nn.BatchNorm1d).double()
    saved = copy.deepcopy(model.state_dict())
    x, y = _data()
    covariate_shift(model, x, y, lr=0.5)
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert all(p.grad is None for p in model.parameters())
    assert model.training


def test_change_is_first_order_in_the_learning_rate():
    torch.manual_seed(4)
    model = make_mlp([6, 8, 8, 3], "tanh").double()
    x, y = _data()
    small = covariate_shift(model, x, y, lr=1e-4)
    half = covariate_shift(model, x, y, lr=5e-5)
    for a, b in zip(small, half, strict=True):
        assert a.grad_change / b.grad_change == pytest.approx(2.0, rel=1e-3)
        assert a.mean_shift / b.mean_shift == pytest.approx(2.0, rel=1e-3)
        assert a.cosine > 0.999


def test_normalized_input_does_not_shift():
    # Com uma BN sem escala nem deslocamento logo antes, a entrada da camada seguinte tem
    # média 0 e desvio padrão ~1 em cada unidade, antes e depois do passo: nada a medir.
    torch.manual_seed(5)
    model = nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8, affine=False, eps=1e-12), nn.Linear(8, 3)
    ).double()
    plain = nn.Sequential(nn.Linear(6, 8), nn.Linear(8, 3)).double()
    x, y = _data()
    normalized = covariate_shift(model, x, y, lr=0.5)[0]
    raw = covariate_shift(plain, x, y, lr=0.5)[0]
    assert normalized.mean_shift < 1e-12 and normalized.std_shift < 1e-12
    assert raw.mean_shift > 1e-3 and raw.std_shift > 1e-4
    assert normalized.grad_change > 0  # o gradiente muda mesmo assim


def test_probe_records_on_the_training_schedule():
    torch.manual_seed(6)
    model = make_mlp([6, 8, 8, 3], "relu", nn.BatchNorm1d)
    x, y = _data(dtype=torch.float32)
    probe = CovariateShiftProbe(x[:16], y[:16], lr=0.1, every=4)
    train_classifier(model, x, y, steps=10, batch_size=8, lr=0.1, on_step=probe)
    assert probe.steps == [4, 8]
    assert probe.layers == ["3", "6"]
    for field in shift_module.SHIFT_FIELDS:
        values = probe.array(field)
        assert values.shape == (2, 2) and np.all(np.isfinite(values))
    assert np.allclose(
        probe.array("relative_change"), probe.array("grad_change") / probe.array("grad_norm")
    )
    with pytest.raises(ValueError, match="`field`"):
        probe.array("loss")


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda x, y: covariate_shift("rede", x, y, 0.1), TypeError, "torch.nn.Module"),
        (
            lambda x, y: covariate_shift(nn.Sequential(nn.Linear(6, 3)), x, y, 0.1),
            ValueError,
            "pelo menos duas",
        ),
        (lambda x, y: covariate_shift(make_mlp([6, 4, 3]), x, y[:5], 0.1), ValueError, "(5,)"),
        (lambda x, y: covariate_shift(make_mlp([6, 4, 3]), x, y, 0.0), ValueError, "`lr`"),
        (lambda x, y: covariate_shift(make_mlp([6, 4, 3]), x.numpy(), y, 0.1), TypeError, "Tensor"),
        (lambda x, y: CovariateShiftProbe(x, y, 0.1, every=0), ValueError, "`every`"),
        (lambda x, y: CovariateShiftProbe(x, y, -1.0), ValueError, "`lr`"),
    ],
)
def test_bad_arguments_are_refused(call, error, fragment):
    x, y = _data(dtype=torch.float32)
    with pytest.raises(error) as raised:
        call(x, y)
    assert fragment in str(raised.value)
