"""bnlib: a biblioteca do livro *Normalização em Lote*.

A biblioteca tem camadas; cada uma importa só as de baixo (um teste confere):

=================  ==========================================================  ===========
camada             o que tem                                                   importa
=================  ==========================================================  ===========
``bnlib.core``     a BN e as alternativas em numpy: a versão para ler           numpy
                   (``reference``) e a rápida (``batchnorm``), gradientes
                   numéricos, validação das entradas
``bnlib.nn``       camadas para PyTorch escritas do zero (``BatchNorm2d``...)   core, torch
``bnlib.lab``      o laboratório dos capítulos: dados, modelos, laço de         core, nn
                   treino, diagnósticos, medidas de tempo, experimentos
``bnlib.plots``    o estilo único das figuras e os gráficos reutilizados        core, lab*
``bnlib.kit``      os trabalhos práticos: verificações, correção, geração       core, lab
``bnlib.text``     números em pt-BR para o texto do livro (``glue_number``)     —
=================  ==========================================================  ===========

\\* ``plots`` nunca importa o torch (só módulos de ``lab`` escritos em numpy).

Aqui, no nível de cima, fica a API numpy mais usada: o passo direto e a retropropagação
rápidos, as estatísticas acumuladas, a inferência e a verificação de gradientes.

Examples
--------
>>> import numpy as np
>>> import bnlib
>>> x = np.random.default_rng(0).normal(size=(32, 4))
>>> y, cache = bnlib.batchnorm_forward(x, gamma=np.ones(4), beta=np.zeros(4))
>>> bool(np.allclose(y.mean(axis=0), 0.0)) and bool(np.allclose(y.std(axis=0), 1.0, atol=1e-4))
True
"""

from bnlib import _compat
from bnlib.core.batchnorm import batch_statistics, batchnorm_backward, batchnorm_forward
from bnlib.core.gradcheck import numerical_gradient, relative_error, scaled_error
from bnlib.core.reference import BatchNormCache, batchnorm_inference, update_running_stats

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

__version__ = "0.2.0"

_compat.install()
