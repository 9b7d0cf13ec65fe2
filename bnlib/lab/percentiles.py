"""Percentis da entrada de uma unidade ao longo do treino (a Figura 1 de Ioffe e Szegedy).

Capítulo: Por que a BN ajuda (``book/vantagens/figura1``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from bnlib.lab.diagnostics import capture_output


class PercentileRecorder:
    """Registra percentis da saída de uma camada, unidade por unidade, durante o treino.

    Use como ``on_step`` de :func:`bnlib.lab.training.train_classifier`: a cada ``every`` passos
    o modelo processa um conjunto fixo de exemplos (``probe``) em modo de avaliação, sem
    gradiente, e guardamos os percentis ``q`` de cada coluna da saída de ``layer``. A coluna
    ``unit`` é a que ``values`` devolve (a unidade desenhada); ``all_values`` tem todas. Em
    modo de avaliação a BN usa as estatísticas acumuladas e não as altera.

    Parameters
    ----------
    layer : nn.Module
        A camada cuja saída é observada (por exemplo, a ``Linear`` ou a BN que alimenta
        uma sigmoide).
    unit : int
        A coluna observada na saída de ``layer``, de shape (N, D).
    probe : Tensor, shape (N, ...)
        Exemplos fixos passados pelo modelo a cada registro.
    every : int
        Intervalo, em passos, entre dois registros.
    q : sequência de float
        Percentis, entre 0 e 100.

    Attributes
    ----------
    steps : list of int
        Os passos registrados.
    values : ndarray, shape (len(steps), len(q))
        Os percentis da unidade ``unit`` em cada passo registrado.
    all_values : ndarray, shape (len(steps), len(q), D)
        Os percentis de todas as D unidades em cada passo registrado.

    Examples
    --------
    >>> from bnlib.lab.models import make_mlp
    >>> model = make_mlp([6, 5, 2], activation="sigmoid")
    >>> rec = PercentileRecorder(model[0], unit=3, probe=torch.randn(40, 6), every=10)
    >>> for step in range(1, 31):
    ...     rec(step, model)
    >>> rec.steps, rec.values.shape, rec.all_values.shape
    ([10, 20, 30], (3, 3), (3, 3, 5))
    """

    def __init__(
        self,
        layer: nn.Module,
        unit: int,
        probe: torch.Tensor,
        every: int = 50,
        q: Sequence[float] = (15.0, 50.0, 85.0),
    ) -> None:
        if not isinstance(every, int) or every < 1:
            raise ValueError(
                f"PercentileRecorder: `every` deve ser um inteiro >= 1; recebido {every!r}."
            )
        q = tuple(float(v) for v in q)
        if not q or any(not 0.0 <= v <= 100.0 for v in q):
            raise ValueError(
                f"PercentileRecorder: `q` deve ter percentis entre 0 e 100; recebido {q!r}."
            )
        if not isinstance(unit, int) or unit < 0:
            raise ValueError(
                f"PercentileRecorder: `unit` deve ser um inteiro >= 0; recebido {unit!r}."
            )
        self.layer = layer
        self.unit = unit
        self.probe = probe
        self.every = every
        self.q = q
        self.steps: list[int] = []
        self._rows: list[np.ndarray] = []

    @property
    def all_values(self) -> np.ndarray:
        """Percentis de todas as unidades, shape (len(steps), len(q), D)."""
        if not self._rows:
            return np.zeros((0, len(self.q), 0))
        return np.stack(self._rows)

    @property
    def values(self) -> np.ndarray:
        """Percentis da unidade ``unit``, shape (len(steps), len(q))."""
        if not self._rows:
            return np.zeros((0, len(self.q)))
        return self.all_values[:, :, self.unit]

    def layer_outputs(self, model: nn.Module) -> np.ndarray:
        """A saída de ``layer`` para ``probe``, em modo de avaliação, shape (N, D)."""
        out = capture_output(model, self.layer, self.probe)
        if out.ndim != 2 or not 0 <= self.unit < out.shape[1]:
            raise ValueError(
                f"PercentileRecorder: `unit`={self.unit} não existe na saída de `layer`, de "
                f"shape {tuple(out.shape)}; esperado shape (N, D) com 0 <= unit < D."
            )
        return out.detach().cpu().numpy().astype(np.float64)

    def unit_inputs(self, model: nn.Module) -> np.ndarray:
        """Os valores da coluna ``unit`` na saída de ``layer`` para ``probe``, shape (N,)."""
        return self.layer_outputs(model)[:, self.unit]

    def record(self, step: int, model: nn.Module) -> None:
        """Registra os percentis agora, rotulados com ``step``."""
        outputs = self.layer_outputs(model)
        self.steps.append(int(step))
        self._rows.append(np.percentile(outputs, self.q, axis=0))

    def __call__(self, step: int, model: nn.Module) -> None:
        if step % self.every == 0:
            self.record(step, model)
