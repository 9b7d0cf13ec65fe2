"""As verificações dos trabalhos no caderno do aluno, com retorno em português.

Cada questão tem uma função ``check_*`` que roda a função do aluno nos casos visíveis do
trabalho (a semente é pública; a correção usa casos do mesmo tipo com outros números,
sorteados na hora), compara com as saídas esperadas com as tolerâncias da questão e imprime
o que era esperado, o que veio e uma dica que reconhece o erro mais comum. Uma exceção no
código do aluno é explicada, com a linha; uma função que passa de :data:`CASE_TIME_LIMIT`
segundos num caso é interrompida. As respostas numéricas são conferidas só na forma: o valor
esperado não vai no material do aluno.

As verificações não contam para a nota: na correção (:mod:`bnlib.kit.grading`) elas não
rodam, e as respostas do caderno são julgadas no processo de quem corrige.

Uso no caderno::

    from bnlib.kit import checks          # ou, nos cadernos antigos, from bnlib import checks
    checks.check_batch_mean_and_variance(batch_mean_and_variance)
"""

from __future__ import annotations

import os
from typing import Any

from bnlib.kit import answers, engine, runner, visible
from bnlib.kit.engine import Result
from bnlib.kit.project import PROJECT, judge_model, train_project

__all__ = [
    "CASE_TIME_LIMIT",
    "CHECKS",
    "PROJECT",
    "Result",
    "check",
    "grade_assignment",
    "train_project",
]

CASE_TIME_LIMIT = runner.CASE_TIME_LIMIT
"""Tempo máximo, em segundos, de uma chamada à função do aluno num caso."""

GRADING_NOTE = (
    "(Na correção esta verificação não roda: o corretor julga as suas funções em outros "
    "casos, fora do caderno, e o resultado aparece no retorno.)"
)


def find(name: str) -> tuple[str, dict[str, Any]]:
    """O trabalho e a descrição (com os casos visíveis) da questão ``name``."""
    for assignment in visible.assignments():
        for view in visible.load(assignment)["questions"]:
            if view["name"] == name:
                return assignment, view
    raise ValueError(f"check: não há questão chamada {name!r} nos trabalhos.")


def visible_cases(view: dict) -> list[dict]:
    """Os casos visíveis de uma questão, decodificados."""
    cases = []
    for item in view.get("cases", []):
        case = answers.decode_case(item)
        if "expected" in item:
            case["expected"] = [answers.decode(p, 1) for p in item["expected"]]
            case["mistakes"] = [
                (hint, [answers.decode(p, 1) for p in parts]) for hint, parts in item["mistakes"]
            ]
        cases.append(case)
    return cases


def judge(view: dict, obj) -> Result:
    """Verifica ``obj`` (a função ou a resposta do aluno) nos casos visíveis."""
    if view["kind"] == "value":
        return engine.check_value_form(view, obj)
    if not callable(obj):
        return engine.missing_result(
            view,
            f"`{view['name']}` deveria ser uma função; recebido {type(obj).__name__}. Rode a "
            "célula em que você a define.",
        )
    cases = visible_cases(view)
    raw = runner.run_in_process(obj, view["call"], cases, CASE_TIME_LIMIT)
    decoded = answers.decode_answers(raw)
    if view["kind"] == "model":
        return judge_model(view, cases, decoded)
    return engine.judge_function(view, cases, decoded)


def check(name: str, obj, quiet: bool = False) -> Result | None:
    """Verifica a função ou resposta ``obj`` da questão ``name`` e imprime o retorno.

    Parameters
    ----------
    name : str
        O nome da função ou resposta no caderno, por exemplo ``"normalize"``.
    obj : função ou número
    quiet : bool
        Se ``True``, não imprime (só devolve o resultado).

    Returns
    -------
    Result, ou None durante a correção automática
    """
    if os.environ.get("BNLIB_CORRECAO") == "1":
        if not quiet:
            print(GRADING_NOTE)
        return None
    _, view = find(name)
    result = judge(view, obj)
    if not quiet:
        print(result.text())
    return result


def grade_assignment(assignment: str, namespace: dict[str, Any], verbose: bool = False) -> list:
    """Roda as verificações de todas as questões de ``assignment`` sobre ``namespace``.

    Um nome ausente vale zero, com uma mensagem. Só os casos visíveis: a nota vem da
    correção.

    Returns
    -------
    list of Result
    """
    if assignment not in visible.assignments():
        raise ValueError(
            f"grade_assignment: trabalho desconhecido {assignment!r}; os trabalhos são "
            f"{visible.assignments()}."
        )
    results = []
    for view in visible.load(assignment)["questions"]:
        if view["name"] not in namespace:
            reason = f"`{view['name']}` não está definido no caderno."
            results.append(engine.missing_result(view, reason))
        else:
            results.append(judge(view, namespace[view["name"]]))
        if verbose:
            print(results[-1].text())
    return results


CHECKS: dict[str, str] = {}
"""O nome de cada função ``check_*`` e o da questão que ela verifica."""


def make_check(name: str, question: str, signature: str, function_name: str = ""):
    """Uma função ``check_<nome>`` com a documentação da questão."""

    def check_question(obj, quiet: bool = False) -> Result | None:
        return check(name, obj, quiet)

    function_name = function_name or f"check_{name}"
    CHECKS[function_name] = name
    check_question.__name__ = check_question.__qualname__ = function_name
    check_question.__doc__ = f"Questão {question}: verifica ``{signature}``."
    return check_question


check_batch_mean_and_variance = make_check(
    "batch_mean_and_variance", "1.1", "batch_mean_and_variance(x) -> (mean, variance)"
)
check_normalize = make_check("normalize", "1.2", "normalize(x, eps=1e-5) -> x_hat")
check_bn_forward_pass = make_check("bn_forward_pass", "1.3", "bn_forward_pass(x, gamma, beta)")
check_bn_backward_steps = make_check(
    "bn_backward_steps", "2.1", "bn_backward_steps(dy, x, gamma) -> (dx, dgamma, dbeta)"
)
check_bn_backward_closed_form = make_check(
    "bn_backward_closed_form", "2.2", "bn_backward_closed_form(dy, x, gamma)"
)
check_numerical_gradient = make_check(
    "numerical_gradient", "2.3", "numerical_gradient(f, x, dy, h=1e-5) -> dx"
)
check_update_running_averages = make_check(
    "update_running_averages", "3.1", "update_running_averages(running_mean, running_var, x)"
)
check_bn_inference = make_check(
    "bn_inference", "3.2", "bn_inference(x, gamma, beta, running_mean, running_var)"
)
check_answer_initial_weight = make_check(
    "answer_initial_weight", "3.3", "answer_initial_weight (um número)"
)
check_spatial_bn_forward = make_check(
    "spatial_bn_forward", "4.1", "spatial_bn_forward(x, gamma, beta) -> y"
)
check_spatial_bn_backward = make_check(
    "spatial_bn_backward", "4.2", "spatial_bn_backward(dy, x, gamma) -> (dx, dgamma, dbeta)"
)
check_layer_normalization = make_check(
    "layer_normalization", "5.1", "layer_normalization(x, gamma, beta) -> y"
)
check_group_normalization = make_check(
    "group_normalization", "5.2", "group_normalization(x, gamma, beta, groups) -> y"
)
check_build_mlp = make_check("build_mlp", "6.1", "build_mlp(with_bn) -> torch.nn.Module")
check_steps_to_target = make_check(
    "steps_to_target", "6.2", "steps_to_target(history, target) -> int | None"
)
check_answer_steps = make_check(
    "answer_steps_with_bn", "6.3", "answer_steps_with_bn", "check_answer_steps"
)
check_answer_difference = make_check(
    "answer_difference_pp", "6.4", "answer_difference_pp", "check_answer_difference"
)

__all__ += [name for name in list(globals()) if name.startswith("check_")]
