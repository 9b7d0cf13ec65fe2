"""Sonda da superfície da perda ao longo do gradiente (Santurkar et al., 2018).

Num ponto ``W`` do treino calculamos o gradiente ``g`` da perda num lote fixo e andamos na
direção de descida: ``W − k·η·g`` para alguns múltiplos ``k`` da taxa de aprendizado ``η``.
Em cada ponto medimos a perda e o gradiente de novo. Duas grandezas resumem a sonda:

- a **amplitude da perda** (*loss range*): maior menos menor perda entre os pontos da
  sonda; uma superfície suave tem perda previsível ao longo do passo;
- a **mudança do gradiente**: ``‖g(W − k·η·g) − g(W)‖`` (norma ℓ2 sobre todos os
  parâmetros); quando ela é pequena, o gradiente atual continua uma boa direção depois do
  passo (*gradient predictiveness*).

A sonda não muda o modelo: parâmetros e *buffers* (como as estatísticas acumuladas da BN)
são restaurados no fim, e ``p.grad`` não é tocado. Ela usa o modo em que encontra o
modelo; para estudar o treino, deixe-o em modo de treino (a BN usa as estatísticas do lote).

Exemplo
-------
>>> import torch
>>> from torch import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> x, y = torch.randn(32, 4), torch.randint(2, (32,))
>>> result = probe_gradient_direction(model, x, y, lr=0.1)
>>> result.losses.shape
(4,)
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

#: Múltiplos da taxa de aprendizado usados por padrão: de metade a quatro vezes o passo.
DEFAULT_MULTIPLIERS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class ProbeResult:
    """Resultado de uma sonda ao longo do gradiente.

    Attributes
    ----------
    multipliers : ndarray, shape (K,)
        Os múltiplos ``k`` da taxa de aprendizado.
    loss0 : float
        A perda no ponto de partida ``W``.
    grad_norm : float
        ``‖g(W)‖``, a norma do gradiente no ponto de partida.
    losses : ndarray, shape (K,)
        A perda em ``W − k·η·g`` para cada ``k``.
    grad_changes : ndarray, shape (K,)
        ``‖g(W − k·η·g) − g(W)‖`` para cada ``k``.
    """

    multipliers: np.ndarray
    loss0: float
    grad_norm: float
    losses: np.ndarray
    grad_changes: np.ndarray

    @property
    def loss_range(self) -> float:
        """Maior menos menor perda entre os pontos da sonda (``losses``)."""
        return float(self.losses.max() - self.losses.min())

    @property
    def max_grad_change(self) -> float:
        """A maior mudança do gradiente entre os pontos da sonda."""
        return float(self.grad_changes.max())


def _check_multipliers(multipliers: Sequence[float], where: str) -> np.ndarray:
    values = np.asarray(multipliers, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(
            f"{where}: o argumento `multipliers` deve ser uma sequência não vazia de números "
            f"finitos; recebido {multipliers!r}."
        )
    if np.any(values <= 0):
        raise ValueError(
            f"{where}: os valores de `multipliers` devem ser > 0 (múltiplos da taxa de "
            f"aprendizado); recebido {values.tolist()}."
        )
    return values


def _check_lr(lr: float, where: str) -> float:
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not float(lr) > 0:
        raise ValueError(f"{where}: o argumento `lr` deve ser um número > 0; recebido {lr!r}.")
    return float(lr)


def _check_batch(x: torch.Tensor, y: torch.Tensor, where: str) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(
            f"{where}: os argumentos `x` e `y` devem ser torch.Tensor; recebido "
            f"{type(x).__name__} e {type(y).__name__}."
        )
    if x.ndim < 1 or len(x) != len(y):
        raise ValueError(
            f"{where}: `x` (shape {tuple(x.shape)}) e `y` (shape {tuple(y.shape)}) devem ter o "
            f"mesmo número de exemplos na primeira dimensão."
        )


def probe_gradient_direction(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    multipliers: Sequence[float] = DEFAULT_MULTIPLIERS,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> ProbeResult:
    """Mede a perda e o gradiente em ``W − k·lr·g(W)`` para cada ``k`` de ``multipliers``.

    Parameters
    ----------
    model : nn.Module
        Recebe ``x`` e devolve *logits* de shape (N, classes). O modo (treino/avaliação) é o
        que o modelo já tem.
    x : Tensor, shape (N, ...)
        O lote em que a perda e os gradientes são calculados (o mesmo em todos os pontos).
    y : Tensor, shape (N,)
    lr : float
        A taxa de aprendizado ``η`` (> 0).
    multipliers : sequência de float
        Os múltiplos ``k`` (> 0); padrão ``(0,5; 1; 2; 4)``.
    loss_fn : função ``(logits, y) -> perda``, opcional
        Padrão: entropia cruzada.

    Returns
    -------
    ProbeResult
        O modelo volta exatamente ao estado de antes (parâmetros e *buffers*).
    """
    where = "probe_gradient_direction"
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"{where}: o argumento `model` deve ser um torch.nn.Module; "
            f"recebido {type(model).__name__}."
        )
    lr = _check_lr(lr, where)
    ks = _check_multipliers(multipliers, where)
    _check_batch(x, y, where)
    loss_fn = nn.functional.cross_entropy if loss_fn is None else loss_fn
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"{where}: o argumento `model` não tem parâmetros treináveis.")
    saved = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def loss_and_grad() -> tuple[float, list[torch.Tensor]]:
        loss = loss_fn(model(x), y)
        grads = torch.autograd.grad(loss, params)
        return loss.item(), [g.detach() for g in grads]

    try:
        loss0, g0 = loss_and_grad()
        start = [p.detach().clone() for p in params]
        losses, changes = [], []
        for k in ks:
            with torch.no_grad():
                for p, p0, g in zip(params, start, g0, strict=True):
                    p.copy_(p0 - k * lr * g)
            loss_k, g_k = loss_and_grad()
            losses.append(loss_k)
            change = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(g_k, g0, strict=True)))
            changes.append(change.item())
    finally:
        model.load_state_dict(saved)
    grad_norm = torch.sqrt(sum((g**2).sum() for g in g0)).item()
    return ProbeResult(
        multipliers=ks,
        loss0=loss0,
        grad_norm=grad_norm,
        losses=np.array(losses),
        grad_changes=np.array(changes),
    )


class LandscapeProbe:
    """Aplica :func:`probe_gradient_direction` a cada ``every`` passos de treino.

    Cabe no argumento ``on_step`` de :func:`bnlib.lab.training.train_classifier`. A sonda usa
    sempre o mesmo lote ``(x, y)`` e o modelo no modo em que o treino o deixou (treino).

    Parameters
    ----------
    x : Tensor, shape (N, ...)
    y : Tensor, shape (N,)
    lr : float
        A taxa de aprendizado do treino.
    every : int
        Intervalo, em passos, entre duas sondas (>= 1).
    multipliers : sequência de float
        Ver :func:`probe_gradient_direction`.

    Attributes
    ----------
    steps : list of int
        Os passos sondados.
    results : list of ProbeResult
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        lr: float,
        every: int = 50,
        multipliers: Sequence[float] = DEFAULT_MULTIPLIERS,
    ) -> None:
        where = "LandscapeProbe"
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"{where}: `every` deve ser um inteiro >= 1; recebido {every!r}.")
        _check_batch(x, y, where)
        self.x, self.y = x, y
        self.lr = _check_lr(lr, where)
        self.multipliers = _check_multipliers(multipliers, where)
        self.every = every
        self.steps: list[int] = []
        self.results: list[ProbeResult] = []

    def __call__(self, step: int, model: nn.Module) -> None:
        """Assinatura de ``on_step(passo, modelo)``: sonda quando ``step`` é múltiplo de
        ``every``."""
        if step % self.every == 0:
            self.probe(step, model)

    def probe(self, step: int, model: nn.Module) -> ProbeResult:
        """Sonda agora e guarda o resultado com o passo ``step``."""
        result = probe_gradient_direction(model, self.x, self.y, self.lr, self.multipliers)
        self.steps.append(int(step))
        self.results.append(result)
        return result

    @property
    def losses(self) -> np.ndarray:
        """Perdas sondadas, shape (len(steps), K)."""
        return np.array([r.losses for r in self.results]).reshape(len(self.results), -1)

    @property
    def grad_changes(self) -> np.ndarray:
        """Mudanças do gradiente, shape (len(steps), K)."""
        return np.array([r.grad_changes for r in self.results]).reshape(len(self.results), -1)

    @property
    def grad_norms(self) -> np.ndarray:
        """``‖g(W)‖`` em cada passo sondado, shape (len(steps),)."""
        return np.array([r.grad_norm for r in self.results])
