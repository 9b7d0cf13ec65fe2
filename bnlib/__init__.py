"""bnlib: a biblioteca do livro *Normalização em Lote*.

A parte numpy (importada aqui) não depende do torch; as camadas para PyTorch ficam em
``bnlib.nn`` e são importadas à parte (``from bnlib import nn as bnn``).
"""

from bnlib.batchnorm import (
    BatchNormCache,
    batch_statistics,
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_inference,
    update_running_stats,
)
from bnlib.gradcheck import numerical_gradient, relative_error, scaled_error

__all__ = [
    "BatchNormCache",
    "batch_statistics",
    "batchnorm_backward",
    "batchnorm_forward",
    "batchnorm_inference",
    "numerical_gradient",
    "relative_error",
    "scaled_error",
    "update_running_stats",
]

__version__ = "0.1.0"
