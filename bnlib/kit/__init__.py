"""Os trabalhos práticos: verificações com dicas, geração da versão do aluno e correção.

- :mod:`~bnlib.kit.checks`: as verificações de cada questão, com retorno em português;
- :mod:`~bnlib.kit.generate`: gera a versão do aluno a partir da do professor
  (``python -m bnlib.kit.generate gerar trabalhos/fontes trabalhos/alunos``);
- :mod:`~bnlib.kit.grading`: corrige cadernos e escreve o relatório de notas
  (``python -m bnlib.kit.grading corrigir entregas/ --relatorio notas.csv``).

Nenhuma outra camada importa o ``kit``.
"""
