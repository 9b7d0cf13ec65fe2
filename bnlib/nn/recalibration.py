"""Recalcular as estatísticas de população de todas as camadas BN de um modelo.

As estatísticas acumuladas são médias móveis exponenciais tiradas **durante** o treino,
quando os pesos ainda mudavam: os minilotes antigos foram vistos por uma rede diferente
da final. Recalibrar é passar de novo pelos dados com os pesos finais e tirar a média
simples (``momentum=None``) das estatísticas de todos os minilotes, como no algoritmo 2 de
Ioffe e Szegedy (2015). Faz o mesmo que ``torch.optim.swa_utils.update_bn``.
"""

from __future__ import annotations

import torch
from torch import nn

from bnlib.nn.batchnorm import is_batchnorm


def batchnorm_layers(model: nn.Module) -> list[nn.Module]:
    """As camadas BN de ``model`` (do torch ou da ``bnlib.nn``), na ordem de ``modules()``."""
    return [m for m in model.modules() if is_batchnorm(m)]


@torch.no_grad()
def recalibrate_batchnorm(
    model: nn.Module,
    x: torch.Tensor,
    batch_size: int = 256,
) -> int:
    """Substitui as estatísticas acumuladas de toda BN pela média sobre os minilotes de ``x``.

    Para cada camada BN: zera as estatísticas, usa ``momentum=None`` (média simples, peso
    ``1/k`` no k-ésimo lote), passa ``x`` pelo modelo no modo de treino em minilotes de
    ``batch_size`` exemplos, na ordem dada, e restaura o ``momentum`` e o modo originais.
    Os pesos não mudam (sem gradientes). O ``running_mean`` de cada camada fica igual à
    média simples das médias dos minilotes; o ``running_var``, à média simples das
    variâncias não enviesadas.

    Parameters
    ----------
    model : nn.Module
        Com pelo menos uma camada BN que guarde estatísticas acumuladas.
    x : Tensor, shape (N, ...)
        Dados de treino, no formato que o modelo recebe.
    batch_size : int
        Tamanho dos minilotes, ≥ 2. O último minilote pode ser menor (mas não de 1).

    Returns
    -------
    int
        O número de minilotes usados.
    """
    where = "recalibrate_batchnorm"
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(
            f"{where}: o argumento `x` deve ser um tensor com pelo menos 2 dimensões "
            f"(N, ...); recebido {shape}."
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 2:
        raise ValueError(
            f"{where}: `batch_size` deve ser um inteiro ≥ 2 (no modo de treino a BN precisa "
            f"de mais de um exemplo); recebido {batch_size!r}."
        )
    layers = [m for m in batchnorm_layers(model) if m.running_mean is not None]
    if not layers:
        raise ValueError(
            f"{where}: o modelo não tem nenhuma camada BN com estatísticas acumuladas "
            f"(track_running_stats=True); não há o que recalibrar."
        )
    n = x.shape[0]
    if n % batch_size == 1:
        raise ValueError(
            f"{where}: com N = {n} e batch_size = {batch_size} o último minilote teria um "
            f"só exemplo, o que a BN não aceita no modo de treino; mude `batch_size`."
        )
    momenta = [m.momentum for m in layers]
    was_training = model.training
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    try:
        batches = 0
        for start in range(0, n, batch_size):
            model(x[start : start + batch_size])
            batches += 1
    finally:
        for m, momentum in zip(layers, momenta, strict=True):
            m.momentum = momentum
        model.train(was_training)
    return batches
