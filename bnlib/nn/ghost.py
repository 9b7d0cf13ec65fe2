"""BN fantasma (*ghost batch normalization*, Hoffer et al., 2017) para entradas (N, C).

Capítulo: ``book/interacoes/covariaveis``.

Com minilotes grandes, as estatísticas da BN ficam quase sem ruído. A BN fantasma divide o
minilote de N exemplos em ``N / ghost_size`` minilotes "fantasmas" de ``ghost_size``
exemplos consecutivos e normaliza cada um com as suas próprias média e variância, como se
fossem minilotes pequenos; o gradiente continua sendo o do minilote inteiro. Na avaliação
ela é uma BN comum, com as estatísticas acumuladas.

A conta é a de :class:`bnlib.nn.alternatives.BatchRenorm1d` com ``group_size = ghost_size``
e cortes ``rmax = 1``, ``dmax = 0`` (a renormalização desligada), como
:class:`bnlib.nn.alternatives.GroupedBatchNorm2d` faz para imagens. As estatísticas
acumuladas recebem, a cada passo, a média das médias e das variâncias não enviesadas dos
fantasmas (a implementação de Hoffer et al. atualiza uma vez por fantasma; com ``momentum``
pequeno a diferença é desprezível).

Examples
--------
>>> import torch
>>> layer = GhostBatchNorm1d(4, ghost_size=8)
>>> y = layer(torch.randn(32, 4) * 3 + 1).detach()
>>> [round(float(v), 4) for v in y[:8].mean(dim=0).abs()]  # cada fantasma tem média 0
[0.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

import torch

from bnlib.nn.alternatives import BatchRenorm1d


class GhostBatchNorm1d(BatchRenorm1d):
    """BN com estatísticas por minilote fantasma de ``ghost_size`` exemplos.

    Parameters
    ----------
    num_features : int
        C, o número de atributos da entrada (N, C) ou (N, C, L).
    ghost_size : int
        Exemplos de cada minilote fantasma; o tamanho do lote de treino deve ser múltiplo
        dele. Com ``ghost_size`` igual ao lote, é a BN comum.
    eps, momentum : float
        Como em ``torch.nn.BatchNorm1d``.

    Examples
    --------
    >>> GhostBatchNorm1d(100, ghost_size=32)
    GhostBatchNorm1d(100, ghost_size=32, eps=1e-05, momentum=0.1)
    """

    def __init__(
        self, num_features: int, ghost_size: int, eps: float = 1e-5, momentum: float = 0.1
    ) -> None:
        if isinstance(ghost_size, bool) or not isinstance(ghost_size, int) or ghost_size < 2:
            raise ValueError(
                f"GhostBatchNorm1d: `ghost_size` deve ser um inteiro ≥ 2 (exemplos de cada "
                f"minilote fantasma; com 1 não há variância); recebido {ghost_size!r}."
            )
        super().__init__(
            num_features, eps, momentum, rmax=1.0, dmax=0.0, warmup_steps=0, group_size=ghost_size
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.dim() >= 1 and x.shape[0] % self.ghost_size:
            raise ValueError(
                f"GhostBatchNorm1d: no modo de treino o tamanho do lote deve ser múltiplo de "
                f"ghost_size = {self.ghost_size}; recebido um lote de {x.shape[0]} exemplos "
                f"(shape {tuple(x.shape)})."
            )
        return super().forward(x)

    @property
    def ghost_size(self) -> int:
        """O tamanho de cada minilote fantasma."""
        return self.group_size

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, ghost_size={self.ghost_size}, eps={self.eps}, "
            f"momentum={self.momentum}"
        )
