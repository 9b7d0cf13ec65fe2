"""Os dados das verificações do caderno do aluno, um arquivo JSON por trabalho.

Cada arquivo tem, para cada questão, a descrição que o juiz usa (pontos, tolerâncias,
dicas) e os casos visíveis, sorteados com a semente pública: as entradas, as saídas
esperadas e as saídas de erros comuns, com a dica de cada um. São **dados**: nem as
implementações de referência nem as dos erros plantados vão no material do aluno.

Os arquivos são gerados a partir de :mod:`bnlib.kit.assignments` por
``python -m bnlib.kit.generate gerar trabalhos/fontes trabalhos/alunos``; um teste confere
que estão em dia. As respostas numéricas não têm valor esperado aqui: a correção as confere.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent


def path(assignment: str) -> Path:
    """O arquivo de dados de um trabalho."""
    return FOLDER / f"{assignment}.json"


@functools.cache
def load(assignment: str) -> dict[str, Any]:
    """Os dados de um trabalho (lidos uma vez por processo)."""
    return json.loads(path(assignment).read_text(encoding="utf-8"))


def assignments() -> list[str]:
    """Os trabalhos que têm dados."""
    return sorted(p.stem for p in FOLDER.glob("*.json"))
