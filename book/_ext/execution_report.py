"""Extensão Sphinx local: relatório do tempo de execução de cada caderno.

Ao fim do build, escreve ``_build/execucao.json`` (caderno → segundos, método e sucesso) e
imprime a tabela no log. ``tests/test_execution_budget.py`` falha se algum caderno passar
do orçamento, para que o livro continue rápido de construir.
"""

from __future__ import annotations

import json
from pathlib import Path

from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.util import logging

logger = logging.getLogger(__name__)
REPORT_NAME = "execucao.json"


def write_report(app, exception) -> None:
    if exception is not None:
        return
    report = {}
    for docname, data in sorted(NbMetadataCollector.get_doc_data(app.env).items()):
        exec_data = data.get("exec_data")
        if exec_data:
            report[docname] = {
                "runtime_s": round(float(exec_data.get("runtime") or 0.0), 2),
                "method": exec_data.get("method"),
                "succeeded": bool(exec_data.get("succeeded")),
            }
    path = Path(app.outdir).parent / REPORT_NAME
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    logger.info("Tempo de execução dos cadernos (s):")
    for docname, row in report.items():
        logger.info(f"  {row['runtime_s']:7.2f}  {docname}")
    total = sum(row["runtime_s"] for row in report.values())
    logger.info(f"  {total:7.2f}  total; relatório em {path}")


def setup(app):
    app.connect("build-finished", write_report)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
