"""Normalização em lote (*batch normalization*) em numpy.

Passo direto, retropropagação, estatísticas acumuladas e inferência.

Convenções (as mesmas do PyTorch, verificadas nos testes):

* ``x`` de shape ``(N, D)``: uma média e uma variância por atributo, sobre os N exemplos;
  ``x`` de shape ``(N, C, H, W)``: uma por canal, sobre N, H e W juntos.
* No treino normaliza-se com a variância **enviesada** (divide por m, o número de valores
  por atributo); nas estatísticas acumuladas guarda-se a variância **não enviesada**
  (divide por m - 1).
* ``momentum`` é o peso do lote **novo**: ``acumulada = (1 - momentum) * acumulada +
  momentum * do_lote``; ``momentum=None`` dá a média acumulada simples (1/k no k-ésimo lote).
* O tipo da saída é o da entrada (float32 ou float64).

Este módulo não importa torch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bnlib import validation


class BatchNormCache(NamedTuple):
    """O que o passo direto guarda para a retropropagação e para as estatísticas acumuladas.

    Attributes
    ----------
    x_hat : ndarray, shape igual à de ``x``
        Entrada normalizada, ``(x - mean) * inv_std``.
    inv_std : ndarray, shape (F,)
        ``1 / sqrt(var + eps)`` por atributo (F = D ou C).
    gamma : ndarray, shape (F,)
        Escala usada no passo direto.
    mean : ndarray, shape (F,)
        Média do lote por atributo.
    var : ndarray, shape (F,)
        Variância enviesada (1/m) do lote por atributo.
    count : int
        m, o número de valores por atributo (N, ou N·H·W).
    """

    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    count: int


def reduction_axes(ndim: int) -> tuple[int, ...]:
    """Eixos sobre os quais a média e a variância são calculadas.

    ``(0,)`` para ``(N, D)``; ``(0, 2, 3)`` para ``(N, C, H, W)``.
    """
    return (0,) if ndim == 2 else (0, 2, 3)


def _per_feature(v: np.ndarray, ndim: int) -> np.ndarray:
    """Dá a um vetor (F,) o shape que se propaga (*broadcast*) sobre ``x``."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _checked_input(x, where: str) -> np.ndarray:
    x = validation.as_float_array(x, "x", where)
    validation.check_layout(x, "x", where)
    validation.check_finite(x, "x", where)
    return x


def batch_statistics(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Média e variância enviesada por atributo, em duas passadas corrigidas.

    A fórmula de uma passada, E[x²] - E[x]², perde todos os dígitos quando a média é grande
    perto do desvio padrão. Aqui centramos os dados, e subtraímos de novo a média (quase
    zero) dos dados centrados, o que corrige o erro de arredondamento da primeira média.

    Parameters
    ----------
    x : ndarray, shape (N, D) ou (N, C, H, W)

    Returns
    -------
    mean, var : ndarray, shape (F,)
    """
    axes = reduction_axes(x.ndim)
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    correction = centered.mean(axis=axes, keepdims=True)
    centered -= correction
    mean += correction
    var = np.mean(centered * centered, axis=axes)
    return mean.reshape(-1), var


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, BatchNormCache]:
    """Passo direto da normalização em lote no modo de treino.

    Parameters
    ----------
    x : ndarray, shape (N, D) ou (N, C, H, W)
        Mini-lote, float32 ou float64.
    gamma : ndarray, shape (F,)
        Escala aprendida, F = D (denso) ou C (convolucional).
    beta : ndarray, shape (F,)
        Deslocamento aprendido.
    eps : float
        Somado à variância antes da raiz, para não dividir por zero.

    Returns
    -------
    y : ndarray, mesmo shape e dtype de ``x``
        ``gamma * (x - média) / sqrt(variância + eps) + beta``.
    cache : BatchNormCache
        O necessário para :func:`batchnorm_backward` e :func:`update_running_stats`.

    Raises
    ------
    ValueError, TypeError
        Entradas com shape, dtype ou valores inválidos, ou um só valor por atributo.

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> y, cache = batchnorm_forward(x, np.ones(2), np.zeros(2))
    >>> np.round(y, 3)
    array([[-1., -1.],
           [ 1.,  1.]])
    """
    where = "batchnorm_forward"
    x = _checked_input(x, where)
    num_features = x.shape[1]
    gamma = validation.check_feature_vector(gamma, "gamma", num_features, x.dtype, where)
    beta = validation.check_feature_vector(beta, "beta", num_features, x.dtype, where)
    eps = validation.check_eps(eps, where)
    count = x.size // num_features
    validation.check_values_per_feature(count, x.shape, where)

    mean, var = batch_statistics(x)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - _per_feature(mean, x.ndim)) * _per_feature(inv_std, x.ndim)
    y = _per_feature(gamma, x.ndim) * x_hat + _per_feature(beta, x.ndim)
    return y, BatchNormCache(x_hat, inv_std, gamma, mean, var, count)


def batchnorm_backward(
    dy: np.ndarray, cache: BatchNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Retropropagação da normalização em lote, na forma fechada.

    Com m valores por atributo e ``x_hat`` a entrada normalizada::

        dbeta  = Σ dy
        dgamma = Σ dy · x_hat
        dx     = gamma / (m · sqrt(var + eps)) · (m · dy - dbeta - x_hat · dgamma)

    Parameters
    ----------
    dy : ndarray, shape igual à de ``x``
        Gradiente da perda em relação à saída ``y``.
    cache : BatchNormCache
        Devolvido por :func:`batchnorm_forward`.

    Returns
    -------
    dx : ndarray, shape e dtype de ``x``
    dgamma, dbeta : ndarray, shape (F,)
    """
    where = "batchnorm_backward"
    if not isinstance(cache, BatchNormCache):
        raise TypeError(
            f"{where}: o argumento `cache` deve ser o segundo valor devolvido por "
            f"`batchnorm_forward`; recebido um objeto do tipo {type(cache).__name__}."
        )
    x_hat = cache.x_hat
    dy = validation.as_float_array(dy, "dy", where)
    validation.check_same_shape(dy, "dy", x_hat.shape, where)
    validation.check_finite(dy, "dy", where)
    dy = dy.astype(x_hat.dtype, copy=False)

    axes = reduction_axes(x_hat.ndim)
    dbeta = dy.sum(axis=axes)
    dgamma = (dy * x_hat).sum(axis=axes)
    scale = _per_feature(cache.gamma * cache.inv_std / cache.count, x_hat.ndim)
    dx = scale * (
        cache.count * dy
        - _per_feature(dbeta, x_hat.ndim)
        - x_hat * _per_feature(dgamma, x_hat.ndim)
    )
    return dx, dgamma, dbeta


def update_running_stats(
    running_mean: np.ndarray,
    running_var: np.ndarray,
    cache: BatchNormCache,
    momentum: float | None = 0.1,
    num_batches_tracked: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Atualiza as estatísticas acumuladas (médias móveis) com a convenção do PyTorch.

    ``nova = (1 - momentum) * acumulada + momentum * do_lote``, em que a variância do lote
    entra **não enviesada**, ``var · m / (m - 1)``. Com ``momentum=None`` o peso do lote é
    ``1 / num_batches_tracked`` (média acumulada simples), e ``num_batches_tracked`` deve
    contar o lote atual.

    Parameters
    ----------
    running_mean, running_var : ndarray, shape (F,)
    cache : BatchNormCache
        Do passo direto deste lote.
    momentum : float ou None
    num_batches_tracked : int, opcional
        Obrigatório quando ``momentum`` é None.

    Returns
    -------
    new_mean, new_var : ndarray, shape (F,)
        Novos arrays; as entradas não são modificadas.
    """
    where = "update_running_stats"
    validation.check_momentum(momentum, where)
    num_features = cache.mean.shape[0]
    dtype = cache.mean.dtype
    running_mean = validation.check_feature_vector(
        running_mean, "running_mean", num_features, dtype, where
    )
    running_var = validation.check_feature_vector(
        running_var, "running_var", num_features, dtype, where
    )
    if momentum is None:
        if num_batches_tracked is None or int(num_batches_tracked) < 1:
            raise ValueError(
                f"{where}: com `momentum=None` (média acumulada) é preciso informar "
                f"`num_batches_tracked` ≥ 1, contando o lote atual; recebido "
                f"{num_batches_tracked!r}."
            )
        factor = 1.0 / int(num_batches_tracked)
    else:
        factor = float(momentum)
    unbiased_var = cache.var * (cache.count / (cache.count - 1))
    new_mean = (1.0 - factor) * running_mean + factor * cache.mean
    new_var = (1.0 - factor) * running_var + factor * unbiased_var
    return new_mean, new_var


def batchnorm_inference(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    eps: float = 1e-5,
) -> np.ndarray:
    """Normalização em lote no modo de inferência, com as estatísticas acumuladas.

    Cada exemplo é normalizado sozinho: nada depende do resto do lote, e um lote de um
    exemplo é válido.

    Parameters
    ----------
    x : ndarray, shape (N, D) ou (N, C, H, W)
    gamma, beta, running_mean, running_var : ndarray, shape (F,)
    eps : float

    Returns
    -------
    y : ndarray, mesmo shape e dtype de ``x``
    """
    where = "batchnorm_inference"
    x = _checked_input(x, where)
    num_features = x.shape[1]
    vectors = {
        "gamma": gamma,
        "beta": beta,
        "running_mean": running_mean,
        "running_var": running_var,
    }
    gamma, beta, running_mean, running_var = (
        validation.check_feature_vector(v, name, num_features, x.dtype, where)
        for name, v in vectors.items()
    )
    eps = validation.check_eps(eps, where)
    if (running_var < 0).any():
        raise ValueError(f"{where}: `running_var` contém variâncias negativas: {running_var}.")
    scale = gamma / np.sqrt(running_var + eps)
    centered = x - _per_feature(running_mean, x.ndim)
    return centered * _per_feature(scale, x.ndim) + _per_feature(beta, x.ndim)
