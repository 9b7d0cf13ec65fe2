"""Varreduras de hiperparâmetros com várias sementes: uma grade de valores × sementes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bnlib.lab.progress import progress_bar


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
