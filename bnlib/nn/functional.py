"""A conta da normalização em lote com operações do torch, escrita para ser lida.

É a versão que o livro explica, uma operação por linha, com os gradientes dados pelo
*autograd*; todas as camadas de :mod:`bnlib.nn` usam estas funções (a BN, a BN sincronizada,
a renormalização em lote, a normalização de camada, de grupo e de instância):

* :func:`mean_and_var`: média e variância **enviesada** sobre os eixos dados;
* :func:`normalize`: ``x_hat = (x - média) / sqrt(variância + eps)``;
* :func:`scale_and_shift`: ``y = gamma * x_hat + beta``, um gamma e um beta por canal;
* :func:`update_running_stats`: as estatísticas acumuladas, com a variância **não enviesada**;
* :func:`input_grad`: a retropropagação na forma fechada, o gradiente em relação a ``x``;
* :func:`batch_norm_reference` e :func:`batch_norm_grads`: o passo direto e os gradientes da
  BN inteira, montados com as peças acima.

A versão rápida, :class:`bnlib.nn.fast.BatchNormFunction`, faz a mesma conta com menos
passadas pela memória e a retropropagação escrita à mão; os testes exigem que as duas
concordem entre si e com o PyTorch. Convenções do PyTorch: o canal é o eixo 1; a média e a
variância de cada canal são tiradas sobre todos os outros eixos.

Estas funções não conferem a entrada (isso é feito uma vez, em :mod:`bnlib.nn.validation`)
e podem ser compiladas pelo TorchScript.
"""

from __future__ import annotations

import torch
from torch import Tensor


def reduction_dims(x: Tensor) -> list[int]:
    """Os eixos das estatísticas da BN: todos menos o do canal (``[0, 2, 3]`` em (N, C, H, W))."""
    return [0] + list(range(2, x.dim()))


def channel_shape(x: Tensor) -> list[int]:
    """``[1, C, 1, ...]``: o shape que faz um vetor por canal se propagar sobre ``x``."""
    return [1, x.shape[1]] + [1] * (x.dim() - 2)


def values_per_channel(x: Tensor) -> int:
    """m, o número de valores de cada canal: N, N·L ou N·H·W."""
    return x.numel() // x.shape[1]


def mean_and_var(x: Tensor, dims: list[int]) -> tuple[Tensor, Tensor]:
    """Média e variância enviesada (divide por m) sobre ``dims``, mantendo esses eixos.

    Parameters
    ----------
    x : Tensor
    dims : list of int
        Eixos reduzidos; na BN, :func:`reduction_dims`.

    Returns
    -------
    mean, var : Tensor
        Com o shape de ``x`` e tamanho 1 nos eixos de ``dims``.
    """
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, correction=0, keepdim=True)  # correction=0: divide por m
    return mean, var


def normalize(x: Tensor, mean: Tensor, var: Tensor, eps: float) -> Tensor:
    """``x_hat = (x - mean) / sqrt(var + eps)``, com ``mean`` e ``var`` propagáveis sobre ``x``."""
    return (x - mean) * torch.rsqrt(var + eps)


def scale_and_shift(x_hat: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """``y = weight * x_hat + bias`` com um valor por canal (eixo 1); ``None`` = sem o termo."""
    shape = channel_shape(x_hat)
    y = x_hat
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def update_running_stats(
    running_mean: Tensor,
    running_var: Tensor,
    mean: Tensor,
    var: Tensor,
    count: int,
    factor: float,
) -> None:
    """Atualiza, no lugar, as estatísticas acumuladas com as de um minilote.

    ``acumulada = (1 - factor) * acumulada + factor * do_lote``, com a variância do lote
    corrigida para não enviesada (multiplicada por ``m / (m - 1)``). A conta é feita em
    float64 e o resultado volta ao dtype dos *buffers*, como no PyTorch.

    Parameters
    ----------
    running_mean, running_var : Tensor, shape (C,)
    mean, var : Tensor, C valores
        Média e variância enviesada do minilote (qualquer shape com C elementos).
    count : int
        m, os valores por canal do minilote; precisa ser ≥ 2 (quem chama confere).
    factor : float
        O ``momentum``, ou ``1 / k`` no k-ésimo minilote para a média simples.
    """
    mean64 = mean.detach().reshape(-1).to(torch.float64)
    unbiased64 = var.detach().reshape(-1).to(torch.float64) * (count / (count - 1))
    old_mean = running_mean.detach().to(torch.float64)
    old_var = running_var.detach().to(torch.float64)
    running_mean.copy_(factor * mean64 + (1.0 - factor) * old_mean)
    running_var.copy_(factor * unbiased64 + (1.0 - factor) * old_var)


def input_grad(
    dy: Tensor,
    x_hat: Tensor,
    inv_std: Tensor,
    weight: Tensor | None,
    sum_dy: Tensor,
    sum_dy_xhat: Tensor,
    count: float,
) -> Tensor:
    """A forma fechada do gradiente em relação a ``x`` (modo de treino).

    ``dx = gamma * inv_std / m * (m * dy - Σ dy - x_hat * Σ(dy * x_hat))``, com as somas
    sobre os valores de cada canal. Na BN sincronizada as duas somas e ``m`` são as de
    todos os processos.

    Parameters
    ----------
    dy, x_hat : Tensor, shape de ``x``
    inv_std, sum_dy, sum_dy_xhat : Tensor, shape ``channel_shape(x)``
    weight : Tensor, shape (C,), ou None
    count : float
        m.
    """
    scale = inv_std if weight is None else inv_std * weight.reshape(channel_shape(dy))
    return scale / count * (count * dy - sum_dy - x_hat * sum_dy_xhat)


def batch_norm_reference(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    use_batch_stats: bool,
    factor: float,
    eps: float,
) -> Tensor:
    """O passo direto da BN, legível; os gradientes vêm do *autograd*.

    Parameters
    ----------
    x : Tensor, shape (N, C, ...)
    running_mean, running_var : Tensor, shape (C,), ou None
        Com ``use_batch_stats``, são atualizadas (se dadas); sem, são usadas para normalizar.
    weight, bias : Tensor, shape (C,), ou None
    use_batch_stats : bool
        ``True`` no treino (e na avaliação sem estatísticas acumuladas).
    factor : float
        Peso do minilote na atualização das estatísticas acumuladas.
    eps : float

    Returns
    -------
    Tensor, shape de ``x``
    """
    if use_batch_stats:
        mean, var = mean_and_var(x, reduction_dims(x))
        if running_mean is not None and running_var is not None:
            count = values_per_channel(x)
            update_running_stats(running_mean, running_var, mean, var, count, factor)
    else:
        assert running_mean is not None and running_var is not None
        mean = running_mean.reshape(channel_shape(x))
        var = running_var.reshape(channel_shape(x))
    return scale_and_shift(normalize(x, mean, var, eps), weight, bias)


def batch_norm_grads(
    dy: Tensor,
    x: Tensor,
    weight: Tensor | None,
    mean: Tensor,
    inv_std: Tensor,
    use_batch_stats: bool,
    eps: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """Os gradientes da BN em relação a ``x``, ``weight`` e ``bias``, pela forma fechada.

    Feitos com operações diferenciáveis: a retropropagação da retropropagação (as segundas
    derivadas) sai do *autograd*. No treino, a média e ``inv_std`` são recalculadas a partir
    de ``x`` (``mean`` e ``inv_std`` dados são ignorados), para que as segundas derivadas
    vejam a dependência delas em ``x``; na avaliação são as das estatísticas acumuladas.

    Returns
    -------
    dx : Tensor, shape de ``x``
    dweight, dbias : Tensor, shape (C,)
    """
    dims = reduction_dims(x)
    shape = channel_shape(x)
    if use_batch_stats:
        batch_mean, var = mean_and_var(x, dims)
        mean = batch_mean
        inv_std = torch.rsqrt(var + eps)
    else:
        mean = mean.reshape(shape)
        inv_std = inv_std.reshape(shape)
    x_hat = (x - mean) * inv_std
    sum_dy = dy.sum(dim=dims, keepdim=True)
    sum_dy_xhat = (dy * x_hat).sum(dim=dims, keepdim=True)
    if use_batch_stats:
        dx = input_grad(dy, x_hat, inv_std, weight, sum_dy, sum_dy_xhat, values_per_channel(x))
    else:
        dx = dy * inv_std if weight is None else dy * (inv_std * weight.reshape(shape))
    return dx, sum_dy_xhat.reshape(-1), sum_dy.reshape(-1)


def _is_channels_last_strides(sizes: list[int], strides: list[int]) -> bool:
    # A regra do PyTorch (c10/core/MemoryFormat.h) para "strides de channels-last".
    if strides[1] == 0:
        return False
    order = [1, 3, 2, 0] if len(sizes) == 4 else [1, 4, 3, 2, 0]
    minimum = 0
    for d in order:
        if sizes[d] == 0 or strides[d] < minimum:
            return False
        if d == 0 and minimum == strides[1]:
            return False
        minimum = strides[d]
        if sizes[d] > 1:
            minimum *= sizes[d]
    return True


def uses_channels_last(x: Tensor) -> bool:
    """``True`` se a BN do PyTorch dá à saída (e ao gradiente) o layout *channels-last*.

    A regra do PyTorch: entrada contígua, saída contígua; entrada *channels-last* (4 ou 5
    dimensões), ou com *strides* que seguem essa ordem, saída *channels-last*; qualquer
    outra (transposta, fatiada), saída contígua.
    """
    if x.is_contiguous() or x.dim() < 4 or x.dim() > 5:
        return False
    if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
        return True
    if x.dim() == 5 and x.is_contiguous(memory_format=torch.channels_last_3d):
        return True
    return _is_channels_last_strides(x.shape, x.stride())


def torch_layout(x: Tensor, y: Tensor) -> Tensor:
    """``y`` com o layout de memória que a BN do PyTorch dá à saída para a entrada ``x``.

    Veja :func:`uses_channels_last`. Só copia quando ``y`` ainda não tem esse layout.
    """
    if not uses_channels_last(x):
        return y.contiguous()
    if x.dim() == 4:
        return y.contiguous(memory_format=torch.channels_last)
    return y.contiguous(memory_format=torch.channels_last_3d)
