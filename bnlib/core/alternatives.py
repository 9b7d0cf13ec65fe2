"""Alternativas à normalização em lote, em numpy: camada, instância, grupo e RMS.

Todas normalizam ``x`` com uma média e uma variância e depois aplicam uma escala
``gamma`` e um deslocamento ``beta`` por atributo (ou canal). O que muda é **sobre quais
valores** se calculam as estatísticas:

* normalização de grupo (*group normalization*, GN): para **cada exemplo**, sobre um grupo
  de ``C / G`` canais e todas as posições ``H × W``;
* normalização de camada (*layer normalization*, LN): GN com um grupo só, isto é, cada
  exemplo sobre todos os seus atributos (ou canais e posições);
* normalização de instância (*instance normalization*, IN): GN com um canal por grupo, isto
  é, cada canal de cada exemplo sobre as suas posições ``H × W``;
* normalização RMS (*RMS normalization*, Zhang e Sennrich, 2019): cada vetor do último
  eixo, como a LN das sequências (N, T, D), mas dividido só pela raiz da média dos quadrados:
  sem subtrair a média e sem ``beta``.

Em todas elas nada depende dos outros exemplos do minilote: o treino e a inferência
fazem a mesma conta, e um lote de um exemplo é válido. A renormalização em lote, que
continua usando o minilote, está em :mod:`bnlib.core.renorm`.

O módulo tem pouco mais de 400 linhas porque reúne as quatro normalizações por exemplo,
que compartilham o cache (:class:`NormCache`) e a retropropagação da GN. Como na BN, a variância é a
**enviesada** (divide pelo número de valores) e o tipo da saída é o da entrada.

Este módulo não importa torch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bnlib.core import validation
from bnlib.core.reference import (
    per_feature,
)


class NormCache(NamedTuple):
    """O que o passo direto das normalizações por exemplo guarda para a retropropagação.

    Attributes
    ----------
    x_hat : ndarray, shape igual à de ``x``
        Entrada normalizada.
    inv_std : ndarray, shape (N, G)
        ``1 / sqrt(var + eps)`` por exemplo e grupo.
    gamma : ndarray, shape (C,)
        Escala usada no passo direto.
    mean, var : ndarray, shape (N, G)
        Média e variância enviesada de cada exemplo em cada grupo.
    num_groups : int
        G, o número de grupos.
    count : int
        Número de valores por grupo, ``(C / G) · H · W``.
    """

    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    num_groups: int
    count: int


def _check_groups(num_groups, num_channels: int, shape: tuple[int, ...], where: str) -> int:
    if (
        isinstance(num_groups, bool)
        or not isinstance(num_groups, int | np.integer)
        or num_groups < 1
        or num_channels % num_groups != 0
    ):
        raise ValueError(
            f"{where}: o argumento `num_groups` deve ser um inteiro positivo que divide o "
            f"número de canais C = {num_channels} (`x` tem shape {tuple(shape)}); "
            f"recebido {num_groups!r}."
        )
    return int(num_groups)


def group_norm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    num_groups: int,
    eps: float = 1e-5,
) -> tuple[np.ndarray, NormCache]:
    """Passo direto da normalização de grupo (igual no treino e na inferência).

    Os C canais são divididos em ``num_groups`` grupos consecutivos de ``C / G`` canais;
    cada exemplo é normalizado em cada grupo com a média e a variância dos
    ``(C / G) · H · W`` valores do grupo.

    Parameters
    ----------
    x : ndarray, shape (N, C) ou (N, C, H, W)
        float32 ou float64. Qualquer N ≥ 1.
    gamma, beta : ndarray, shape (C,)
        Escala e deslocamento, um por canal.
    num_groups : int
        G, divisor de C. ``G = 1`` é a normalização de camada; ``G = C``, a de instância.
    eps : float
        Somado à variância antes da raiz.

    Returns
    -------
    y : ndarray, shape e dtype de ``x``
    cache : NormCache
        Para :func:`group_norm_backward`.

    Raises
    ------
    ValueError, TypeError
        Entradas com shape, dtype ou valores inválidos, ou ``num_groups`` que não divide C.

    Examples
    --------
    >>> x = np.array([[1.0, 3.0, 10.0, 30.0]])
    >>> y, _ = group_norm_forward(x, np.ones(4), np.zeros(4), num_groups=2)
    >>> np.round(y, 3)
    array([[-1.,  1., -1.,  1.]])
    """
    where = "group_norm_forward"
    x = validation.check_input(x, where)
    return _group_norm_forward(x, gamma, beta, num_groups, eps, where)


def _group_norm_forward(x, gamma, beta, num_groups, eps, where):
    n, c = x.shape[:2]
    gamma = validation.check_feature_vector(gamma, "gamma", c, x.dtype, where)
    beta = validation.check_feature_vector(beta, "beta", c, x.dtype, where)
    eps = validation.check_eps(eps, where)
    g = _check_groups(num_groups, c, x.shape, where)
    grouped = x.reshape(n, g, -1)
    count = grouped.shape[2]
    mean = grouped.mean(axis=2, keepdims=True)
    centered = grouped - mean
    correction = centered.mean(axis=2, keepdims=True)  # corrige o arredondamento da média
    centered -= correction
    var = np.mean(centered * centered, axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (centered * inv_std).reshape(x.shape)
    y = per_feature(gamma, x.ndim) * x_hat + per_feature(beta, x.ndim)
    cache = NormCache(
        x_hat,
        inv_std[:, :, 0],
        gamma,
        (mean + correction)[:, :, 0],
        var[:, :, 0],
        g,
        count,
    )
    return y, cache


def group_norm_backward(
    dy: np.ndarray, cache: NormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Retropropagação da normalização de grupo (e de camada e de instância), forma fechada.

    É a fórmula da BN aplicada a cada par (exemplo, grupo), com M valores por grupo e
    ``g = dy · gamma`` o gradiente em relação a ``x_hat``::

        dbeta  = Σ_{n,h,w} dy
        dgamma = Σ_{n,h,w} dy · x_hat
        dx     = 1 / (M · sqrt(var + eps)) · (M · g - Σ_grupo g - x_hat · Σ_grupo g · x_hat)

    Parameters
    ----------
    dy : ndarray, shape igual à de ``x``
        Gradiente da perda em relação à saída ``y``.
    cache : NormCache
        Devolvido por :func:`group_norm_forward`, :func:`layer_norm_forward` ou
        :func:`instance_norm_forward`.

    Returns
    -------
    dx : ndarray, shape e dtype de ``x``
    dgamma, dbeta : ndarray, shape (C,)
    """
    where = "group_norm_backward"
    if not isinstance(cache, NormCache):
        raise TypeError(
            f"{where}: o argumento `cache` deve ser o segundo valor devolvido por "
            f"`group_norm_forward`, `layer_norm_forward` ou `instance_norm_forward`; "
            f"recebido um objeto do tipo {type(cache).__name__}."
        )
    x_hat = cache.x_hat
    dy = validation.as_float_array(dy, "dy", where)
    validation.check_same_shape(dy, "dy", x_hat.shape, where)
    validation.check_finite(dy, "dy", where)
    dy = dy.astype(x_hat.dtype, copy=False)

    channel_axes = (0,) + tuple(range(2, x_hat.ndim))
    dbeta = dy.sum(axis=channel_axes)
    dgamma = (dy * x_hat).sum(axis=channel_axes)

    n = x_hat.shape[0]
    g = cache.num_groups
    m = cache.count
    dx_hat = (dy * per_feature(cache.gamma, x_hat.ndim)).reshape(n, g, m)
    x_hat_g = x_hat.reshape(n, g, m)
    sum_dx_hat = dx_hat.sum(axis=2, keepdims=True)
    sum_dx_hat_x_hat = (dx_hat * x_hat_g).sum(axis=2, keepdims=True)
    dx = (cache.inv_std[:, :, None] / m) * (m * dx_hat - sum_dx_hat - x_hat_g * sum_dx_hat_x_hat)
    return dx.reshape(x_hat.shape), dgamma, dbeta


def layer_norm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, NormCache]:
    """Passo direto da normalização de camada: cada exemplo sobre todos os seus valores.

    Para ``x`` de shape (N, D) é o mesmo que ``torch.nn.LayerNorm(D)``. Para (N, C, H, W)
    normaliza cada exemplo sobre C, H e W juntos, com ``gamma`` e ``beta`` por canal, como
    no artigo da normalização de grupo (``torch.nn.GroupNorm(1, C)``).

    Parameters
    ----------
    x : ndarray, shape (N, D) ou (N, C, H, W)
    gamma, beta : ndarray, shape (D,) ou (C,)
    eps : float

    Returns
    -------
    y : ndarray, shape e dtype de ``x``
    cache : NormCache
        Para :func:`layer_norm_backward`.
    """
    where = "layer_norm_forward"
    x = validation.check_input(x, where)
    return _group_norm_forward(x, gamma, beta, 1, eps, where)


def layer_norm_backward(
    dy: np.ndarray, cache: NormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Retropropagação da normalização de camada; ver :func:`group_norm_backward`.

    Returns
    -------
    dx : ndarray, shape de ``x``
    dgamma, dbeta : ndarray, shape (D,) ou (C,)
    """
    return group_norm_backward(dy, cache)


def instance_norm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, NormCache]:
    """Passo direto da normalização de instância: cada canal de cada exemplo sobre H × W.

    O mesmo que ``torch.nn.InstanceNorm2d(C, affine=True)`` no modo de treino (sem
    estatísticas acumuladas).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Com H · W ≥ 2: um único valor por canal teria variância zero.
    gamma, beta : ndarray, shape (C,)
    eps : float

    Returns
    -------
    y : ndarray, shape e dtype de ``x``
    cache : NormCache
        Para :func:`instance_norm_backward`.
    """
    where = "instance_norm_forward"
    x = validation.as_float_array(x, "x", where)
    if x.ndim != 4 or x.shape[2] * x.shape[3] < 2:
        raise ValueError(
            f"{where}: o argumento `x` deve ter 4 dimensões (N, C, H, W) com H · W ≥ 2, "
            f"porque cada canal é normalizado sobre as suas posições; recebido shape "
            f"{tuple(x.shape)}."
        )
    validation.check_finite(x, "x", where)
    return _group_norm_forward(x, gamma, beta, x.shape[1], eps, where)


def instance_norm_backward(
    dy: np.ndarray, cache: NormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Retropropagação da normalização de instância; ver :func:`group_norm_backward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)
    """
    return group_norm_backward(dy, cache)


class RMSNormCache(NamedTuple):
    """O que o passo direto da normalização RMS guarda para a retropropagação.

    Attributes
    ----------
    x_hat : ndarray, shape igual à de ``x``
        Entrada dividida pela raiz da média dos quadrados, ``x / rms``.
    inv_rms : ndarray, shape de ``x`` sem o último eixo
        ``1 / sqrt(mean(x²) + eps)`` de cada vetor.
    gamma : ndarray, shape (D,)
        Escala usada no passo direto.
    """

    x_hat: np.ndarray
    inv_rms: np.ndarray
    gamma: np.ndarray


def _check_last_axis_input(x, where: str) -> np.ndarray:
    x = validation.as_float_array(x, "x", where)
    if x.ndim < 2 or x.shape[-1] < 1:
        raise ValueError(
            f"{where}: o argumento `x` deve ter pelo menos 2 dimensões, como (N, D) ou "
            f"(N, T, D), e normaliza-se cada vetor do último eixo; recebido shape "
            f"{validation.shape_text(x.shape)}."
        )
    validation.check_finite(x, "x", where)
    return x


def rms_norm_forward(
    x: np.ndarray, gamma: np.ndarray, eps: float = 1e-6
) -> tuple[np.ndarray, RMSNormCache]:
    """Passo direto da normalização RMS (Zhang e Sennrich, 2019) sobre o último eixo.

    Cada vetor ``x[..., :]`` de D valores é dividido pela raiz da média dos seus quadrados,
    sem subtrair a média e sem deslocamento::

        rms = sqrt(mean(x², último eixo) + eps)
        y   = gamma · x / rms

    Igual no treino e na inferência; nada depende dos outros exemplos nem das outras
    posições da sequência. É o mesmo que ``torch.nn.RMSNorm(D, eps=eps)``.

    Parameters
    ----------
    x : ndarray, shape (N, D), (N, T, D) ou qualquer (..., D)
        float32 ou float64.
    gamma : ndarray, shape (D,)
        Escala, uma por atributo.
    eps : float
        Somado à média dos quadrados antes da raiz.

    Returns
    -------
    y : ndarray, shape e dtype de ``x``
    cache : RMSNormCache
        Para :func:`rms_norm_backward`.

    Raises
    ------
    ValueError, TypeError
        Entradas com shape, dtype ou valores inválidos.

    Examples
    --------
    >>> y, _ = rms_norm_forward(np.array([[3.0, 4.0]]), np.ones(2), eps=0.0)
    >>> np.round(y * np.sqrt(12.5), 6)
    array([[3., 4.]])
    """
    where = "rms_norm_forward"
    x = _check_last_axis_input(x, where)
    d = x.shape[-1]
    gamma = validation.check_feature_vector(gamma, "gamma", d, x.dtype, where)
    eps = validation.check_eps(eps, where)
    mean_square = np.mean(x * x, axis=-1, keepdims=True)
    inv_rms = 1.0 / np.sqrt(mean_square + eps)
    x_hat = x * inv_rms
    return gamma * x_hat, RMSNormCache(x_hat, inv_rms[..., 0], gamma)


def rms_norm_backward(dy: np.ndarray, cache: RMSNormCache) -> tuple[np.ndarray, np.ndarray]:
    """Retropropagação da normalização RMS, forma fechada.

    Com ``g = dy · gamma`` o gradiente em relação a ``x_hat`` e D valores por vetor::

        dgamma = Σ_{todos os eixos menos o último} dy · x_hat
        dx     = (g - x_hat · mean(g · x_hat, último eixo)) / rms

    É a fórmula da normalização de camada sem o termo da média, que aqui não existe.

    Parameters
    ----------
    dy : ndarray, shape igual à de ``x``
        Gradiente da perda em relação à saída ``y``.
    cache : RMSNormCache
        Devolvido por :func:`rms_norm_forward`.

    Returns
    -------
    dx : ndarray, shape e dtype de ``x``
    dgamma : ndarray, shape (D,)
    """
    where = "rms_norm_backward"
    if not isinstance(cache, RMSNormCache):
        raise TypeError(
            f"{where}: o argumento `cache` deve ser o segundo valor devolvido por "
            f"`rms_norm_forward`; recebido um objeto do tipo {type(cache).__name__}."
        )
    x_hat = cache.x_hat
    dy = validation.as_float_array(dy, "dy", where)
    validation.check_same_shape(dy, "dy", x_hat.shape, where)
    validation.check_finite(dy, "dy", where)
    dy = dy.astype(x_hat.dtype, copy=False)
    dgamma = (dy * x_hat).reshape(-1, x_hat.shape[-1]).sum(axis=0)
    g = dy * cache.gamma
    projection = np.mean(g * x_hat, axis=-1, keepdims=True)
    dx = (g - x_hat * projection) * cache.inv_rms[..., None]
    return dx, dgamma
