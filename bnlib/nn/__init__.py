"""Camadas de normalização para PyTorch, escritas do zero, com a interface de ``torch.nn``.

- :mod:`~bnlib.nn.functional`: a conta da BN com operações do torch, legível (média,
  variância, normalização, estatísticas acumuladas, a forma fechada do gradiente); todas as
  camadas daqui a usam;
- :mod:`~bnlib.nn.fast`: a mesma conta com a retropropagação escrita à mão, a versão que as
  camadas usam no treino;
- :mod:`~bnlib.nn.validation`: as verificações, com as exceções do PyTorch e mensagens em
  português;
- :mod:`~bnlib.nn.batchnorm`: ``BatchNorm1d``, ``BatchNorm2d`` e ``BatchNorm3d``, que
  substituem as do ``torch.nn``, e a função ``batch_norm``;
- :mod:`~bnlib.nn.alternatives`: ``LayerNorm``, ``GroupNorm``, ``InstanceNorm2d``,
  ``BatchRenorm1d``/``BatchRenorm2d`` e ``GroupedBatchNorm2d``;
- :mod:`~bnlib.nn.sync`: ``SyncBatchNorm``, com estatísticas somadas entre processos;
- :mod:`~bnlib.nn.noisy`: ``NoisyBatchNorm1d``, a BN com ruído de Santurkar et al. (2018);
- :mod:`~bnlib.nn.folding`: a fusão da BN de inferência na camada anterior (também em
  qualquer modelo traçável pelo ``torch.fx`` e com ``torch.ao.quantization.fuse_modules``);
- :mod:`~bnlib.nn.recalibration`: recalcular as estatísticas acumuladas de um modelo;
- :mod:`~bnlib.nn.ghost`: ``GhostBatchNorm1d``, a BN fantasma de minilotes grandes;
- :mod:`~bnlib.nn.sequence`: ``RMSNorm``, ``SequenceLayerNorm`` e ``SequenceBatchNorm``
  para sequências (N, T, D), esta com a opção de ignorar o preenchimento;
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
from bnlib.nn.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, batch_norm, is_batchnorm
from bnlib.nn.folding import (
    FUSER_METHOD_MAPPING,
    fold_batchnorm_conv,
    fold_batchnorm_conv2d,
    fold_batchnorm_linear,
    fold_graph,
    fold_sequential,
)
from bnlib.nn.frozen import FrozenBatchNorm1d, FrozenBatchNorm2d, freeze_batchnorm
from bnlib.nn.noisy import NoisyBatchNorm1d
from bnlib.nn.recalibration import batchnorm_layers, recalibrate_batchnorm
from bnlib.nn.sequence import RMSNorm, SequenceBatchNorm, SequenceLayerNorm
from bnlib.nn.sync import SyncBatchNorm

__all__ = [
    "FUSER_METHOD_MAPPING",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "BatchRenorm1d",
    "BatchRenorm2d",
    "FrozenBatchNorm1d",
    "FrozenBatchNorm2d",
    "GroupNorm",
    "GroupedBatchNorm2d",
    "InstanceNorm2d",
    "LayerNorm",
    "NoisyBatchNorm1d",
    "RMSNorm",
    "SequenceBatchNorm",
    "SequenceLayerNorm",
    "SyncBatchNorm",
    "batch_norm",
    "batchnorm_layers",
    "fold_batchnorm_conv",
    "fold_batchnorm_conv2d",
    "fold_batchnorm_linear",
    "fold_graph",
    "fold_sequential",
    "freeze_batchnorm",
    "is_batchnorm",
    "recalibrate_batchnorm",
]
