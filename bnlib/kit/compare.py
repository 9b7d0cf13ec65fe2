"""A comparação de uma saída do aluno com a esperada, e as mensagens que explicam a diferença.

Usado pelo juiz (:mod:`bnlib.kit.engine`). Três métricas: ``"allclose"`` (elemento a
elemento, com ``rtol`` e ``atol``), ``"scaled"`` (na escala do resultado,
``max|a - b| / max|b|``, a medida do capítulo da retropropagação para gradientes) e
``"exact"`` (igualdade, para inteiros e ``None``). Com entradas float32 as tolerâncias são
alargadas (:data:`FLOAT32_RTOL`, :data:`FLOAT32_ATOL`, :data:`FLOAT32_SCALED`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bnlib.core.validation import shape_text
from bnlib.kit.answers import type_name

FLOAT32_RTOL, FLOAT32_ATOL = 1e-3, 1e-5
"""Tolerâncias mínimas (métrica ``allclose``) quando alguma entrada é float32."""
FLOAT32_SCALED = 1e-4
"""Tolerância mínima da métrica ``scaled`` quando alguma entrada é float32."""


def fmt_array(a: Any, n: int = 4) -> str:
    """Os primeiros ``n`` valores de um array, para uma mensagem."""
    array = np.asarray(a)
    if array.ndim == 0:
        return np.format_float_positional(float(array), precision=6, trim="-")
    flat = array.reshape(-1)
    text = np.array2string(flat[:n], precision=5, separator=", ")
    return text[:-1] + ", …]" if flat.size > n else text


def has_float32(args) -> bool:
    """Se alguma entrada do caso é um array float32."""
    return any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args)


def tolerances(view: dict, args) -> tuple[float, float]:
    """``(rtol, atol)`` de um caso: as da questão, mais largas se a entrada é float32."""
    rtol, atol = view.get("rtol", 1e-5), view.get("atol", 1e-7)
    if has_float32(args):
        if view.get("metric") == "scaled":
            return max(rtol, FLOAT32_SCALED), atol
        return max(rtol, FLOAT32_RTOL), max(atol, FLOAT32_ATOL)
    return rtol, atol


def split_output(output, names: tuple[str, ...]) -> tuple[list, str | None]:
    """Separa a saída em ``len(names)`` partes; devolve também um problema de formato."""
    n = len(names)
    if output is None and n > 0:
        return [], "a função devolveu None: faltou o `return` no fim dela?"
    if n == 1:
        if isinstance(output, tuple | list) and len(output) > 1:
            return [], (
                f"a função deve devolver só {names[0]} (um array); devolveu uma sequência de "
                f"{len(output)} valores. Tire os valores a mais do `return`."
            )
        if isinstance(output, tuple | list) and len(output) == 1:
            return [output[0]], None
        return [output], None
    if not isinstance(output, tuple | list) or len(output) != n:
        received = (
            f"uma sequência de {len(output)} valores"
            if isinstance(output, tuple | list)
            else f"um objeto do tipo {type_name(output)}"
        )
        return [], (
            f"a função deve devolver uma tupla de {n} valores ({', '.join(names)}); "
            f"devolveu {received}."
        )
    return list(output), None


def shape_hint(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str:
    """Explica um shape errado quando os valores, rearrumados, estão certos."""
    if got.size != expected.size:
        return ""
    if np.allclose(got.reshape(expected.shape), expected, rtol=rtol, atol=atol):
        if got.squeeze().shape == expected.squeeze().shape:
            return (
                " Os valores estão certos; sobram ou faltam eixos de tamanho 1: tire o "
                "`keepdims=True` do resultado final ou use `.reshape` no fim."
            )
        return " Os valores estão certos, mas na forma errada: use `.reshape` no fim."
    if (
        got.ndim == 2
        and expected.ndim == 2
        and got.T.shape == expected.shape
        and np.allclose(got.T, expected, rtol=rtol, atol=atol)
    ):
        return " O resultado está transposto: não troque os eixos (sem `.T`)."
    return ""


def scaled_difference(got: np.ndarray, expected: np.ndarray) -> float:
    """``max|a - b| / max|b|``: o erro na escala do resultado (a medida do capítulo da
    retropropagação, que não exagera nos elementos quase nulos)."""
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return float(np.max(np.abs(got - expected), initial=0.0)) / scale


def difference(got, expected, view: dict, rtol: float, atol: float) -> str | None:
    """Descreve a diferença entre ``got`` e ``expected``; ``None`` se concordam."""
    if view.get("metric") == "exact":
        if got == expected and (got is None) == (expected is None):
            return None
        return f"esperado {expected!r}, recebido {got!r}."
    expected = np.asarray(expected, dtype=np.float64)
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"esperado um array numérico; recebido {type_name(got)}."
    if got.shape != expected.shape:
        return (
            f"shape esperado {shape_text(expected.shape)}, recebido "
            f"{shape_text(got.shape)}." + shape_hint(got, expected, rtol, atol)
        )
    if not np.all(np.isfinite(got)):
        return f"o resultado contém NaN ou infinito: {fmt_array(got)}."
    if view.get("metric") == "scaled":
        error = scaled_difference(got, expected)
        if error <= rtol:
            return None
        where = np.unravel_index(int(np.argmax(np.abs(got - expected))), expected.shape)
        return (
            f"erro na escala do resultado, max|recebido − esperado| / max|esperado|, de "
            f"{error:.1e} (tolerância {rtol:.0e}); a maior diferença está na posição "
            f"{tuple(int(i) for i in where)}: esperado {float(expected[where]):.6g}, "
            f"recebido {float(got[where]):.6g}."
        )
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        return None
    error = np.abs(got - expected) - rtol * np.abs(expected)
    index = np.unravel_index(int(np.argmax(error)), expected.shape) if expected.ndim else ()
    position = f" na posição {tuple(int(i) for i in index)}" if expected.ndim else ""
    return (
        f"valores diferentes{position}: esperado {float(expected[index]):.6g}, "
        f"recebido {float(got[index]):.6g} (esperado {fmt_array(expected)}, "
        f"recebido {fmt_array(got)})."
    )


def is_self_explanatory(text: str) -> bool:
    """Se a mensagem já diz o que corrigir (tipo errado, ou shape errado com valores certos)."""
    return text.startswith("esperado um array") or (
        text.startswith("shape esperado")
        and ("Os valores estão certos" in text or "transposto" in text)
    )


def agrees(parts, expected_parts, view, rtol, atol) -> bool:
    """Se todas as partes concordam."""
    return len(parts) == len(expected_parts) and all(
        difference(p, e, view, rtol, atol) is None
        for p, e in zip(parts, expected_parts, strict=True)
    )


def dtype_warning(case: dict, parts: list) -> str | None:
    """Um aviso quando a entrada é float32 e a saída veio em outro tipo (em geral float64)."""
    if not has_float32(case["args"]):
        return None
    kinds = {np.asarray(p).dtype for p in parts}
    if kinds <= {np.dtype(np.float32)}:
        return None
    got = ", ".join(sorted(t.name for t in kinds))
    return (
        f"no caso “{case['description']}” a entrada é float32 e a saída veio {got}. Os "
        "valores estão certos, mas uma rede em float32 gastaria o dobro de memória: mantenha "
        "o tipo da entrada, sem `astype(np.float64)`, com `dtype=x.dtype` em "
        "`np.zeros`/`np.ones`, e com `int(...)` em contagens como `np.prod(...)` (um inteiro "
        "do numpy promove o float32 a float64)."
    )
