"""Camadas de normalização em lote para PyTorch, escritas do zero.

``BatchNorm1d`` e ``BatchNorm2d`` substituem ``torch.nn.BatchNorm1d`` e
``torch.nn.BatchNorm2d`` sem mudar nada no resto do código: mesmos argumentos no construtor
(inclusive ``bias``, só com palavra-chave, que desliga beta),
mesmos parâmetros (``weight`` = gamma, ``bias`` = beta) e *buffers* (``running_mean``,
``running_var``, ``num_batches_tracked``), mesmas chaves no ``state_dict``, mesmas saídas em
``train()`` e ``eval()``. Nenhuma função de normalização do torch é chamada: a média, a
variância e a normalização estão escritas aqui, e os gradientes vêm do *autograd*.

Diferença deliberada: os erros são explicados em português. Como no torch, valores NaN na
entrada não são verificados (isso custaria uma sincronização a cada passo e esconderia a
divergência de um treino).
"""

from __future__ import annotations

import torch
from torch import nn


class _BatchNorm(nn.Module):
    """Base comum: parâmetros, *buffers* e o cálculo, para qualquer número de dimensões."""

    _version = 2
    accepted_layouts: dict[int, str] = {}

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(
                f"{name}: `num_features` deve ser um inteiro positivo (o número de atributos "
                f"ou canais); recebido {num_features!r}."
            )
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f"{name}: `momentum` deve estar entre 0 e 1 (peso do lote novo, "
                f"tipicamente 0.1) ou ser None; recebido {momentum!r}."
            )
        factory = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.empty(num_features, **factory))
            if bias:
                self.bias = nn.Parameter(torch.empty(num_features, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer(
                "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Zera as médias acumuladas (média 0, variância 1, nenhum lote contado)."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """gamma = 1 e beta = 0: no início a camada só normaliza."""
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            if self.bias is not None:
                nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )

    def _check_input(self, x: torch.Tensor) -> None:
        name = type(self).__name__
        if x.dim() not in self.accepted_layouts:
            expected = " ou ".join(
                f"{ndim} dimensões {layout}" for ndim, layout in self.accepted_layouts.items()
            )
            raise ValueError(
                f"{name}: a entrada deve ter {expected}; recebido um tensor de "
                f"{x.dim()} dimensão(ões) com shape {tuple(x.shape)}."
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: a dimensão 1 da entrada deve ser num_features = {self.num_features} "
                f"(um valor por atributo ou canal); recebido shape {tuple(x.shape)}."
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        axes = [0, *range(2, x.dim())]
        count = x.numel() // x.shape[1]
        if self.training and count < 2:
            raise ValueError(
                f"{type(self).__name__}: no modo de treino é preciso mais de um valor por "
                f"canal para estimar a variância; a entrada tem shape {tuple(x.shape)}. "
                f"Use lotes com mais de um exemplo ou chame `model.eval()` para a inferência."
            )
        use_batch_stats = self.training or self.running_mean is None
        if use_batch_stats:
            mean = x.mean(dim=axes)
            var = x.var(dim=axes, correction=0)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.detach(), var.detach(), count)
        else:
            mean, var = self.running_mean, self.running_var

        shape = (1, -1) + (1,) * (x.dim() - 2)
        y = (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + self.eps)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, count: int) -> None:
        self.num_batches_tracked.add_(1)
        if self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked)
        else:
            factor = self.momentum
        unbiased_var = var * (count / (count - 1))
        self.running_mean.mul_(1 - factor).add_(mean, alpha=factor)
        self.running_var.mul_(1 - factor).add_(unbiased_var, alpha=factor)

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        # state_dicts antigos do torch (versão < 2) não têm num_batches_tracked.
        version = local_metadata.get("version", None)
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and key not in state_dict:
            state_dict[key] = torch.tensor(0, dtype=torch.long)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )


class BatchNorm1d(_BatchNorm):
    """Normalização em lote para entradas (N, C) ou (N, C, L).

    Estatísticas por atributo C, sobre N (e L). Mesmos argumentos de
    ``torch.nn.BatchNorm1d``.

    Examples
    --------
    >>> bn = BatchNorm1d(3)
    >>> bn(torch.randn(8, 3)).shape
    torch.Size([8, 3])
    """

    accepted_layouts = {2: "(N, C)", 3: "(N, C, L)"}


class BatchNorm2d(_BatchNorm):
    """Normalização em lote para imagens (N, C, H, W): estatísticas por canal sobre N, H, W.

    Mesmos argumentos de ``torch.nn.BatchNorm2d``.
    """

    accepted_layouts = {4: "(N, C, H, W)"}


def is_batchnorm(module: nn.Module) -> bool:
    """``True`` para camadas BN do torch (1d, 2d, 3d, sincronizada) ou da ``bnlib.nn``."""
    return isinstance(module, nn.modules.batchnorm._BatchNorm | _BatchNorm)
