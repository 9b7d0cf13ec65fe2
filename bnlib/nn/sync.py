"""Normalização em lote sincronizada (*synchronized BN*) sobre ``torch.distributed``.

No treino com paralelismo de dados (*data parallel*) cada processo (*worker*) recebe uma
fatia do minilote. Uma BN comum em cada processo só vê a sua fatia; a BN sincronizada soma,
entre todos os processos, as somas locais e as somas dos quadrados por canal (um
*all-reduce*), de modo que a média e a variância são as do minilote inteiro. Na
retropropagação as duas somas de que o gradiente precisa (``Σ dy`` e ``Σ dy · x_hat``)
também são somadas entre os processos: só assim o gradiente em relação a ``x`` é o mesmo
de um processo único com o minilote inteiro.

A normalização, a forma fechada do gradiente e a atualização das estatísticas acumuladas são
as de :mod:`bnlib.nn.functional`; só as somas entre processos são daqui. Fora de um grupo
``torch.distributed`` (ou com um processo só, ou na avaliação) a camada é a BN de
:mod:`bnlib.nn.batchnorm`, com as mesmas verificações.

Os experimentos do livro rodam tudo na CPU com o *backend* ``gloo``, em processos locais
(:func:`bnlib.lab.distributed.run_world`). Em produção, com GPUs, use
``torch.nn.SyncBatchNorm``.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor, nn

from bnlib.nn.batchnorm import as_fx_leaf, batch_norm
from bnlib.nn.functional import (
    channel_shape,
    input_grad,
    normalize,
    reduction_dims,
    scale_and_shift,
    update_running_stats,
)
from bnlib.nn.validation import (
    check_constructor,
    check_eps,
    check_input_dims,
    check_per_channel,
    compute_dtype,
    shape_text,
)


def world_size(group=None) -> int:
    """Número de processos do grupo, ou 1 fora de um grupo ``torch.distributed``."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(group)
    return 1


def all_reduce_sum(t: torch.Tensor, group=None) -> torch.Tensor:
    """Soma ``t`` entre os processos do grupo, no lugar (nada, com um processo só)."""
    if world_size(group) > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)
    return t


class SyncBatchNormFunction(torch.autograd.Function):
    """Passo direto e retropropagação da BN com estatísticas somadas entre processos.

    ``forward(x, weight, bias, eps, group)`` com ``x`` de shape (N, C, ...) local a cada
    processo; devolve ``y`` e, para as estatísticas acumuladas, a média e a variância
    globais (float64, shape (C,)) e a contagem global ``m`` (float64, shape (1,)).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps, group):
        dims = reduction_dims(x)
        shape = channel_shape(x)
        c = x.shape[1]
        # Uma só comunicação: [Σx, Σx², m] por canal, em float64 para evitar o cancelamento
        # de E[x²] - E[x]².
        x64 = x.detach().to(torch.float64)
        packed = torch.cat(
            [
                x64.sum(dim=dims),
                (x64 * x64).sum(dim=dims),
                torch.full((1,), float(x.numel() // c), dtype=torch.float64),
            ]
        )
        all_reduce_sum(packed, group)
        count = float(packed[-1])
        if count < 2.0:
            raise ValueError(
                f"SyncBatchNorm: no modo de treino é preciso mais de um valor por canal "
                f"somando todos os processos para estimar a variância; este processo tem "
                f"shape {shape_text(x)} e o total é {count:.0f}."
            )
        mean64 = packed[:c] / count
        var64 = (packed[c : 2 * c] / count - mean64 * mean64).clamp_min(0.0)
        mean = mean64.to(x.dtype).reshape(shape)
        var = var64.to(x.dtype).reshape(shape)
        x_hat = normalize(x, mean, var, eps)
        y = scale_and_shift(x_hat, weight, bias)
        ctx.save_for_backward(x_hat, torch.rsqrt(var + eps), weight)
        ctx.count = count
        ctx.group = group
        ctx.has_bias = bias is not None
        total = packed[-1:].clone()
        ctx.mark_non_differentiable(mean64, var64, total)
        return y, mean64, var64, total

    @staticmethod
    def backward(ctx, dy, _dmean, _dvar, _dcount):
        x_hat, inv_std, weight = ctx.saved_tensors
        dims = reduction_dims(dy)
        shape = channel_shape(dy)
        c = dy.shape[1]
        sum_dy = dy.sum(dim=dims)
        sum_dy_xhat = (dy * x_hat).sum(dim=dims)
        # Gradientes de gamma e beta: só a parte local (o paralelismo de dados os soma ou
        # faz a média depois, como faz com todos os outros parâmetros).
        dweight = sum_dy_xhat.clone() if weight is not None else None
        dbias = sum_dy.clone() if ctx.has_bias else None
        packed = all_reduce_sum(torch.cat([sum_dy, sum_dy_xhat]), ctx.group)
        dx = input_grad(
            dy,
            x_hat,
            inv_std,
            weight,
            packed[:c].reshape(shape),
            packed[c:].reshape(shape),
            ctx.count,
        )
        return dx, dweight, dbias, None, None


class SyncBatchNorm(nn.SyncBatchNorm):
    """BN sincronizada para entradas (N, C, ...), com as mesmas estatísticas acumuladas.

    Mesmos argumentos de ``torch.nn.SyncBatchNorm``, mais ``sync`` e ``strict`` (só com
    palavra-chave). Fora de um grupo ``torch.distributed`` (ou com um processo só, ou na
    avaliação) é a BN comum de :func:`bnlib.nn.batchnorm.batch_norm`. A atualização das
    estatísticas acumuladas usa a média e a variância **globais** e a contagem global,
    então é idêntica em todos os processos.

    Parameters
    ----------
    num_features : int
    eps, momentum, affine, track_running_stats, process_group, device, dtype, bias
        Como em ``torch.nn.SyncBatchNorm`` (``process_group=None``: todos os processos).
    sync : bool
        ``False`` desliga a comunicação: cada processo normaliza só a sua fatia (a BN
        comum num treino distribuído), para comparação.
    strict : bool
        As verificações do construtor do modo estrito de :mod:`bnlib.nn.batchnorm`.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group=None,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
        sync: bool = True,
        strict: bool = False,
    ) -> None:
        if strict:
            check_constructor(num_features, eps, momentum, "SyncBatchNorm")
        super().__init__(
            num_features,
            eps,
            momentum,
            affine,
            track_running_stats,
            process_group,
            device,
            dtype,
            bias=bias,
        )
        self.sync = sync
        self.strict = strict

    def extra_repr(self) -> str:
        return super().extra_repr() + f", sync={self.sync}"

    def _check_input_dim(self, input: Tensor) -> None:
        allowed = list(range(2, max(input.dim(), 2) + 1))
        check_input_dims(input, allowed, "pelo menos 2 dimensões (N, C, ...)", "SyncBatchNorm")

    def forward(self, input: Tensor) -> Tensor:
        name = "SyncBatchNorm"
        traced = as_fx_leaf(self, input)
        if traced is not None:
            return traced
        self._check_input_dim(input)
        if input.shape[1] == 0:
            raise ValueError(
                f"{name}: a entrada deve ter pelo menos um canal; recebido shape "
                f"{shape_text(input)}."
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        running_mean = self.running_mean if keep else None
        running_var = self.running_var if keep else None
        group = self.process_group
        if not (self.sync and self.training and world_size(group) > 1):
            return batch_norm(
                input,
                running_mean,
                running_var,
                self.weight,
                self.bias,
                use_batch_stats,
                factor,
                self.eps,
                name,
            )
        check_eps(self.eps, True, name)
        for values, argument in (
            (running_mean, "running_mean"),
            (running_var, "running_var"),
            (self.weight, "weight"),
            (self.bias, "bias"),
        ):
            check_per_channel(input, values, argument, name)
        dtype = compute_dtype(
            input,
            [running_mean, running_var, self.weight, self.bias],
            ["running_mean", "running_var", "weight", "bias"],
            name,
        )
        weight = None if self.weight is None else self.weight.to(dtype)
        bias = None if self.bias is None else self.bias.to(dtype)
        y, mean, var, count = SyncBatchNormFunction.apply(
            input.to(dtype), weight, bias, self.eps, group
        )
        if running_mean is not None and running_var is not None:
            update_running_stats(running_mean, running_var, mean, var, int(count), factor)
        return y.to(input.dtype)
