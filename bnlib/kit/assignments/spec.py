"""As estruturas das questões e os geradores de dados dos casos.

Uma :class:`Question` guarda tudo o que a correção precisa saber de uma questão; a sua
:meth:`Question.view` é a parte que o juiz (:mod:`bnlib.kit.engine`) e o caderno do aluno
veem (sem referência, sem erros plantados, sem valores esperados).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

EPS = 1e-5


@dataclass
class Case:
    """Um caso: a descrição mostrada ao aluno e os argumentos da chamada."""

    description: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """Um erro comum plantado: uma implementação errada e a dica que explica o que corrigir."""

    hint: str
    function: Callable


@dataclass(frozen=True)
class Question:
    """Uma questão avaliada.

    Attributes
    ----------
    id, name : str
        ``"1.1"`` e o nome da função ou resposta no caderno.
    points : float
        O valor da questão (o único lugar em que ele é definido).
    kind : str
        ``"function"`` (uma função comparada em casos), ``"value"`` (uma resposta numérica)
        ou ``"model"`` (a rede do mini-projeto).
    cases : função ``rng -> list[Case]``
        Os casos sorteados com o gerador ``rng``.
    reference : função
        A saída certa de um caso (de :mod:`bnlib.core`, ou o valor certo numa resposta).
    mistakes : tuple of Mistake
    outputs, arg_names : tuple of str
        Os nomes das saídas (para as mensagens) e dos argumentos.
    general_hint : str
        A dica quando nenhum erro plantado explica a resposta.
    metric : str
        ``"allclose"`` (por elemento), ``"scaled"`` (na escala do resultado, para
        gradientes) ou ``"exact"``.
    rtol, atol : float
        Tolerâncias em float64 (em float32 o juiz as alarga, ver :mod:`bnlib.kit.engine`).
    input_policy : str
        ``"forbid"`` se o enunciado proíbe alterar as entradas; ``"warn"`` se não diz nada.
    call : str
        Como chamar a função num caso (``"direct"``, ``"gradient"``, ``"history"``,
        ``"model"``).
    tolerance, unit, value_mistakes
        Nas respostas numéricas: a tolerância absoluta, a unidade e os erros comuns
        (função do valor esperado que devolve ``[(valor errado, dica)]``).
    """

    id: str
    name: str
    points: float
    kind: str = "function"
    cases: Callable[[np.random.Generator], list[Case]] | None = None
    reference: Callable | None = None
    mistakes: tuple[Mistake, ...] = ()
    outputs: tuple[str, ...] = ()
    arg_names: tuple[str, ...] = ()
    general_hint: str = ""
    metric: str = "allclose"
    rtol: float = 1e-5
    atol: float = 1e-7
    input_policy: str = "warn"
    call: str = "direct"
    tolerance: float = 0.0
    unit: str = ""
    value_mistakes: Callable[[float], list[tuple[float, str]]] | None = None

    def view(self) -> dict[str, Any]:
        """O que o juiz e o caderno do aluno precisam saber (sem referência nem erros)."""
        view = {
            "id": self.id,
            "name": self.name,
            "points": self.points,
            "kind": self.kind,
            "general_hint": self.general_hint,
        }
        if self.kind == "value":
            view.update(tolerance=self.tolerance, unit=self.unit)
            return view
        view.update(
            outputs=list(self.outputs),
            arg_names=list(self.arg_names),
            metric=self.metric,
            rtol=self.rtol,
            atol=self.atol,
            input_policy=self.input_policy,
            call=self.call,
        )
        return view


# --------------------------------------------------------------------------------------
# Dados dos casos
# --------------------------------------------------------------------------------------


def normal(rng: np.random.Generator, shape, loc=0.0, scale=1.0, dtype=np.float64) -> np.ndarray:
    """Valores normais com média ``loc`` e desvio ``scale``."""
    return (loc + scale * rng.standard_normal(shape)).astype(dtype)


def params(rng: np.random.Generator, f: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """``gamma`` perto de 1 e ``beta`` perto de 0, com ``f`` valores."""
    return (
        (1.0 + 0.5 * rng.standard_normal(f)).astype(dtype),
        (0.5 * rng.standard_normal(f)).astype(dtype),
    )


def nearly_constant(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, int]:
    """Um lote (n, d) em que um atributo tem desvio padrão 1e-3, onde o épsilon pesa."""
    x = normal(rng, (n, d), loc=2.0, scale=1.5)
    column = int(rng.integers(d))
    x[:, column] = 5.0 + 1e-3 * rng.standard_normal(n)
    return x, column


def size(rng: np.random.Generator, low: int, high: int) -> int:
    """Um inteiro em ``[low, high]``."""
    return int(rng.integers(low, high + 1))


def shape_label(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def prepare(question: Question, rng: np.random.Generator) -> list[dict]:
    """Os casos de uma questão com as saídas esperadas e as dos erros plantados.

    Returns
    -------
    list of dict
        ``description``, ``args``, ``kwargs``, ``expected`` (lista de saídas) e
        ``mistakes`` (lista de ``(dica, saídas)``), no formato do juiz.
    """
    prepared = []
    n_outputs = len(question.outputs)
    for case in question.cases(rng):
        expected = as_parts(question.reference(*case.args, **case.kwargs), n_outputs)
        mistakes = []
        for mistake in question.mistakes:
            try:
                wrong = as_parts(mistake.function(*case.args, **case.kwargs), n_outputs)
            except (ValueError, FloatingPointError, ZeroDivisionError, TypeError):
                continue
            mistakes.append((mistake.hint, wrong))
        prepared.append(
            {
                "description": case.description,
                "args": case.args,
                "kwargs": case.kwargs,
                "expected": expected,
                "mistakes": mistakes,
            }
        )
    return prepared


def as_parts(value, n: int) -> list:
    """A saída como lista de ``n`` partes."""
    if n == 1:
        return [value]
    return list(value)
