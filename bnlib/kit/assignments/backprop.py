"""Trabalho 2 (``02_retropropagacao``): retropropagação nó a nó, forma fechada e gradiente numérico.

Os gradientes são comparados na escala do resultado, ``max|a - b| / max|b|`` (a medida do
capítulo da retropropagação, :func:`bnlib.core.gradcheck.scaled_error`), e não elemento a
elemento: o erro relativo por elemento exagera nos elementos quase nulos do gradiente, onde
o arredondamento (sobretudo em float32) vira um erro relativo grande. A tolerância em
float64 é a do capítulo, 1e-7; em float32, 1e-4.
"""

from __future__ import annotations

import numpy as np

from bnlib.core.gradcheck import numerical_gradient
from bnlib.kit.assignments.forward_pass import HINT_VARIANCE
from bnlib.kit.assignments.mistakes import backward, backward_variant, normalize_variant
from bnlib.kit.assignments.spec import (
    Case,
    Mistake,
    Question,
    nearly_constant,
    normal,
    params,
    size,
)
from bnlib.kit.assignments.spec import shape_label as label
from bnlib.kit.runner import gradient_test_function

TITLE = "Trabalho 2: retropropagação da normalização em lote"

SCALED_TOLERANCE = 1e-7


def backward_cases(rng: np.random.Generator) -> list[Case]:
    shape50 = (size(rng, 30, 60), size(rng, 5, 9))
    shape32 = (size(rng, 24, 40), size(rng, 4, 7))
    specs = [
        ("x de shape (4, 3)", normal(rng, (4, 3))),
        ("N = 2 exemplos", normal(rng, (2, size(rng, 3, 6)), loc=1.0)),
        (f"shape {label(shape50)}", normal(rng, shape50, -2.0, 3.0)),
        ("atributo quase constante", nearly_constant(rng, 16, size(rng, 3, 6))[0]),
        (f"float32, shape {label(shape32)}", normal(rng, shape32, 0.5, 2.0, np.float32)),
    ]
    cases = []
    for description, x in specs:
        gamma, _ = params(rng, x.shape[1], x.dtype)
        dy = normal(rng, x.shape, dtype=x.dtype)
        cases.append(Case(description, (dy, x, gamma)))
    return cases


def mistake(kind: str, **options) -> Mistake:
    texts = {
        "direct_only": "dx ignora que a média e a variância também dependem de x: faltam os "
        "caminhos por μ e por σ² (a soma dos gradientes de todos os caminhos).",
        "no_variance": "dx considera o caminho pela média, mas falta o caminho pela variância "
        "(dvar = Σ dx_hat·(x - μ)·(-1/2)(var + eps)^(-3/2)).",
        "no_mean": "dx considera o caminho pela variância, mas falta o caminho pela média: "
        "dμ = -Σ dx_mu (somando sobre os exemplos) e dx recebe dμ / N.",
        "dx_no_gamma": "dx_hat = dy · gamma: faltou multiplicar dy por gamma antes de seguir "
        "para dx.",
        "dgamma_with_x": "dgamma = Σ dy · x_hat (a entrada normalizada), não Σ dy · x.",
    }
    return Mistake(texts[kind], lambda dy, x, g: backward_variant(dy, x, g, kind=kind, **options))


BACKWARD_MISTAKES = (
    mistake("direct_only"),
    mistake("no_variance"),
    mistake("no_mean"),
    mistake("dx_no_gamma"),
    mistake("dgamma_with_x"),
    Mistake(
        HINT_VARIANCE + " O passo direto normaliza com a variância enviesada.",
        lambda dy, x, g: backward_variant(dy, x, g, ddof=1),
    ),
    Mistake(
        "eixo errado: dgamma e dbeta somam sobre os exemplos (axis=0) e têm shape (D,).",
        lambda dy, x, g: (
            backward(dy, x, g)[0],
            (dy * normalize_variant(x, (0,))).sum(axis=1),
            dy.sum(axis=1),
        ),
    ),
    Mistake(
        "dgamma e dbeta estão trocados na tupla: devolva (dx, dgamma, dbeta).",
        lambda dy, x, g: (lambda r: (r[0], r[2], r[1]))(backward(dy, x, g)),
    ),
)


def analytic_gradient(name: str, x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """O gradiente exato de ``sum(f(x) * dy)`` para as funções de teste da questão 2.3."""
    f = gradient_test_function(name)
    if name == "cube":
        return 3 * x**2 * dy
    if name == "tanh":
        return (1 - np.tanh(x) ** 2) * dy
    s = f(x)  # softmax por linha
    return s * (dy - (dy * s).sum(axis=1, keepdims=True))


def forward_differences(name: str, x: np.ndarray, dy: np.ndarray, h: float = 1e-5):
    """O erro das diferenças para a frente, ``(f(x + h) - f(x)) / h``."""
    f = gradient_test_function(name)
    x = x.copy()
    fx = np.sum(f(x) * dy)
    dx = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        dx[i] = (np.sum(f(x) * dy) - fx) / h
        x[i] = original
    return dx


def gradient_cases(rng: np.random.Generator) -> list[Case]:
    shapes = [(3, 2), (size(rng, 3, 5), size(rng, 2, 4)), (size(rng, 4, 6), size(rng, 3, 4))]
    cases = []
    for (name, text), shape in zip(
        [("cube", "f(x) = x³"), ("tanh", "f(x) = tanh(x)"), ("softmax", "f = softmax por linha")],
        shapes,
        strict=True,
    ):
        x, dy = normal(rng, shape), normal(rng, shape)
        cases.append(Case(f"{text}, shape {label(shape)}", (name, x, dy)))
    return cases


QUESTIONS = [
    Question(
        id="2.1",
        name="bn_backward_steps",
        points=4,
        cases=backward_cases,
        reference=backward,
        mistakes=BACKWARD_MISTAKES,
        outputs=("dx", "dgamma", "dbeta"),
        arg_names=("dy", "x", "gamma"),
        general_hint=(
            "percorra o grafo de trás para a frente, nó a nó, e some os gradientes que "
            "chegam a um mesmo nó por caminhos diferentes (x - μ é usado duas vezes)."
        ),
        metric="scaled",
        rtol=SCALED_TOLERANCE,
    ),
    Question(
        id="2.2",
        name="bn_backward_closed_form",
        points=3,
        cases=backward_cases,
        reference=backward,
        mistakes=BACKWARD_MISTAKES,
        outputs=("dx", "dgamma", "dbeta"),
        arg_names=("dy", "x", "gamma"),
        general_hint=(
            "forma fechada: dx = gamma / (N·sqrt(var + eps)) · (N·dy - Σdy - x_hat·Σ(dy·x_hat))."
        ),
        metric="scaled",
        rtol=SCALED_TOLERANCE,
    ),
    Question(
        id="2.3",
        name="numerical_gradient",
        points=3,
        cases=gradient_cases,
        reference=analytic_gradient,
        mistakes=(
            Mistake(
                "use diferenças centradas, (f(x + h) - f(x - h)) / 2h: as diferenças para a "
                "frente, (f(x + h) - f(x)) / h, erram da ordem de h.",
                forward_differences,
            ),
            Mistake(
                "faltou dividir por 2h (você dividiu por h).",
                lambda name, x, dy: (
                    2 * numerical_gradient(gradient_test_function(name), x.copy(), dy)
                ),
            ),
        ),
        outputs=("dx",),
        arg_names=("f", "x", "dy"),
        general_hint=(
            "para cada elemento i: dx[i] = (Σ f(x + h·e_i)·dy - Σ f(x - h·e_i)·dy) / (2h); "
            "some o produto com dy antes de subtrair."
        ),
        metric="scaled",
        rtol=SCALED_TOLERANCE,
        input_policy="forbid",
        call="gradient",
    ),
]
