"""Varreduras de hiperparâmetros com várias sementes: uma grade de valores × sementes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from bnlib.progress import progress_bar


@torch.no_grad()
def gaussian_init_(model: nn.Module, std: float, generator: torch.Generator | None = None) -> None:
    """Sorteia os pesos de toda ``nn.Linear`` de ``model`` em N(0, std²) e zera os vieses.

    É a inicialização de ``weight_scale`` do CS231n: a escala é a mesma em todas as camadas,
    sem depender do número de entradas.

    Parameters
    ----------
    model : nn.Module
    std : float
        Desvio padrão dos pesos (> 0).
    generator : torch.Generator, opcional
    """
    if not std > 0:
        raise ValueError(f"gaussian_init_: `std` deve ser > 0; recebido {std!r}.")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("gaussian_init_: `model` não tem nenhuma camada nn.Linear.")
    for layer in linears:
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * std)
        if layer.bias is not None:
            layer.bias.zero_()


def run_grid(
    run: Callable[[float, int], dict[str, float]],
    values: Sequence[float],
    seeds: Sequence[int],
    desc: str = "varredura",
) -> dict[str, np.ndarray]:
    """Chama ``run(valor, semente)`` para cada par da grade e empilha os resultados.

    Parameters
    ----------
    run : função ``(valor, semente) -> dict[str, float]``
        Um experimento; todas as chamadas devem devolver as mesmas chaves.
    values : sequência de float, tamanho V
    seeds : sequência de int, tamanho S
    desc : str
        Texto da barra de progresso (escrita em *stderr*).

    Returns
    -------
    dict
        Para cada chave devolvida por ``run``, um ndarray de shape (V, S).
    """
    values = list(values)
    seeds = list(seeds)
    if not values or not seeds:
        raise ValueError(
            f"run_grid: `values` e `seeds` não podem ser vazios; recebidos {len(values)} "
            f"valores e {len(seeds)} sementes."
        )
    table: dict[str, np.ndarray] = {}
    with progress_bar(len(values) * len(seeds), desc) as bar:
        for i, value in enumerate(values):
            for j, seed in enumerate(seeds):
                result = run(value, seed)
                for key, number in result.items():
                    if key not in table:
                        table[key] = np.full((len(values), len(seeds)), np.nan)
                    table[key][i, j] = number
                bar.update(1)
    return table
