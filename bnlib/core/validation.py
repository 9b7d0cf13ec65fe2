"""Verificação das entradas da API pública, com mensagens em português.

Cada função levanta um erro que diz **qual argumento** está errado, **o que
chegou** e **o que era esperado**, para que o leitor nunca receba uma resposta
silenciosamente errada nem um *traceback* opaco do numpy.
"""

from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

LAYOUTS = {2: "(N, D)", 4: "(N, C, H, W)"}


def shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def as_float_array(value, name: str, where: str) -> np.ndarray:
    """Converte ``value`` em ``ndarray`` de ponto flutuante (float32 ou float64).

    Raises
    ------
    TypeError
        Se o tipo dos elementos não for float32 nem float64.
    """
    array = np.asarray(value)
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{where}: o argumento `{name}` deve conter números de ponto flutuante "
            f"(float32 ou float64); recebido dtype {array.dtype}. "
            f"Converta antes, por exemplo com `{name}.astype(np.float64)`."
        )
    return array


def check_layout(x: np.ndarray, name: str, where: str) -> None:
    """Exige ``x`` com 2 dimensões (N, D) ou 4 dimensões (N, C, H, W)."""
    if x.ndim not in LAYOUTS:
        raise ValueError(
            f"{where}: o argumento `{name}` deve ter 2 dimensões (N, D) ou "
            f"4 dimensões (N, C, H, W); recebido um array de {x.ndim} dimensão(ões) "
            f"com shape {shape_text(x.shape)}."
        )


def check_finite(x: np.ndarray, name: str, where: str) -> None:
    """Recusa NaN e infinitos, que contaminariam a média e a variância de todo o lote."""
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(
            f"{where}: o argumento `{name}` contém {int(bad.sum())} valor(es) NaN ou "
            f"infinito(s) entre {x.size} elementos; um único valor assim contamina a média "
            f"e a variância de todo o lote. Verifique os dados ou a taxa de aprendizado."
        )


def check_feature_vector(v, name: str, num_features: int, dtype, where: str) -> np.ndarray:
    """Exige um vetor de shape ``(num_features,)`` e o devolve no ``dtype`` de ``x``."""
    array = as_float_array(v, name, where)
    if array.shape != (num_features,):
        raise ValueError(
            f"{where}: o argumento `{name}` deve ter shape ({num_features},), um valor por "
            f"atributo (ou canal) de `x`; recebido shape {shape_text(array.shape)}."
        )
    check_finite(array, name, where)
    return array.astype(dtype, copy=False)


def check_same_shape(a: np.ndarray, name: str, expected: tuple[int, ...], where: str) -> None:
    """Exige que ``a`` tenha exatamente o shape ``expected``."""
    if a.shape != tuple(expected):
        raise ValueError(
            f"{where}: o argumento `{name}` deve ter o mesmo shape da entrada do passo "
            f"direto, {shape_text(tuple(expected))}; recebido shape {shape_text(a.shape)}."
        )


def check_values_per_feature(count: int, shape: tuple[int, ...], where: str) -> None:
    """Exige mais de um valor por atributo para estimar uma variância."""
    if count < 2:
        raise ValueError(
            f"{where}: no modo de treino é preciso mais de um valor por atributo (ou canal) "
            f"para estimar a média e a variância do lote; `x` tem shape {shape_text(shape)}, "
            f"isto é, {count} valor por atributo. Use um lote com N ≥ 2 ou, na inferência, "
            f"as estatísticas acumuladas (`batchnorm_inference`)."
        )


def check_eps(eps: float, where: str) -> float:
    """Exige ``eps`` finito e não negativo."""
    if not isinstance(eps, numbers.Real) or not np.isfinite(eps) or eps < 0:
        raise ValueError(
            f"{where}: o argumento `eps` deve ser um número finito e não negativo "
            f"(tipicamente 1e-5); recebido {eps!r}."
        )
    return float(eps)


def check_momentum(momentum: float | None, where: str) -> None:
    """Exige ``momentum`` em [0, 1] ou ``None`` (média simples dos lotes)."""
    if momentum is None:
        return
    if not isinstance(momentum, numbers.Real) or not 0.0 <= float(momentum) <= 1.0:
        raise ValueError(
            f"{where}: o argumento `momentum` deve estar entre 0 e 1 (convenção do PyTorch: "
            f"peso do lote novo, tipicamente 0.1) ou ser None; recebido {momentum!r}."
        )


def check_input(x, where: str) -> np.ndarray:
    """A entrada ``x`` de uma normalização: array de float, (N, D) ou (N, C, H, W), finito."""
    x = as_float_array(x, "x", where)
    check_layout(x, "x", where)
    check_finite(x, "x", where)
    return x


def check_int(value, name: str, low: int, where: str) -> int:
    """Exige um inteiro (não booleano) ``value ≥ low``; devolve o próprio valor."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(
            f"{where}: o argumento `{name}` deve ser um inteiro ≥ {low}; recebido {value!r}."
        )
    return value
