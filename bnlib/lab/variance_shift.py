"""Dropout antes da BN: o deslocamento de variância entre o treino e a inferência.

Capítulo: ``book/interacoes/dropout``.

No treino, o dropout (*inverted dropout*, o do PyTorch) zera cada entrada com probabilidade
``p`` e divide as que ficam por ``q = 1 − p``; na avaliação, não faz nada. A média não muda,
a variância muda: se a entrada tem média ``μ`` e variância ``v``, a saída tem variância
``(v + μ²)/q − μ²`` no treino e ``v`` na avaliação. Uma BN logo depois guarda nas
estatísticas acumuladas a variância do treino e, na inferência, recebe outra: o
deslocamento de variância (*variance shift*) de Li, Chen, Hu e Yang (2019).

- :func:`dropout_variance_ratio`: a razão ``variância na avaliação / variância no treino``
  da saída de um dropout, ``q·v / (v + (1 − q)·μ²)``;
- :func:`measure_variance_shift`: a variância, por atributo (ou canal), da entrada de uma
  camada de um modelo, no modo de treino e no modo de avaliação, e as estatísticas
  acumuladas que a camada guardou;
- :func:`recalibrate_without_dropout`: as estatísticas acumuladas de toda BN recalculadas
  com os dropouts desligados, o que remove o deslocamento sem treinar de novo.
"""

from __future__ import annotations

import copy
import numbers
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from bnlib.nn.recalibration import recalibrate_batchnorm

#: As camadas de dropout do PyTorch (todas têm o atributo ``p``).
DROPOUT_TYPES: tuple[type[nn.Module], ...] = (
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
    nn.FeatureAlphaDropout,
)


def dropout_variance_ratio(p: float, mean, var) -> np.ndarray | float:
    """Razão entre a variância da saída de um dropout na avaliação e no treino.

    Com ``q = 1 − p``, a entrada ``x`` (média ``μ``, variância ``v``) sai como ``x·m/q`` no
    treino, com ``m`` ~ Bernoulli(``q``) independente de ``x``, e como ``x`` na avaliação:

    ``Var_treino = E[x²]/q − μ² = (v + μ²)/q − μ²``, ``Var_avaliação = v``, e a razão é
    ``q·v / (v + (1 − q)·μ²)``, igual a ``q`` se ``μ = 0`` e menor que ``q`` se ``μ ≠ 0``.

    Parameters
    ----------
    p : float
        Probabilidade de zerar uma entrada, em [0, 1).
    mean, var : float ou ndarray, shapes compatíveis
        Média ``μ`` e variância ``v`` (> 0) da entrada do dropout, por atributo.

    Returns
    -------
    float ou ndarray, o shape de ``mean`` e ``var`` combinados

    Examples
    --------
    >>> dropout_variance_ratio(0.5, 0.0, 1.0), dropout_variance_ratio(0.5, 1.0, 1.0)
    (0.5, 0.3333333333333333)
    """
    where = "dropout_variance_ratio"
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"{where}: `p` deve ser um número em [0, 1); recebido {p!r}.")
    mean = np.asarray(mean, dtype=float)
    var = np.asarray(var, dtype=float)
    if not np.all(np.isfinite(mean)):
        raise ValueError(f"{where}: `mean` deve conter só números finitos.")
    if not np.all(np.isfinite(var) & (var > 0)):
        raise ValueError(
            f"{where}: `var` deve conter só variâncias finitas > 0; o menor valor recebido é "
            f"{np.min(var) if var.size else 'nenhum'}."
        )
    keep = 1.0 - float(p)
    result = keep * var / (var + (1.0 - keep) * mean**2)
    return float(result) if result.ndim == 0 else result


class VarianceShift(NamedTuple):
    """A variância da entrada de uma camada nos dois modos, por atributo (ou canal).

    Attributes
    ----------
    train_var : ndarray, shape (C,)
        No modo de treino (dropout ligado; as BN anteriores com as estatísticas do minilote).
    eval_var : ndarray, shape (C,)
        No modo de avaliação (dropout desligado; as BN anteriores com as acumuladas).
    running_var : ndarray, shape (C,), ou None
        A variância acumulada que a camada guardou no treino (``None`` se ela não guarda).
    """

    train_var: np.ndarray
    eval_var: np.ndarray
    running_var: np.ndarray | None

    @property
    def ratio(self) -> np.ndarray:
        """``eval_var / train_var``: 1 sem deslocamento, menor que 1 com dropout antes.

        ``nan`` nos atributos de variância zero no treino (uma unidade ReLU "morta", por
        exemplo); use ``np.nanmedian`` para resumir.
        """
        ratio = np.full_like(self.train_var, np.nan)
        np.divide(self.eval_var, self.train_var, out=ratio, where=self.train_var > 0)
        return ratio


def _channel_variance(chunks: list[torch.Tensor]) -> np.ndarray:
    """Variância (com divisor N) de cada canal (dimensão 1) sobre todos os outros eixos."""
    x = torch.cat(chunks).double()
    x = x.transpose(0, 1).reshape(x.shape[1], -1)
    return x.var(dim=1, correction=0).numpy()


@torch.no_grad()
def measure_variance_shift(
    model: nn.Module,
    layer: nn.Module,
    x: torch.Tensor,
    batch_size: int = 256,
    seed: int = 0,
) -> VarianceShift:
    """Mede a variância da entrada de ``layer`` no modo de treino e no modo de avaliação.

    O modelo passa ``x`` em minilotes de ``batch_size`` exemplos duas vezes: uma no modo
    de treino (numa cópia, para não mexer nas estatísticas acumuladas), com as máscaras do
    dropout sorteadas com ``seed`` (o gerador global do torch é restaurado ao final), e uma
    no modo de avaliação. O modo do modelo é restaurado ao final.

    Parameters
    ----------
    model : nn.Module
    layer : nn.Module
        Uma camada de ``model`` (tipicamente uma BN), cuja entrada de shape (N, C, ...) é
        medida.
    x : Tensor, shape (N, ...)
        Os dados, no formato que ``model`` recebe.
    batch_size : int
        Tamanho dos minilotes, ≥ 2 (as BN anteriores usam as estatísticas de cada um).
    seed : int
        Semente das máscaras do dropout.

    Returns
    -------
    VarianceShift
    """
    where = "measure_variance_shift"
    if not isinstance(model, nn.Module) or not isinstance(layer, nn.Module):
        raise TypeError(
            f"{where}: `model` e `layer` devem ser torch.nn.Module; recebidos "
            f"{type(model).__name__} e {type(layer).__name__}."
        )
    path = next((name for name, m in model.named_modules() if m is layer), None)
    if path is None:
        raise ValueError(
            f"{where}: `layer` ({type(layer).__name__}) não é uma camada de `model`; passe "
            f"um dos módulos de model.modules()."
        )
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(
            f"{where}: `x` deve ser um tensor de shape (N, ...) com N ≥ 2; recebido {shape}."
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 2:
        raise ValueError(f"{where}: `batch_size` deve ser um inteiro ≥ 2; recebido {batch_size!r}.")
    if x.shape[0] % batch_size == 1:
        raise ValueError(
            f"{where}: com N = {x.shape[0]} e batch_size = {batch_size} o último minilote "
            f"teria um só exemplo, o que a BN não aceita no modo de treino; mude `batch_size`."
        )

    def inputs_of(net: nn.Module, target: nn.Module) -> list[torch.Tensor]:
        seen: list[torch.Tensor] = []
        hook = target.register_forward_hook(lambda m, args, out: seen.append(args[0].detach()))
        try:
            for start in range(0, x.shape[0], batch_size):
                net(x[start : start + batch_size])
        finally:
            hook.remove()
        return seen

    was_training = model.training
    clone = copy.deepcopy(model).train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        train_var = _channel_variance(inputs_of(clone, dict(clone.named_modules())[path]))
    model.eval()
    try:
        eval_var = _channel_variance(inputs_of(model, layer))
    finally:
        model.train(was_training)
    running = getattr(layer, "running_var", None)
    running_var = None if running is None else running.detach().double().cpu().numpy().copy()
    return VarianceShift(train_var, eval_var, running_var)


@torch.no_grad()
def recalibrate_without_dropout(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> int:
    """Recalcula as estatísticas acumuladas de toda BN com os dropouts desligados.

    Cada dropout de ``model`` fica com ``p = 0`` (a identidade) enquanto
    :func:`bnlib.nn.recalibration.recalibrate_batchnorm` passa ``x`` pelo modelo; depois os
    ``p`` originais voltam. As BN passam a guardar a variância que vão receber na
    inferência, e o deslocamento de variância some. Os pesos não mudam.

    Parameters
    ----------
    model : nn.Module
        Com pelo menos uma camada BN com estatísticas acumuladas.
    x : Tensor, shape (N, ...)
        Dados de treino, no formato que o modelo recebe.
    batch_size : int
        Tamanho dos minilotes da recalibração, ≥ 2.

    Returns
    -------
    int
        O número de minilotes usados.
    """
    dropouts = [m for m in model.modules() if isinstance(m, DROPOUT_TYPES)]
    rates = [m.p for m in dropouts]
    for m in dropouts:
        m.p = 0.0
    try:
        return recalibrate_batchnorm(model, x, batch_size)
    finally:
        for m, rate in zip(dropouts, rates, strict=True):
            m.p = rate
