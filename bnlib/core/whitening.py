"""Branqueamento (*whitening*) de um minilote em numpy: ZCA completo e por grupos de atributos.

Capítulo: ``book/interacoes/correlacoes`` (padronizar não é descorrelacionar).

A normalização em lote padroniza cada atributo sozinho: média 0 e variância 1, mas as
correlações entre atributos ficam como estavam. Branquear vai além: a saída tem a matriz de
covariância identidade. O branqueamento ZCA usa a matriz simétrica

.. math:: W = \\Sigma^{-1/2} = U \\mathrm{diag}((\\lambda + \\epsilon)^{-1/2}) U^\\top,

com :math:`\\Sigma = U \\mathrm{diag}(\\lambda) U^\\top` a covariância (enviesada) do minilote,
e devolve :math:`(x - \\mu) W`. Com ``group_size = g`` os atributos são divididos em grupos de
``g`` atributos consecutivos, e cada grupo é branqueado sozinho (a matriz fica diagonal por
blocos): ``g = 1`` é a padronização da BN (sem :math:`\\gamma` e :math:`\\beta`), ``g = D``
é o ZCA completo.

:func:`whitening_flops` conta as operações de ponto flutuante de cada etapa, para comparar
o custo do branqueamento com o da padronização.

Examples
--------
>>> import numpy as np
>>> x = np.random.default_rng(0).normal(size=(500, 3)) @ np.array(
...     [[1.0, 0.8, 0.0], [0.0, 0.6, 0.5], [0.0, 0.0, 1.0]])
>>> result = whiten(x, eps=0.0)
>>> result.y.shape, result.matrix.shape
((500, 3), (3, 3))
>>> bool(np.allclose(np.cov(result.y.T, bias=True), np.eye(3)))
True
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from bnlib.core import validation

#: Operações da decomposição simétrica com autovetores, por :math:`g^3` (o algoritmo QR
#: simétrico com acúmulo de Q, segundo Golub e Van Loan, *Matrix Computations*, § 8.3).
EIGH_FLOPS_PER_CUBE = 9


class Whitening(NamedTuple):
    """Resultado de :func:`whiten`.

    Attributes
    ----------
    y : ndarray, shape (N, D)
        O minilote branqueado, ``(x - mean) @ matrix``, no dtype de ``x``.
    mean : ndarray, shape (D,)
        A média de cada atributo no minilote.
    matrix : ndarray, shape (D, D)
        A matriz de branqueamento, simétrica; diagonal por blocos de ``group_size``.
        Para branquear outros dados com as estatísticas deste minilote:
        ``(x_novo - mean) @ matrix``.
    """

    y: np.ndarray
    mean: np.ndarray
    matrix: np.ndarray


def _check_table(x, where: str) -> np.ndarray:
    x = validation.as_float_array(x, "x", where)
    if x.ndim != 2:
        raise ValueError(
            f"{where}: o argumento `x` deve ter 2 dimensões (N, D), um exemplo por linha; "
            f"recebido shape {validation.shape_text(x.shape)}."
        )
    validation.check_finite(x, "x", where)
    if x.shape[0] < 2:
        raise ValueError(
            f"{where}: é preciso N ≥ 2 exemplos para estimar uma covariância; `x` tem shape "
            f"{validation.shape_text(x.shape)}."
        )
    return x


def _check_group_size(group_size, d: int, where: str) -> int:
    if group_size is None:
        return d
    if (
        isinstance(group_size, bool)
        or not isinstance(group_size, numbers.Integral)
        or group_size < 1
        or d % group_size
    ):
        raise ValueError(
            f"{where}: o argumento `group_size` deve ser um inteiro positivo que divide o "
            f"número de atributos D = {d} (ou None, para branquear todos juntos); "
            f"recebido {group_size!r}."
        )
    return int(group_size)


def _moments64(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Média, dados centrados e covariância enviesada, em float64."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=0)
    centered = x64 - mean
    return mean, centered, centered.T @ centered / x.shape[0]


def batch_covariance(x) -> tuple[np.ndarray, np.ndarray]:
    """Média e covariância **enviesada** (divide por N) dos atributos de um minilote.

    A conta é feita em float64; o resultado volta no dtype de ``x``.

    Parameters
    ----------
    x : ndarray, shape (N, D)

    Returns
    -------
    mean : ndarray, shape (D,)
    cov : ndarray, shape (D, D)
        Simétrica; a diagonal é a variância enviesada que a BN usa.
    """
    x = _check_table(x, "batch_covariance")
    mean, _, cov = _moments64(x)
    return mean.astype(x.dtype), cov.astype(x.dtype)


def inverse_sqrt(cov, eps: float = 1e-5) -> np.ndarray:
    """A matriz simétrica :math:`(\\Sigma + \\epsilon I)^{-1/2}`, pela decomposição em autovalores.

    Parameters
    ----------
    cov : ndarray, shape (D, D)
        Matriz simétrica semidefinida positiva (uma covariância).
    eps : float
        Somado a cada autovalor antes da raiz, como o :math:`\\epsilon` da BN.

    Returns
    -------
    ndarray, shape (D, D), dtype de ``cov``

    Raises
    ------
    ValueError
        Se ``cov`` não é quadrada e simétrica, ou se algum autovalor mais ``eps`` é zero (na
        precisão da conta) ou negativo: a covariância é singular e não há inversa. Isso
        acontece, com ``eps = 0``, sempre que o minilote tem N ≤ D exemplos.
    """
    where = "inverse_sqrt"
    cov = validation.as_float_array(cov, "cov", where)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(
            f"{where}: o argumento `cov` deve ser uma matriz quadrada (D, D); recebido shape "
            f"{validation.shape_text(cov.shape)}."
        )
    validation.check_finite(cov, "cov", where)
    eps = validation.check_eps(eps, where)
    cov64 = cov.astype(np.float64)
    scale = max(float(np.abs(cov64).max()), np.finfo(np.float64).tiny)
    if np.abs(cov64 - cov64.T).max() > 1e-6 * scale:
        raise ValueError(f"{where}: o argumento `cov` deve ser simétrico; não é.")
    lam, u = np.linalg.eigh((cov64 + cov64.T) / 2)
    shifted = lam + eps
    floor = cov.shape[0] * np.finfo(np.float64).eps * max(float(lam.max()), 0.0)
    if shifted.min() <= floor:
        raise ValueError(
            f"{where}: a covariância é singular (menor autovalor {lam.min():.3g}, com "
            f"eps = {eps}); não há (Σ + εI)^(-1/2). Com eps = 0 isso acontece sempre que o "
            f"minilote tem N ≤ D exemplos; use eps > 0 ou um minilote maior."
        )
    return ((u / np.sqrt(shifted)) @ u.T).astype(cov.dtype)


def whiten(x, eps: float = 1e-5, group_size: int | None = None) -> Whitening:
    """Branqueamento ZCA de um minilote, completo ou por grupos de atributos.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        O minilote, float32 ou float64.
    eps : float
        Somado aos autovalores da covariância (ver :func:`inverse_sqrt`).
    group_size : int, opcional
        ``None`` (padrão): todos os D atributos juntos (ZCA completo). Um divisor ``g`` de D:
        cada grupo de ``g`` atributos consecutivos é branqueado sozinho; ``g = 1`` é a
        padronização da BN.

    Returns
    -------
    Whitening
        ``y`` tem, no próprio minilote, média 0 e covariância ``I`` (a menos de ``eps``)
        dentro de cada grupo.

    Examples
    --------
    >>> x = np.random.default_rng(1).normal(size=(64, 4)) * [1.0, 2.0, 3.0, 4.0]
    >>> y, _, _ = whiten(x, eps=0.0, group_size=1)
    >>> bool(np.allclose(y.std(axis=0), 1.0))
    True
    """
    where = "whiten"
    x = _check_table(x, where)
    eps = validation.check_eps(eps, where)
    d = x.shape[1]
    g = _check_group_size(group_size, d, where)
    mean = np.empty(d)
    matrix = np.zeros((d, d))
    y = np.empty(x.shape)
    for start in range(0, d, g):
        block = slice(start, start + g)
        mean[block], centered, cov = _moments64(x[:, block])
        matrix[block, block] = inverse_sqrt(cov, eps)
        y[:, block] = centered @ matrix[block, block]
    return Whitening(y.astype(x.dtype), mean.astype(x.dtype), matrix.astype(x.dtype))


def whitening_flops(n: int, d: int, group_size: int | None = None) -> dict[str, int]:
    """Operações de ponto flutuante (somas e produtos) de :func:`whiten`, etapa por etapa.

    Com ``k = D / g`` grupos de ``g`` atributos (``g = D`` sem ``group_size``):

    ========================  ===========================  ========================
    etapa                     conta                        total
    ========================  ===========================  ========================
    ``"centering"``           média e subtração            ``2 N D``
    ``"covariance"``          ``X_cᵀ X_c`` de cada grupo   ``2 N D g``
    ``"eigendecomposition"``  ``9 g³`` por grupo           ``9 D g²``
    ``"matrix"``              ``U diag Uᵀ`` por grupo      ``D g + 2 D g²``
    ``"apply"``               ``X_c W`` de cada grupo      ``2 N D g``
    ========================  ===========================  ========================

    A simetria da covariância não é aproveitada. Com ``g = 1`` a conta vira a da
    padronização da BN, cerca de ``6 N D``; com ``g = D`` os termos ``4 N D²`` e ``11 D³``
    dominam. O ``9`` da decomposição é o do algoritmo QR simétrico com autovetores (Golub e
    Van Loan); o LAPACK usa variantes com a mesma ordem, :math:`O(g^3)`.

    Parameters
    ----------
    n : int
        N, exemplos do minilote.
    d : int
        D, atributos.
    group_size : int, opcional
        ``g``; ``None`` significa ``g = D``.

    Returns
    -------
    dict[str, int]
        As cinco etapas e ``"total"``.

    Examples
    --------
    >>> whitening_flops(256, 64, group_size=1)["total"] == 6 * 256 * 64 + 12 * 64
    True
    """
    where = "whitening_flops"
    for name, value in (("n", n), ("d", d)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(
                f"{where}: o argumento `{name}` deve ser um inteiro positivo; recebido {value!r}."
            )
    n, d = int(n), int(d)
    g = _check_group_size(group_size, d, where)
    counts = {
        "centering": 2 * n * d,
        "covariance": 2 * n * d * g,
        "eigendecomposition": EIGH_FLOPS_PER_CUBE * d * g * g,
        "matrix": d * g + 2 * d * g * g,
        "apply": 2 * n * d * g,
    }
    counts["total"] = sum(counts.values())
    return counts
