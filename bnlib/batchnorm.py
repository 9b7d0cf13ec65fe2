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

import threading
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


def per_feature(v: np.ndarray, ndim: int) -> np.ndarray:
    """Dá a um vetor (F,) o shape que se propaga (*broadcast*) sobre ``x``."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


# ---------------------------------------------------------------------------------------
# Maquinário da versão rápida.
#
# A normalização em lote faz poucas contas por byte: o tempo é o de ler e escrever a
# memória. Cada operação do numpy percorre o array inteiro, então uma fórmula com cinco
# operações leria e escreveria a memória cinco vezes. Em vez disso, percorremos ``x`` em
# blocos de exemplos (uns 512 KiB) que cabem na cache: as várias operações de um bloco
# trabalham na cache, e a memória principal é lida uma vez por passada. Dois detalhes do
# numpy: somas por atributo com ``np.add.reduce``/``np.einsum`` (sem arrays temporários), e
# vetores por atributo repetidos até o shape do bloco (``_fill_tile``), porque bloco ⊙ bloco é
# cerca de 1,5× mais rápido que bloco ⊙ vetor propagado (*broadcast*). As somas de cada
# bloco são acumuladas em float64.
# ---------------------------------------------------------------------------------------

BLOCK_BYTES = 512 * 1024
"""Tamanho aproximado, em bytes, de cada bloco de exemplos processado de uma vez."""


def _work_view(a: np.ndarray) -> np.ndarray:
    """``(N, D)`` fica como está; ``(N, C, H, W)`` vira ``(N, C, H·W)`` (sem copiar)."""
    return a if a.ndim == 2 else a.reshape(a.shape[0], a.shape[1], -1)


def _row_blocks(a: np.ndarray) -> list[slice]:
    """Fatias de exemplos (primeiro eixo) com cerca de ``BLOCK_BYTES`` bytes cada."""
    n = a.shape[0]
    step = max(1, BLOCK_BYTES // max(1, a[:1].nbytes))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


_WORKSPACE = threading.local()


def _block_buffers(block: np.ndarray, count: int) -> list[np.ndarray]:
    """``count`` arrays de rascunho com o shape e o dtype de ``block``.

    Alocar e soltar alguns blocos de 512 KiB a cada chamada faz o alocador devolver a
    memória ao sistema e pagar faltas de página (*page faults*) na chamada seguinte; por isso
    os rascunhos vivem num buffer por *thread*, reaproveitado entre chamadas. Quem os usa
    sempre escreve neles antes de ler.
    """
    nbytes = block.nbytes
    if nbytes > 4 * BLOCK_BYTES:  # exemplos enormes: não vale a pena guardar o buffer
        return [np.empty_like(block) for _ in range(count)]
    buffer = getattr(_WORKSPACE, "buffer", None)
    if buffer is None or buffer.nbytes < count * nbytes:
        buffer = _WORKSPACE.buffer = np.empty(count * nbytes, dtype=np.uint8)
    return [
        buffer[i * nbytes : (i + 1) * nbytes].view(block.dtype).reshape(block.shape)
        for i in range(count)
    ]


def _fill_tile(tile: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Escreve o vetor por atributo ``v`` (F,) repetido em todo o bloco ``tile``."""
    np.copyto(tile, v if tile.ndim == 2 else v[:, None])
    return tile


def _feature_sum(block: np.ndarray) -> np.ndarray:
    """Soma por atributo de um bloco (n, F) ou (n, F, R)."""
    if block.ndim == 2:
        return np.add.reduce(block, axis=0)
    return np.einsum("nfr->f", block)


def _feature_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Soma por atributo de ``a · b``, sem criar o produto na memória."""
    ix = "nf" if a.ndim == 2 else "nfr"
    return np.einsum(f"{ix},{ix}->f", a, b)


def _check_out(buffer, name: str, x: np.ndarray, where: str) -> np.ndarray:
    """Exige um buffer de saída com o shape e o dtype de ``x``, contíguo e gravável."""
    if not isinstance(buffer, np.ndarray):
        raise TypeError(
            f"{where}: `{name}` deve ser um numpy.ndarray; recebido {type(buffer).__name__}."
        )
    validation.check_same_shape(buffer, name, x.shape, where)
    if buffer.dtype != x.dtype:
        raise TypeError(
            f"{where}: `{name}` deve ter o dtype da entrada, {x.dtype}; "
            f"recebido dtype {buffer.dtype}."
        )
    if not (buffer.flags.c_contiguous and buffer.flags.writeable):
        raise ValueError(
            f"{where}: `{name}` deve ser contíguo (ordem C) e gravável; use, por exemplo, "
            f"`np.empty_like(x)`."
        )
    return buffer


def _mean_and_var(xv: np.ndarray, count: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Média e variância enviesada por atributo de ``xv`` (visão de trabalho), em float64.

    1ª passada: Σx e Σx² (as somas de cada bloco acumuladas em float64). Se a média não é
    grande perto do desvio padrão (média² ≤ variância), ``E[x²] - E[x]²`` perde no máximo
    um bit por cancelamento e basta esta passada.

    Senão (por exemplo, média 10⁴ e desvio padrão 1 em float32), a 2ª passada corrigida:
    com ``shift`` a média arredondada para o dtype de x e ``c = x - shift``, as somas Σc e
    Σc². Como ``shift`` está perto da média, ``correction = Σc / m`` é pequena, ``var =
    Σc²/m - correction²`` não sofre cancelamento, e ``correction`` conserta o arredondamento
    de ``shift``. Os desvios ``c`` de cada bloco vivem num rascunho que fica na cache.
    """
    blocks = _row_blocks(xv)
    total = np.zeros(xv.shape[1])
    total_sq = np.zeros(xv.shape[1])
    for b in blocks:
        total += _feature_sum(xv[b])
        total_sq += _feature_dot(xv[b], xv[b])
    if not np.isfinite(total).all():
        # Só acontece com NaN ou infinito em x (ou com estouro de valores enormes):
        # a verificação completa, mais cara, diz qual é o problema.
        validation.check_finite(xv, "x", where)
    mean = total / count
    var = total_sq / count - mean**2
    if np.isfinite(var).all() and np.all(mean**2 <= var):
        return mean, var

    shift = mean.astype(xv.dtype)
    scratch, shift_tile = _block_buffers(xv[blocks[0]], 2)
    _fill_tile(shift_tile, shift)
    sum_c = np.zeros(xv.shape[1])
    sum_c2 = np.zeros(xv.shape[1])
    for b in blocks:
        n = b.stop - b.start
        c = np.subtract(xv[b], shift_tile[:n], out=scratch[:n])
        sum_c += _feature_sum(c)
        sum_c2 += _feature_dot(c, c)
    correction = sum_c / count
    return shift + correction, np.maximum(sum_c2 / count - correction**2, 0.0)


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
    mean, var = _mean_and_var(_work_view(np.ascontiguousarray(x)), count, where)
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
        Mini-lote, float32 ou float64.
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
        y = _check_out(out[0], "out[0] (y)", x, where)
        x_hat = _check_out(out[1], "out[1] (x_hat)", x, where)

    # Estatísticas: uma passada, ou duas corrigidas quando a média é grande (ver
    # _mean_and_var). NaN e infinitos em x aparecem nas somas e são denunciados lá, sem
    # uma passada extra de verificação.
    xv = _work_view(np.ascontiguousarray(x))
    mean, var = _mean_and_var(xv, count, where)
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
    yv, x_hat_v = _work_view(y), _work_view(x_hat)
    blocks = _row_blocks(xv)
    tiles = _block_buffers(xv[blocks[0]], 5)
    values = (mean_high, mean_low, inv_std, gamma, beta)
    high, low, scale, gamma_t, beta_t = map(_fill_tile, tiles, values)
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
    if not isinstance(cache, BatchNormCache):
        raise TypeError(
            f"{where}: o argumento `cache` deve ser o segundo valor devolvido por "
            f"`batchnorm_forward`; recebido um objeto do tipo {type(cache).__name__}."
        )
    x_hat = cache.x_hat
    dy = validation.as_float_array(dy, "dy", where)
    validation.check_same_shape(dy, "dy", x_hat.shape, where)
    dy = np.ascontiguousarray(dy, dtype=x_hat.dtype)
    dx = np.empty_like(x_hat) if out is None else _check_out(out, "out (dx)", x_hat, where)

    dyv, x_hat_v, dxv = _work_view(dy), _work_view(np.ascontiguousarray(x_hat)), _work_view(dx)
    blocks = _row_blocks(dyv)

    # 1ª passada: as duas somas, dbeta = Σ dy e dgamma = Σ dy · x_hat (acumuladas em float64).
    dbeta = np.zeros(dy.shape[1])
    dgamma = np.zeros(dy.shape[1])
    for b in blocks:
        dbeta += _feature_sum(dyv[b])
        dgamma += _feature_dot(dyv[b], x_hat_v[b])
    if not (np.isfinite(dbeta).all() and np.isfinite(dgamma).all()):
        validation.check_finite(dy, "dy", where)

    # 2ª passada: dx = a · (dy - dbeta/m - x_hat · dgamma/m), com a = gamma · inv_std,
    # a forma fechada reescrita em quatro operações, bloco a bloco.
    m = cache.count
    scratch, *tiles = _block_buffers(dyv[blocks[0]], 4)
    values = (cache.gamma.astype(np.float64) * cache.inv_std, dbeta / m, dgamma / m)
    a, mean_dy, k = map(_fill_tile, tiles, values)
    for b in blocks:
        n = b.stop - b.start
        t = np.multiply(x_hat_v[b], k[:n], out=scratch[:n])  # x_hat · dgamma/m
        dxb = np.subtract(dyv[b], t, out=dxv[b])  # dy - x_hat · dgamma/m (dy já foi lido)
        dxb -= mean_dy[:n]
        dxb *= a[:n]
    return dx, dgamma.astype(dy.dtype), dbeta.astype(dy.dtype)


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
