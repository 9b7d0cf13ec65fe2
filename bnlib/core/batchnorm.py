"""Normalização em lote em numpy, a versão rápida: as mesmas funções de :mod:`bnlib.core.reference`.

``batchnorm_forward`` e ``batchnorm_backward`` têm as assinaturas, o ``BatchNormCache`` e os
resultados da versão de referência (os testes exigem a igualdade), mas percorrem a memória
em blocos que cabem na cache, aceitam buffers de saída (``out=``) e calculam a variância de
forma estável mesmo com médias grandes. O maquinário está em :mod:`bnlib.core._blocked`.
As estatísticas acumuladas e a inferência não pesam no tempo: são as da referência.

Convenções (as mesmas do PyTorch, verificadas nos testes):

* ``x`` de shape ``(N, D)``: uma média e uma variância por atributo, sobre os N exemplos;
  ``x`` de shape ``(N, C, H, W)``: uma por canal, sobre N, H e W juntos.
* No treino normaliza-se com a variância **enviesada** (divide por m, o número de valores
  por atributo).
* O tipo da saída é o da entrada (float32 ou float64).
"""

from __future__ import annotations

import numpy as np

from bnlib.core import validation
from bnlib.core._blocked import (
    block_buffers,
    check_out,
    feature_dot,
    feature_sum,
    fill_tile,
    mean_and_var,
    row_blocks,
    work_view,
)
from bnlib.core.reference import BatchNormCache, check_cache


def batch_statistics(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Média e variância enviesada por atributo, estáveis mesmo com médias grandes.

    A fórmula de uma passada, E[x²] - E[x]², perde todos os dígitos quando a média é grande
    perto do desvio padrão. Ela só é usada quando média² ≤ variância (perde no máximo um
    bit); senão, uma segunda passada centra os dados e soma de novo os desvios, cuja média
    (quase zero) corrige o erro de arredondamento da primeira média (duas passadas
    corrigidas). O acúmulo é feito em float64.

    Parameters
    ----------
    x : ndarray, shape (N, D) ou (N, C, H, W)

    Returns
    -------
    mean, var : ndarray, shape (F,), dtype de ``x``
    """
    where = "batch_statistics"
    x = validation.as_float_array(x, "x", where)
    validation.check_layout(x, "x", where)
    count = x.size // x.shape[1]
    validation.check_values_per_feature(count, x.shape, where)
    mean, var = mean_and_var(work_view(np.ascontiguousarray(x)), count, where)
    return mean.astype(x.dtype), var.astype(x.dtype)


def batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    eps: float = 1e-5,
    *,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, BatchNormCache]:
    """Passo direto da normalização em lote no modo de treino.

    Parameters
    ----------
    x : ndarray, shape (N, D) ou (N, C, H, W)
        Minilote, float32 ou float64.
    gamma : ndarray, shape (F,)
        Escala aprendida, F = D (denso) ou C (convolucional).
    beta : ndarray, shape (F,)
        Deslocamento aprendido.
    eps : float
        Somado à variância antes da raiz, para não dividir por zero.
    out : (y, x_hat), opcional
        Dois arrays já alocados, com o shape e o dtype de ``x`` e contíguos, onde escrever
        a saída e a entrada normalizada. Reaproveitá-los entre chamadas evita alocar (e o
        sistema operacional zerar) dois arrays grandes a cada passo.

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
    x = validation.as_float_array(x, "x", where)
    validation.check_layout(x, "x", where)
    num_features = x.shape[1]
    gamma = validation.check_feature_vector(gamma, "gamma", num_features, x.dtype, where)
    beta = validation.check_feature_vector(beta, "beta", num_features, x.dtype, where)
    eps = validation.check_eps(eps, where)
    count = x.size // num_features
    validation.check_values_per_feature(count, x.shape, where)
    if out is None:
        y, x_hat = np.empty_like(x, order="C"), np.empty_like(x, order="C")
    else:
        if not (isinstance(out, tuple | list) and len(out) == 2):
            raise TypeError(
                f"{where}: `out` deve ser um par (y, x_hat) de arrays já alocados; "
                f"recebido {type(out).__name__}."
            )
        y = check_out(out[0], "out[0] (y)", x, where)
        x_hat = check_out(out[1], "out[1] (x_hat)", x, where)

    # Estatísticas: uma passada, ou duas corrigidas quando a média é grande (ver
    # mean_and_var). NaN e infinitos em x aparecem nas somas e são denunciados lá, sem
    # uma passada extra de verificação.
    xv = work_view(np.ascontiguousarray(x))
    mean, var = mean_and_var(xv, count, where)
    inv_std = 1.0 / np.sqrt(var + eps)

    # Última passada, bloco a bloco: x_hat = ((x - média_alta) - média_baixa) · inv_std e
    # y = gamma · x_hat + beta. A média (em float64) é dividida numa parte alta, no dtype de
    # x, e no resto: subtrair as duas em sequência preserva os dígitos que se perderiam ao
    # arredondar a média para float32 (média grande perto do desvio padrão). Quando o resto
    # não muda x_hat em nem meio ulp, a segunda subtração é pulada.
    dtype = x.dtype
    mean_high = mean.astype(dtype)
    mean_low = mean - mean_high
    needs_low = bool(np.any(np.abs(mean_low) * inv_std > 0.5 * np.finfo(dtype).eps))
    yv, x_hat_v = work_view(y), work_view(x_hat)
    blocks = row_blocks(xv)
    tiles = block_buffers(xv[blocks[0]], 5)
    values = (mean_high, mean_low, inv_std, gamma, beta)
    high, low, scale, gamma_t, beta_t = map(fill_tile, tiles, values)
    for b in blocks:
        n = b.stop - b.start
        xh = np.subtract(xv[b], high[:n], out=x_hat_v[b])
        if needs_low:
            xh -= low[:n]
        xh *= scale[:n]
        yb = np.multiply(xh, gamma_t[:n], out=yv[b])
        yb += beta_t[:n]

    cache = BatchNormCache(x_hat, inv_std.astype(dtype), gamma, mean_high, var.astype(dtype), count)
    return y, cache


def batchnorm_backward(
    dy: np.ndarray, cache: BatchNormCache, *, out: np.ndarray | None = None
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
    out : ndarray, opcional
        Array já alocado (shape e dtype de ``x``, contíguo) onde escrever ``dx``. Pode ser
        o próprio ``dy``, que então é sobrescrito.

    Returns
    -------
    dx : ndarray, shape e dtype de ``x``
    dgamma, dbeta : ndarray, shape (F,)
    """
    where = "batchnorm_backward"
    x_hat = check_cache(cache, where).x_hat
    dy = validation.as_float_array(dy, "dy", where)
    validation.check_same_shape(dy, "dy", x_hat.shape, where)
    dy = np.ascontiguousarray(dy, dtype=x_hat.dtype)
    dx = np.empty_like(x_hat) if out is None else check_out(out, "out (dx)", x_hat, where)

    dyv, x_hat_v, dxv = work_view(dy), work_view(np.ascontiguousarray(x_hat)), work_view(dx)
    blocks = row_blocks(dyv)

    # 1ª passada: as duas somas, dbeta = Σ dy e dgamma = Σ dy · x_hat (acumuladas em float64).
    dbeta = np.zeros(dy.shape[1])
    dgamma = np.zeros(dy.shape[1])
    for b in blocks:
        dbeta += feature_sum(dyv[b])
        dgamma += feature_dot(dyv[b], x_hat_v[b])
    if not (np.isfinite(dbeta).all() and np.isfinite(dgamma).all()):
        validation.check_finite(dy, "dy", where)

    # 2ª passada: dx = a · (dy - dbeta/m - x_hat · dgamma/m), com a = gamma · inv_std,
    # a forma fechada reescrita em quatro operações, bloco a bloco.
    m = cache.count
    scratch, *tiles = block_buffers(dyv[blocks[0]], 4)
    values = (cache.gamma.astype(np.float64) * cache.inv_std, dbeta / m, dgamma / m)
    a, mean_dy, k = map(fill_tile, tiles, values)
    for b in blocks:
        n = b.stop - b.start
        t = np.multiply(x_hat_v[b], k[:n], out=scratch[:n])  # x_hat · dgamma/m
        dxb = np.subtract(dyv[b], t, out=dxv[b])  # dy - x_hat · dgamma/m (dy já foi lido)
        dxb -= mean_dy[:n]
        dxb *= a[:n]
    return dx, dgamma.astype(dy.dtype), dbeta.astype(dy.dtype)
