"""Renormalização em lote (*batch renormalization*, Ioffe, 2017), em numpy.

A BN do minilote corrigida por ``r`` e ``d``, que a aproximam das estatísticas acumuladas:
``x_hat = (x - média_do_lote) / dp_do_lote · r + d``, com ``r`` e ``d`` cortados em
``[1/rmax, rmax]`` e ``[-dmax, dmax]`` e tratados como constantes na retropropagação. Os
limites começam em ``rmax = 1``, ``dmax = 0`` (a BN comum) e crescem durante o treino
(:func:`renorm_limits`).

Capítulo: ``book/limites/alternativas``. Este módulo não importa torch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bnlib.core import validation
from bnlib.core.batchnorm import batch_statistics, batchnorm_backward
from bnlib.core.reference import (
    BatchNormCache,
    reduction_axes,
    update_running_stats,
)


class BatchRenormCache(NamedTuple):
    """O que o passo direto da renormalização em lote devolve além da saída.

    Attributes
    ----------
    bn : BatchNormCache
        O cache da BN comum deste minilote (``x_hat`` do minilote, média, variância).
    r : ndarray, shape (F,)
        ``clip(sigma_lote / sigma_acumulado, 1/rmax, rmax)``, tratado como constante.
    d : ndarray, shape (F,)
        ``clip((media_lote - media_acumulada) / sigma_acumulado, -dmax, dmax)``, constante.
    running_mean, running_var : ndarray, shape (F,)
        As estatísticas acumuladas **atualizadas** com este minilote.
    """

    bn: BatchNormCache
    r: np.ndarray
    d: np.ndarray
    running_mean: np.ndarray
    running_var: np.ndarray


def batch_renorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    rmax: float = 3.0,
    dmax: float = 5.0,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[np.ndarray, BatchRenormCache]:
    """Passo direto da renormalização em lote (Ioffe, 2017), no modo de treino.

    Com ``sigma = sqrt(var + eps)`` e as estatísticas acumuladas ``mu``, ``sigma_acc``::

        r     = clip(sigma_lote / sigma_acc, 1/rmax, rmax)
        d     = clip((mu_lote - mu) / sigma_acc, -dmax, dmax)
        x_hat = (x - mu_lote) / sigma_lote · r + d
        y     = gamma · x_hat + beta

    Sem o corte, ``x_hat = (x - mu) / sigma_acc``: o treino usaria as estatísticas
    acumuladas, as mesmas da inferência. ``r`` e ``d`` não recebem gradiente. Com
    ``rmax = 1`` e ``dmax = 0`` a saída é a da BN comum.

    Parameters
    ----------
    x : ndarray, shape (N, D) ou (N, C, H, W)
    gamma, beta, running_mean, running_var : ndarray, shape (F,)
        F = D ou C. ``running_var`` guarda a variância não enviesada, como no PyTorch.
    rmax : float
        ≥ 1; o corte de ``r`` é ``[1/rmax, rmax]``.
    dmax : float
        ≥ 0; o corte de ``d`` é ``[-dmax, dmax]``.
    momentum : float
        Peso do minilote novo nas estatísticas acumuladas (convenção do PyTorch).
    eps : float

    Returns
    -------
    y : ndarray, shape e dtype de ``x``
    cache : BatchRenormCache
        Com ``r``, ``d`` e as estatísticas acumuladas novas (as de entrada não mudam).
    """
    where = "batch_renorm_forward"
    x = validation.check_input(x, where)
    f = x.shape[1]
    gamma = validation.check_feature_vector(gamma, "gamma", f, x.dtype, where)
    beta = validation.check_feature_vector(beta, "beta", f, x.dtype, where)
    running_mean = validation.check_feature_vector(running_mean, "running_mean", f, x.dtype, where)
    running_var = validation.check_feature_vector(running_var, "running_var", f, x.dtype, where)
    eps = validation.check_eps(eps, where)
    validation.check_momentum(momentum, where)
    if momentum is None:
        raise ValueError(f"{where}: o argumento `momentum` deve ser um número em [0, 1].")
    if not np.isfinite(rmax) or rmax < 1:
        raise ValueError(f"{where}: o argumento `rmax` deve ser ≥ 1; recebido {rmax!r}.")
    if not np.isfinite(dmax) or dmax < 0:
        raise ValueError(f"{where}: o argumento `dmax` deve ser ≥ 0; recebido {dmax!r}.")
    count = x.size // f
    validation.check_values_per_feature(count, x.shape, where)

    mean, var = batch_statistics(x)
    sigma_batch = np.sqrt(var + eps)
    sigma_running = np.sqrt(running_var + eps)
    r = np.clip(sigma_batch / sigma_running, 1.0 / rmax, rmax)
    d = np.clip((mean - running_mean) / sigma_running, -dmax, dmax)
    inv_std = 1.0 / sigma_batch
    shape = (1, -1) + (1,) * (x.ndim - 2)
    x_hat_batch = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    y = gamma.reshape(shape) * (x_hat_batch * r.reshape(shape) + d.reshape(shape))
    y = y + beta.reshape(shape)
    bn_cache = BatchNormCache(x_hat_batch, inv_std, gamma, mean, var, count)
    new_mean, new_var = update_running_stats(running_mean, running_var, bn_cache, momentum)
    return y, BatchRenormCache(bn_cache, r, d, new_mean, new_var)


def batch_renorm_backward(
    dy: np.ndarray, cache: BatchRenormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Retropropagação da renormalização em lote, com ``r`` e ``d`` constantes.

    Como ``y = (gamma · r) · x_hat_lote + gamma · d + beta``, o gradiente em relação a ``x``
    é o da BN com escala ``gamma · r``.

    Returns
    -------
    dx : ndarray, shape de ``x``
    dgamma, dbeta : ndarray, shape (F,)
    """
    where = "batch_renorm_backward"
    if not isinstance(cache, BatchRenormCache):
        raise TypeError(
            f"{where}: o argumento `cache` deve ser o segundo valor devolvido por "
            f"`batch_renorm_forward`; recebido um objeto do tipo {type(cache).__name__}."
        )
    bn = cache.bn
    scaled = bn._replace(gamma=bn.gamma * cache.r)
    dx, dgamma_scaled, dbeta = batchnorm_backward(dy, scaled)
    axes = reduction_axes(bn.x_hat.ndim)
    dy = np.asarray(dy, dtype=bn.x_hat.dtype)
    dgamma = dgamma_scaled * cache.r + dy.sum(axis=axes) * cache.d
    return dx, dgamma, dbeta


def renorm_limits(
    step: int,
    warmup_steps: int,
    ramp_steps: int,
    rmax_final: float = 3.0,
    dmax_final: float = 5.0,
) -> tuple[float, float]:
    """Os limites ``(rmax, dmax)`` no passo ``step``, com aquecimento e rampa linear.

    Até ``warmup_steps`` vale ``(1, 0)``, isto é, BN comum, enquanto as estatísticas
    acumuladas ainda não são confiáveis; depois os limites crescem linearmente em
    ``ramp_steps`` passos até ``(rmax_final, dmax_final)``, o esquema de
    Ioffe (2017), que usa ``rmax`` 1 → 3 e ``dmax`` 0 → 5.

    Examples
    --------
    >>> renorm_limits(0, 100, 100), renorm_limits(150, 100, 100), renorm_limits(999, 100, 100)
    ((1.0, 0.0), (2.0, 2.5), (3.0, 5.0))
    """
    if warmup_steps < 0 or ramp_steps < 0:
        raise ValueError(
            f"renorm_limits: `warmup_steps` e `ramp_steps` devem ser ≥ 0; recebidos "
            f"{warmup_steps!r} e {ramp_steps!r}."
        )
    if step <= warmup_steps:
        fraction = 0.0
    elif ramp_steps == 0:
        fraction = 1.0
    else:
        fraction = min(1.0, (step - warmup_steps) / ramp_steps)
    return 1.0 + fraction * (rmax_final - 1.0), fraction * dmax_final
