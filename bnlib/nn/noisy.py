"""BN com ruído injetado depois da normalização, o experimento de Santurkar et al. (2018)."""

from __future__ import annotations

import torch

from bnlib.nn.batchnorm import BatchNorm1d
from bnlib.nn.validation import shape_text


class NoisyBatchNorm1d(BatchNorm1d):
    """:class:`bnlib.nn.BatchNorm1d` seguida de ruído que muda a cada passo (só no treino).

    Depois da BN, cada ativação ``a`` do minilote vira ``s * a + m``. A cada chamada (um
    passo de treino), para cada atributo ``j`` sorteiam-se ``mu_j ~ U(-mean_range,
    mean_range)`` e ``sigma_j ~ U(1, scale_max)``; depois, para cada exemplo ``i``,
    ``m_ij ~ U(mu_j - mean_jitter, mu_j + mean_jitter)`` e ``s_ij ~ N(sigma_j,
    scale_jitter)``. Os valores padrão são os do apêndice de Santurkar et al. (2018):
    0,5; 1,25; 0,1; 0,1. Assim a distribuição que chega à camada seguinte muda de passo para
    passo de propósito. No modo de avaliação não há ruído.

    Parameters
    ----------
    num_features : int
        D, o número de atributos da entrada de shape (N, D).
    mean_range, scale_max, mean_jitter, scale_jitter : float
        Constantes do ruído (todas >= 0; ``scale_max`` >= 1).
    generator : torch.Generator, opcional
        Fonte do ruído, para reprodutibilidade.
    **kwargs
        Repassados a :class:`bnlib.nn.BatchNorm1d` (``eps``, ``momentum``...).
    """

    def __init__(
        self,
        num_features: int,
        mean_range: float = 0.5,
        scale_max: float = 1.25,
        mean_jitter: float = 0.1,
        scale_jitter: float = 0.1,
        generator: torch.Generator | None = None,
        **kwargs,
    ) -> None:
        super().__init__(num_features, **kwargs)
        for name, value in (
            ("mean_range", mean_range),
            ("mean_jitter", mean_jitter),
            ("scale_jitter", scale_jitter),
        ):
            if value < 0:
                raise ValueError(f"NoisyBatchNorm1d: `{name}` deve ser >= 0; recebido {value!r}.")
        if scale_max < 1:
            raise ValueError(
                f"NoisyBatchNorm1d: `scale_max` deve ser >= 1; recebido {scale_max!r}."
            )
        self.mean_range = float(mean_range)
        self.scale_max = float(scale_max)
        self.mean_jitter = float(mean_jitter)
        self.scale_jitter = float(scale_jitter)
        self.generator = generator

    def extra_repr(self) -> str:
        return (
            super().extra_repr()
            + f", mean_range={self.mean_range}, scale_max={self.scale_max}"
            + f", mean_jitter={self.mean_jitter}, scale_jitter={self.scale_jitter}"
        )

    def _uniform(self, shape: tuple[int, ...], low, high) -> torch.Tensor:
        u = torch.rand(shape, generator=self.generator)
        return low + (high - low) * u

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = input
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"NoisyBatchNorm1d: a entrada deve ter shape (N, {self.num_features}); "
                f"recebido shape {shape_text(x)}."
            )
        y = super().forward(x)
        if not self.training:
            return y
        n, d = x.shape
        mu = self._uniform((1, d), -self.mean_range, self.mean_range)
        sigma = self._uniform((1, d), 1.0, self.scale_max)
        m = self._uniform((n, d), mu - self.mean_jitter, mu + self.mean_jitter)
        s = sigma + self.scale_jitter * torch.randn((n, d), generator=self.generator)
        return s.to(y.dtype) * y + m.to(y.dtype)
