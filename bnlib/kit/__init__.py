"""Os trabalhos práticos: verificações com dicas, correção isolada, geração do material do aluno.

Nenhuma outra camada da ``bnlib`` importa o ``kit``. Ele tem duas metades.

**O lado do aluno** (vai no pacote do aluno, :mod:`~bnlib.kit.package`):

- :mod:`~bnlib.kit.checks`: as funções ``check_*`` dos cadernos (``from bnlib import checks``
  continua valendo nos cadernos antigos);
- :mod:`~bnlib.kit.engine`: o juiz, que compara respostas com valores esperados e escolhe as
  dicas (:mod:`~bnlib.kit.compare` compara uma saída; :mod:`~bnlib.kit.explain` explica as
  exceções);
- :mod:`~bnlib.kit.runner`: chama as funções do aluno nos casos, no próprio processo ou num
  processo por questão, com limite de tempo;
- :mod:`~bnlib.kit.answers`: as respostas em JSON (nunca ``pickle``), validadas ao ler;
- :mod:`~bnlib.kit.project`: o mini-projeto (trabalho 6);
- :mod:`~bnlib.kit.visible`: os dados dos casos visíveis (gerados).

**O lado do professor** (fica no repositório):

- :mod:`~bnlib.kit.assignments`: as questões de cada trabalho, com os pontos, os casos, as
  referências de :mod:`bnlib.core` e os erros plantados;
- :mod:`~bnlib.kit.registry`: o registro dos trabalhos e o julgamento das respostas;
- :mod:`~bnlib.kit.generate`: as versões do aluno e os dados visíveis
  (``python -m bnlib.kit.generate gerar trabalhos/fontes trabalhos/alunos``);
- :mod:`~bnlib.kit.package`: o pacote do aluno (``python -m bnlib.kit.package destino/``);
- :mod:`~bnlib.kit.grading`: a correção de uma turma
  (``python -m bnlib.kit.grading corrigir entregas/ --saida correcao/ -j 2``), com
  :mod:`~bnlib.kit.intake` (a leitura das entregas), :mod:`~bnlib.kit.scan` (sinais de
  manipulação), :mod:`~bnlib.kit.sandbox` (a caixa de areia com bubblewrap),
  :mod:`~bnlib.kit.driver` e :mod:`~bnlib.kit.executor` (o que roda dentro dela),
  :mod:`~bnlib.kit.outputs` (o corte das saídas) e :mod:`~bnlib.kit.reports` (os relatórios).
"""
