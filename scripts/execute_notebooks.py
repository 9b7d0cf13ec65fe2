"""Executa os cadernos do sumário em paralelo e guarda as saídas no cache do Jupyter Book.

O ``jupyter-book build`` executa os cadernos um de cada vez. Este script, chamado pelo
``make book`` antes do build, executa os que ainda não estão no cache (ou mudaram) em
paralelo, um processo por núcleo, com o mesmo ``jupyter-cache`` que o myst-nb usa; o build
depois só encontra as saídas prontas. Um caderno que falha aqui é executado de novo pelo
build, que mostra o erro e para.

Uso: ``python scripts/execute_notebooks.py`` na raiz do repositório.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import yaml
from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
REPORT = ROOT / "_build" / "execucao_paralela.json"
TIMEOUT_S = 120  # o mesmo de execute.timeout em _config.yml


def toc_files(node) -> list[str]:
    """Os valores de ``file`` do ``_toc.yml``, em ordem."""
    if isinstance(node, dict):
        found = [node["file"]] if "file" in node else []
        for value in node.values():
            found += toc_files(value)
        return found
    if isinstance(node, list):
        return [f for item in node for f in toc_files(item)]
    return []


def notebooks_in_toc() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"], *toc_files(toc["parts"])]
    return [ROOT / f"{name}.ipynb" for name in names if (ROOT / f"{name}.ipynb").exists()]


def main() -> int:
    cache = get_cache(str(CACHE))
    for path in notebooks_in_toc():
        cache.add_nb_to_project(str(path))
    executor = load_executor("local-parallel", cache)
    start = time.perf_counter()
    result = executor.run_and_cache(timeout=TIMEOUT_S)
    wall_s = time.perf_counter() - start
    done = len(result.succeeded)
    failed = result.excepted + result.errored
    # O tempo de relógio da execução; os testes o comparam com o orçamento do livro.
    REPORT.write_text(
        json.dumps({"wall_s": round(wall_s, 2), "executed": done, "failed": len(failed)}),
        encoding="utf-8",
    )
    print(f"cadernos executados em paralelo: {done}; com erro: {len(failed)}")
    for uri in failed:
        print(f"  falhou (o build mostra o erro): {uri}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
