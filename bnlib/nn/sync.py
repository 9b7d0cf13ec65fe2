"""Normalização em lote sincronizada (*synchronized BN*) sobre ``torch.distributed``.

No treino com paralelismo de dados (*data parallel*) cada processo (*worker*) recebe uma
fatia do mini-lote. Uma BN comum em cada processo só vê a sua fatia; a BN sincronizada soma,
entre todos os processos, as somas locais e as somas dos quadrados por canal (um
*all-reduce*), de modo que a média e a variância são as do mini-lote inteiro. Na
retropropagação as duas somas de que o gradiente precisa (``Σ dy`` e ``Σ dy · x_hat``)
também são somadas entre os processos: só assim o gradiente em relação a ``x`` é o mesmo
de um processo único com o mini-lote inteiro.

Os experimentos do livro rodam tudo na CPU com o *backend* ``gloo``, em processos locais
(:func:`bnlib.lab.distributed.run_world`). Em produção, com GPUs, use
``torch.nn.SyncBatchNorm``.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


class SyncBatchNormFunction(torch.autograd.Function):
    """Passo direto e retropropagação da BN com estatísticas somadas entre processos.

    ``forward(x, weight, bias, eps)`` com ``x`` de shape (N, C) ou (N, C, H, W) local a cada
    processo; devolve ``y`` e, para as estatísticas acumuladas, a média e a variância
    globais e a contagem global ``m``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        axes = [0, *range(2, x.dim())]
        shape = (1, -1) + (1,) * (x.dim() - 2)
        c = x.shape[1]
        local_count = x.numel() // c
        # Uma só comunicação: [Σx, Σx², m] por canal, em float64 para evitar o cancelamento
        # de E[x²] - E[x]².
        x64 = x.detach().to(torch.float64)
        packed = torch.cat(
            [
                x64.sum(dim=axes),
                (x64 * x64).sum(dim=axes),
                torch.full((1,), float(local_count), dtype=torch.float64),
            ]
        )
        all_reduce_sum(packed)
        count = packed[-1]
        mean64 = packed[:c] / count
        var64 = (packed[c : 2 * c] / count - mean64 * mean64).clamp_min(0.0)
        mean = mean64.to(x.dtype)
        var = var64.to(x.dtype)
        inv_std = torch.rsqrt(var + eps)
        x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
        y = x_hat * weight.reshape(shape) + bias.reshape(shape)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.count = float(count)
        count = count.to(torch.float64)
        ctx.mark_non_differentiable(mean, var, count)
        return y, mean, var, count

    @staticmethod
    def backward(ctx, dy, _dmean, _dvar, _dcount):
        x_hat, inv_std, weight = ctx.saved_tensors
        axes = [0, *range(2, dy.dim())]
        shape = (1, -1) + (1,) * (dy.dim() - 2)
        c = dy.shape[1]
        sum_dy = dy.sum(dim=axes)
        sum_dy_xhat = (dy * x_hat).sum(dim=axes)
        # Gradientes de gamma e beta: só a parte local (o paralelismo de dados os soma ou
        # faz a média depois, como faz com todos os outros parâmetros).
        dweight, dbias = sum_dy_xhat.clone(), sum_dy.clone()
        packed = all_reduce_sum(torch.cat([sum_dy, sum_dy_xhat]))
        sum_dy, sum_dy_xhat = packed[:c], packed[c:]
        m = ctx.count
        dx = (weight * inv_std / m).reshape(shape) * (
            m * dy - sum_dy.reshape(shape) - x_hat * sum_dy_xhat.reshape(shape)
        )
        return dx, dweight, dbias, None


class SyncBatchNorm(nn.Module):
    """BN sincronizada para (N, C) ou (N, C, H, W), com as mesmas estatísticas acumuladas.

    Fora de um grupo ``torch.distributed`` (ou com um processo só) é uma BN comum. A
    atualização das estatísticas acumuladas usa a média e a variância **globais** e a
    contagem global, então é idêntica em todos os processos.

    Parameters
    ----------
    num_features : int
    eps : float
    momentum : float
        Peso do mini-lote novo, como em ``torch.nn.BatchNorm2d``.
    sync : bool
        ``False`` desliga a comunicação: cada processo normaliza só a sua fatia (a BN
        comum num treino distribuído), para comparação.
    """

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, sync: bool = True
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.sync = sync
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() not in (2, 4) or x.shape[1] != self.num_features:
            raise ValueError(
                f"SyncBatchNorm: a entrada deve ter shape (N, C) ou (N, C, H, W) com "
                f"C = {self.num_features}; recebido shape {tuple(x.shape)}."
            )
        shape = (1, -1) + (1,) * (x.dim() - 2)
        if not self.training:
            scale = torch.rsqrt(self.running_var + self.eps) * self.weight
            centered = x - self.running_mean.reshape(shape)
            return centered * scale.reshape(shape) + self.bias.reshape(shape)
        if self.sync:
            y, mean, var, count = SyncBatchNormFunction.apply(x, self.weight, self.bias, self.eps)
            count = float(count)
        else:
            axes = [0, *range(2, x.dim())]
            mean = x.mean(dim=axes)
            var = x.var(dim=axes, correction=0)
            count = float(x.numel() // x.shape[1])
            y = (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + self.eps)
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        with torch.no_grad():
            unbiased = var.detach() * (count / max(count - 1.0, 1.0))
            self.running_mean.lerp_(mean.detach(), self.momentum)
            self.running_var.lerp_(unbiased, self.momentum)
        return y
