"""Maquinário da versão rápida da normalização em lote (:mod:`bnlib.core.batchnorm`).

A normalização em lote faz poucas contas por byte: o tempo é o de ler e escrever a
memória. Cada operação do numpy percorre o array inteiro, então uma fórmula com cinco
operações leria e escreveria a memória cinco vezes. Em vez disso, percorremos ``x`` em
blocos de exemplos (uns 512 KiB) que cabem na cache: as várias operações de um bloco
trabalham na cache, e a memória principal é lida uma vez por passada. Dois detalhes do
numpy: somas por atributo com ``np.add.reduce``/``np.einsum`` (sem arrays temporários), e
vetores por atributo repetidos até o shape do bloco (``_fill_tile``), porque bloco ⊙ bloco é
cerca de 1,5× mais rápido que bloco ⊙ vetor propagado (*broadcast*). As somas de cada
bloco são acumuladas em float64.
"""

from __future__ import annotations

import threading

import numpy as np

from bnlib.core import validation

BLOCK_BYTES = 512 * 1024
"""Tamanho aproximado, em bytes, de cada bloco de exemplos processado de uma vez."""


def work_view(a: np.ndarray) -> np.ndarray:
    """``(N, D)`` fica como está; ``(N, C, H, W)`` vira ``(N, C, H·W)`` (sem copiar)."""
    return a if a.ndim == 2 else a.reshape(a.shape[0], a.shape[1], -1)


def row_blocks(a: np.ndarray) -> list[slice]:
    """Fatias de exemplos (primeiro eixo) com cerca de ``BLOCK_BYTES`` bytes cada."""
    n = a.shape[0]
    step = max(1, BLOCK_BYTES // max(1, a[:1].nbytes))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


WORKSPACE = threading.local()


def block_buffers(block: np.ndarray, count: int) -> list[np.ndarray]:
    """``count`` arrays de rascunho com o shape e o dtype de ``block``.

    Alocar e soltar alguns blocos de 512 KiB a cada chamada faz o alocador devolver a
    memória ao sistema e pagar faltas de página (*page faults*) na chamada seguinte; por isso
    os rascunhos vivem num buffer por *thread*, reaproveitado entre chamadas. Quem os usa
    sempre escreve neles antes de ler.
    """
    nbytes = block.nbytes
    if nbytes > 4 * BLOCK_BYTES:  # exemplos enormes: não vale a pena guardar o buffer
        return [np.empty_like(block) for _ in range(count)]
    buffer = getattr(WORKSPACE, "buffer", None)
    if buffer is None or buffer.nbytes < count * nbytes:
        buffer = WORKSPACE.buffer = np.empty(count * nbytes, dtype=np.uint8)
    return [
        buffer[i * nbytes : (i + 1) * nbytes].view(block.dtype).reshape(block.shape)
        for i in range(count)
    ]


def fill_tile(tile: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Escreve o vetor por atributo ``v`` (F,) repetido em todo o bloco ``tile``."""
    np.copyto(tile, v if tile.ndim == 2 else v[:, None])
    return tile


def feature_sum(block: np.ndarray) -> np.ndarray:
    """Soma por atributo de um bloco (n, F) ou (n, F, R)."""
    if block.ndim == 2:
        return np.add.reduce(block, axis=0)
    return np.einsum("nfr->f", block)


def feature_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Soma por atributo de ``a · b``, sem criar o produto na memória."""
    ix = "nf" if a.ndim == 2 else "nfr"
    return np.einsum(f"{ix},{ix}->f", a, b)


def check_out(buffer, name: str, x: np.ndarray, where: str) -> np.ndarray:
    """Exige um buffer de saída com o shape e o dtype de ``x``, contíguo e gravável."""
    if not isinstance(buffer, np.ndarray):
        raise TypeError(
            f"{where}: `{name}` deve ser um numpy.ndarray; recebido {type(buffer).__name__}."
        )
    validation.check_same_shape(buffer, name, x.shape, where)
    if buffer.dtype != x.dtype:
        raise TypeError(
            f"{where}: `{name}` deve ter o dtype da entrada, {x.dtype}; "
            f"recebido dtype {buffer.dtype}."
        )
    if not (buffer.flags.c_contiguous and buffer.flags.writeable):
        raise ValueError(
            f"{where}: `{name}` deve ser contíguo (ordem C) e gravável; use, por exemplo, "
            f"`np.empty_like(x)`."
        )
    return buffer


def mean_and_var(xv: np.ndarray, count: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Média e variância enviesada por atributo de ``xv`` (visão de trabalho), em float64.

    1ª passada: Σx e Σx² (as somas de cada bloco acumuladas em float64). Se a média não é
    grande perto do desvio padrão (média² ≤ variância), ``E[x²] - E[x]²`` perde no máximo
    um bit por cancelamento e basta esta passada.

    Senão (por exemplo, média 10⁴ e desvio padrão 1 em float32), a 2ª passada corrigida:
    com ``shift`` a média arredondada para o dtype de x e ``c = x - shift``, as somas Σc e
    Σc². Como ``shift`` está perto da média, ``correction = Σc / m`` é pequena, ``var =
    Σc²/m - correction²`` não sofre cancelamento, e ``correction`` conserta o arredondamento
    de ``shift``. Os desvios ``c`` de cada bloco vivem num rascunho que fica na cache.
    """
    blocks = row_blocks(xv)
    total = np.zeros(xv.shape[1])
    total_sq = np.zeros(xv.shape[1])
    for b in blocks:
        total += feature_sum(xv[b])
        total_sq += feature_dot(xv[b], xv[b])
    if not np.isfinite(total).all():
        # Só acontece com NaN ou infinito em x (ou com estouro de valores enormes):
        # a verificação completa, mais cara, diz qual é o problema.
        validation.check_finite(xv, "x", where)
    mean = total / count
    var = total_sq / count - mean**2
    if np.isfinite(var).all() and np.all(mean**2 <= var):
        return mean, var

    shift = mean.astype(xv.dtype)
    scratch, shift_tile = block_buffers(xv[blocks[0]], 2)
    fill_tile(shift_tile, shift)
    sum_c = np.zeros(xv.shape[1])
    sum_c2 = np.zeros(xv.shape[1])
    for b in blocks:
        n = b.stop - b.start
        c = np.subtract(xv[b], shift_tile[:n], out=scratch[:n])
        sum_c += feature_sum(c)
        sum_c2 += feature_dot(c, c)
    correction = sum_c / count
    return shift + correction, np.maximum(sum_c2 / count - correction**2, 0.0)
