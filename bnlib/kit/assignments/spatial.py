"""Trabalho 4 (``04_espacial``): a BN espacial para (N, C, H, W), passo direto e retropropagação."""

from __future__ import annotations

import numpy as np

from bnlib.core import alternatives, reference
from bnlib.kit.assignments.backprop import SCALED_TOLERANCE
from bnlib.kit.assignments.forward_pass import HINT_VARIANCE
from bnlib.kit.assignments.mistakes import (
    affine,
    backward,
    backward_variant,
    normalize_variant,
    per_position,
    per_position_backward,
)
from bnlib.kit.assignments.spec import Case, Mistake, Question, normal, params, size
from bnlib.kit.assignments.spec import shape_label as label

TITLE = "Trabalho 4: normalização em lote espacial"

HINT_POSITION = (
    "na BN espacial há uma média e uma variância por CANAL, calculadas sobre N, H e W "
    "juntos (axis=(0, 2, 3)); você normalizou cada posição (c, h, w) separadamente, como "
    "se cada pixel fosse um atributo."
)
HINT_INSTANCE = (
    "você normalizou cada exemplo sozinho (axis=(2, 3), a normalização de instância); a "
    "BN junta também os exemplos do lote: axis=(0, 2, 3)."
)


def images(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    shapes = [
        ("x de shape (2, 3, 4, 4)", (2, 3, 4, 4), np.float64),
        ("um único exemplo (N = 1)", (1, size(rng, 2, 4), size(rng, 3, 5), size(rng, 3, 5)), None),
        ("lote (N, C, H, W)", (size(rng, 3, 5), 2, size(rng, 3, 5), size(rng, 3, 6)), None),
        ("float32", (size(rng, 6, 9), size(rng, 3, 5), 6, 6), np.float32),
    ]
    result = []
    for description, shape, dtype in shapes:
        dtype = dtype or np.float64
        x = normal(rng, shape, loc=1.0, scale=2.0, dtype=dtype)
        x = x + np.arange(shape[1], dtype=dtype).reshape(1, -1, 1, 1)
        text = description if description.startswith("x de") else f"{description}, {label(shape)}"
        result.append((text, x))
    return result


def forward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(d, (x, *params(rng, x.shape[1], x.dtype))) for d, x in images(rng)]


def backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for description, x in images(rng):
        gamma, _ = params(rng, x.shape[1], x.dtype)
        cases.append(Case(description, (normal(rng, x.shape, dtype=x.dtype), x, gamma)))
    return cases


def instance_backward(dy, x, gamma):
    """A retropropagação da normalização de instância (o erro de normalizar só H e W)."""
    cache = alternatives.instance_norm_forward(x, gamma, np.zeros_like(gamma))[1]
    return alternatives.instance_norm_backward(dy, cache)


QUESTIONS = [
    Question(
        id="4.1",
        name="spatial_bn_forward",
        points=5,
        cases=forward_cases,
        reference=lambda x, g, b: reference.batchnorm_forward(x, g, b)[0],
        mistakes=(
            Mistake(HINT_POSITION, per_position),
            Mistake(HINT_INSTANCE, lambda x, g, b: alternatives.instance_norm_forward(x, g, b)[0]),
            Mistake(
                HINT_VARIANCE.replace("1/N", "1/m").replace("1/(N-1)", "1/(m-1)")
                + " Aqui m = N·H·W.",
                lambda x, g, b: affine(normalize_variant(x, (0, 2, 3), ddof=1), g, b),
            ),
            Mistake(
                "você normalizou cada exemplo sobre todos os canais (axis=(1, 2, 3)); a BN "
                "normaliza cada canal sobre o lote: axis=(0, 2, 3).",
                lambda x, g, b: alternatives.layer_norm_forward(x, g, b)[0],
            ),
        ),
        outputs=("y",),
        arg_names=("x", "gamma", "beta"),
        general_hint=(
            "calcule a média e a variância com axis=(0, 2, 3) e keepdims=True, e dê a gamma e "
            "beta o shape (1, C, 1, 1)."
        ),
    ),
    Question(
        id="4.2",
        name="spatial_bn_backward",
        points=5,
        cases=backward_cases,
        reference=backward,
        mistakes=(
            Mistake(HINT_POSITION, per_position_backward),
            Mistake(HINT_INSTANCE, instance_backward),
            Mistake(
                "a variância do passo direto divide por m = N·H·W, não por m - 1.",
                lambda dy, x, g: backward_variant(dy, x, g, ddof=1),
            ),
            Mistake(HINT_POSITION, lambda dy, x, g: backward_variant(dy, x, g, axes=(0,))),
            Mistake(
                "cada canal tem m = N·H·W valores, não N: use esse m nas divisões do dx.",
                lambda dy, x, g: backward_variant(dy, x, g, m=x.shape[0]),
            ),
            Mistake(
                "dx ignora que a média e a variância do canal também dependem de x.",
                lambda dy, x, g: backward_variant(dy, x, g, kind="direct_only"),
            ),
            Mistake(
                "dx considera o caminho pela média, mas falta o caminho pela variância do canal.",
                lambda dy, x, g: backward_variant(dy, x, g, kind="no_variance"),
            ),
            Mistake(
                "dx_hat = dy · gamma (com gamma.reshape(1, -1, 1, 1)): faltou o gamma no dx.",
                lambda dy, x, g: backward_variant(dy, x, g, kind="dx_no_gamma"),
            ),
        ),
        outputs=("dx", "dgamma", "dbeta"),
        arg_names=("dy", "x", "gamma"),
        general_hint=(
            "uma saída fácil: transponha x para (N, H, W, C), achate para (N·H·W, C), use a "
            "retropropagação de (N, D) e desfaça a transposição."
        ),
        metric="scaled",
        rtol=SCALED_TOLERANCE,
    ),
]
