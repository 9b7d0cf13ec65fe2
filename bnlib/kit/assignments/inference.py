"""Trabalho 3 (``03_inferencia``): estatísticas acumuladas, inferência e uma resposta numérica."""

from __future__ import annotations

import numpy as np

from bnlib.core import reference
from bnlib.kit.assignments.forward_pass import HINT_AXIS, HINT_EPS_OUTSIDE, reference_cache
from bnlib.kit.assignments.mistakes import normalize_variant
from bnlib.kit.assignments.spec import Case, Mistake, Question, normal, params, size

TITLE = "Trabalho 3: estatísticas acumuladas e inferência"


def update_cases(rng: np.random.Generator) -> list[Case]:
    specs = [
        ("estado inicial (0, 1), x de shape (8, 3)", 8, 3, 0.1),
        ("momentum = 0,5", size(rng, 4, 8), size(rng, 3, 6), 0.5),
        ("estado qualquer, N = 2", 2, size(rng, 4, 8), 0.1),
        ("momentum = 0,01", size(rng, 30, 50), size(rng, 2, 5), 0.01),
    ]
    cases = []
    for i, (description, n, d, momentum) in enumerate(specs):
        x = normal(rng, (n, d), loc=3.0, scale=2.0)
        mean = np.zeros(d) if i == 0 else normal(rng, d)
        var = np.ones(d) if i == 0 else 1.0 + normal(rng, d) ** 2
        cases.append(Case(description, (mean, var, x), {"momentum": momentum}))
    return cases


def update_reference(mean, var, x, momentum=0.1):
    return reference.update_running_stats(mean, var, reference_cache(x), momentum)


def update_variant(mean, var, x, momentum=0.1, ddof=1, inverted=False, axis=0):
    """A atualização com um erro plantado (variância enviesada, pesos trocados, eixo)."""
    m, v = x.mean(axis=axis), x.var(axis=axis, ddof=ddof)
    if inverted:
        return momentum * mean + (1 - momentum) * m, momentum * var + (1 - momentum) * v
    return (1 - momentum) * mean + momentum * m, (1 - momentum) * var + momentum * v


def inference_cases(rng: np.random.Generator) -> list[Case]:
    specs = [
        ("x de shape (4, 3)", 4, 3, 1.0),
        ("um único exemplo (N = 1)", 1, size(rng, 3, 7), 1.0),
        ("lote maior", size(rng, 15, 30), size(rng, 4, 8), 1.0),
        ("variância acumulada pequena", size(rng, 4, 8), size(rng, 3, 5), 1e-5),
    ]
    cases = []
    for description, n, d, scale in specs:
        x = normal(rng, (n, d), loc=1.0, scale=2.0)
        gamma, beta = params(rng, d)
        mean = normal(rng, d)
        var = scale * (0.5 + normal(rng, d) ** 2)
        cases.append(Case(f"{description}", (x, gamma, beta, mean, var)))
    return cases


def with_batch_statistics(x, g, b, m, v):
    """O erro de usar a média e a variância do lote na inferência."""
    return normalize_variant(x, (0,)) * g + b if x.shape[0] > 1 else b + 0 * x


def steps_mistakes(expected: float) -> list[tuple[float, str]]:
    return [
        (0.1**50, "cada atualização multiplica o valor antigo por (1 - momentum) = 0,9."),
        (0.9**49, "conte as 50 atualizações: são 50 fatores (1 - momentum)."),
        (0.9**51, "conte as 50 atualizações: são 50 fatores (1 - momentum)."),
    ]


QUESTIONS = [
    Question(
        id="3.1",
        name="update_running_averages",
        points=4,
        cases=update_cases,
        reference=update_reference,
        mistakes=(
            Mistake(
                "as estatísticas acumuladas guardam a variância NÃO enviesada, 1/(N-1), "
                "como o PyTorch: use `x.var(axis=0, ddof=1)`.",
                lambda *a, **k: update_variant(*a, ddof=0, **k),
            ),
            Mistake(
                "momentum é o peso do lote NOVO: acumulada = (1 - momentum)·acumulada + "
                "momentum·do_lote.",
                lambda *a, **k: update_variant(*a, inverted=True, **k),
            ),
            Mistake(
                "dois erros: momentum é o peso do lote NOVO, acumulada = (1 - momentum)·"
                "acumulada + momentum·do_lote; e a variância do lote entra NÃO enviesada, "
                "`x.var(axis=0, ddof=1)`.",
                lambda *a, **k: update_variant(*a, ddof=0, inverted=True, **k),
            ),
            Mistake(HINT_AXIS, lambda *a, **k: update_variant(*a, axis=1, **k)),
        ),
        outputs=("new_mean", "new_var"),
        arg_names=("running_mean", "running_var", "x"),
        general_hint=(
            "nova = (1 - momentum)·acumulada + momentum·do_lote, com a média e a variância "
            "não enviesada do lote por atributo."
        ),
        input_policy="forbid",
    ),
    Question(
        id="3.2",
        name="bn_inference",
        points=4,
        cases=inference_cases,
        reference=reference.batchnorm_inference,
        mistakes=(
            Mistake(
                "na inferência use as estatísticas ACUMULADAS (running_mean, running_var), não "
                "a média e a variância do lote: a saída de um exemplo não pode depender dos "
                "outros exemplos.",
                with_batch_statistics,
            ),
            Mistake(HINT_EPS_OUTSIDE, lambda x, g, b, m, v: (x - m) / (np.sqrt(v) + 1e-5) * g + b),
            Mistake(
                "divida pelo desvio padrão, np.sqrt(running_var + eps), não pela variância.",
                lambda x, g, b, m, v: (x - m) / (v + 1e-5) * g + b,
            ),
        ),
        outputs=("y",),
        arg_names=("x", "gamma", "beta", "running_mean", "running_var"),
        general_hint="y = gamma · (x - running_mean) / sqrt(running_var + eps) + beta.",
    ),
    Question(
        id="3.3",
        name="answer_initial_weight",
        points=2,
        kind="value",
        reference=lambda: 0.9**50,
        tolerance=1e-4,
        value_mistakes=steps_mistakes,
        general_hint="cada atualização multiplica o peso do valor inicial por (1 - momentum).",
    ),
]
