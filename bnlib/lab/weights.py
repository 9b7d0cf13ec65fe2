"""Diagnóstico dos pesos: a norma do gradiente e a razão atualização/parâmetro por camada.

Capítulos: Explosão e desaparecimento do gradiente (``book/gradientes``).

- :func:`weight_grad_norms`: a norma do gradiente dos pesos de cada camada densa ou
  convolucional, depois de ``loss.backward()``;
- :class:`UpdateRatioTracker`: a razão atualização/parâmetro (*update-to-data ratio*)
  ``‖ΔW‖ / ‖W‖`` de cada camada, passo a passo, ao longo do treino.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from bnlib.lab.models import weight_layers


def weight_grad_norms(model: nn.Module) -> dict[str, float]:
    """Norma euclidiana do gradiente dos pesos de cada camada densa ou convolucional.

    Chame depois de ``loss.backward()``. Camadas sem gradiente dão ``nan``.

    Returns
    -------
    dict[str, float]
        ``{nome da camada: ‖∂perda/∂W‖}``, na ordem do modelo.
    """
    return {
        name: (m.weight.grad.norm().item() if m.weight.grad is not None else math.nan)
        for name, m in weight_layers(model, "weight_grad_norms").items()
    }


class UpdateRatioTracker:
    """Razão atualização/parâmetro ``‖W_t − W_{t−1}‖ / ‖W_{t−1}‖`` de cada camada com pesos.

    Guarda uma cópia dos pesos na criação; cada chamada de :meth:`update` (depois de
    ``optimizer.step()``) mede a mudança em relação à cópia anterior e guarda a nova cópia.
    Funciona com qualquer otimizador, pois mede a atualização de fato aplicada. Cabe no
    argumento ``on_step`` de ``bnlib.lab.training.train_classifier``.

    Parameters
    ----------
    model : nn.Module

    Examples
    --------
    >>> from bnlib.lab.training import train_classifier
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> x, y = torch.randn(32, 4), torch.randint(2, (32,))
    >>> tracker = UpdateRatioTracker(model)
    >>> _ = train_classifier(model, x, y, steps=5, batch_size=8, lr=0.1, on_step=tracker)
    >>> tracker.ratios().shape  # (passos, camadas)
    (5, 2)
    """

    def __init__(self, model: nn.Module) -> None:
        self.layers = weight_layers(model, "UpdateRatioTracker")
        self.names = list(self.layers)
        self._previous = {n: m.weight.detach().clone() for n, m in self.layers.items()}
        self.steps: list[int] = []
        self.history: list[list[float]] = []

    @torch.no_grad()
    def update(self, step: int | None = None) -> list[float]:
        """Mede a razão de cada camada desde a última chamada e devolve a lista."""
        row = []
        for name, module in self.layers.items():
            w = module.weight.detach()
            previous = self._previous[name]
            row.append(((w - previous).norm() / previous.norm().clamp_min(1e-30)).item())
            self._previous[name] = w.clone()
        self.steps.append(len(self.steps) + 1 if step is None else int(step))
        self.history.append(row)
        return row

    def __call__(self, step: int, model: nn.Module | None = None) -> None:
        """Assinatura de ``on_step(passo, modelo)`` de ``train_classifier``."""
        self.update(step)

    def ratios(self) -> np.ndarray:
        """Todas as razões medidas: ndarray de shape (passos, camadas)."""
        return np.array(self.history, dtype=float).reshape(len(self.history), len(self.names))
