"""Executa os cadernos do sumário em paralelo e guarda as saídas no cache do Jupyter Book.

O ``jupyter-book build`` executa os cadernos um de cada vez. Este script, chamado pelo
``make book`` antes do build, executa os que ainda não estão no cache (ou mudaram) em
paralelo, um processo por núcleo, com o mesmo ``jupyter-cache`` que o myst-nb usa; o build
depois só encontra as saídas prontas. Um caderno que falha aqui é executado de novo pelo
build, que mostra o erro e para. No ``make test``, o nbval já guardou os cadernos no cache
(``tests/conftest.py``) e este script não tem nada a fazer.

Uso: ``python scripts/execute_notebooks.py`` na raiz do repositório.
"""

from __future__ import annotations

import sys

from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor
from notebook_cache import CACHE_DIR, drop_if_stale, toc_notebooks

TIMEOUT_S = 900  # o mesmo de execute.timeout em _config.yml (só contra travamentos)


def main() -> int:
    drop_if_stale()
    cache = get_cache(str(CACHE_DIR))
    for path in toc_notebooks():
        cache.add_nb_to_project(str(path))
    executor = load_executor("local-parallel", cache)
    result = executor.run_and_cache(timeout=TIMEOUT_S)
    failed = result.excepted + result.errored
    print(f"cadernos executados em paralelo: {len(result.succeeded)}; com erro: {len(failed)}")
    for uri in failed:
        print(f"  falhou (o build mostra o erro): {uri}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
