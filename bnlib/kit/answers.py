"""As respostas do aluno em JSON: o que sai do caderno e o que o corretor aceita.

O caderno do aluno nunca entrega objetos Python ao corretor, só texto JSON (que não
executa código, ao contrário do ``pickle``). :func:`encode` transforma o que a função do
aluno devolveu (arrays, números, ``None``, tuplas) em dicionários com uma etiqueta ``t``;
:func:`decode` faz o caminho inverso no processo de quem corrige e **desconfia** de tudo:
tipos de array de uma lista fixa, shapes coerentes com os dados, tamanhos limitados. Um
valor que não passa vira :class:`Opaque`, que a verificação descreve como "um objeto do tipo
...", nunca um erro da correção.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MAX_ELEMENTS = 2_000_000
"""Maior número de elementos de um array aceito numa resposta."""

DTYPES = {
    "float16", "float32", "float64", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "bool",
}  # fmt: skip
"""Os tipos de array que uma resposta pode ter."""


class Opaque:
    """Um valor que não é número nem array (um ``dict``, uma função...), pelo nome do tipo."""

    def __init__(self, type_name: str) -> None:
        self.type_name = str(type_name)[:80]

    def __repr__(self) -> str:
        return f"<objeto do tipo {self.type_name}>"

    def __eq__(self, other) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


def type_name(value) -> str:
    """O nome do tipo de ``value``, também para um :class:`Opaque`."""
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def _float(value: float):
    return value if math.isfinite(value) else repr(float(value))


def encode_array(array: np.ndarray, digits: int | None = None) -> dict[str, Any]:
    """Um array como dicionário; ``digits`` arredonda a esse número de algarismos
    significativos (os float32 são escritos com o menor texto que os identifica)."""
    if array.dtype.name not in DTYPES or array.size > MAX_ELEMENTS:
        return {"t": "object", "type": f"ndarray[{array.dtype.name}, {array.size} elementos]"}
    flat = array.reshape(-1)
    if array.dtype == np.float32:
        data = [_float(float(str(v))) for v in flat]
    elif array.dtype.kind == "f" and digits:
        data = [_float(float(f"{v:.{digits}g}")) for v in flat.astype(np.float64).tolist()]
    elif array.dtype.kind == "f":
        data = [_float(v) for v in flat.astype(np.float64).tolist()]
    else:
        data = flat.tolist()
    return {"t": "array", "dtype": array.dtype.name, "shape": list(array.shape), "data": data}


def encode(value, depth: int = 0, digits: int | None = None) -> dict[str, Any]:
    """Transforma o que uma função devolveu num dicionário que o JSON aceita.

    No nível de cima, tuplas e listas são sequências (uma função pode devolver várias
    saídas); dentro delas, listas de números viram arrays.
    """
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool | np.bool_):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"t": "int", "v": value} if abs(value) < 2**62 else {"t": "float", "v": float(value)}
    if isinstance(value, float):
        return {"t": "float", "v": _float(value)}
    if isinstance(value, str):
        return {"t": "str", "v": value[:200]}
    if isinstance(value, np.ndarray | np.generic):
        return encode_array(np.asarray(value), digits)
    if isinstance(value, tuple | list):
        if depth == 0:
            return {"t": "seq", "items": [encode(v, 1) for v in value[:16]], "length": len(value)}
        try:
            array = np.asarray(value)
        except Exception:  # noqa: BLE001 — uma lista qualquer do aluno
            return {"t": "object", "type": type(value).__name__}
        if array.dtype.kind in "fiub":
            return encode_array(array)
        return {"t": "object", "type": type(value).__name__}
    if hasattr(value, "__array__"):  # um tensor do PyTorch, por exemplo
        try:
            return encode_array(np.asarray(value))
        except Exception:  # noqa: BLE001
            pass
    return {"t": "object", "type": type(value).__name__}


def _number(value, kind: str):
    if kind == "float":
        if isinstance(value, str) and value in ("nan", "inf", "-inf"):
            return float(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ValueError("float inválido")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError("int inválido")


def decode_array(obj: dict) -> np.ndarray:
    dtype, shape, data = obj.get("dtype"), obj.get("shape"), obj.get("data")
    if dtype not in DTYPES or not isinstance(shape, list) or not isinstance(data, list):
        raise ValueError("array inválido")
    if len(shape) > 8 or not all(isinstance(s, int) and 0 <= s <= MAX_ELEMENTS for s in shape):
        raise ValueError("shape inválido")
    if math.prod(shape) != len(data) or len(data) > MAX_ELEMENTS:
        raise ValueError("dados não combinam com o shape")
    if np.dtype(dtype).kind == "f":
        values = [_number(v, "float") for v in data]
    elif dtype == "bool":
        if not all(isinstance(v, bool) for v in data):
            raise ValueError("bool inválido")
        values = data
    else:
        values = [_number(v, "int") for v in data]
    return np.array(values, dtype=dtype).reshape(shape)


def decode(obj, depth: int = 0):
    """O valor de uma resposta codificada por :func:`encode`, validado.

    Raises
    ------
    ValueError
        Se ``obj`` não é uma resposta bem formada (o corretor registra o problema na linha do
        aluno; nada do que o caderno escreve é executado).
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("t"), str):
        raise ValueError("resposta sem etiqueta")
    kind = obj["t"]
    if kind == "none":
        return None
    if kind == "bool":
        if not isinstance(obj.get("v"), bool):
            raise ValueError("bool inválido")
        return obj["v"]
    if kind in ("int", "float"):
        return _number(obj.get("v"), kind)
    if kind == "str":
        return str(obj.get("v", ""))[:200]
    if kind == "array":
        return decode_array(obj)
    if kind == "seq" and depth == 0 and isinstance(obj.get("items"), list):
        items = [decode(item, 1) for item in obj["items"][:16]]
        length = obj.get("length", len(items))
        if not isinstance(length, int) or length < len(items):
            raise ValueError("sequência inválida")
        return items + [Opaque("...")] * min(length - len(items), 1000)
    if kind == "object":
        return Opaque(obj.get("type", "desconhecido"))
    if kind == "model" and depth == 0:
        return decode_model(obj)
    raise ValueError(f"etiqueta desconhecida {kind!r}")


def decode_model(obj: dict) -> dict:
    """A descrição de um modelo (questão 6.1), com tipos e tamanhos conferidos."""
    model = {"module": obj.get("module") is True, "type": str(obj.get("type", "?"))[:80]}
    if not model["module"]:
        return model
    layers, linears, shape = obj.get("layers"), obj.get("linears"), obj.get("output_shape")
    if (
        not isinstance(layers, list)
        or len(layers) > 200
        or not all(isinstance(x, str) for x in layers)
    ):
        raise ValueError("camadas inválidas")
    if (
        not isinstance(linears, list)
        or len(linears) > 50
        or not all(
            isinstance(p, list) and len(p) == 2 and all(type(v) is int for v in p) for p in linears
        )
    ):
        raise ValueError("camadas Linear inválidas")
    if shape is not None and (
        not isinstance(shape, list) or len(shape) > 8 or not all(type(v) is int for v in shape)
    ):
        raise ValueError("shape inválido")
    model.update(layers=[x[:60] for x in layers], linears=linears, output_shape=shape)
    if shape is None:
        model["error"] = str(obj.get("error", "?"))[:200]
    return model


def encode_case(case: dict) -> dict:
    """As entradas de um caso em JSON (sem a saída esperada)."""
    return {
        "description": case["description"],
        "args": [encode(a, 1) if isinstance(a, np.ndarray) else a for a in case["args"]],
        "kwargs": case.get("kwargs", {}),
    }


def decode_case(case: dict) -> dict:
    """O caminho inverso de :func:`encode_case` (no caderno do aluno)."""
    args = tuple(
        decode(a, 1) if isinstance(a, dict) and a.get("t") == "array" else a for a in case["args"]
    )
    return {"description": case["description"], "args": args, "kwargs": dict(case["kwargs"])}


def decode_answers(raw) -> list[dict]:
    """As respostas de uma questão, decodificadas; uma malformada vira um erro do caso."""
    if not isinstance(raw, list):
        raise ValueError("lista de respostas inválida")
    decoded = []
    for item in raw[:1000]:
        if not isinstance(item, dict) or item.get("status") not in (
            "ok", "error", "timeout", "skipped",
        ):  # fmt: skip
            raise ValueError("resposta de caso inválida")
        answer = {"status": item["status"]}
        if item["status"] == "ok":
            answer["output"] = decode(item.get("output"))
            changed = item.get("changed", [])
            if not isinstance(changed, list) or not all(type(i) is int for i in changed):
                raise ValueError("lista de argumentos alterados inválida")
            answer["changed"] = changed[:20]
        elif item["status"] in ("error", "timeout"):
            answer["explanation"] = str(item.get("explanation", "erro"))[:1000]
            key = item.get("error_key")
            answer["error_key"] = (
                (str(key[0])[:80], key[1] if type(key[1]) is int else None)
                if isinstance(key, list) and len(key) == 2
                else ("?", None)
            )
            answer["blocked"] = item.get("blocked") is True
            answer["killed"] = item.get("killed") is True
        decoded.append(answer)
    return decoded
