"""Redes, laço de treino e dados: formas, determinismo e erros."""

import numpy as np
import pytest
import torch
from torch import nn

from bnlib import nn as bnn
from bnlib.lab.data import load_mnist
from bnlib.lab.models import make_mlp
from bnlib.lab.training import TrainHistory, accuracy, train_classifier, train_mode_accuracy


def test_make_mlp_layout():
    model = make_mlp([4, 8, 8, 3], activation="tanh", norm=bnn.BatchNorm1d)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh"] * 2 + ["Linear"]
    after = make_mlp([4, 8, 3], norm=nn.BatchNorm1d, norm_after_activation=True)
    assert [type(layer).__name__ for layer in after] == ["Linear", "ReLU", "BatchNorm1d", "Linear"]


def test_make_mlp_errors():
    with pytest.raises(ValueError, match="`activation`"):
        make_mlp([2, 3], activation="gelu")
    with pytest.raises(ValueError, match="`sizes`"):
        make_mlp([2])


def test_training_is_deterministic_and_learns():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(512, 2)).astype(np.float32))
    y = (x[:, 0] + x[:, 1] > 0).long()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = make_mlp([2, 16, 2], norm=bnn.BatchNorm1d)
        runs.append(train_classifier(model, x, y, 200, 32, 0.1, x_eval=x, y_eval=y, eval_every=50))
    assert runs[0].loss == runs[1].loss
    assert runs[0].eval_step == [50, 100, 150, 200]
    assert runs[0].final_accuracy > 0.95
    assert accuracy(model, x, y) == runs[1].final_accuracy


def test_custom_batch_sampler_chooses_the_examples():
    x = torch.randn(40, 3)
    y = torch.arange(40) % 2
    seen = []

    class Recorder(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 2)

        def forward(self, inputs):
            seen.append(inputs.clone())
            return self.linear(inputs)

    only_class_one = torch.nonzero(y == 1).squeeze(1)
    sampler = lambda g: only_class_one[torch.randint(len(only_class_one), (5,), generator=g)]  # noqa: E731
    train_classifier(Recorder(), x, y, steps=4, batch_size=5, lr=0.1, sample_batch=sampler)
    allowed = x[only_class_one]
    for batch in seen:
        assert batch.shape == (5, 3)
        assert all((allowed == row).all(dim=1).any() for row in batch)


def test_train_mode_accuracy_uses_batch_statistics_without_touching_the_model():
    torch.manual_seed(0)
    model = make_mlp([6, 8, 3], norm=nn.BatchNorm1d).eval()
    x, y = torch.randn(10, 6), torch.randint(3, (10,))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = train_mode_accuracy(model, x, y, batch_size=4)  # 2 minilotes completos
    reference = make_mlp([6, 8, 3], norm=nn.BatchNorm1d)
    reference.load_state_dict(before)
    with torch.no_grad():
        logits = torch.cat([reference.train()(x[:4]), reference(x[4:8])])
    assert result == (logits.argmax(1) == y[:8]).float().mean().item()
    assert not model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="batch_size"):
        train_mode_accuracy(model, x, y, batch_size=11)


def test_divergence_stops_training():
    x = torch.randn(64, 2)
    y = torch.zeros(64, dtype=torch.long)
    model = make_mlp([2, 8, 2])
    history = train_classifier(model, x, y, steps=50, batch_size=8, lr=1e30)
    assert history.diverged and len(history.loss) < 50
    # a leitura como dicionário, dos cadernos escritos para a versão 0.1, continua valendo
    assert history["diverged"] == [1.0] and history["loss"] is history.loss


def test_mnist_ships_offline():
    train = load_mnist("train", n=100)
    test = load_mnist("test")
    assert train.x.shape == (100, 784) and train.x.dtype == np.float32
    assert test.x.shape == (10000, 784) and test.y.dtype == np.int64
    assert 0 <= train.x.min() and train.x.max() < 1
    assert set(np.unique(test.y)) == set(range(10))
    with pytest.raises(ValueError, match="`split`"):
        load_mnist("treino")
    with pytest.raises(ValueError, match="`n`"):
        load_mnist("test", n=0)


def test_train_history_accessors():
    history = TrainHistory(loss=[2.0, 1.0], eval_step=[5, 10], eval_accuracy=[0.4, 0.7])
    assert history.final_accuracy == 0.7 and history.accuracy_at(5) == 0.4
    assert history["diverged"] == [0.0] and history["eval_step"] == [5, 10]
    assert np.isnan(TrainHistory().final_accuracy)
    with pytest.raises(ValueError, match="passo 7 não foi avaliado"):
        history.accuracy_at(7)
    with pytest.raises(KeyError, match="chave desconhecida"):
        history["steps"]


def test_make_mlp_without_hidden_bias():
    model = make_mlp([6, 5, 4, 3], norm=nn.BatchNorm1d, bias=False)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [m.bias is None for m in linears] == [True, True, False]  # a saída mantém o viés


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_weight_decay_enters_the_step(optimizer):
    x, y = torch.randn(16, 3), torch.randint(2, (16,))
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    lr, decay = 0.1, 0.3
    everyone = lambda g: torch.arange(16)  # noqa: E731
    train_classifier(
        model, x, y, 1, 16, lr, optimizer=optimizer, weight_decay=decay, sample_batch=everyone
    )
    reference = nn.Linear(3, 2)
    reference.load_state_dict(start)
    nn.functional.cross_entropy(reference(x), y).backward()
    for name, p in reference.named_parameters():
        g = p.grad + decay * p.detach()  # o decaimento entra no gradiente (L2 acoplado)
        # SGD: p − η(g + λp); Adam, no 1.º passo: p − η·sinal(g + λp) (quase exato)
        step = g if optimizer == "sgd" else g / (g.abs() + 1e-8)
        torch.testing.assert_close(model.state_dict()[name], p.detach() - lr * step)
    with pytest.raises(ValueError, match="`weight_decay`"):
        train_classifier(model, x, y, 1, 16, lr, weight_decay=-1.0)
    with pytest.raises(ValueError, match="`weight_decay`"):
        train_classifier(model, x, y, 1, 16, lr, weight_decay=float("nan"))
