"""Camadas de normalização para PyTorch, escritas do zero, com a interface de ``torch.nn``.

- :mod:`~bnlib.nn.batchnorm`: ``BatchNorm1d`` e ``BatchNorm2d``;
- :mod:`~bnlib.nn.alternatives`: ``LayerNorm``, ``GroupNorm``, ``InstanceNorm2d``,
  ``BatchRenorm1d``/``BatchRenorm2d`` e ``GroupedBatchNorm2d``;
- :mod:`~bnlib.nn.sync`: ``SyncBatchNorm``, com estatísticas somadas entre processos;
- :mod:`~bnlib.nn.noisy`: ``NoisyBatchNorm1d``, a BN com ruído de Santurkar et al. (2018);
- :mod:`~bnlib.nn.folding`: a fusão da BN de inferência na camada anterior;
- :mod:`~bnlib.nn.recalibration`: recalcular as estatísticas acumuladas de um modelo;
- :mod:`~bnlib.nn.frozen`: ``FrozenBatchNorm1d``/``FrozenBatchNorm2d``, a BN congelada do
  ajuste fino.

Uso: ``from bnlib import nn as bnn`` e ``bnn.BatchNorm2d(16)`` no lugar de
``torch.nn.BatchNorm2d(16)``.
"""

from bnlib.nn.alternatives import (
    BatchRenorm1d,
    BatchRenorm2d,
    GroupedBatchNorm2d,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm,
)
from bnlib.nn.batchnorm import BatchNorm1d, BatchNorm2d, is_batchnorm
from bnlib.nn.folding import fold_batchnorm_conv2d, fold_batchnorm_linear, fold_sequential
from bnlib.nn.frozen import FrozenBatchNorm1d, FrozenBatchNorm2d, freeze_batchnorm
from bnlib.nn.noisy import NoisyBatchNorm1d
from bnlib.nn.recalibration import batchnorm_layers, recalibrate_batchnorm
from bnlib.nn.sync import SyncBatchNorm

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchRenorm1d",
    "BatchRenorm2d",
    "FrozenBatchNorm1d",
    "FrozenBatchNorm2d",
    "GroupNorm",
    "GroupedBatchNorm2d",
    "InstanceNorm2d",
    "LayerNorm",
    "NoisyBatchNorm1d",
    "SyncBatchNorm",
    "batchnorm_layers",
    "fold_batchnorm_conv2d",
    "fold_batchnorm_linear",
    "fold_sequential",
    "freeze_batchnorm",
    "is_batchnorm",
    "recalibrate_batchnorm",
]
