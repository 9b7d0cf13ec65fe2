"""Alternativas à normalização em lote como camadas do PyTorch, escritas do zero.

``LayerNorm``, ``GroupNorm`` e ``InstanceNorm2d`` fazem a conta de
:mod:`bnlib.core.alternatives` com operações do torch (os gradientes vêm do *autograd*) e dão as
mesmas saídas que ``torch.nn.LayerNorm`` (para (N, D)), ``torch.nn.GroupNorm`` e
``torch.nn.InstanceNorm2d(affine=True)``. ``BatchRenorm1d`` e ``BatchRenorm2d`` implementam
a renormalização em lote, que o torch não tem, com o aquecimento e a rampa de ``rmax`` e
``dmax`` de Ioffe (2017).

Todas recebem o número de atributos (ou canais) como primeiro argumento, para que possam
ser passadas como ``norm`` a :func:`bnlib.lab.training.make_mlp` e a
:func:`bnlib.lab.models.make_small_cnn`.
"""

from __future__ import annotations

import torch
from torch import nn

from bnlib.core.renorm import renorm_limits
from bnlib.nn.functional import (
    mean_and_var,
    normalize,
    scale_and_shift,
    update_running_stats,
    values_per_channel,
)
from bnlib.nn.validation import shape_text, verify_batch_size


def _check_positive_int(value, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{where}: `{name}` deve ser um inteiro positivo (o número de atributos ou "
            f"canais); recebido {value!r}."
        )
    return value


class GroupNorm(nn.Module):
    """Normalização de grupo para entradas (N, C) ou (N, C, H, W).

    Cada exemplo é normalizado em cada grupo de ``C / num_groups`` canais consecutivos,
    sobre esses canais e todas as posições. Igual no treino e na avaliação.

    Parameters
    ----------
    num_channels : int
        C.
    num_groups : int
        Divisor de C.
    eps : float
    affine : bool
        Se ``True``, aprende ``weight`` (gamma) e ``bias`` (beta), de shape (C,).

    Examples
    --------
    >>> GroupNorm(8, num_groups=4)(torch.randn(2, 8, 5, 5)).shape
    torch.Size([2, 8, 5, 5])
    """

    def __init__(
        self, num_channels: int, num_groups: int = 32, eps: float = 1e-5, affine: bool = True
    ) -> None:
        super().__init__()
        name = type(self).__name__
        _check_positive_int(num_channels, "num_channels", name)
        if (
            isinstance(num_groups, bool)
            or not isinstance(num_groups, int)
            or num_groups < 1
            or num_channels % num_groups
        ):
            raise ValueError(
                f"{name}: `num_groups` deve ser um inteiro positivo que divide "
                f"num_channels = {num_channels}; recebido {num_groups!r}."
            )
        self.num_channels = num_channels
        self.num_groups = num_groups
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = nn.Parameter(torch.ones(num_channels))
            self.bias = nn.Parameter(torch.zeros(num_channels))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def extra_repr(self) -> str:
        return f"{self.num_channels}, num_groups={self.num_groups}, eps={self.eps}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        name = type(self).__name__
        if x.dim() < 2 or x.shape[1] != self.num_channels:
            raise ValueError(
                f"{name}: a entrada deve ter shape (N, C) ou (N, C, H, W) com "
                f"C = {self.num_channels}; recebido shape {shape_text(x)}."
            )
        grouped = x.reshape(x.shape[0], self.num_groups, -1)
        mean, var = mean_and_var(grouped, [2])
        y = normalize(grouped, mean, var, self.eps).reshape(x.shape)
        return scale_and_shift(y, self.weight, self.bias)


class LayerNorm(GroupNorm):
    """Normalização de camada: cada exemplo sobre todos os seus atributos (ou canais).

    Para (N, D) é o mesmo que ``torch.nn.LayerNorm(D)``; para (N, C, H, W), o mesmo que
    ``torch.nn.GroupNorm(1, C)`` (escala e deslocamento por canal).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__(num_features, num_groups=1, eps=eps, affine=affine)


class InstanceNorm2d(GroupNorm):
    """Normalização de instância: cada canal de cada exemplo sobre as suas H × W posições.

    O mesmo que ``torch.nn.InstanceNorm2d(C, affine=True)`` (sem estatísticas acumuladas).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True) -> None:
        _check_positive_int(num_features, "num_features", type(self).__name__)
        super().__init__(num_features, num_groups=num_features, eps=eps, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(
                f"{type(self).__name__}: a entrada deve ter 4 dimensões (N, C, H, W); "
                f"recebido shape {shape_text(x)}."
            )
        return super().forward(x)


class _BatchRenorm(nn.Module):
    """Base da renormalização em lote, para qualquer número de dimensões."""

    accepted_layouts: dict[int, str] = {}

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        rmax: float = 3.0,
        dmax: float = 5.0,
        warmup_steps: int = 100,
        ramp_steps: int = 400,
        group_size: int | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if group_size is not None:
            _check_positive_int(group_size, "group_size", name)
        _check_positive_int(num_features, "num_features", name)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: `momentum` deve estar entre 0 e 1; recebido {momentum!r}.")
        if rmax < 1 or dmax < 0:
            raise ValueError(
                f"{name}: é preciso `rmax` ≥ 1 e `dmax` ≥ 0; recebidos {rmax!r} e {dmax!r}."
            )
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.rmax_final = rmax
        self.dmax_final = dmax
        self.warmup_steps = warmup_steps
        self.ramp_steps = ramp_steps
        self.group_size = group_size
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"rmax={self.rmax_final}, dmax={self.dmax_final}, "
            f"warmup_steps={self.warmup_steps}, ramp_steps={self.ramp_steps}, "
            f"group_size={self.group_size}"
        )

    def limits(self) -> tuple[float, float]:
        """``(rmax, dmax)`` do passo atual, pela :func:`bnlib.core.renorm.renorm_limits`."""
        return renorm_limits(
            int(self.num_batches_tracked),
            self.warmup_steps,
            self.ramp_steps,
            self.rmax_final,
            self.dmax_final,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        name = type(self).__name__
        if x.dim() not in self.accepted_layouts or x.shape[1] != self.num_features:
            expected = " ou ".join(self.accepted_layouts.values())
            raise ValueError(
                f"{name}: a entrada deve ter shape {expected} com C = {self.num_features}; "
                f"recebido shape {shape_text(x)}."
            )
        if not self.training:
            mean = self.running_mean.reshape(1, -1, *([1] * (x.dim() - 2)))
            var = self.running_var.reshape(mean.shape)
            return scale_and_shift(normalize(x, mean, var, self.eps), self.weight, self.bias)
        n = x.shape[0]
        if n == 0:
            verify_batch_size(x, name, strict=True)
        b = n if self.group_size is None else self.group_size
        if n % b:
            raise ValueError(
                f"{name}: o tamanho do lote, {n}, deve ser múltiplo de group_size = {b}."
            )
        # (G, b, C, ...): G grupos de b exemplos, cada um com as suas estatísticas.
        grouped = x.reshape(n // b, b, *x.shape[1:])
        verify_batch_size(grouped[0], name, strict=True)
        mean, var = mean_and_var(grouped, [1, *range(3, grouped.dim())])
        x_hat = normalize(grouped, mean, var, self.eps)
        rmax, dmax = self.limits()
        with torch.no_grad():
            gshape = (1, 1, -1) + (1,) * (x.dim() - 2)
            sigma = torch.sqrt(var + self.eps)
            sigma_running = torch.sqrt(self.running_var + self.eps).reshape(gshape)
            r = (sigma / sigma_running).clamp(1.0 / rmax, rmax)
            d = ((mean - self.running_mean.reshape(gshape)) / sigma_running).clamp(-dmax, dmax)
            self.num_batches_tracked.add_(1)
            update_running_stats(
                self.running_mean,
                self.running_var,
                mean.mean(dim=0),
                var.mean(dim=0),
                values_per_channel(grouped[0]),
                self.momentum,
            )
        x_hat = (x_hat * r + d).reshape(x.shape)
        return scale_and_shift(x_hat, self.weight, self.bias)


class BatchRenorm1d(_BatchRenorm):
    """Renormalização em lote para (N, C) ou (N, C, L).

    Parameters
    ----------
    num_features : int
    eps, momentum : float
        Como em ``torch.nn.BatchNorm1d``.
    rmax, dmax : float
        Limites finais dos cortes de ``r`` e ``d`` (3 e 5 no artigo).
    warmup_steps, ramp_steps : int
        Passos de treino com BN comum (``rmax = 1``, ``dmax = 0``) e passos da rampa linear
        até os limites finais.
    group_size : int, opcional
        Se dado, cada grupo de ``group_size`` exemplos consecutivos do lote é normalizado
        com as suas próprias estatísticas, como se cada grupo estivesse num processo
        diferente sem sincronização; as estatísticas acumuladas recebem a média dos grupos.
    """

    accepted_layouts = {2: "(N, C)", 3: "(N, C, L)"}


class BatchRenorm2d(_BatchRenorm):
    """Renormalização em lote para imagens (N, C, H, W); argumentos como em ``BatchRenorm1d``."""

    accepted_layouts = {4: "(N, C, H, W)"}


class GroupedBatchNorm2d(BatchRenorm2d):
    """BN comum com estatísticas por grupo de ``group_size`` exemplos do minilote.

    Simula, num só processo, o treino distribuído sem sincronização: um minilote de N
    exemplos dividido em ``N / group_size`` processos, cada um normalizando a sua fatia. O
    gradiente continua sendo o do minilote inteiro; só as estatísticas da BN usam
    ``group_size`` exemplos. É a renormalização com ``rmax = 1`` e ``dmax = 0`` para sempre.
    """

    def __init__(
        self, num_features: int, group_size: int, eps: float = 1e-5, momentum: float = 0.1
    ) -> None:
        super().__init__(
            num_features, eps, momentum, rmax=1.0, dmax=0.0, warmup_steps=0, group_size=group_size
        )
