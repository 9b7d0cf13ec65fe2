"""O laço de treino determinístico dos capítulos e as medidas de acurácia.

Capítulos: quase todos os que treinam uma rede (gradientes, prática, vantagens, limites).
As redes estão em :mod:`bnlib.lab.models`.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

HISTORY_KEYS = ("loss", "eval_step", "eval_accuracy", "diverged")


@dataclass
class TrainHistory:
    """O que :func:`train_classifier` registra de um treino.

    Attributes
    ----------
    loss : list of float
        A perda de cada passo, na ordem (a última pode ser ``nan`` ou infinita se divergiu).
    eval_step : list of int
        Os passos em que a rede foi avaliada.
    eval_accuracy : list of float
        A acurácia em cada um desses passos, entre 0 e 1.
    diverged : bool
        ``True`` se a perda deixou de ser finita e o treino parou antes do fim.

    Notes
    -----
    Cadernos escritos para a versão 0.1 da bnlib liam o histórico como um dicionário
    (``history["loss"]``, ``history["diverged"][0]``); ``history[chave]`` continua
    funcionando, com ``history["diverged"]`` igual a ``[1.0]`` ou ``[0.0]`` como antes.

    Examples
    --------
    >>> h = TrainHistory(loss=[2.3, 1.9], eval_step=[2], eval_accuracy=[0.5])
    >>> h.final_accuracy, h.diverged, h["eval_step"]
    (0.5, False, [2])
    """

    loss: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_accuracy: list[float] = field(default_factory=list)
    diverged: bool = False

    @property
    def final_accuracy(self) -> float:
        """A acurácia da última avaliação (``nan`` se não houve avaliação)."""
        return self.eval_accuracy[-1] if self.eval_accuracy else float("nan")

    def accuracy_at(self, step: int) -> float:
        """A acurácia medida no passo ``step``, que deve ser um dos passos avaliados."""
        if step not in self.eval_step:
            raise ValueError(
                f"TrainHistory.accuracy_at: o passo {step} não foi avaliado; passos avaliados: "
                f"{self.eval_step}."
            )
        return self.eval_accuracy[self.eval_step.index(step)]

    def __getitem__(self, key: str) -> list:
        if key not in HISTORY_KEYS:
            raise KeyError(f"TrainHistory: chave desconhecida {key!r}; use uma de {HISTORY_KEYS}.")
        if key == "diverged":
            return [1.0 if self.diverged else 0.0]
        return getattr(self, key)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2000) -> float:
    """Fração de acertos de ``model`` em ``(x, y)``, no modo de avaliação.

    O modo do modelo (``train``/``eval``) é restaurado ao final.
    """
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, len(y), batch_size):
        logits = model(x[start : start + batch_size])
        correct += (logits.argmax(dim=1) == y[start : start + batch_size]).sum().item()
    model.train(was_training)
    return correct / len(y)


@torch.no_grad()
def train_mode_accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> float:
    """Fração de acertos com a BN no modo de treino: cada minilote usa as próprias estatísticas.

    Mede o que o modelo faria se fosse avaliado com ``model.train()``, em minilotes de
    ``batch_size`` exemplos; só os minilotes completos entram (um minilote de um exemplo
    não tem variância). O cálculo usa uma cópia: o modelo e as suas estatísticas acumuladas
    não mudam.
    """
    complete = (len(y) // batch_size) * batch_size
    if complete == 0:
        raise ValueError(
            f"train_mode_accuracy: `batch_size` ({batch_size}) é maior que o número de "
            f"exemplos ({len(y)}); nenhum minilote completo."
        )
    clone = copy.deepcopy(model).train()
    logits = torch.cat([clone(x[s : s + batch_size]) for s in range(0, complete, batch_size)])
    return (logits.argmax(dim=1) == y[:complete]).float().mean().item()


def train_classifier(
    model: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    steps: int,
    batch_size: int,
    lr: float,
    optimizer: str = "sgd",
    x_eval: torch.Tensor | None = None,
    y_eval: torch.Tensor | None = None,
    eval_every: int = 100,
    seed: int = 0,
    on_step: Callable[[int, nn.Module], None] | None = None,
    sample_batch: Callable[[torch.Generator], torch.Tensor] | None = None,
    weight_decay: float = 0.0,
) -> TrainHistory:
    """Treina um classificador com entropia cruzada e minilotes sorteados com semente.

    Parameters
    ----------
    model : nn.Module
        Recebe ``x`` de shape (B, ...) e devolve *logits* de shape (B, classes).
    x_train : Tensor, shape (N, ...)
    y_train : Tensor, shape (N,), int64
    steps : int
        Número de passos (minilotes) de treino.
    batch_size : int
    lr : float
        Taxa de aprendizado.
    optimizer : {"sgd", "adam"}
    x_eval, y_eval : Tensor, opcional
        Dados de avaliação, medidos a cada ``eval_every`` passos e ao final.
    seed : int
        Semente da ordem dos minilotes.
    on_step : função ``(passo, modelo) -> None``, opcional
        Chamada depois de cada passo (para registrar estatísticas, por exemplo).
    sample_batch : função ``gerador -> índices``, opcional
        Sorteia os índices de ``x_train`` de cada minilote com o ``torch.Generator`` do
        treino. Padrão: ``batch_size`` índices uniformes, com reposição.
    weight_decay : float
        Decaimento de pesos (*weight decay*) λ ≥ 0 do otimizador, em todos os parâmetros:
        o gradiente de cada parâmetro ``p`` ganha ``λ·p`` (no SGD, o passo fica
        ``p ← (1 − ηλ)·p − η·∂perda/∂p``). Padrão 0: sem decaimento.

    Returns
    -------
    TrainHistory
        A perda de cada passo, os passos avaliados e a acurácia em cada um. Se a perda
        deixar de ser finita, o treino para e ``diverged`` fica ``True``.
    """
    optimizers = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
    if optimizer not in optimizers:
        raise ValueError(
            f"train_classifier: `optimizer` deve ser um de {sorted(optimizers)}; "
            f"recebido {optimizer!r}."
        )
    if len(x_train) != len(y_train):
        raise ValueError(
            f"train_classifier: `x_train` tem {len(x_train)} exemplos e `y_train` tem "
            f"{len(y_train)}; devem ter o mesmo número."
        )
    if (
        isinstance(weight_decay, bool)
        or not isinstance(weight_decay, numbers.Real)
        or not 0 <= weight_decay < math.inf
    ):
        raise ValueError(
            f"train_classifier: `weight_decay` deve ser um número finito ≥ 0; "
            f"recebido {weight_decay!r}."
        )
    opt = optimizers[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    history = TrainHistory()
    evaluate = x_eval is not None and y_eval is not None
    model.train()
    for step in range(1, steps + 1):
        if sample_batch is None:
            index = torch.randint(len(y_train), (batch_size,), generator=generator)
        else:
            index = sample_batch(generator)
        loss = loss_fn(model(x_train[index]), y_train[index])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.loss.append(loss.item())
        if on_step is not None:
            on_step(step, model)
        if not math.isfinite(history.loss[-1]):
            history.diverged = True
            break
        if evaluate and (step % eval_every == 0 or step == steps):
            history.eval_step.append(step)
            history.eval_accuracy.append(accuracy(model, x_eval, y_eval))
    return history
