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
    **no lugar** durante o cálculo (é assim que ``f``, que o enxerga, vê cada perturbação)
    e restaurado ao final; por isso ``x`` pode ter qualquer disposição na memória (uma
    transposta, uma fatia), mas precisa ser um array gravável. Use float64: em float32 o
    erro de arredondamento domina.

    Parameters
    ----------
    f : função de ``x`` que devolve um array
    x : ndarray de float, qualquer shape, gravável
    dy : ndarray, shape de ``f(x)``
        Gradiente que chega da camada seguinte.
    h : float
        Passo das diferenças, > 0.

    Returns
    -------
    dx : ndarray, shape de ``x``

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [3.0, 4.0]]).T  # uma transposta: não contígua
    >>> numerical_gradient(lambda z: z**2, x, np.ones((2, 2)))  # 2x
    array([[2., 6.],
           [4., 8.]])
    """
    where = "numerical_gradient"
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(
            f"{where}: `x` deve ser um numpy.ndarray de ponto flutuante; recebido "
            f"{type(x).__name__} com dtype {getattr(x, 'dtype', None)}. Converta antes, por "
            f"exemplo com `x.astype(np.float64)`."
        )
    if not x.flags.writeable:
        raise ValueError(
            f"{where}: `x` deve ser gravável, pois cada elemento é perturbado no lugar; "
            f"recebido um array somente leitura. Passe uma cópia: `x.copy()`."
        )
    if not h > 0:
        raise ValueError(f"{where}: o passo `h` deve ser > 0; recebido {h!r}.")
    dx = np.zeros(x.shape, dtype=x.dtype)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = np.sum(f(x) * dy)
        x[index] = original - h
        minus = np.sum(f(x) * dy)
        x[index] = original
        dx[index] = (plus - minus) / (2 * h)
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
