"""A BN rápida: a mesma conta de :mod:`bnlib.nn.functional`, com a retropropagação escrita à mão.

:class:`BatchNormFunction` é uma ``torch.autograd.Function``: o passo direto guarda só ``x``,
``weight`` e duas estatísticas por canal, e a retropropagação usa a forma fechada, em vez de
deixar o *autograd* percorrer o grafo de seis operações da versão legível (que cria e guarda
um tensor do tamanho de ``x`` para cada uma). As contas por canal (médias, variâncias,
coeficientes) são feitas em float64; as passadas sobre os tensores grandes, no dtype da entrada,
escrevendo em tensores já alocados (``out=``).

Passo direto, por canal, com ``m`` valores:

1. ``Σx`` e ``Σx²`` numa passada cada; ``média = Σx / m`` e ``var = Σx² / m - média²``. Essa
   fórmula de uma passada perde dígitos quando a média é grande perto do desvio padrão; se
   ``média² > var`` em algum canal (ou se ``Σx²`` estourou), a variância é refeita em duas
   passadas sobre ``x - média``, escalado por uma potência de 2 para que os quadrados não
   estourem nem percam precisão;
2. ``y = x * a + b``, com ``a = gamma / sqrt(var + eps)`` e ``b = beta - média * a`` (ou
   ``y = (x - média) * a + beta`` quando a média passa de um desvio padrão).

Retropropagação: ``Σdy`` e ``Σdy·(x - média)`` numa passada cada e
``dx = a * dy + k * (x - média) + c`` em duas, com ``k`` e ``c`` por canal. Quando a
retropropagação precisa ser diferenciável (``create_graph=True``, para segundas derivadas),
ela passa à versão legível :func:`bnlib.nn.functional.batch_norm_grads`. ``jvp`` (modo
direto) e ``vmap`` (``torch.func``) também estão definidos.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from bnlib.nn.functional import (
    batch_norm_grads,
    batch_norm_reference,
    channel_shape,
    reduction_dims,
    update_running_stats,
    uses_channels_last,
    values_per_channel,
)


def empty_output(x: Tensor) -> Tensor:
    """Um tensor vazio com o shape de ``x`` e o layout que a BN do PyTorch daria à saída."""
    if not uses_channels_last(x):
        return torch.empty_like(x, memory_format=torch.contiguous_format)
    if x.dim() == 4:
        return torch.empty_like(x, memory_format=torch.channels_last)
    return torch.empty_like(x, memory_format=torch.channels_last_3d)


def needs_centering(mean: Tensor, inv_std: Tensor) -> bool:
    """``True`` se a média de algum canal passa de um desvio padrão (ou não é finita).

    Nesses canais, ``x * a + b`` perderia dígitos no cancelamento de ``x * a`` com
    ``média * a``; as contas passam a usar ``x - média``.
    """
    return not bool((mean.abs() * inv_std <= 1.0).all())


def centered_stats(x: Tensor, buffer: Tensor, guess: Tensor) -> tuple[Tensor, Tensor]:
    """Média e variância em duas passadas sobre ``x - guess``, escalado por canal.

    ``buffer`` (shape de ``x``) é usado como rascunho. Devolve float64, shape (C,).
    """
    dims = reduction_dims(x)
    shape = channel_shape(x)
    count = values_per_channel(x)
    guess = torch.where(torch.isfinite(guess), guess, torch.zeros_like(guess))
    rounded = guess.to(x.dtype)
    torch.sub(x, rounded.reshape(shape), out=buffer)
    peak = torch.maximum(torch.amax(buffer, dims).abs(), torch.amin(buffer, dims).abs())
    peak = peak.to(torch.float64)
    limit = math.floor(math.log2(torch.finfo(x.dtype).max)) - 1
    exponent = torch.floor(torch.log2(peak)).clamp(-limit, limit)
    usable = torch.isfinite(peak) & (peak > 0)
    scale = torch.where(usable, torch.exp2(-exponent), torch.ones_like(peak))
    buffer.mul_(scale.to(x.dtype).reshape(shape))
    shift = buffer.sum(dims).to(torch.float64) / count
    buffer.mul_(buffer)
    var = (buffer.sum(dims).to(torch.float64) / count - shift * shift).clamp_min(0.0)
    return rounded.to(torch.float64) + shift / scale, var / (scale * scale)


def batch_stats(x: Tensor, buffer: Tensor) -> tuple[Tensor, Tensor, bool]:
    """Média e variância enviesada por canal (float64, shape (C,)); ``buffer`` é rascunho.

    O terceiro valor diz se as contas centradas (:func:`centered_stats`) foram necessárias.
    """
    dims = reduction_dims(x)
    count = values_per_channel(x)
    torch.mul(x, x, out=buffer)
    sums = torch.stack([x.sum(dims), buffer.sum(dims)]).to(torch.float64) / count
    mean = sums[0]
    var = sums[1] - mean * mean
    if bool((torch.isfinite(var) & (mean * mean <= var)).all()):
        return mean, var, False
    mean, var = centered_stats(x, buffer, mean)
    return mean, var, True


def dot_centered(dy: Tensor, x: Tensor, mean: Tensor, sum_dy: Tensor, centered: bool, buffer):
    """``Σ dy · (x - média)`` por canal, em float64; ``buffer`` (shape de ``x``) é rascunho."""
    dims = reduction_dims(x)
    if not centered:
        torch.mul(dy, x, out=buffer)
        return buffer.sum(dims).to(torch.float64) - mean * sum_dy
    rounded = mean.to(x.dtype)
    torch.sub(x, rounded.reshape(channel_shape(x)), out=buffer)
    buffer.mul_(dy)
    return buffer.sum(dims).to(torch.float64) - (mean - rounded.to(torch.float64)) * sum_dy


class BatchNormFunction(torch.autograd.Function):
    """BN com a retropropagação na forma fechada.

    ``BatchNormFunction.apply(x, weight, bias, running_mean, running_var, use_batch_stats,
    factor, eps)`` devolve ``(y, mean, inv_std)``: a saída e, por canal, em float64, a média
    e ``1 / sqrt(var + eps)`` usadas (as do minilote ou as acumuladas). Os argumentos são
    os de :func:`bnlib.nn.functional.batch_norm_reference`, já conferidos, todos do mesmo
    dtype de ponto flutuante (as estatísticas acumuladas podem ter outro).
    """

    @staticmethod
    def forward(x, weight, bias, running_mean, running_var, use_batch_stats, factor, eps):
        y = empty_output(x)
        if use_batch_stats:
            mean, var, centered = batch_stats(x, y)
            if running_mean is not None and running_var is not None:
                update_running_stats(
                    running_mean, running_var, mean, var, values_per_channel(x), factor
                )
            inv_std = torch.rsqrt(var + eps)
        else:
            mean = running_mean.to(torch.float64, copy=True)
            inv_std = torch.rsqrt(running_var.to(torch.float64) + eps)
            centered = needs_centering(mean, inv_std)
        scale = inv_std if weight is None else inv_std * weight.to(torch.float64)
        offset = torch.zeros_like(mean) if bias is None else bias.to(torch.float64)
        shape = channel_shape(x)
        if centered:
            rounded = mean.to(x.dtype)
            torch.sub(x, rounded.reshape(shape), out=y)
            offset = offset - (mean - rounded.to(torch.float64)) * scale
            source = y
        else:
            offset = offset - mean * scale
            source = x
        torch.addcmul(
            offset.to(x.dtype).reshape(shape), source, scale.to(x.dtype).reshape(shape), out=y
        )
        return y, mean, inv_std

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, _, _, _, use_batch_stats, _, eps = inputs
        _, mean, inv_std = output
        ctx.mark_non_differentiable(mean, inv_std)
        ctx.save_for_backward(x, weight, mean, inv_std)
        ctx.save_for_forward(x, weight, mean, inv_std)
        ctx.use_batch_stats = use_batch_stats
        ctx.eps = eps

    @staticmethod
    def backward(ctx, dy, _dmean, _dinv_std):
        x, weight, mean, inv_std = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        rest = (None,) * 5
        if torch.is_grad_enabled():
            dx, dweight, dbias = batch_norm_grads(
                dy, x, weight, mean.to(x.dtype), inv_std.to(x.dtype), ctx.use_batch_stats, ctx.eps
            )
            return (
                dx if need_x else None,
                dweight if need_weight else None,
                dbias if need_bias else None,
                *rest,
            )
        count = values_per_channel(x)
        shape = channel_shape(x)
        sum_dy = dy.sum(reduction_dims(x)).to(torch.float64)
        buffer = empty_output(x) if need_x or need_weight else None
        dot = None
        centered = False
        if need_weight or (need_x and ctx.use_batch_stats):
            centered = needs_centering(mean, inv_std)
            dot = dot_centered(dy, x, mean, sum_dy, centered, buffer)
        dx = None
        if need_x:
            a = inv_std if weight is None else inv_std * weight.to(torch.float64)
            if ctx.use_batch_stats:
                k = -(a * inv_std) * (dot * inv_std) / count
                c = -a * sum_dy / count
                if centered:
                    rounded = mean.to(x.dtype)
                    torch.sub(x, rounded.reshape(shape), out=buffer)
                    c = c + k * (rounded.to(torch.float64) - mean)
                    source = buffer
                else:
                    c = c - k * mean
                    source = x
                torch.addcmul(
                    c.to(x.dtype).reshape(shape),
                    source,
                    k.to(x.dtype).reshape(shape),
                    out=buffer,
                )
                buffer.addcmul_(dy, a.to(x.dtype).reshape(shape))
            else:
                torch.mul(dy, a.to(x.dtype).reshape(shape), out=buffer)
            dx = buffer
        dweight = (dot * inv_std).to(weight.dtype) if need_weight else None
        dbias = sum_dy.to(x.dtype) if need_bias else None
        return dx, dweight, dbias, *rest

    @staticmethod
    def jvp(ctx, tx, tweight, tbias, *_):
        x, weight, mean, inv_std = ctx.saved_tensors
        shape = channel_shape(x)
        dims = reduction_dims(x)
        inv_std = inv_std.to(x.dtype).reshape(shape)
        x_hat = (x - mean.to(x.dtype).reshape(shape)) * inv_std
        ty = torch.zeros_like(x_hat)
        if tx is not None:
            t_hat = tx
            if ctx.use_batch_stats:
                t_hat = tx - tx.mean(dims, keepdim=True)
                t_hat = t_hat - x_hat * (x_hat * tx).mean(dims, keepdim=True)
            t_hat = t_hat * inv_std
            ty = t_hat if weight is None else t_hat * weight.reshape(shape)
        if tweight is not None:
            ty = ty + x_hat * tweight.reshape(shape)
        if tbias is not None:
            ty = ty + tbias.reshape(shape)
        return ty, None, None

    @staticmethod
    def vmap(info, in_dims, x, weight, bias, running_mean, running_var, batch_stats, factor, eps):
        # Sob torch.func.vmap, a versão legível (o autograd e o vmap do torch cuidam dela).
        def single(x, weight, bias, running_mean, running_var):
            return batch_norm_reference(
                x, running_mean, running_var, weight, bias, batch_stats, factor, eps
            )

        y = torch.vmap(single, in_dims=tuple(in_dims[:5]), randomness=info.randomness)(
            x, weight, bias, running_mean, running_var
        )
        unused = torch.empty(0, dtype=torch.float64, device=y.device)
        return (y, unused, unused), (0, None, None)


class EagerBatchNormFunction(BatchNormFunction):
    """A mesma :class:`BatchNormFunction`, com ``ctx`` no passo direto (o estilo antigo).

    O PyTorch chama uma ``Function`` com ``setup_context`` conferindo a assinatura do
    ``forward`` com ``inspect`` a cada chamada (dezenas de microssegundos, que pesam numa rede
    pequena); no estilo antigo, não. As transformações de ``torch.func`` (``vmap``, ``grad``)
    só aceitam o estilo novo: :func:`batch_norm_function` escolhe entre as duas.
    """

    setup_context = staticmethod(torch.autograd.Function.setup_context)

    @staticmethod
    def forward(ctx, *inputs):
        output = BatchNormFunction.forward(*inputs)
        BatchNormFunction.setup_context(ctx, inputs, output)
        return output


def batch_norm_function():
    """:class:`BatchNormFunction` sob ``torch.func``; fora, :class:`EagerBatchNormFunction`."""
    active = getattr(torch._C, "_are_functorch_transforms_active", None)
    if active is None or active():
        return BatchNormFunction
    return EagerBatchNormFunction
