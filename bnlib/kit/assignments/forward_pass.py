"""Trabalho 1 (``01_passo_direto``): média e variância, normalização e passo direto em (N, D)."""

from __future__ import annotations

import numpy as np

from bnlib.core import alternatives, reference
from bnlib.kit.assignments.mistakes import normalize_variant
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

TITLE = "Trabalho 1: passo direto da normalização em lote"

HINT_VARIANCE = "a variância deve usar 1/N, não 1/(N-1): use `x.var(axis=0)` (ddof=0)."
HINT_AXIS = (
    "eixo errado: a média e a variância são calculadas sobre os exemplos (axis=0), "
    "uma por atributo, e têm shape (D,)."
)
HINT_EPS_OUTSIDE = (
    "o épsilon vai dentro da raiz: divida por `np.sqrt(var + eps)`, não por `np.sqrt(var) + eps`."
)


def batches(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Os lotes (N, D) dos casos: o do enunciado e quatro tipos que pegam erros comuns."""
    x0 = normal(rng, (4, 3))
    n2 = normal(rng, (2, size(rng, 3, 7)), loc=1.0)
    shape32 = (size(rng, 40, 80), size(rng, 6, 12))
    x32 = normal(rng, shape32, 3.0, 2.0, np.float32)
    constant, column = nearly_constant(rng, 16, size(rng, 3, 6))
    large = normal(rng, (size(rng, 20, 40), size(rng, 4, 8)), loc=100.0, scale=0.5)
    return [
        ("x de shape (4, 3)", x0),
        ("N = 2 exemplos", n2),
        (f"float32, shape {label(shape32)}", x32),
        (f"atributo {column} quase constante", constant),
        (f"média grande (100), shape {label(large.shape)}", large),
    ]


def x_only_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(d, (x,)) for d, x in batches(rng)]


def forward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(d, (x, *params(rng, x.shape[1], x.dtype))) for d, x in batches(rng)]


def reference_cache(x, eps=1e-5):
    """O cache do passo direto da referência com gamma = 1 e beta = 0."""
    ones = np.ones(x.shape[1], dtype=x.dtype)
    return reference.batchnorm_forward(x, ones, np.zeros_like(ones), eps)[1]


def mean_and_variance(x):
    cache = reference_cache(x)
    return cache.mean, cache.var


def layer_norm(x, gamma=None, beta=None):
    """Normalizar cada linha (o erro do eixo 1) é a normalização de camada da ``bnlib.core``."""
    ones = np.ones(x.shape[1], dtype=x.dtype)
    gamma = ones if gamma is None else gamma
    beta = np.zeros_like(ones) if beta is None else beta
    return alternatives.layer_norm_forward(x, gamma, beta)[0]


QUESTIONS = [
    Question(
        id="1.1",
        name="batch_mean_and_variance",
        points=3,
        cases=x_only_cases,
        reference=mean_and_variance,
        mistakes=(
            Mistake(HINT_VARIANCE, lambda x: (x.mean(axis=0), x.var(axis=0, ddof=1))),
            Mistake(HINT_AXIS, lambda x: (x.mean(axis=1), x.var(axis=1))),
            Mistake(
                "a média e a variância são uma por atributo (shape (D,)), não um número "
                "para o lote inteiro: passe `axis=0`.",
                lambda x: (x.mean(), x.var()),
            ),
            Mistake(
                "a função deve devolver a variância (média dos quadrados dos desvios), "
                "não o desvio padrão.",
                lambda x: (x.mean(axis=0), x.std(axis=0)),
            ),
        ),
        outputs=("média", "variância"),
        arg_names=("x",),
        general_hint="confira a fórmula: média = Σx/N e variância = Σ(x - média)²/N, por coluna.",
    ),
    Question(
        id="1.2",
        name="normalize",
        points=3,
        cases=x_only_cases,
        reference=lambda x: reference_cache(x).x_hat,
        mistakes=(
            Mistake(HINT_VARIANCE, lambda x: normalize_variant(x, (0,), ddof=1)),
            Mistake(HINT_AXIS, layer_norm),
            Mistake(HINT_EPS_OUTSIDE, lambda x: normalize_variant(x, (0,), eps_outside=True)),
            Mistake(
                "faltou o épsilon: divida por `np.sqrt(var + eps)`; sem ele um atributo "
                "quase constante é amplificado demais.",
                lambda x: normalize_variant(x, (0,), eps=0.0),
            ),
            Mistake(
                "divida pelo desvio padrão (a raiz de var + eps), não pela variância.",
                lambda x: (x - x.mean(0)) / (x.var(0) + 1e-5),
            ),
        ),
        outputs=("x_hat",),
        arg_names=("x",),
        general_hint=(
            "x_hat = (x - média) / sqrt(variância + eps), com média e variância por coluna."
        ),
    ),
    Question(
        id="1.3",
        name="bn_forward_pass",
        points=4,
        cases=forward_cases,
        reference=lambda x, g, b: reference.batchnorm_forward(x, g, b)[0],
        mistakes=(
            Mistake(HINT_VARIANCE, lambda x, g, b: normalize_variant(x, (0,), ddof=1) * g + b),
            Mistake(HINT_AXIS, layer_norm),
            Mistake(
                HINT_EPS_OUTSIDE,
                lambda x, g, b: normalize_variant(x, (0,), eps_outside=True) * g + b,
            ),
            Mistake(
                "faltou aplicar a escala e o deslocamento: y = gamma * x_hat + beta.",
                lambda x, g, b: reference_cache(x).x_hat,
            ),
            Mistake(
                "gamma e beta trocados: gamma multiplica x_hat e beta é somado.",
                lambda x, g, b: reference.batchnorm_forward(x, b, g)[0],
            ),
            Mistake(
                "faltou somar beta: y = gamma * x_hat + beta.",
                lambda x, g, b: reference.batchnorm_forward(x, g, np.zeros_like(b))[0],
            ),
            Mistake(
                "faltou multiplicar por gamma: y = gamma * x_hat + beta.",
                lambda x, g, b: reference.batchnorm_forward(x, np.ones_like(g), b)[0],
            ),
        ),
        outputs=("y",),
        arg_names=("x", "gamma", "beta"),
        general_hint="y = gamma * (x - média) / sqrt(variância + eps) + beta, por atributo.",
    ),
]
