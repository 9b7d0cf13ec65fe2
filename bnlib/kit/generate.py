"""Gera a versão do aluno de cada trabalho a partir da versão do professor.

A versão do professor (com as soluções) é a única fonte. Este módulo não precisa do
nbgrader, mas entende as suas marcas, para que as fontes também funcionem com ele:

* o trecho entre ``### BEGIN SOLUTION`` e ``### END SOLUTION`` (marcas incluídas) é
  trocado por um aviso para o aluno:

  - dentro de uma função (marca indentada), por
    ``raise NotImplementedError("Escreva sua solução aqui.")``, com a mesma indentação;
  - no nível de cima de uma célula de código (respostas como ``resposta = ...``), por um
    comentário, para que "Executar tudo" não pare nessa célula;
  - numa célula de texto, por ``*Escreva sua resposta aqui.*``;

* o trecho entre ``### BEGIN HIDDEN TESTS`` e ``### END HIDDEN TESTS`` é apagado;
* células com a etiqueta (*tag*) ``remover-no-aluno`` são apagadas;
* as saídas e os contadores de execução são limpos.

O comando ``gerar`` também grava os dados das verificações do caderno
(:mod:`bnlib.kit.visible`: os casos visíveis, com as saídas esperadas e as dos erros
comuns), calculados a partir de :mod:`bnlib.kit.assignments`; ``conferir`` falha se os
cadernos do aluno ou esses dados estiverem desatualizados.

Uso na linha de comando::

    python -m bnlib.kit.generate gerar trabalhos/fontes trabalhos/alunos
    python -m bnlib.kit.generate conferir trabalhos/fontes trabalhos/alunos
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import nbformat

from bnlib.kit import registry, visible

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
REMOVE_TAG = "remover-no-aluno"

PLACEHOLDER_CODE = 'raise NotImplementedError("Escreva sua solução aqui.")'
PLACEHOLDER_TOP = "# Escreva sua resposta aqui (no lugar do None acima)."
PLACEHOLDER_MARKDOWN = "*Escreva sua resposta aqui.*"


class InvalidMarkers(ValueError):
    """Marcas de solução sem par, ou aninhadas."""


def _replace_blocks(
    source: str, begin: str, end: str, placeholder: str | None, where: str, markdown: bool
) -> str:
    """Troca cada bloco ``begin``…``end`` por ``placeholder`` (ou o apaga, se ``None``)."""
    lines = source.split("\n")
    result: list[str] = []
    inside_since: int | None = None
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == begin:
            if inside_since is not None:
                raise InvalidMarkers(
                    f"{where}: `{begin}` na linha {number} antes de fechar o bloco aberto na "
                    f"linha {inside_since}."
                )
            inside_since = number
            if placeholder is not None:
                indent = line[: len(line) - len(line.lstrip())]
                if markdown:
                    result.append(placeholder)
                elif indent:
                    result.append(indent + placeholder)
                else:
                    result.append(PLACEHOLDER_TOP)
        elif marker == end:
            if inside_since is None:
                raise InvalidMarkers(f"{where}: `{end}` na linha {number} sem `{begin}` antes.")
            inside_since = None
        elif inside_since is None:
            result.append(line)
    if inside_since is not None:
        raise InvalidMarkers(
            f"{where}: o bloco aberto por `{begin}` na linha {inside_since} não foi fechado "
            f"com `{end}`."
        )
    return "\n".join(result)


def student_notebook(teacher: nbformat.NotebookNode, name: str = "caderno"):
    """A versão do aluno de um caderno do professor (um novo objeto; a entrada não muda).

    Parameters
    ----------
    teacher : NotebookNode
        O caderno do professor, lido com ``nbformat.read(..., as_version=4)``.
    name : str
        Usado nas mensagens de erro.

    Returns
    -------
    NotebookNode

    Raises
    ------
    InvalidMarkers
        Se uma marca de solução ou de testes ocultos não tiver par.
    """
    notebook = nbformat.from_dict(teacher)
    cells = []
    for index, cell in enumerate(notebook.cells):
        if REMOVE_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        where = f"{name}, célula {index}"
        markdown = cell.cell_type == "markdown"
        source = _replace_blocks(
            cell.source, BEGIN_SOLUTION, END_SOLUTION, PLACEHOLDER_CODE, where, markdown
        )
        if markdown:
            source = source.replace(PLACEHOLDER_CODE, PLACEHOLDER_MARKDOWN)
        source = _replace_blocks(source, BEGIN_HIDDEN, END_HIDDEN, None, where, markdown)
        if markdown and PLACEHOLDER_TOP in source:
            source = source.replace(PLACEHOLDER_TOP, PLACEHOLDER_MARKDOWN)
        cell.source = source
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    notebook.cells = cells
    notebook.metadata.setdefault("bnlib", {})["versao"] = "aluno"
    return notebook


def _dump(notebook) -> str:
    return nbformat.writes(notebook) + "\n"


def _sources(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith(".") and p.is_file())


def generate(sources: Path, destination: Path) -> list[Path]:
    """Gera em ``destination`` a versão do aluno de cada ``*.ipynb`` de ``sources``.

    Returns
    -------
    list of Path
        Os arquivos escritos.
    """
    sources, destination = Path(sources), Path(destination)
    if not sources.is_dir():
        raise FileNotFoundError(f"gerar: a pasta de fontes {sources} não existe.")
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for path in _sources(sources):
        teacher = nbformat.read(path, as_version=4)
        target = destination / path.name
        target.write_text(_dump(student_notebook(teacher, path.name)), encoding="utf-8")
        written.append(target)
    return written


def outdated(sources: Path, destination: Path) -> list[str]:
    """Os cadernos do aluno que faltam ou diferem do que :func:`generate` escreveria."""
    problems = []
    for path in _sources(Path(sources)):
        target = Path(destination) / path.name
        expected = _dump(student_notebook(nbformat.read(path, as_version=4), path.name))
        if not target.exists():
            problems.append(f"{target}: não existe")
        elif target.read_text(encoding="utf-8") != expected:
            problems.append(f"{target}: desatualizado em relação a {path}")
    return problems


def visible_text(assignment: str) -> str:
    """O arquivo de dados das verificações de um trabalho, como texto."""
    return json.dumps(registry.visible_data(assignment), ensure_ascii=False) + "\n"


def write_visible(folder: Path = visible.FOLDER) -> list[Path]:
    """Grava os dados das verificações de cada trabalho em ``folder``."""
    written = []
    for assignment in registry.ASSIGNMENTS:
        target = Path(folder) / f"{assignment}.json"
        text = visible_text(assignment)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            temporary = target.with_name(f".{target.name}.tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(target)  # quem lê ao mesmo tempo vê o arquivo inteiro
        written.append(target)
    return written


def same_data(a, b) -> bool:
    """Igualdade de dados JSON, com os números comparados a 1e-9 (o último algarismo de uma
    conta em ponto flutuante pode mudar de uma máquina para outra)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_data(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300)
    return a == b


def visible_outdated(folder: Path = visible.FOLDER) -> list[str]:
    """Os arquivos de dados das verificações que faltam ou diferem do que seria gerado."""
    problems = []
    for assignment in registry.ASSIGNMENTS:
        target = Path(folder) / f"{assignment}.json"
        if not target.exists():
            problems.append(f"{target}: não existe")
        elif not same_data(
            json.loads(target.read_text(encoding="utf-8")), registry.visible_data(assignment)
        ):
            problems.append(f"{target}: desatualizado em relação a bnlib/kit/assignments")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Linha de comando: ``gerar`` ou ``conferir``."""
    parser = argparse.ArgumentParser(
        prog="python -m bnlib.kit.generate",
        description="Gera as versões do aluno dos trabalhos a partir das versões do professor.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command, help_text in [
        ("gerar", "escreve as versões do aluno"),
        ("conferir", "falha se alguma versão do aluno estiver desatualizada"),
    ]:
        p = sub.add_parser(command, help=help_text)
        p.add_argument(
            "sources", metavar="fontes", type=Path, help="pasta com os cadernos do professor"
        )
        p.add_argument(
            "destination", metavar="destino", type=Path, help="pasta das versões do aluno"
        )
    args = parser.parse_args(argv)
    try:
        if args.command == "gerar":
            for path in [*generate(args.sources, args.destination), *write_visible()]:
                print(f"gerado: {path}")
            return 0
        problems = outdated(args.sources, args.destination) + visible_outdated()
    except (InvalidMarkers, FileNotFoundError) as error:
        print(f"erro: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if problems:
        print("rode: python -m bnlib.kit.generate gerar", args.sources, args.destination)
        return 1
    print("versões do aluno em dia.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
