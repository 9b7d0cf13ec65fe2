"""Trabalho 6 (``06_projeto``): o MLP com e sem BN no MNIST, uma medida e duas respostas.

A configuração e o treino estão em :mod:`bnlib.kit.project` (material do aluno); aqui ficam
os casos da questão 6.2 e as medidas de referência das respostas 6.3 e 6.4, que a correção
calcula treinando a rede de :func:`bnlib.lab.models.make_mlp`.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from bnlib.kit.assignments.spec import Case, Mistake, Question
from bnlib.kit.project import PROJECT

TITLE = "Trabalho 6: mini-projeto, um MLP com e sem BN no MNIST"


def model_cases(rng: np.random.Generator) -> list[Case]:
    return [Case("with_bn=True", (True,)), Case("with_bn=False", (False,))]


def history_case(steps, accuracies, target, description) -> Case:
    data = {"eval_step": [int(s) for s in steps], "eval_accuracy": [float(a) for a in accuracies]}
    return Case(description, (data, float(target)))


def history_cases(rng: np.random.Generator) -> list[Case]:
    """Históricos de treino: um do enunciado e quatro tipos sorteados."""
    every = int(rng.choice([5, 10, 20, 25]))
    n = int(rng.integers(4, 8))
    steps = [every * (i + 1) for i in range(n)]
    target = round(float(rng.uniform(0.6, 0.9)), 2)
    rising = np.sort(rng.uniform(0.05, 0.99, n))
    hit = int(rng.integers(1, n - 1))
    equal = rising.copy()
    equal[hit] = target
    equal[:hit] = np.minimum(equal[:hit], target - 0.05)
    equal[hit + 1 :] = np.maximum(equal[hit + 1 :], target + 0.01)
    wavy = rng.uniform(0.05, target - 0.05, n)
    wavy[hit] = target + 0.02
    wavy[hit + 1] = target - 0.03
    wavy[-1] = max(wavy[-1], target + 0.04)
    return [
        history_case(
            [25, 50, 75, 100], [0.3, 0.6, 0.85, 0.9], 0.8, "acurácias 0,3 0,6 0,85 0,9; alvo 0,8"
        ),
        history_case(steps, equal, target, "acurácia igual ao alvo"),
        history_case(steps, rng.uniform(0.05, target - 0.05, n), target, "nunca chega ao alvo"),
        history_case(steps, np.maximum(rising, target + 0.01), target, "já na primeira avaliação"),
        history_case(steps, wavy, target, "sobe e desce"),
    ]


def first_step(history: dict, target: float, strict: bool = False, index: bool = False):
    """O primeiro passo com acurácia ≥ alvo (com ``strict``, > alvo; com ``index``, a posição)."""
    pairs = zip(history["eval_step"], history["eval_accuracy"], strict=True)
    for i, (step, accuracy) in enumerate(pairs):
        if accuracy > target or (accuracy == target and not strict):
            return i if index else step
    return None


def last_step(history: dict, target: float):
    """O erro de devolver o último passo que chega ao alvo."""
    steps = [
        s
        for s, a in zip(history["eval_step"], history["eval_accuracy"], strict=True)
        if a >= target
    ]
    return steps[-1] if steps else None


@functools.cache
def reference_measurements() -> dict[str, Any]:
    """As medidas de referência do mini-projeto (calculadas uma vez por processo).

    Returns
    -------
    dict
        ``steps_with_bn``, ``steps_without_bn`` (passos até a acurácia
        ``PROJECT["target"]``, ``None`` se não chega), ``final_with_bn``,
        ``final_without_bn`` (acurácia final).
    """
    import torch

    from bnlib.kit.project import train_project
    from bnlib.lab.models import make_mlp

    def build(with_bn):
        norm = torch.nn.BatchNorm1d if with_bn else None
        return make_mlp(PROJECT["sizes"], PROJECT["activation"], norm=norm)

    histories = {flag: train_project(build, flag) for flag in (True, False)}

    def steps(history):
        data = {"eval_step": history.eval_step, "eval_accuracy": history.eval_accuracy}
        return first_step(data, PROJECT["target"])

    return {
        "steps_with_bn": steps(histories[True]),
        "steps_without_bn": steps(histories[False]),
        "final_with_bn": histories[True].final_accuracy,
        "final_without_bn": histories[False].final_accuracy,
    }


def difference_pp() -> float:
    ref = reference_measurements()
    return 100 * (ref["final_with_bn"] - ref["final_without_bn"])


QUESTIONS = [
    Question(
        id="6.1",
        name="build_mlp",
        points=3,
        kind="model",
        cases=model_cases,
        general_hint=(
            "use bnlib.lab.models.make_mlp(tamanhos, 'sigmoid', norm=torch.nn.BatchNorm1d se "
            "with_bn, senão None)."
        ),
        call="model",
    ),
    Question(
        id="6.2",
        name="steps_to_target",
        points=3,
        cases=history_cases,
        reference=first_step,
        mistakes=(
            Mistake(
                "devolva o PASSO (history.eval_step[i]), não o índice i.",
                lambda h, t: first_step(h, t, index=True),
            ),
            Mistake(
                "a condição é acurácia ≥ alvo (maior ou igual), não maior estrito.",
                lambda h, t: first_step(h, t, strict=True),
            ),
            Mistake("devolva o PRIMEIRO passo que chega ao alvo, não o último.", last_step),
        ),
        outputs=("passo",),
        arg_names=("history", "target"),
        general_hint=(
            "percorra eval_step e eval_accuracy juntos (zip) e pare no primeiro ≥ alvo; se a "
            "acurácia nunca chega ao alvo, devolva None."
        ),
        metric="exact",
        call="history",
    ),
    Question(
        id="6.3",
        name="answer_steps_with_bn",
        points=2,
        kind="value",
        reference=lambda: reference_measurements()["steps_with_bn"],
        tolerance=PROJECT["eval_every"],
        unit=" passos",
        value_mistakes=lambda expected: [
            (
                (expected or 0) // PROJECT["eval_every"] - 1,
                "responda em PASSOS de treino (eval_step), não com a posição na lista.",
            ),
            (reference_measurements()["steps_without_bn"], "a pergunta é sobre o treino COM BN."),
        ],
        general_hint="use steps_to_target(history_with_bn, 0.8) com o histórico medido acima.",
    ),
    Question(
        id="6.4",
        name="answer_difference_pp",
        points=2,
        kind="value",
        reference=difference_pp,
        tolerance=1.0,
        unit=" p.p.",
        value_mistakes=lambda expected: [
            (expected / 100, "responda em pontos percentuais: multiplique a diferença por 100."),
            (-expected, "a pergunta é acurácia COM BN menos acurácia SEM BN."),
        ],
        general_hint="use history.final_accuracy (o último valor de history.eval_accuracy).",
    ),
]
