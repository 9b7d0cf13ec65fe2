"""Ganchos de diagnóstico e seus gráficos: valores iguais à conta manual, remoção, erros."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from bnlib.lab.diagnostics import LayerRecorder, record_layers, saturation_fraction
from bnlib.lab.models import initialize_weights, make_mlp
from bnlib.lab.training import train_classifier
from bnlib.lab.weights import UpdateRatioTracker, weight_grad_norms
from bnlib.plots.diagnostics import plot_layer_curves, plot_layer_histograms, plot_update_ratios


def small_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(5, 7),
        nn.Tanh(),
        nn.Linear(7, 6),
        nn.Sigmoid(),
        nn.Linear(6, 4),
        nn.ReLU(),
        nn.Linear(4, 3),
    ).double()


def data(seed=0, n=11):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 5, generator=g, dtype=torch.float64), torch.randint(3, (n,), generator=g)


def manual_pass(model, x, y):
    """Passo direto camada a camada, guardando saídas e gradientes com retain_grad."""
    outputs, h = {}, x
    for name, layer in model.named_children():
        h = layer(h)
        if isinstance(layer, (nn.Tanh, nn.Sigmoid, nn.ReLU)):
            h.retain_grad()
            outputs[name] = h
    nn.functional.cross_entropy(h, y).backward()
    return outputs


def test_recorder_matches_manual_computation():
    model, (x, y) = small_net(), data()
    manual = manual_pass(model, x, y)
    manual_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    with LayerRecorder(model) as rec:
        nn.functional.cross_entropy(model(x), y).backward()
    assert list(rec.activations) == ["1", "3", "5"] == list(manual)
    for name, out in manual.items():
        torch.testing.assert_close(rec.activations[name], out.detach(), rtol=0, atol=0)
        torch.testing.assert_close(rec.gradients[name], out.grad, rtol=0, atol=0)
    # os ganchos não mudam os gradientes dos parâmetros
    for p, g in zip(model.parameters(), manual_grads, strict=True):
        torch.testing.assert_close(p.grad, g)
    stats = {s.name: s for s in rec.stats()}
    for name, out in manual.items():
        a, g = out.detach().numpy(), out.grad.numpy()
        s = stats[name]
        assert s.mean == pytest.approx(a.mean(), rel=1e-12, abs=1e-15)
        assert s.std == pytest.approx(a.std(), rel=1e-12)
        assert s.grad_mean == pytest.approx(g.mean(), rel=1e-10, abs=1e-15)
        assert s.grad_std == pytest.approx(g.std(), rel=1e-10)
        assert s.grad_norm == pytest.approx(np.linalg.norm(g), rel=1e-12)
    assert [s.kind for s in rec.stats()] == ["tanh", "sigmoid", "relu"]
    relu_out = manual["5"].detach().numpy()
    assert stats["5"].saturation == pytest.approx(np.mean(relu_out == 0))
    summary = rec.summary()
    assert summary["std"].shape == (3,)
    np.testing.assert_allclose(summary["grad_norm"], [stats[n].grad_norm for n in manual])


def test_hooks_are_removed():
    model, (x, _) = small_net(), data()
    with LayerRecorder(model) as rec:
        assert rec.attached
        assert sum(len(m._forward_hooks) for m in model.modules()) == 3
        model(x)
    assert not rec.attached
    assert sum(len(m._forward_hooks) for m in model.modules()) == 0
    before = rec.activations["1"].clone()
    model(x * 3)  # sem ganchos: nada muda
    torch.testing.assert_close(rec.activations["1"], before)
    # remover duas vezes não dá erro; reanexar funciona
    rec.remove()
    rec.attach()
    model(x * 3)
    assert not torch.equal(rec.activations["1"], before)
    rec.remove()


def test_forward_without_backward_has_nan_gradients():
    model, (x, _) = small_net(), data()
    rec = record_layers(model, x)
    assert rec.gradients == {}
    assert all(math.isnan(s.grad_norm) for s in rec.stats())
    assert all(np.isfinite(s.std) for s in rec.stats())


def test_record_layers_layer_types_and_names():
    model, (x, y) = small_net(), data()
    rec = record_layers(model, x, y, layer_types=(nn.Linear,))
    assert list(rec.activations) == ["0", "2", "4", "6"]
    assert [s.kind for s in rec.stats()] == ["linear"] * 4
    assert all(math.isnan(s.saturation) for s in rec.stats())
    with LayerRecorder(model, names=["2"]) as named:
        model(x)
    assert list(named.activations) == ["2"]


def test_recorder_on_custom_module():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.act, self.fc2 = nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    torch.manual_seed(0)
    net = Net()
    x, y = data()
    rec = record_layers(net, x.float(), y)
    assert list(rec.activations) == ["act"]
    torch.testing.assert_close(rec.activations["act"], torch.tanh(net.fc1(x.float())).detach())


def test_recorder_errors():
    with pytest.raises(TypeError, match="`model`"):
        LayerRecorder("rede")
    with pytest.raises(ValueError, match="layer_types"):
        LayerRecorder(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="`names`.*'9'"):
        LayerRecorder(small_net(), names=["9"])
    with pytest.raises(ValueError, match="`threshold`"):
        LayerRecorder(small_net(), threshold=1.5)


def test_saturation_fraction():
    t = torch.tensor([-0.99, -0.5, 0.0, 0.98, 0.96])
    assert saturation_fraction(t, "tanh") == pytest.approx(2 / 5)
    s = torch.tensor([0.001, 0.5, 0.99, 0.986, 0.9])
    assert saturation_fraction(s, "sigmoid") == pytest.approx(3 / 5)
    # a sigmoide satura exatamente onde a tanh de z/2 satura
    z = torch.linspace(-12, 12, 1001, dtype=torch.float64)
    assert saturation_fraction(torch.sigmoid(z), "sigmoid") == pytest.approx(
        saturation_fraction(torch.tanh(z / 2), "tanh")
    )
    assert saturation_fraction(torch.tensor([0.0, 0.0, 1.0, 2.0]), "relu") == 0.5
    assert math.isnan(saturation_fraction(t, "linear"))
    with pytest.raises(ValueError, match="`threshold`"):
        saturation_fraction(t, "tanh", threshold=0)


def test_weight_grad_norms():
    model, (x, y) = small_net(), data()
    assert all(math.isnan(v) for v in weight_grad_norms(model).values())
    nn.functional.cross_entropy(model(x), y).backward()
    norms = weight_grad_norms(model)
    assert list(norms) == ["0", "2", "4", "6"]
    for name, value in norms.items():
        assert value == pytest.approx(model.get_submodule(name).weight.grad.norm().item())
    with pytest.raises(ValueError, match="weight_grad_norms: .*Linear"):
        weight_grad_norms(nn.Sequential(nn.Tanh()))
    with pytest.raises(TypeError, match="UpdateRatioTracker: .*`model`"):
        UpdateRatioTracker([1, 2])


def test_update_ratio_tracker_matches_sgd_step():
    model, (x, y) = small_net(), data()
    tracker = UpdateRatioTracker(model)
    weights = {n: model.get_submodule(n).weight.detach().clone() for n in tracker.names}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    nn.functional.cross_entropy(model(x), y).backward()
    grads = {n: model.get_submodule(n).weight.grad.clone() for n in tracker.names}
    opt.step()
    row = tracker.update()
    expected = [(0.1 * grads[n].norm() / weights[n].norm()).item() for n in tracker.names]
    np.testing.assert_allclose(row, expected, rtol=1e-10)
    row2 = tracker.update()  # nada mudou desde a última chamada
    assert row2 == [0.0] * 4
    assert tracker.ratios().shape == (2, 4)
    assert tracker.steps == [1, 2]


def test_update_ratio_tracker_with_train_classifier_scales_with_lr():
    x = torch.randn(64, 6, generator=torch.Generator().manual_seed(0))
    y = (x[:, 0] > 0).long()
    medians = []
    for lr in (1e-3, 1e-2):
        model = make_mlp([6, 8, 8, 2], "tanh")
        initialize_weights(model, "xavier", seed=1)
        tracker = UpdateRatioTracker(model)
        train_classifier(model, x, y, steps=5, batch_size=16, lr=lr, seed=0, on_step=tracker)
        assert tracker.steps == [1, 2, 3, 4, 5]
        medians.append(np.median(tracker.ratios()[0]))
    # no primeiro passo os gradientes são os mesmos: a razão é proporcional a lr
    assert medians[1] / medians[0] == pytest.approx(10, rel=1e-4)


def test_initialize_weights():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(400, 300), nn.ReLU(), nn.Linear(300, 200))
    initialize_weights(model, "he", seed=0)
    assert model[0].weight.var().item() == pytest.approx(2 / 400, rel=0.03)
    assert model[2].weight.var().item() == pytest.approx(2 / 300, rel=0.03)
    assert model[0].bias.abs().max().item() == 0
    initialize_weights(model, "xavier", seed=0)
    assert model[0].weight.var().item() == pytest.approx(2 / 700, rel=0.03)
    initialize_weights(model, "normal", std=0.01, seed=0)
    assert model[2].weight.std().item() == pytest.approx(0.01, rel=0.03)
    a = initialize_weights(make_mlp([3, 4, 2]), "he", seed=5)[0].weight
    b = initialize_weights(make_mlp([3, 4, 2]), "he", seed=5)[0].weight
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="`scheme`"):
        initialize_weights(model, "lecun")
    with pytest.raises(ValueError, match="`std`"):
        initialize_weights(model, "normal")
    with pytest.raises(ValueError, match="`std`"):
        initialize_weights(model, "he", std=0.1)


def test_variance_rule_in_a_linear_stack():
    """Var(saída) = n · Var(w) · Var(entrada): a inclinação medida bate com a prevista."""
    torch.manual_seed(0)
    n, c = 256, 1.5
    model = nn.Sequential(*[nn.Linear(n, n, bias=False) for _ in range(10)]).double()
    initialize_weights(model, "normal", std=math.sqrt(c / n))
    x = torch.randn(256, n, dtype=torch.float64)
    std = record_layers(model, x, layer_types=(nn.Linear,)).summary()["std"]
    slope = np.polyfit(np.arange(10), np.log(std), 1)[0]
    assert slope == pytest.approx(0.5 * math.log(c), abs=0.01)


def test_plots_return_figures():
    model, (x, y) = small_net(), data()
    rec = record_layers(model, x, y)
    fig = plot_layer_histograms(rec.activations, xlabel="ativação")
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes[0].patches) == 3  # um histograma por camada
    fig2 = plot_layer_histograms(rec.gradients, xlabel="gradiente", labels=["a", "b", "c"])
    assert [t.get_text() for t in fig2.axes[0].get_legend().get_texts()] == ["a", "b", "c"]
    s = rec.summary()
    fig3 = plot_layer_curves({"std": s["std"], "grad": s["grad_norm"]}, ylabel="valor")
    ax = fig3.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), s["std"])
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [1, 2, 3])
    tracker = UpdateRatioTracker(model)
    for _ in range(4):
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1.01)
        tracker.update()
    fig4 = plot_update_ratios(tracker, window=2)
    ax4 = fig4.axes[0]
    assert len(ax4.lines) == 5  # 4 camadas + referência
    np.testing.assert_allclose(ax4.lines[0].get_ydata(), 0.01, rtol=1e-6)
    _, ax5 = plt.subplots()
    assert plot_update_ratios(tracker.ratios(), ax=ax5, reference=None) is ax5.figure
    plt.close("all")


def test_log_axis_labels_narrow_and_wide_ranges():
    # menos de duas décadas: marcas em 1, 2 e 5 × 10ᵏ, para não sobrar uma única marca
    fig = plot_layer_curves({"a": [0.015, 0.03, 0.2, 0.5]}, ylabel="y")
    ax = fig.axes[0]
    fig.canvas.draw()
    low, high = ax.get_ylim()
    ticks = [t for t in ax.get_yticks() if low <= t <= high]
    assert len(ticks) >= 3
    assert sum(bool(t.get_text()) for t in ax.get_yticklabels()) >= 3
    # muitas décadas: só as potências de 10
    fig2 = plot_layer_curves({"a": [1e-20, 1e-10, 1.0]}, ylabel="y")
    ticks2 = fig2.axes[0].get_yticks()
    np.testing.assert_allclose(np.log10(ticks2), np.round(np.log10(ticks2)))
    plt.close("all")


def test_update_ratio_reference_label():
    fig = plot_update_ratios(np.full((3, 2), 1e-3))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[-1] == "referência ($10^{-3}$)"
    fig2 = plot_update_ratios(np.full((3, 2), 1e-3), reference=0.005)
    assert fig2.axes[0].get_legend().get_texts()[-1].get_text() == "referência (0,005)"
    plt.close("all")


def test_plot_errors():
    with pytest.raises(ValueError, match="`values`"):
        plot_layer_histograms({}, xlabel="x")
    with pytest.raises(ValueError, match="`labels`"):
        plot_layer_histograms({"a": np.ones(3)}, xlabel="x", labels=["a", "b"])
    with pytest.raises(ValueError, match="vetor"):
        plot_layer_curves({"a": np.ones((2, 2))}, ylabel="y")
    with pytest.raises(ValueError, match=r"shape \(passos, camadas\)"):
        plot_update_ratios(np.ones(3))
    with pytest.raises(ValueError, match="`names`"):
        plot_update_ratios(np.ones((3, 2)), names=["a"])
    with pytest.raises(ValueError, match="`window`"):
        plot_update_ratios(np.ones((3, 2)), window=0)
    plt.close("all")
