"""BN congelada: estatísticas e parâmetros fixos, a mesma função no treino e na avaliação.

Capítulo: ``book/redes/ajuste_fino``.

No ajuste fino (*fine-tuning*) com minilotes minúsculos é comum trocar cada BN por uma
camada que faz sempre a conta do modo de avaliação, com as estatísticas acumuladas e os
``γ``/``β`` do modelo pré-treinado, como a ``FrozenBatchNorm2d`` do torchvision:
``model.train()`` não a põe no modo de treino, ela não atualiza nada e não tem parâmetros
para o otimizador. :func:`freeze_batchnorm` faz a troca num modelo inteiro.

As classes daqui herdam de :class:`~bnlib.nn.BatchNorm1d` e :class:`~bnlib.nn.BatchNorm2d`:
a conta é a mesma do modo de avaliação delas, sem uma segunda implementação.
"""

from __future__ import annotations

import torch
from torch import nn

from bnlib.nn.batchnorm import BatchNorm1d, BatchNorm2d, is_batchnorm


class FrozenMixin:
    """O que torna uma BN congelada; vem antes da classe BN na lista de bases."""

    def __init__(self, num_features: int, eps: float = 1e-5, device=None, dtype=None) -> None:
        super().__init__(num_features, eps=eps, momentum=None, device=device, dtype=dtype)
        for name in ("weight", "bias"):
            value = getattr(self, name).detach().clone()
            delattr(self, name)
            self.register_buffer(name, value)
        self.frozen = True
        self.train(False)

    def train(self, mode: bool = True):
        """Ignora ``mode``: a camada fica sempre no modo de avaliação."""
        return super().train(False)

    def reset_running_stats(self) -> None:
        """Não faz nada depois da criação: as estatísticas congeladas não são zeradas.

        Assim :func:`~bnlib.nn.recalibration.recalibrate_batchnorm` deixa as camadas
        congeladas como estão e recalibra só as outras BN do modelo.
        """
        if not getattr(self, "frozen", False):  # no construtor, antes de congelar
            super().reset_running_stats()

    @classmethod
    @torch.no_grad()
    def from_batchnorm(cls, bn: nn.Module):
        """Uma cópia congelada de ``bn`` (uma BN do torch ou da ``bnlib.nn``).

        Raises
        ------
        TypeError
            Se ``bn`` não é uma BN.
        ValueError
            Se ``bn`` não tem estatísticas acumuladas (``track_running_stats=False``).
        """
        where = f"{cls.__name__}.from_batchnorm"
        if not is_batchnorm(bn):
            raise TypeError(
                f"{where}: `bn` deve ser uma camada de normalização em lote; recebido "
                f"{type(bn).__name__}."
            )
        if bn.running_mean is None:
            raise ValueError(
                f"{where}: `bn` foi criada com track_running_stats=False; sem estatísticas "
                f"acumuladas não há o que congelar."
            )
        mean = bn.running_mean
        frozen = cls(bn.num_features, eps=bn.eps, device=mean.device, dtype=mean.dtype)
        frozen.running_mean.copy_(mean)
        frozen.running_var.copy_(bn.running_var)
        frozen.num_batches_tracked.copy_(bn.num_batches_tracked)
        if bn.weight is not None:
            frozen.weight.copy_(bn.weight)
        if bn.bias is not None:
            frozen.bias.copy_(bn.bias)
        return frozen

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"


class FrozenBatchNorm1d(FrozenMixin, BatchNorm1d):
    """BN congelada para entradas (N, C) ou (N, C, L).

    Sempre ``y = γ (x − μ_acum) / sqrt(σ²_acum + ε) + β``, a conta da
    :class:`~bnlib.nn.BatchNorm1d` no modo de avaliação; ``γ`` (``weight``) e ``β``
    (``bias``) são *buffers*, não parâmetros: o otimizador não os vê, e ``state_dict``
    tem as mesmas chaves da BN original.

    Parameters
    ----------
    num_features : int
        Número de atributos C.
    eps : float
        O ε somado à variância.
    """


class FrozenBatchNorm2d(FrozenMixin, BatchNorm2d):
    """BN congelada para imagens (N, C, H, W), como a ``FrozenBatchNorm2d`` do torchvision.

    Sempre a conta da :class:`~bnlib.nn.BatchNorm2d` no modo de avaliação; ``γ`` e ``β``
    são *buffers*.

    Parameters
    ----------
    num_features : int
        Número de canais C.
    eps : float
        O ε somado à variância.

    Examples
    --------
    >>> frozen = FrozenBatchNorm2d(3).train()
    >>> frozen.training, len(list(frozen.parameters()))
    (False, 0)
    """


def freeze_batchnorm(model: nn.Module) -> nn.Module:
    """Troca, em ``model``, cada BN por uma BN congelada equivalente.

    Parameters
    ----------
    model : nn.Module
        As camadas ``BatchNorm1d`` e ``BatchNorm2d`` (do torch ou da ``bnlib.nn``) que ele
        contiver, em qualquer nível, viram :class:`FrozenBatchNorm1d` e
        :class:`FrozenBatchNorm2d` com as mesmas estatísticas acumuladas, γ e β.

    Returns
    -------
    nn.Module
        O próprio ``model``, modificado. No modo de avaliação a saída não muda; no modo de
        treino, as camadas trocadas continuam fazendo a conta do modo de avaliação.

    Raises
    ------
    ValueError
        Se ``model`` não tem nenhuma BN para congelar.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"freeze_batchnorm: `model` deve ser um torch.nn.Module; recebido "
            f"{type(model).__name__}."
        )
    kinds = (
        ((nn.BatchNorm1d, BatchNorm1d), FrozenBatchNorm1d),
        ((nn.BatchNorm2d, BatchNorm2d), FrozenBatchNorm2d),
    )
    found = 0
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if isinstance(child, FrozenMixin):
                found += 1
                continue
            for sources, frozen_type in kinds:
                if isinstance(child, sources):
                    setattr(parent, name, frozen_type.from_batchnorm(child))
                    found += 1
    if found == 0:
        raise ValueError(
            "freeze_batchnorm: o modelo não tem nenhuma camada BatchNorm1d ou BatchNorm2d "
            "(do torch ou da bnlib) para congelar."
        )
    return model
