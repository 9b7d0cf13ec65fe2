"""Medir tempos e a largura de banda da memória, para comparar implementações.

Método usado no livro e em ``benchmarks/bn_speed.py``:

* cada variante é aquecida (``warmup`` execuções descartadas) e depois medida em rodízio
  (*round-robin*) com as outras, ``repeats`` vezes, para que todas sofram as mesmas
  flutuações da máquina;
* o resultado de cada variante é a **mediana** dos tempos, que ignora as poucas execuções
  interrompidas pelo sistema operacional;
* a largura de banda é a de uma cópia grande (``np.copyto``) medida no mesmo processo,
  contando os bytes lidos **e** os escritos.

Este módulo não importa torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np


def median_times(
    variants: Mapping[str, Callable[[], object]],
    repeats: int = 15,
    warmup: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Mediana do tempo (em segundos) de cada variante, medidas em rodízio.

    Parameters
    ----------
    variants : dict nome -> função sem argumentos
        Cada função executa uma vez o trabalho a medir.
    repeats : int
        Execuções medidas de cada variante (≥ 1).
    warmup : int
        Execuções descartadas antes de medir (≥ 0).
    clock : função sem argumentos que devolve segundos
        ``time.perf_counter`` (padrão) mede o tempo de relógio; ``time.process_time`` mede
        o tempo de CPU do processo, que não conta as pausas em que outros processos usam
        a CPU (útil numa máquina ocupada, mas soma o tempo de todas as *threads*).

    Returns
    -------
    dict nome -> segundos (mediana)
    """
    if int(repeats) < 1:
        raise ValueError(f"median_times: `repeats` deve ser ≥ 1; recebido {repeats!r}.")
    if int(warmup) < 0:
        raise ValueError(f"median_times: `warmup` deve ser ≥ 0; recebido {warmup!r}.")
    for fn in variants.values():
        for _ in range(int(warmup)):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(int(repeats)):
        for name, fn in variants.items():
            start = clock()
            fn()
            samples[name].append(clock() - start)
    return {name: float(np.median(t)) for name, t in samples.items()}


def copy_bandwidth(
    nbytes: int = 64 * 2**20,
    repeats: int = 15,
    warmup: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Largura de banda de uma cópia de memória, em bytes por segundo (lidos + escritos).

    Copia um array de ``nbytes`` bytes para outro já alocado, com ``np.copyto``; a cópia
    lê ``nbytes`` e escreve ``nbytes``, então a banda é ``2 · nbytes / mediana``. Use um
    tamanho bem maior que a cache L3 para medir a memória principal.

    Parameters
    ----------
    nbytes : int
        Tamanho do array copiado, em bytes (≥ 1 MiB).
    repeats, warmup, clock
        Como em :func:`median_times`.

    Returns
    -------
    float
        Bytes por segundo.
    """
    if int(nbytes) < 2**20:
        raise ValueError(f"copy_bandwidth: `nbytes` deve ser ≥ 1 MiB (2**20); recebido {nbytes}.")
    src = np.ones(int(nbytes) // 8, dtype=np.float64)
    dst = np.zeros_like(src)
    seconds = median_times({"copia": lambda: np.copyto(dst, src)}, repeats, warmup, clock)
    seconds = seconds["copia"]
    return 2 * src.nbytes / seconds


def batchnorm_traffic(shape: tuple[int, ...], dtype=np.float32) -> dict[str, int]:
    """Bytes que a normalização em lote precisa mover, no mínimo, no modo de treino.

    Com ``S`` o tamanho de ``x`` em bytes: o passo direto lê ``x`` para as estatísticas,
    lê ``x`` de novo e escreve ``y`` (3S); a retropropagação lê ``dy`` e ``x`` para as duas
    somas, e depois lê ``dy``, ``x`` e escreve ``dx`` (5S). Os vetores por atributo são
    desprezíveis.

    Parameters
    ----------
    shape : tuple
        Shape de ``x``, (N, D) ou (N, C, H, W).
    dtype : float32 ou float64

    Returns
    -------
    dict com ``"S"``, ``"forward"``, ``"backward"`` e ``"total"``, em bytes.
    """
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    return {"S": size, "forward": 3 * size, "backward": 5 * size, "total": 8 * size}


def bandwidth_bound(shape: tuple[int, ...], dtype, bandwidth: float) -> float:
    """Tempo mínimo (segundos) do passo direto + retropropagação limitado pela memória.

    ``batchnorm_traffic(shape, dtype)["total"] / bandwidth``.
    """
    if not bandwidth > 0:
        raise ValueError(f"bandwidth_bound: `bandwidth` deve ser > 0; recebido {bandwidth!r}.")
    return batchnorm_traffic(shape, dtype)["total"] / float(bandwidth)
