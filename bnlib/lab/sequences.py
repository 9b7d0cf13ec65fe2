"""Sequências de brinquedo para comparar normalizações em modelos de sequência.

Capítulo: ``book/redes/sequencias``.

- :func:`make_sequence_task`: sequências de inteiros de comprimentos variados, completadas
  com preenchimento (*padding*), e o alvo de cada posição (ordenar, inverter, contar);
- :func:`masked_moments`: média e variância de cada atributo só sobre as posições reais;
- :func:`length_buckets`: os índices das sequências de cada comprimento.

O transformer pequeno e o seu treino estão em :mod:`bnlib.lab.transformer`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from bnlib.core.validation import check_int

PAD = 0
"""O símbolo de preenchimento; os símbolos reais são 1, 2, ..., ``vocab_size - 1``."""

IGNORE = -100
"""O alvo das posições de preenchimento (``ignore_index`` da entropia cruzada)."""

TASKS = ("sort", "reverse", "count")


class SequenceData(NamedTuple):
    """Um conjunto de sequências completadas até o mesmo comprimento.

    Attributes
    ----------
    tokens : Tensor int64, shape (N, T)
        Os símbolos; ``PAD`` (0) depois do fim de cada sequência.
    targets : Tensor int64, shape (N, T)
        O alvo de cada posição; ``IGNORE`` (-100) no preenchimento.
    lengths : Tensor int64, shape (N,)
        O comprimento real de cada sequência.
    """

    tokens: torch.Tensor
    targets: torch.Tensor
    lengths: torch.Tensor

    @property
    def mask(self) -> torch.Tensor:
        """Tensor booleano (N, T), verdadeiro nas posições reais."""
        return self.tokens != PAD

    def subset(self, index: torch.Tensor) -> SequenceData:
        """As sequências de índices ``index``."""
        return SequenceData(self.tokens[index], self.targets[index], self.lengths[index])


def make_sequence_task(
    task: str,
    num_sequences: int,
    min_length: int,
    max_length: int,
    vocab_size: int = 10,
    seed: int = 0,
) -> SequenceData:
    """Sequências de símbolos sorteados e o alvo de cada posição real.

    Cada sequência tem comprimento uniforme entre ``min_length`` e ``max_length`` e símbolos
    uniformes em 1, ..., ``vocab_size - 1``; todas são completadas com ``PAD`` até
    ``max_length``. Tarefas:

    - ``"sort"``: na posição t, o t-ésimo menor símbolo da sequência;
    - ``"reverse"``: na posição t, o símbolo da posição ``comprimento - 1 - t``;
    - ``"count"``: na posição t, quantas vezes o símbolo de t aparece na sequência.

    Parameters
    ----------
    task : {"sort", "reverse", "count"}
    num_sequences : int
        N.
    min_length, max_length : int
        1 ≤ ``min_length`` ≤ ``max_length`` = T.
    vocab_size : int
        Número de símbolos, contando o ``PAD``; ≥ 2.
    seed : int

    Returns
    -------
    SequenceData
        Com alvos em 0, ..., ``max(vocab_size, max_length + 1) - 1``.

    Examples
    --------
    >>> data = make_sequence_task("sort", 2, 2, 4, seed=0)
    >>> data.tokens.shape, int(data.mask.sum()) == int(data.lengths.sum())
    (torch.Size([2, 4]), True)
    """
    where = "make_sequence_task"
    if task not in TASKS:
        raise ValueError(f"{where}: `task` deve ser uma de {TASKS}; recebido {task!r}.")
    check_int(num_sequences, "num_sequences", 1, where)
    check_int(min_length, "min_length", 1, where)
    check_int(max_length, "max_length", min_length, where)
    check_int(vocab_size, "vocab_size", 2, where)
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_length, max_length + 1, (num_sequences,), generator=generator)
    tokens = torch.randint(1, vocab_size, (num_sequences, max_length), generator=generator)
    positions = torch.arange(max_length)
    mask = positions[None, :] < lengths[:, None]
    tokens[~mask] = PAD
    if task == "sort":
        targets = torch.where(mask, tokens, vocab_size).sort(dim=1).values
    elif task == "reverse":
        source = (lengths[:, None] - 1 - positions[None, :]).clamp(min=0)
        targets = tokens.gather(1, source)
    else:
        same = (tokens[:, :, None] == tokens[:, None, :]) & mask[:, None, :]
        targets = same.sum(dim=2)
    targets = torch.where(mask, targets, IGNORE)
    return SequenceData(tokens, targets, lengths)


def num_classes(vocab_size: int, max_length: int) -> int:
    """Classes de saída que cobrem as três tarefas: ``max(vocab_size, max_length + 1)``."""
    return max(vocab_size, max_length + 1)


def masked_moments(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Média e variância enviesada de cada atributo, só sobre as posições reais.

    Parameters
    ----------
    x : Tensor, shape (N, T, D)
    mask : Tensor bool, shape (N, T)
        Verdadeiro nas posições reais; precisa de pelo menos uma.

    Returns
    -------
    mean, var : Tensor, shape (D,)

    Examples
    --------
    >>> x = torch.tensor([[[1.0], [3.0], [0.0]]])
    >>> masked_moments(x, torch.tensor([[True, True, False]]))
    (tensor([2.]), tensor([1.]))
    """
    if x.dim() != 3 or mask.shape != x.shape[:2] or mask.dtype != torch.bool:
        raise ValueError(
            f"masked_moments: `x` deve ter shape (N, T, D) e `mask` ser booleano de shape "
            f"(N, T); recebidos {tuple(x.shape)} e {tuple(mask.shape)} ({mask.dtype})."
        )
    if not mask.any():
        raise ValueError("masked_moments: `mask` não tem nenhuma posição real.")
    real = x[mask]
    return real.mean(dim=0), real.var(dim=0, correction=0)


def length_buckets(lengths: torch.Tensor) -> list[torch.Tensor]:
    """Os índices das sequências de cada comprimento, do menor ao maior."""
    return [torch.nonzero(lengths == value).flatten() for value in lengths.unique()]
