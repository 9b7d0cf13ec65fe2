"""Trabalho 5 (``05_camada_grupo``): normalização de camada e de grupo."""

from __future__ import annotations

import numpy as np

from bnlib.core import alternatives, reference
from bnlib.kit.assignments.forward_pass import HINT_EPS_OUTSIDE, HINT_VARIANCE
from bnlib.kit.assignments.mistakes import affine, normalize_variant
from bnlib.kit.assignments.spec import Case, Mistake, Question, normal, params, size
from bnlib.kit.assignments.spec import shape_label as label

TITLE = "Trabalho 5: normalização de camada e normalização de grupo"


def layer_cases(rng: np.random.Generator) -> list[Case]:
    shape32 = (size(rng, 20, 40), size(rng, 6, 12))
    constant = normal(rng, (size(rng, 4, 8), size(rng, 5, 9)), loc=1.0, scale=2.0)
    row = int(rng.integers(constant.shape[0]))
    constant[row] = 3.0 + 1e-3 * rng.standard_normal(constant.shape[1])
    large = normal(rng, (size(rng, 8, 16), size(rng, 4, 8)), loc=100.0, scale=0.5)
    specs = [
        ("x de shape (4, 3)", normal(rng, (4, 3))),
        (f"float32, shape {label(shape32)}", normal(rng, shape32, 3.0, 2.0, np.float32)),
        (f"exemplo {row} quase constante", constant),
        (f"média grande (100), shape {label(large.shape)}", large),
        ("um único exemplo (N = 1)", normal(rng, (1, size(rng, 4, 8)))),
    ]
    return [Case(d, (x, *params(rng, x.shape[1], x.dtype))) for d, x in specs]


def group_cases(rng: np.random.Generator) -> list[Case]:
    specs = [
        ("x (2, 4, 3, 3), 2 grupos", (2, 4, 3, 3), 2, np.float64),
        ("3 grupos", (size(rng, 2, 4), 6, size(rng, 2, 4), size(rng, 3, 5)), 3, np.float64),
        ("um único exemplo, 4 grupos", (1, 8, size(rng, 2, 4), 3), 4, np.float64),
        ("float32, 2 grupos", (size(rng, 3, 5), 6, 5, 5), 2, np.float32),
        ("1 grupo (= normalização de camada)", (2, size(rng, 3, 5), 4, 4), 1, np.float64),
    ]
    cases = []
    for description, shape, groups, dtype in specs:
        x = normal(rng, shape, loc=1.0, scale=2.0, dtype=dtype)
        x = x + (np.arange(shape[1], dtype=dtype) ** 1.5).reshape(1, -1, 1, 1)
        gamma, beta = params(rng, shape[1], dtype)
        text = description if description.startswith("x (") else f"{description}, x {label(shape)}"
        cases.append(Case(text, (x, gamma, beta, groups)))
    return cases


def interleaved(x, g, b, groups):
    """O erro de agrupar canais alternados em vez de consecutivos."""
    n, c, h, w = x.shape
    grouped = x.reshape(n, c // groups, groups, h, w)
    return affine(normalize_variant(grouped, (1, 3, 4)).reshape(x.shape), g, b)


def group_variance_unbiased(x, g, b, groups):
    n, c, h, w = x.shape
    grouped = x.reshape(n, groups, c // groups, h, w)
    return affine(normalize_variant(grouped, (2, 3, 4), ddof=1).reshape(x.shape), g, b)


QUESTIONS = [
    Question(
        id="5.1",
        name="layer_normalization",
        points=4,
        cases=layer_cases,
        reference=lambda x, g, b: alternatives.layer_norm_forward(x, g, b)[0],
        mistakes=(
            Mistake(
                "você normalizou sobre o lote (axis=0): isso é a normalização em lote. A "
                "normalização de camada usa cada exemplo sozinho: axis=1, keepdims=True.",
                lambda x, g, b: reference.batchnorm_forward(x, g, b)[0],
            ),
            Mistake(
                HINT_VARIANCE.replace("1/N", "1/D")
                .replace("1/(N-1)", "1/(D-1)")
                .replace("axis=0", "axis=1"),
                lambda x, g, b: normalize_variant(x, (1,), ddof=1) * g + b,
            ),
            Mistake(
                HINT_EPS_OUTSIDE,
                lambda x, g, b: normalize_variant(x, (1,), eps_outside=True) * g + b,
            ),
        ),
        outputs=("y",),
        arg_names=("x", "gamma", "beta"),
        general_hint=(
            "média e variância de cada linha (axis=1, keepdims=True); gamma e beta, de "
            "shape (D,), continuam um por atributo."
        ),
    ),
    Question(
        id="5.2",
        name="group_normalization",
        points=6,
        cases=group_cases,
        reference=lambda x, g, b, groups: alternatives.group_norm_forward(x, g, b, groups)[0],
        mistakes=(
            Mistake(
                "os canais de um grupo são CONSECUTIVOS: use x.reshape(N, groups, C // groups, "
                "H, W), não x.reshape(N, C // groups, groups, H, W).",
                interleaved,
            ),
            Mistake(
                "`groups` é o NÚMERO de grupos, não o número de canais em cada grupo: "
                "x.reshape(N, groups, C // groups, H, W).",
                lambda x, g, b, groups: alternatives.group_norm_forward(
                    x, g, b, x.shape[1] // groups
                )[0],
            ),
            Mistake(
                "você normalizou cada exemplo sobre todos os canais (um grupo só); divida os "
                "canais em `groups` grupos.",
                lambda x, g, b, groups: alternatives.group_norm_forward(x, g, b, 1)[0],
            ),
            Mistake(
                "você normalizou cada canal sozinho (normalização de instância); cada grupo "
                "reúne C // groups canais.",
                lambda x, g, b, groups: alternatives.instance_norm_forward(x, g, b)[0],
            ),
            Mistake(
                "você normalizou sobre o lote (axis=(0, 2, 3)): isso é a normalização em lote; "
                "a normalização de grupo não mistura exemplos.",
                lambda x, g, b, groups: reference.batchnorm_forward(x, g, b)[0],
            ),
            Mistake(
                "a variância deve dividir pelo número de valores do grupo, não por ele menos 1.",
                group_variance_unbiased,
            ),
        ),
        outputs=("y",),
        arg_names=("x", "gamma", "beta", "groups"),
        general_hint=(
            "reagrupe para (N, groups, C // groups, H, W), normalize sobre os eixos (2, 3, 4), "
            "volte ao shape (N, C, H, W) e só então aplique gamma e beta por canal."
        ),
    ),
]
