"""Normalizações para sequências (N, T, D), escritas do zero: RMS, camada e lote com máscara.

Numa sequência cada exemplo tem T posições (*tokens*) de D atributos, e as sequências de um
minilote costumam ter comprimentos diferentes: as mais curtas são completadas com
preenchimento (*padding*) até o comprimento da maior. As três camadas aqui normalizam o
último eixo (D) ou cada atributo, e recebem uma máscara ``mask`` de shape (N, T), verdadeira
nas posições reais:

- ``RMSNorm``: cada vetor de D valores dividido pela raiz da média dos seus quadrados
  (Zhang e Sennrich, 2019), a conta de :func:`bnlib.core.alternatives.rms_norm_forward`;
  dá as mesmas saídas que ``torch.nn.RMSNorm``;
- ``SequenceLayerNorm``: a normalização de camada de cada posição, isto é,
  :class:`bnlib.nn.alternatives.LayerNorm` aplicada a cada vetor do último eixo; dá as mesmas
  saídas que ``torch.nn.LayerNorm(D)``;
- ``SequenceBatchNorm``: :class:`bnlib.nn.batchnorm.BatchNorm1d` com as estatísticas de
  cada atributo sobre todas as posições de todas as sequências do minilote, ou, com
  ``ignore_padding=True``, só sobre as posições reais.

As duas primeiras ignoram a máscara: cada posição é normalizada sozinha, e o preenchimento
não pode afetar as posições reais. Os gradientes de ``RMSNorm`` e ``SequenceLayerNorm``
vêm do *autograd*; ``SequenceBatchNorm`` usa a retropropagação da ``BatchNorm1d``.

Capítulo: ``book/redes/sequencias``.
"""

from __future__ import annotations

import torch
from torch import nn

from bnlib.nn.alternatives import LayerNorm
from bnlib.nn.batchnorm import BatchNorm1d


def _check_last_dim(x: torch.Tensor, size: int, name: str) -> None:
    if x.dim() < 2 or x.shape[-1] != size:
        raise ValueError(
            f"{name}: a entrada deve ter shape (N, D) ou (N, T, D) com D = {size} no último "
            f"eixo; recebido shape {tuple(x.shape)}."
        )


def _check_mask(mask: torch.Tensor | None, x: torch.Tensor, name: str) -> None:
    if mask is None:
        return
    if mask.dtype != torch.bool or tuple(mask.shape) != tuple(x.shape[:-1]):
        raise ValueError(
            f"{name}: o argumento `mask` deve ser um tensor booleano de shape "
            f"{tuple(x.shape[:-1])} (a entrada sem o último eixo), verdadeiro nas posições "
            f"reais; recebido dtype {mask.dtype} e shape {tuple(mask.shape)}."
        )


class RMSNorm(nn.Module):
    """Normalização RMS sobre o último eixo: ``y = weight · x / sqrt(mean(x²) + eps)``.

    Mesmos argumentos e mesmas saídas que ``torch.nn.RMSNorm(D, eps=eps)`` (com ``eps``
    explícito: o padrão do torch, ``None``, usa o épsilon da máquina do tipo da entrada).

    Parameters
    ----------
    normalized_shape : int
        D, o tamanho do último eixo.
    eps : float
        Somado à média dos quadrados antes da raiz.
    elementwise_affine : bool
        Se ``True``, aprende ``weight`` (gamma), de shape (D,). Não há deslocamento.

    Examples
    --------
    >>> RMSNorm(4)(torch.randn(2, 3, 4)).shape
    torch.Size([2, 3, 4])
    """

    def __init__(
        self, normalized_shape: int, eps: float = 1e-6, elementwise_affine: bool = True
    ) -> None:
        super().__init__()
        if (
            isinstance(normalized_shape, bool)
            or not isinstance(normalized_shape, int)
            or normalized_shape < 1
        ):
            raise ValueError(
                f"RMSNorm: `normalized_shape` deve ser um inteiro positivo (D, o tamanho do "
                f"último eixo); recebido {normalized_shape!r}."
            )
        if not eps >= 0:
            raise ValueError(f"RMSNorm: `eps` deve ser um número ≥ 0; recebido {eps!r}.")
        self.normalized_shape = normalized_shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = nn.Parameter(torch.ones(normalized_shape))
        else:
            self.register_parameter("weight", None)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Normaliza cada vetor do último eixo; ``mask`` é aceita e ignorada."""
        _check_last_dim(x, self.normalized_shape, "RMSNorm")
        _check_mask(mask, x, "RMSNorm")
        y = x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return y if self.weight is None else y * self.weight


class SequenceLayerNorm(LayerNorm):
    """Normalização de camada de cada posição: média e variância sobre o último eixo (D).

    O mesmo que ``torch.nn.LayerNorm(D)``, com a conta de
    :class:`bnlib.nn.alternatives.LayerNorm`.

    Examples
    --------
    >>> SequenceLayerNorm(4)(torch.randn(2, 3, 4)).shape
    torch.Size([2, 3, 4])
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Normaliza cada vetor do último eixo; ``mask`` é aceita e ignorada."""
        _check_last_dim(x, self.num_channels, type(self).__name__)
        _check_mask(mask, x, type(self).__name__)
        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)


class SequenceBatchNorm(BatchNorm1d):
    """Normalização em lote de sequências (N, T, D): estatísticas de cada atributo.

    Sem máscara (ou com ``ignore_padding=False``) as estatísticas usam as N · T posições,
    inclusive o preenchimento, como ``torch.nn.BatchNorm1d`` aplicada a
    ``x.transpose(1, 2)``. Com ``ignore_padding=True`` e uma máscara, usam só as posições
    reais, e as posições de preenchimento saem iguais a zero. Os argumentos do construtor
    são os de :class:`bnlib.nn.batchnorm.BatchNorm1d`, mais ``ignore_padding``.

    Examples
    --------
    >>> x, mask = torch.randn(2, 5, 4), torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]) > 0
    >>> y = SequenceBatchNorm(4, ignore_padding=True)(x, mask)
    >>> bool((y[0, 3:] == 0).all())
    True
    """

    def __init__(self, num_features: int, *args, ignore_padding: bool = False, **kwargs) -> None:
        super().__init__(num_features, *args, **kwargs)
        self.ignore_padding = ignore_padding

    def extra_repr(self) -> str:
        return super().extra_repr() + f", ignore_padding={self.ignore_padding}"

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Normaliza ``x`` (N, T, D); ``mask`` (N, T) marca as posições reais."""
        name = type(self).__name__
        _check_last_dim(x, self.num_features, name)
        _check_mask(mask, x, name)
        use_mask = mask is not None and self.ignore_padding
        count = int(mask.sum()) if use_mask else x.shape[:-1].numel()
        if self.training and count < 2:
            raise ValueError(
                f"{name}: no modo de treino é preciso mais de uma posição (real) no "
                f"minilote para estimar a variância de cada atributo; a entrada tem shape "
                f"{tuple(x.shape)}, com {count} posição(ões). Na geração, um símbolo por "
                f"vez, use as estatísticas acumuladas: `model.eval()`."
            )
        if not use_mask:
            return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)
        y = torch.zeros_like(x)
        y[mask] = super().forward(x[mask])
        return y
