"""O cache dos cadernos executados, que o build do livro lê (``_build/.jupyter_cache``).

O livro usa ``execute_notebooks: cache``: o myst-nb procura cada caderno no cache do
``jupyter-cache`` pelo hash das células de código (e dos metadados delas) e só executa o que
não encontra. Duas coisas enchem esse cache, e cada caderno é executado uma só vez:

* o ``make test``: o ``nbval`` executa cada caderno do sumário, e o plugin de
  ``tests/conftest.py`` guarda aqui as saídas que o nbval recebeu do kernel (com o tempo de
  relógio e o tempo de CPU do kernel); o build que vem depois só lê;
* o ``make book`` sozinho: ``scripts/execute_notebooks.py`` executa em paralelo o que falta.

Um caderno executado com uma ``bnlib`` antiga não pode ir para o livro: se a ``bnlib`` ou as
dependências mudaram depois da última escrita no cache, ele é apagado (:func:`drop_if_stale`).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
import yaml
from filelock import FileLock
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / "_build" / ".jupyter_cache"
# Os processos do pytest-xdist escrevem no mesmo banco SQLite: um de cada vez.
LOCK = ROOT / "_build" / ".jupyter_cache.lock"
# O que, se mudar, torna velhas as saídas guardadas.
SOURCES_OF_OUTPUTS = ["bnlib", "pyproject.toml", "requirements.txt"]
# Metadado que o nbclient grava ao executar e que o myst-nb usa para colorir o código.
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": ".".join(map(str, sys.version_info[:3])),
}


def _toc_files(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["file"]] if "file" in node else []
        for value in node.values():
            found += _toc_files(value)
        return found
    if isinstance(node, list):
        return [f for item in node for f in _toc_files(item)]
    return []


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """Os cadernos do ``_toc.yml``, na ordem do livro."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"], *_toc_files(toc.get("parts", []))]
    return [root / f"{name}.ipynb" for name in names if (root / f"{name}.ipynb").exists()]


def stale_sources(root: Path = ROOT) -> list[Path]:
    """Arquivos da bnlib e das dependências mais novos que o cache (vazio se não há cache)."""
    database = root / "_build" / ".jupyter_cache" / "global.db"
    if not database.exists():
        return []
    written = database.stat().st_mtime
    newer = []
    for name in SOURCES_OF_OUTPUTS:
        path = root / name
        files = [path] if path.is_file() else path.rglob("*")
        newer += [f for f in files if f.is_file() and f.stat().st_mtime > written]
    return newer


def drop_if_stale(root: Path = ROOT) -> bool:
    """Apaga o cache se a bnlib ou as dependências mudaram depois dele; diz se apagou."""
    newer = stale_sources(root)
    if newer:
        print(
            f"A bnlib mudou ({newer[0].relative_to(root)}): os cadernos serão executados de novo."
        )
        shutil.rmtree(root / "_build" / ".jupyter_cache")
    return bool(newer)


def store(
    path: Path,
    notebook: nbformat.NotebookNode,
    seconds: float,
    cpu_seconds: float | None = None,
    root: Path = ROOT,
) -> None:
    """Guarda no cache um caderno executado, com as saídas nas células de código."""
    notebook.metadata["language_info"] = dict(LANGUAGE_INFO)
    nbformat.validate(notebook)
    data = {"execution_seconds": round(seconds, 3)}
    if cpu_seconds is not None:
        data["cpu_seconds"] = round(cpu_seconds, 3)
    (root / "_build").mkdir(exist_ok=True)
    with FileLock(str(root / "_build" / ".jupyter_cache.lock")):
        cache = get_cache(str(root / "_build" / ".jupyter_cache"))
        bundle = CacheBundleIn(notebook, str(path), data=data)
        cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)


def forget(path: Path, root: Path = ROOT) -> None:
    """Tira do cache as saídas guardadas para a versão atual do caderno, se houver."""
    database = root / "_build" / ".jupyter_cache" / "global.db"
    if not database.exists():
        return
    notebook = nbformat.read(path, as_version=4)
    with FileLock(str(root / "_build" / ".jupyter_cache.lock")):
        cache = get_cache(str(root / "_build" / ".jupyter_cache"))
        try:
            record = cache.match_cache_notebook(notebook)
        except KeyError:
            return
        cache.remove_cache_record(record.pk)


def cached_timings(paths: list[Path], root: Path = ROOT) -> dict[Path, dict]:
    """Caderno → dados da execução guardada para a versão atual dele (segundos, CPU)."""
    database = root / "_build" / ".jupyter_cache" / "global.db"
    if not database.exists():
        return {}
    cache = get_cache(str(root / "_build" / ".jupyter_cache"))
    found = {}
    for path in paths:
        try:
            record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            continue
        found[path] = dict(record.data or {})
    return found
