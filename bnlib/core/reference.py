"""A normalização em lote em numpy, escrita para ser lida: é o código que o livro mostra.

Cada função aqui é a conta do artigo, uma operação por linha, sem truques de desempenho:

* :func:`batchnorm_forward_steps`: o passo direto, os oito nós do grafo computacional com
  os seus nomes (o algoritmo 1 de Ioffe e Szegedy, 2015);
* :func:`batchnorm_forward`: o mesmo passo direto, devolvendo a saída e o
  :class:`BatchNormCache` que a retropropagação usa;
* :func:`batchnorm_backward`: a retropropagação na forma fechada;
* :func:`batchnorm_backward_staged`: a retropropagação nó a nó pelo grafo, a regra da
  cadeia aplicada à mão (o capítulo da retropropagação mostra que as duas concordam);
* :func:`update_running_stats` e :func:`batchnorm_inference`: as estatísticas acumuladas e
  o modo de inferência.

A versão rápida, :mod:`bnlib.core.batchnorm`, tem as mesmas assinaturas e devolve os mesmos
números (os testes exigem a igualdade, e a igualdade com o PyTorch).

Convenções (as do PyTorch):

* ``x`` de shape ``(N, D)``: uma média e uma variância por atributo, sobre os N exemplos;
  ``x`` de shape ``(N, C, H, W)``: uma por canal, sobre N, H e W juntos.
* No treino normaliza-se com a variância **enviesada** (divide por m, o número de valores
  por atributo); nas estatísticas acumuladas guarda-se a variância **não enviesada**
  (divide por m - 1).
* ``momentum`` é o peso do lote **novo**: ``acumulada = (1 - momentum) * acumulada +
  momentum * do_lote``; ``momentum=None`` troca a média móvel pela média simples (peso
  1/k no k-ésimo lote).
* O tipo da saída é o da entrada (float32 ou float64).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bnlib.core import validation


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


def check_cache(cache, where: str) -> BatchNormCache:
    """Exige o ``BatchNormCache`` devolvido pelo passo direto."""
    if not isinstance(cache, BatchNormCache):
        raise TypeError(
            f"{where}: o argumento `cache` deve ser o segundo valor devolvido por "
            f"`batchnorm_forward`; recebido um objeto do tipo {type(cache).__name__}."
        )
    return cache


def reduction_axes(ndim: int) -> tuple[int, ...]:
    """Eixos sobre os quais a média e a variância são calculadas.

    ``(0,)`` para ``(N, D)``; ``(0, 2, 3)`` para ``(N, C, H, W)``.
    """
    return (0,) if ndim == 2 else (0, 2, 3)


def per_feature(v: np.ndarray, ndim: int) -> np.ndarray:
    """Dá a um vetor (F,) o shape que se propaga (*broadcast*) sobre ``x``."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batchnorm_forward_steps(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> dict[str, np.ndarray]:
    """Passo direto da normalização em lote, uma operação por linha.

    Parameters
    ----------
    x : ndarray, shape (N, D) ou (N, C, H, W)
    gamma, beta : ndarray, shape (F,)
        F = D ou C.
    eps : float

    Returns
    -------
    steps : dict
        Os nós do grafo, com shapes que se propagam sobre ``x`` (``keepdims``):
        ``x``; ``mu`` (média); ``xmu`` (x - mu); ``sq`` (xmu²); ``var`` (média de sq);
        ``std`` (sqrt(var + eps)); ``inv_std`` (1/std); ``x_hat`` (xmu · inv_std);
        ``gamma`` e ``beta`` com o mesmo formato de ``mu``; ``y`` (gamma · x_hat + beta);
        e ``m``, o número de valores por atributo.
    """
    where = "batchnorm_forward_steps"
    x = validation.check_input(x, where)
    num_features = x.shape[1]
    shape = (1, num_features) + (1,) * (x.ndim - 2)
    gamma = validation.check_feature_vector(gamma, "gamma", num_features, x.dtype, where)
    beta = validation.check_feature_vector(beta, "beta", num_features, x.dtype, where)
    eps = validation.check_eps(eps, where)
    axes = reduction_axes(x.ndim)
    m = x.size // num_features
    validation.check_values_per_feature(m, x.shape, where)

    # 1. média do minilote, um valor por atributo
    mu = x.sum(axis=axes, keepdims=True) / m
    # 2. desvios em relação à média
    xmu = x - mu
    # 3. quadrados dos desvios
    sq = xmu**2
    # 4. variância enviesada (divide por m)
    var = sq.sum(axis=axes, keepdims=True) / m
    # 5. desvio padrão, com epsilon
    std = np.sqrt(var + eps)
    # 6. inverso do desvio padrão
    inv_std = 1.0 / std
    # 7. entrada normalizada
    x_hat = xmu * inv_std
    # 8. escala e deslocamento
    y = gamma.reshape(shape) * x_hat + beta.reshape(shape)
    return {
        "x": x,
        "mu": mu,
        "xmu": xmu,
        "sq": sq,
        "var": var,
        "std": std,
        "inv_std": inv_std,
        "x_hat": x_hat,
        "gamma": gamma.reshape(shape),
        "beta": beta.reshape(shape),
        "y": y,
        "m": m,
    }


def batchnorm_backward_staged(
    dy: np.ndarray, steps: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Retropropagação nó a nó pelo grafo de :func:`batchnorm_forward_steps`.

    Cada linha aplica a regra da cadeia a um nó, na ordem inversa do passo direto. Um nó
    usado por dois caminhos (``xmu`` e ``x``) recebe a soma dos gradientes dos dois.

    Parameters
    ----------
    dy : ndarray, shape de ``x``
    steps : dict
        Devolvido por :func:`batchnorm_forward_steps`.

    Returns
    -------
    dx : ndarray, shape de ``x``
    dgamma, dbeta : ndarray, shape (F,)
    """
    where = "batchnorm_backward_staged"
    x = steps["x"]
    dy = validation.as_float_array(dy, "dy", where)
    validation.check_same_shape(dy, "dy", x.shape, where)
    dy = dy.astype(x.dtype, copy=False)
    axes = reduction_axes(x.ndim)
    m = steps["m"]

    # 8. y = gamma · x_hat + beta
    dbeta = dy.sum(axis=axes)
    dgamma = (dy * steps["x_hat"]).sum(axis=axes)
    dx_hat = dy * steps["gamma"]
    # 7. x_hat = xmu · inv_std: dois caminhos, para xmu e para inv_std
    dinv_std = (dx_hat * steps["xmu"]).sum(axis=axes, keepdims=True)
    dxmu = dx_hat * steps["inv_std"]
    # 6. inv_std = 1 / std
    dstd = -dinv_std / steps["std"] ** 2
    # 5. std = sqrt(var + eps)
    dvar = dstd / (2.0 * steps["std"])
    # 4. var = soma(sq) / m: o gradiente se espalha igualmente sobre os m valores
    dsq = np.broadcast_to(dvar / m, x.shape)
    # 3. sq = xmu²: segundo caminho até xmu
    dxmu = dxmu + 2.0 * steps["xmu"] * dsq
    # 2. xmu = x - mu: caminho direto até x e caminho até mu
    dmu = -dxmu.sum(axis=axes, keepdims=True)
    dx = dxmu.copy()
    # 1. mu = soma(x) / m
    dx += np.broadcast_to(dmu / m, x.shape)
    return dx, dgamma, dbeta


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, BatchNormCache]:
    """Passo direto no modo de treino: a saída e o que a retropropagação precisa guardar.

    Parameters
    ----------
    x : ndarray, shape (N, D) ou (N, C, H, W)
        Minilote, float32 ou float64.
    gamma, beta : ndarray, shape (F,)
        Escala e deslocamento aprendidos; F = D (denso) ou C (convolucional).
    eps : float
        Somado à variância antes da raiz, para não dividir por zero.

    Returns
    -------
    y : ndarray, mesmo shape e dtype de ``x``
    cache : BatchNormCache

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> y, cache = batchnorm_forward(x, np.ones(2), np.zeros(2))
    >>> np.round(y, 3)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> cache.mean, cache.var
    (array([ 2., 20.]), array([  1., 100.]))
    """
    s = batchnorm_forward_steps(x, gamma, beta, eps)
    cache = BatchNormCache(
        x_hat=s["x_hat"],
        inv_std=s["inv_std"].reshape(-1),
        gamma=s["gamma"].reshape(-1),
        mean=s["mu"].reshape(-1),
        var=s["var"].reshape(-1),
        count=s["m"],
    )
    return s["y"], cache


def batchnorm_backward(
    dy: np.ndarray, cache: BatchNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Retropropagação na forma fechada.

    Com m valores por atributo e ``x_hat`` a entrada normalizada::

        dbeta  = Σ dy
        dgamma = Σ dy · x_hat
        dx     = gamma / (m · sqrt(var + eps)) · (m · dy - dbeta - x_hat · dgamma)

    Parameters
    ----------
    dy : ndarray, shape de ``x``
        Gradiente da perda em relação à saída ``y``.
    cache : BatchNormCache
        Devolvido por :func:`batchnorm_forward`.

    Returns
    -------
    dx : ndarray, shape e dtype de ``x``
    dgamma, dbeta : ndarray, shape (F,)

    Examples
    --------
    Se a perda é a soma das saídas (dy = 1), o gradiente em relação a ``x`` é zero: a BN
    tira a média, e somar uma constante a uma coluna não muda nada.

    >>> x = np.array([[1.0, 10.0], [3.0, 30.0], [8.0, 20.0]])
    >>> y, cache = batchnorm_forward(x, np.ones(2), np.zeros(2))
    >>> dx, dgamma, dbeta = batchnorm_backward(np.ones_like(y), cache)
    >>> bool(np.abs(dx).max() < 1e-12), dbeta
    (True, array([3., 3.]))
    """
    where = "batchnorm_backward"
    x_hat = check_cache(cache, where).x_hat
    dy = validation.as_float_array(dy, "dy", where)
    validation.check_same_shape(dy, "dy", x_hat.shape, where)
    dy = dy.astype(x_hat.dtype, copy=False)
    axes, ndim, m = reduction_axes(x_hat.ndim), x_hat.ndim, cache.count

    dbeta = dy.sum(axis=axes)
    dgamma = (dy * x_hat).sum(axis=axes)
    scale = per_feature(cache.gamma * cache.inv_std / m, ndim)
    dx = scale * (m * dy - per_feature(dbeta, ndim) - x_hat * per_feature(dgamma, ndim))
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
    ``1 / num_batches_tracked`` (a média simples de todos os lotes), e ``num_batches_tracked`` deve
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
                f"{where}: com `momentum=None` (média simples dos lotes) é preciso informar "
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
    x = validation.check_input(x, where)
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
    centered = x - per_feature(running_mean, x.ndim)
    return centered * per_feature(scale, x.ndim) + per_feature(beta, x.ndim)
