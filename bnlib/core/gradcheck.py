"""Verificação de gradientes por diferenças finitas (*gradient check*)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    dy: np.ndarray,
    h: float = 1e-5,
) -> np.ndarray:
    """Gradiente de ``sum(f(x) * dy)`` em relação a ``x`` por diferenças centradas.

    Para cada elemento ``x[i]``::

        dx[i] ≈ sum((f(x + h·e_i) - f(x - h·e_i)) · dy) / (2h)

    o que é o produto vetor-jacobiano que a retropropagação calcula. ``x`` é alterado
    durante o cálculo e restaurado ao final. Use float64: em float32 o erro de
    arredondamento domina.

    Parameters
    ----------
    f : função de ``x`` que devolve um array
    x : ndarray, qualquer shape
    dy : ndarray, shape de ``f(x)``
        Gradiente que chega da camada seguinte.
    h : float
        Passo das diferenças.

    Returns
    -------
    dx : ndarray, shape de ``x``
    """
    dx = np.zeros_like(x)
    flat_x = x.reshape(-1)
    flat_dx = dx.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        plus = np.sum(f(x) * dy)
        flat_x[i] = original - h
        minus = np.sum(f(x) * dy)
        flat_x[i] = original
        flat_dx[i] = (plus - minus) / (2 * h)
    return dx


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """Maior erro relativo elemento a elemento, ``|a - b| / max(|a| + |b|, 1e-12)``.

    É a medida de CS231n: cerca de 1e-7 ou menos indica um gradiente correto em float64;
    1e-2 ou mais indica um erro. O piso de 1e-12 evita dividir zero por zero.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(
            f"relative_error: `actual` tem shape {actual.shape} e `expected` tem shape "
            f"{expected.shape}; os dois devem ter o mesmo shape."
        )
    denominator = np.maximum(np.abs(actual) + np.abs(expected), 1e-12)
    return float(np.max(np.abs(actual - expected) / denominator))


def scaled_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """Maior diferença absoluta dividida pela maior magnitude esperada, ``max|a - b| / max|b|``.

    Mede o erro na escala do resultado: ao contrário de :func:`relative_error`, não explode
    nos elementos que são quase zero, onde o arredondamento de float32 domina.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(
            f"scaled_error: `actual` tem shape {actual.shape} e `expected` tem shape "
            f"{expected.shape}; os dois devem ter o mesmo shape."
        )
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return float(np.max(np.abs(actual - expected), initial=0.0) / scale)
