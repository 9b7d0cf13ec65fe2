"""A leitura das entregas: cada arquivo vira uma linha do relatório, por pior que seja.

:func:`discover` percorre a pasta de entregas sem seguir links simbólicos e devolve uma
:class:`Submission` por arquivo. Nada aqui executa código do aluno; o caderno é lido como
JSON (com teto de tamanho), conferido célula a célula e **refeito do zero**, só com o tipo e
o texto de cada célula: metadados, saídas e anexos do aluno não seguem adiante.

Problemas que impedem a correção de um arquivo (JSON inválido, arquivo vazio, não é um
caderno, trabalho desconhecido) viram o ``error`` da linha; problemas que não impedem
(metadados com tipo errado, célula sem ``source``, extensão em maiúsculas, nome e metadados
que discordam, duas entregas do mesmo aluno) viram ``warnings``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bnlib.kit.install_cell import is_unchanged_install_cell
from bnlib.kit.registry import ASSIGNMENTS

MAX_NOTEBOOK_BYTES = 100 * 2**20
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
REMOVE_TAG = "remover-no-aluno"
MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assign(?:submission|feedback)_\w+_?$")


@dataclass
class Submission:
    """Uma entrega.

    Attributes
    ----------
    path : Path
        O arquivo, como está na pasta de entregas.
    relative : str
        O caminho relativo à pasta, em texto legível (bytes inválidos viram �).
    student : str
        A identificação do aluno: a pasta de primeiro nível, ou o nome do arquivo sem o
        prefixo do trabalho.
    assignment : str or None
    notebook : dict or None
        O caderno refeito (nbformat 4), pronto para a caixa de areia.
    digest : str
        SHA-256 do arquivo (para retomar uma correção interrompida).
    error : str or None
    warnings : list of str
    """

    path: Path
    relative: str
    student: str
    assignment: str | None = None
    notebook: dict | None = None
    digest: str = ""
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def readable(text: str) -> str:
    """Um texto sem os caracteres substitutos de nomes de arquivo que não são UTF-8."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def student_id(relative: Path) -> str:
    """A identificação do aluno: a pasta de primeiro nível ou o nome do arquivo."""
    if len(relative.parts) > 1:
        folder = readable(relative.parts[0])
        match = MOODLE_FOLDER.match(folder)
        return f"{match['name']}_{match['id']}" if match else folder
    stem = readable(relative.name.rsplit(".", 1)[0])
    for key in sorted(ASSIGNMENTS, key=len, reverse=True):
        if stem.startswith(key):
            stem = stem[len(key) :]
            break
    else:
        stem = re.sub(r"^\d\d(?=[_\-\s])", "", stem)
    return stem.strip("_- .") or readable(relative.name.rsplit(".", 1)[0])


def read_file(path: Path) -> bytes:
    """Os bytes de um arquivo comum, sem seguir links e com teto de tamanho.

    Raises
    ------
    ValueError
        Com a explicação, em português.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise ValueError(f"o arquivo não pôde ser aberto ({error.strerror})") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("não é um arquivo comum")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"o arquivo tem {info.st_size / 2**20:.0f} MB, mais que o limite")
        return file.read(MAX_NOTEBOOK_BYTES + 1)


def cell_text(source, index: int, warnings: list[str]) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    if source is None:
        warnings.append(f"célula {index + 1} sem `source` (tratada como vazia)")
    else:
        warnings.append(f"célula {index + 1} com `source` de tipo inválido (tratada como vazia)")
    return ""


def rebuild(data: dict, warnings: list[str]) -> dict:
    """Um caderno nbformat 4 novo, só com o tipo e o texto de cada célula."""
    cells = []
    raw_cells = data.get("cells")
    if not isinstance(raw_cells, list):
        raise ValueError("o caderno não tem a lista `cells`")
    for index, cell in enumerate(raw_cells):
        if not isinstance(cell, dict):
            warnings.append(f"célula {index + 1} inválida (ignorada)")
            continue
        kind = cell.get("cell_type")
        if kind not in ("code", "markdown", "raw"):
            warnings.append(
                f"célula {index + 1} de tipo desconhecido {str(kind)[:20]!r} (ignorada)"
            )
            continue
        metadata = cell.get("metadata")
        tags = metadata.get("tags", []) if isinstance(metadata, dict) else []
        if isinstance(tags, list) and REMOVE_TAG in tags:
            continue  # célula só do professor
        new = {"cell_type": kind, "id": f"c{index}", "metadata": {}}
        new["source"] = cell_text(cell.get("source"), index, warnings)
        if is_unchanged_install_cell(cell):
            # A célula que instala a bnlib, como o aluno a recebeu: na correção a bnlib já
            # está lá, e a célula (que chama subprocess) não é executada nem examinada.
            new["source"] = "# célula de instalação da bnlib: não é executada na correção"
        if kind == "code":
            new.update(outputs=[], execution_count=None)
        cells.append(new)
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def metadata_assignment(data: dict, warnings: list[str]) -> str | None:
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        if metadata is not None:
            warnings.append("metadados do caderno com tipo inválido (ignorados)")
        return None
    bnlib = metadata.get("bnlib")
    if bnlib is None:
        return None
    if not isinstance(bnlib, dict):
        warnings.append(f"metadados `bnlib` deveriam ser um objeto; vieram {type(bnlib).__name__}")
        return None
    value = bnlib.get("trabalho")
    if value is None:
        return None
    if not isinstance(value, str) or value not in ASSIGNMENTS:
        warnings.append(f"metadados `bnlib.trabalho` inválidos ({str(value)[:40]!r})")
        return None
    return value


def name_assignment(name: str) -> str | None:
    match = re.match(r"(\d\d)", name)
    if not match:
        return None
    return next((key for key in ASSIGNMENTS if key.startswith(match.group(1))), None)


def inspect(path: Path, root: Path, forced: str | None) -> Submission:
    """Lê uma entrega; nunca levanta exceção."""
    relative = path.relative_to(root)
    submission = Submission(path, readable(str(relative)), student_id(relative))
    warnings = submission.warnings
    if path.is_symlink():
        submission.error = "link simbólico: não foi lido"
        return submission
    suffix = path.suffix
    if suffix.lower() != ".ipynb":
        submission.error = "não é um caderno Jupyter (.ipynb): ignorado"
        return submission
    if suffix != ".ipynb":
        warnings.append(f"extensão {readable(suffix)!r} em maiúsculas; lido como .ipynb")
    try:
        raw = read_file(path)
        submission.digest = hashlib.sha256(raw).hexdigest()
        if not raw.strip():
            raise ValueError("arquivo vazio")
        text = raw.decode("utf-8")
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("o JSON não descreve um caderno (não é um objeto)")
        if data.get("nbformat", 4) != 4:
            raise ValueError(
                f"versão do formato de caderno não suportada ({data.get('nbformat')!r})"
            )
        submission.notebook = rebuild(data, warnings)
    except UnicodeDecodeError:
        submission.error = "caderno ilegível: o arquivo não está em UTF-8"
        return submission
    except json.JSONDecodeError as error:
        submission.error = f"caderno ilegível: JSON inválido na linha {error.lineno} ({error.msg})"
        return submission
    except (ValueError, RecursionError) as error:
        submission.error = f"caderno ilegível: {error}"
        return submission
    by_metadata = metadata_assignment(data, warnings)
    by_name = name_assignment(readable(path.name))
    if forced:
        submission.assignment = forced
        for source, value in (("o nome do arquivo", by_name), ("os metadados", by_metadata)):
            if value and value != forced:
                warnings.append(f"{source} indica {value}, mas a correção é do {forced}")
    elif by_metadata and by_name and by_metadata != by_name:
        submission.assignment = by_metadata
        warnings.append(
            f"o nome do arquivo indica {by_name}, mas o caderno é do {by_metadata} "
            f"(corrigido como {by_metadata})"
        )
    else:
        submission.assignment = by_metadata or by_name
    if submission.assignment is None:
        submission.error = (
            "não foi possível identificar o trabalho: faltam os metadados `bnlib.trabalho` e o "
            "nome não começa com 01_ … 06_ (ou use --trabalho)"
        )
    return submission


def safe_inspect(path: Path, root: Path, forced: str | None) -> Submission:
    """:func:`inspect`, com qualquer falha inesperada virando o erro da linha."""
    try:
        return inspect(path, root, forced)
    except Exception as error:  # noqa: BLE001 — um arquivo não derruba a turma
        relative = path.relative_to(root)
        submission = Submission(path, readable(str(relative)), student_id(relative))
        submission.error = f"a entrega não pôde ser lida ({type(error).__name__})"
        return submission


def discover(root: Path, forced: str | None = None) -> list[Submission]:
    """Uma :class:`Submission` por arquivo da pasta (ou o próprio arquivo), em ordem.

    Pastas e arquivos ocultos (``.ipynb_checkpoints``, ``.git``) e lixo de sistemas
    (``.DS_Store``, ``__MACOSX``) são ignorados; links simbólicos não são seguidos.
    """
    root = Path(root)
    if root.is_file() and not root.is_symlink():
        submissions = [inspect(root, root.parent, forced)]
    else:
        paths = []
        for folder, dirs, files in os.walk(root, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
            for name in sorted(files):
                if name.startswith(".") or name in IGNORED_NAMES:
                    continue
                paths.append(Path(folder) / name)
        submissions = [safe_inspect(path, root, forced) for path in sorted(paths)]
    counts = Counter((s.student, s.assignment) for s in submissions if s.error is None)
    for s in submissions:
        if s.error is None and counts[(s.student, s.assignment)] > 1:
            s.warnings.append(
                f"o aluno {s.student!r} tem {counts[(s.student, s.assignment)]} entregas do "
                f"{s.assignment}: confira qual vale"
            )
    return submissions
