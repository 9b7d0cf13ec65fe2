"""As verificações das camadas de :mod:`bnlib.nn`, com mensagens em português.

Cada verificação levanta a exceção do mesmo tipo que o PyTorch levantaria no mesmo caso
(``ValueError``, ``RuntimeError`` ou ``NotImplementedError``), para que um código que trata
os erros do ``torch.nn`` trate os da ``bnlib.nn`` do mesmo jeito, e a mensagem diz o
argumento, o que foi recebido e o que se esperava. Todas podem ser compiladas pelo
TorchScript.
"""

from __future__ import annotations

import operator

import torch
from torch import Tensor


def shape_text(x: Tensor) -> str:
    """O shape de ``x`` escrito como uma tupla do Python: ``(2, 3)``, ``(5,)``."""
    sizes = [str(size) for size in x.shape]
    if len(sizes) == 1:
        return "(" + sizes[0] + ",)"
    return "(" + ", ".join(sizes) + ")"


def dtype_name(dtype: torch.dtype) -> str:
    """O nome curto de um dtype: ``float32``, ``bfloat16``, ``int64``..."""
    names = {
        torch.float32: "float32",
        torch.float64: "float64",
        torch.float16: "float16",
        torch.bfloat16: "bfloat16",
        torch.int64: "int64",
        torch.int32: "int32",
        torch.uint8: "uint8",
        torch.bool: "bool",
    }
    if dtype in names:
        return names[dtype]
    return "outro (não de ponto flutuante real)"


def check_input_dims(x: Tensor, allowed: list[int], layouts: str, name: str) -> None:
    """``ValueError`` se ``x.dim()`` não está em ``allowed`` (``layouts`` os descreve)."""
    if x.dim() not in allowed:
        raise ValueError(
            f"{name}: a entrada deve ter {layouts}; recebido um tensor de {x.dim()} "
            f"dimensão(ões) com shape {shape_text(x)}."
        )


def verify_batch_size(x: Tensor, name: str, strict: bool = False) -> None:
    """``ValueError`` se cada canal tem um valor só: a variância do minilote não existe.

    Com ``strict``, também um minilote vazio (o PyTorch devolve uma saída vazia).
    """
    count = values_count(x)
    if count == 1 or (strict and count < 2):
        raise ValueError(
            f"{name}: com as estatísticas do minilote (no modo de treino, ou sem estatísticas "
            f"acumuladas) é preciso mais de um valor por canal para estimar a variância; a "
            f"entrada tem shape {shape_text(x)}. Use minilotes com mais de um exemplo ou, "
            f"para a inferência, chame `model.eval()`."
        )


def values_count(x: Tensor) -> int:
    """N vezes o produto dos eixos depois do canal (sem dividir: vale também com C = 0)."""
    count = x.shape[0]
    for size in x.shape[2:]:
        count *= size
    return count


def check_eps(eps: float, training: bool, name: str) -> None:
    """``eps`` > 0 para normalizar com as estatísticas do minilote, ≥ 0 com as acumuladas."""
    if training and eps <= 0.0:
        raise ValueError(
            f"{name}: `eps` deve ser positivo quando a camada usa as estatísticas do "
            f"minilote (ele é somado à variância, que pode ser zero, antes da raiz); "
            f"recebido {eps}."
        )
    if eps < 0.0:
        raise ValueError(f"{name}: `eps` não pode ser negativo; recebido {eps}.")


def check_per_channel(x: Tensor, values: Tensor | None, argument: str, name: str) -> None:
    """``RuntimeError`` se ``values`` não tem um elemento por canal de ``x`` (eixo 1)."""
    if values is not None and values.numel() != x.shape[1]:
        raise RuntimeError(
            f"{name}: `{argument}` tem {values.numel()} valores (num_features = "
            f"{values.numel()}), mas a entrada de shape {shape_text(x)} tem {x.shape[1]} "
            f"canais na dimensão 1; eles devem ser iguais."
        )


def check_channels(x: Tensor, num_features: int, name: str) -> None:
    """``RuntimeError`` se a dimensão 1 de ``x`` não é ``num_features`` (modo estrito)."""
    if x.shape[1] != num_features:
        raise RuntimeError(
            f"{name}: a dimensão 1 da entrada deve ser num_features = {num_features} (um "
            f"valor por atributo ou canal); recebido shape {shape_text(x)}."
        )


def compute_dtype(
    x: Tensor, tensors: list[Tensor | None], names: list[str], name: str
) -> torch.dtype:
    """O dtype da conta: o de ``x``, ou float32 para ``x`` bfloat16/float16 com parâmetros float32.

    As mesmas regras da BN do PyTorch na CPU: ``x`` precisa ser de ponto flutuante
    (``NotImplementedError``); os parâmetros e estatísticas acumuladas dados precisam ter
    um só dtype, igual ao de ``x`` ou float32 com ``x`` de meia precisão (``RuntimeError``).
    """
    if not x.is_floating_point():
        raise NotImplementedError(
            f"{name}: a entrada deve ser de ponto flutuante (float32, float64, bfloat16 ou "
            f"float16); recebido {dtype_name(x.dtype)}."
        )
    reduced = x.dtype == torch.float16 or x.dtype == torch.bfloat16
    common = x.dtype
    first = ""
    for index in range(len(tensors)):
        tensor = tensors[index]
        if tensor is not None:
            if first == "":
                first = names[index]
                common = tensor.dtype
            elif tensor.dtype != common:
                raise RuntimeError(
                    f"{name}: `{first}` é {dtype_name(common)} e `{names[index]}` é "
                    f"{dtype_name(tensor.dtype)}; os parâmetros e as estatísticas acumuladas "
                    f"devem ter o mesmo dtype."
                )
    if common == x.dtype:
        return torch.float32 if reduced else x.dtype
    if reduced and common == torch.float32:
        return torch.float32
    raise RuntimeError(
        f"{name}: a entrada é {dtype_name(x.dtype)}, mas os parâmetros e as estatísticas "
        f"acumuladas da camada são {dtype_name(common)} (tipos misturados); converta um "
        f"dos dois, por exemplo com `x.to({dtype_name(common)})` ou "
        f"`camada.to({dtype_name(x.dtype)})`. Só uma entrada bfloat16 ou float16 pode usar "
        f"parâmetros float32."
    )


def check_constructor(num_features, eps, momentum, name: str) -> None:
    """As verificações do modo estrito no construtor (``strict=True``), com ``ValueError``.

    ``num_features`` inteiro positivo, ``eps`` positivo, ``momentum`` entre 0 e 1 ou None.
    O PyTorch aceita todos esses valores (e ``eps`` só é conferido no passo direto).
    """
    try:
        count = operator.index(num_features)
    except TypeError:
        count = 0
    if isinstance(num_features, bool) or count < 1:
        raise ValueError(
            f"{name}: `num_features` deve ser um inteiro positivo (o número de atributos "
            f"ou canais); recebido {num_features!r}."
        )
    if not eps > 0:
        raise ValueError(f"{name}: `eps` deve ser positivo (tipicamente 1e-5); recebido {eps!r}.")
    if momentum is not None and not 0.0 <= momentum <= 1.0:
        raise ValueError(
            f"{name}: `momentum` deve estar entre 0 e 1 (peso do lote novo, "
            f"tipicamente 0.1) ou ser None; recebido {momentum!r}."
        )
