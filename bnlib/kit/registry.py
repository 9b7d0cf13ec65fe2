"""O registro dos trabalhos: as questões e o julgamento das respostas (lado do professor).

* :data:`ASSIGNMENTS`: cada trabalho e o módulo das suas questões;
* :func:`cases_for`: os casos de uma questão, com saídas esperadas e erros plantados, a
  partir de uma semente (a pública, :data:`PUBLIC_SEED`, dá os casos visíveis);
* :func:`request`: o pedido que vai para o caderno do aluno na correção (só as entradas);
* :func:`judge_answers`: o julgamento, no processo de quem corrige, das respostas que o
  caderno devolveu;
* :func:`visible_data`: os dados das verificações do caderno (:mod:`bnlib.kit.visible`);
* :func:`self_check`: confere, no próprio caderno do professor, que as soluções tiram a nota
  máxima.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import numpy as np

from bnlib.kit import answers as answer_codec
from bnlib.kit import engine, runner
from bnlib.kit.assignments import backprop, forward_pass, group_norm, inference, project, spatial
from bnlib.kit.assignments.spec import Question, prepare
from bnlib.kit.project import judge_model

ASSIGNMENTS: dict[str, ModuleType] = {
    "01_passo_direto": forward_pass,
    "02_retropropagacao": backprop,
    "03_inferencia": inference,
    "04_espacial": spatial,
    "05_camada_grupo": group_norm,
    "06_projeto": project,
}
"""Os trabalhos, pela chave usada nos cadernos (``metadata.bnlib.trabalho``)."""

PUBLIC_SEED = 20240
"""A semente dos casos visíveis (os que o caderno do aluno verifica)."""


def questions(assignment: str) -> list[Question]:
    """As questões de um trabalho, na ordem."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(
            f"trabalho desconhecido {assignment!r}; os trabalhos são {sorted(ASSIGNMENTS)}."
        )
    return ASSIGNMENTS[assignment].QUESTIONS


def max_points(assignment: str) -> float:
    """A nota máxima de um trabalho (a soma dos pontos das questões)."""
    return float(sum(q.points for q in questions(assignment)))


def question_rng(seed: int, assignment: str, index: int) -> np.random.Generator:
    """O gerador dos casos de uma questão: cada questão tem os seus dados."""
    return np.random.default_rng([int(seed), int(assignment[:2]), index])


@functools.cache
def cases_for(assignment: str, seed: int) -> tuple[list[dict] | None, ...]:
    """Os casos preparados (entradas, esperadas, erros) de cada questão; ``None`` nas respostas
    numéricas. Guardado por ``(trabalho, semente)``: todos os alunos recebem os mesmos."""
    result = []
    for index, question in enumerate(questions(assignment)):
        if question.kind == "value":
            result.append(None)
        elif question.kind == "model":
            result.append(
                [
                    {"description": c.description, "args": c.args, "kwargs": c.kwargs}
                    for c in question.cases(question_rng(seed, assignment, index))
                ]
            )
        else:
            result.append(prepare(question, question_rng(seed, assignment, index)))
    return tuple(result)


def request(assignment: str, seed: int) -> dict[str, Any]:
    """O pedido da correção: para cada questão, o nome, o modo de chamar e as entradas."""
    items = []
    for question, cases in zip(questions(assignment), cases_for(assignment, seed), strict=True):
        item = {"id": question.id, "name": question.name, "kind": question.kind}
        if cases is not None:
            item.update(call=question.call, cases=[answer_codec.encode_case(c) for c in cases])
        items.append(item)
    return {"assignment": assignment, "questions": items, "case_time_limit": runner.CASE_TIME_LIMIT}


def judge_question(question: Question, cases, raw: Any) -> tuple[engine.Result, dict]:
    """Julga uma questão a partir da resposta crua do caderno (um dicionário JSON).

    Returns
    -------
    result : Result
    facts : dict
        ``blocked`` (a função usou uma implementação bloqueada) e ``killed`` (o limite de
        tempo matou o processo da questão).
    """
    view = question.view()
    facts = {"blocked": False, "killed": False}
    if not isinstance(raw, dict) or raw.get("status") not in ("ok", "missing", "not_callable"):
        return engine.missing_result(view, "a correção não recebeu resposta desta questão."), facts
    if raw["status"] == "missing":
        return engine.missing_result(
            view, f"`{question.name}` não está definido no caderno."
        ), facts
    if raw["status"] == "not_callable":
        kind = str(raw.get("type", "?"))[:80]
        return engine.missing_result(
            view, f"`{question.name}` deveria ser uma função; é um objeto do tipo {kind}."
        ), facts
    if question.kind == "value":
        try:
            value = answer_codec.decode(raw.get("value"))
        except ValueError:
            value = answer_codec.Opaque("resposta malformada")
        expected = question.reference()
        mistakes = question.value_mistakes(expected) if question.value_mistakes else []
        return engine.judge_value(view, value, expected, mistakes), facts
    try:
        decoded = answer_codec.decode_answers(raw.get("answers"))
    except ValueError as error:
        return engine.missing_result(
            view, f"as respostas desta questão vieram malformadas ({error})."
        ), facts
    decoded += [{"status": "skipped"}] * (len(cases) - len(decoded))
    facts["blocked"] = any(a.get("blocked") for a in decoded)
    facts["killed"] = any(a.get("killed") for a in decoded)
    if question.kind == "model":
        return judge_model(view, cases, decoded), facts
    return engine.judge_function(view, cases, decoded[: len(cases)]), facts


def judge_answers(assignment: str, seed: int, raw: Any) -> list[tuple[engine.Result, dict]]:
    """Julga as respostas de um caderno (o JSON que :mod:`bnlib.kit.runner` escreveu).

    Nada em ``raw`` é confiável: o que não tem o formato esperado vale zero, com o motivo.
    """
    by_id = raw.get("questions", {}) if isinstance(raw, dict) else {}
    by_id = by_id if isinstance(by_id, dict) else {}
    return [
        judge_question(question, cases, by_id.get(question.id))
        for question, cases in zip(questions(assignment), cases_for(assignment, seed), strict=True)
    ]


def visible_data(assignment: str) -> dict[str, Any]:
    """Os dados das verificações do caderno: a descrição de cada questão e os casos visíveis,
    com as saídas esperadas e as dos erros plantados (dados, nunca as implementações)."""
    module = ASSIGNMENTS[assignment]
    items = []
    for question, cases in zip(
        questions(assignment), cases_for(assignment, PUBLIC_SEED), strict=True
    ):
        view = question.view()
        if cases is not None:
            view["cases"] = []
            for case in cases:
                item = answer_codec.encode_case(case)
                if question.kind == "function":
                    item["expected"] = [answer_codec.encode(p, 1, 12) for p in case["expected"]]
                    item["mistakes"] = [
                        [hint, [answer_codec.encode(p, 1, 12) for p in parts]]
                        for hint, parts in case["mistakes"]
                    ]
                view["cases"].append(item)
        items.append(view)
    return {"assignment": assignment, "title": module.TITLE, "questions": items}


def self_check(assignment: str, namespace: dict[str, Any], seed: int | None = None) -> list:
    """Julga, no próprio processo, as funções e respostas de ``namespace`` com casos sorteados.

    Serve às versões do professor (código confiável): confere que as soluções tiram a nota
    máxima com uma semente nova a cada execução.

    Returns
    -------
    list of Result
    """
    seed = int(np.random.SeedSequence().entropy % 2**32) if seed is None else seed
    raw = runner.answer_request(request(assignment, seed), namespace, isolate=False)
    return [result for result, _ in judge_answers(assignment, seed, raw)]
