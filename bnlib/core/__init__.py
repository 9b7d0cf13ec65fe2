"""O núcleo da bnlib: a normalização em lote e as suas alternativas em numpy, sem torch.

- :mod:`~bnlib.core.reference`: a versão para ler, a que o livro mostra;
- :mod:`~bnlib.core.batchnorm`: a versão rápida, com as mesmas assinaturas;
- :mod:`~bnlib.core.alternatives`: normalização de camada, de instância, de grupo e RMS;
- :mod:`~bnlib.core.renorm`: a renormalização em lote;
- :mod:`~bnlib.core.whitening`: o branqueamento (ZCA) de um minilote;
- :mod:`~bnlib.core.gradcheck`: gradientes por diferenças finitas e medidas de erro;
- :mod:`~bnlib.core.validation`: a verificação das entradas, com mensagens em português.

Este pacote importa só o numpy (um teste confere).
"""
