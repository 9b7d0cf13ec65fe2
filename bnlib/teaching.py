"""Versões didáticas da normalização em lote: cada linha do algoritmo com o seu nome.

``batchnorm_forward_steps`` guarda todos os valores intermediários do passo direto, e
``batchnorm_backward_staged`` percorre o grafo computacional de trás para a frente, um nó
por vez. São lentas de propósito: servem para ler e conferir. As versões rápidas são
``bnlib.batchnorm_forward`` e ``bnlib.batchnorm_backward``, e os testes exigem que as duas
famílias concordem.
"""

from __future__ import annotations

import numpy as np

from bnlib import validation
from bnlib.batchnorm import reduction_axes


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

    mu = x.sum(axis=axes, keepdims=True) / m  # 1. média do mini-lote
    xmu = x - mu  # 2. desvios em relação à média
    sq = xmu**2  # 3. quadrados dos desvios
    var = sq.sum(axis=axes, keepdims=True) / m  # 4. variância enviesada (divide por m)
    std = np.sqrt(var + eps)  # 5. desvio padrão, com epsilon
    inv_std = 1.0 / std  # 6. inverso do desvio padrão
    x_hat = xmu * inv_std  # 7. entrada normalizada
    y = gamma.reshape(shape) * x_hat + beta.reshape(shape)  # 8. escala e deslocamento
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
