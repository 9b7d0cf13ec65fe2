"""O laboratório dos capítulos: dados, modelos, treino, diagnósticos e experimentos.

Peças de uso geral:

- :mod:`~bnlib.lab.data`: o MNIST que funciona sem internet;
- :mod:`~bnlib.lab.models`: MLP, CNN pequena e a inicialização dos pesos;
- :mod:`~bnlib.lab.training`: o laço de treino determinístico e a acurácia;
- :mod:`~bnlib.lab.diagnostics`: estatísticas por camada das ativações e dos gradientes;
- :mod:`~bnlib.lab.sweeps` e :mod:`~bnlib.lab.progress`: grades de experimentos com várias
  sementes e a barra de progresso;
- :mod:`~bnlib.lab.timing`: medidas de tempo e da largura de banda da memória.

Peças de um capítulo (o docstring de cada módulo diz qual):
:mod:`~bnlib.lab.scaling` e :mod:`~bnlib.lab.quadratic` (dados),
:mod:`~bnlib.lab.percentiles` e :mod:`~bnlib.lab.landscape` (por que a BN ajuda),
:mod:`~bnlib.lab.distributed` (BN distribuída),
:mod:`~bnlib.lab.residual` (redes residuais),
:mod:`~bnlib.lab.sequences` e :mod:`~bnlib.lab.transformer` (sequências e *transformers*),
:mod:`~bnlib.lab.weight_decay` e :mod:`~bnlib.lab.variance_shift` (decaimento de pesos e
*dropout*), :mod:`~bnlib.lab.covariate_shift` (a mudança interna de covariáveis, medida).

Uma função nasce no caderno que a usa; vem para cá quando um segundo capítulo (ou um teste)
precisa dela. Importe os módulos diretamente (``from bnlib.lab.training import ...``): este
pacote não importa nada sozinho, para que ``import bnlib.lab.scaling`` não carregue o torch.
"""
