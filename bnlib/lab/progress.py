"""Barra de progresso para treinos longos, que não polui o livro compilado.

A barra é escrita na saída de erro (*stderr*); as células que a usam levam a etiqueta
``remove-stderr``, de modo que o livro compilado não a mostra, mas quem roda o caderno no
Jupyter vê o treino avançar.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
from tqdm import tqdm


def progress_bar(total: int, desc: str) -> tqdm:
    """Uma barra ``tqdm`` de ``total`` passos, escrita em *stderr* no máximo 2 vezes por segundo."""
    return tqdm(total=total, desc=desc, file=sys.stderr, mininterval=0.5, leave=False)


def with_progress(
    bar: tqdm, *callbacks: Callable[[int, torch.nn.Module], None] | None
) -> Callable[[int, torch.nn.Module], None]:
    """Um ``on_step`` que avança ``bar`` e chama cada um de ``callbacks`` (os ``None`` são
    ignorados)."""
    active = [cb for cb in callbacks if cb is not None]

    def on_step(step: int, model: torch.nn.Module) -> None:
        bar.update(1)
        for callback in active:
            callback(step, model)

    return on_step
