"""Extensão Sphinx local: relatório do tempo de execução de cada caderno.

Ao fim do build, escreve ``_build/execucao.json`` e a página ``execucao.html`` (fora do
sumário: é um relatório para quem mantém o livro, não uma página de leitura) com, para cada
caderno, o tempo de relógio, o tempo de CPU do kernel (quando o caderno foi executado pelo
nbval no ``make test``) e o orçamento de 60 s. O tempo é um relatório, não um teste: numa
máquina ocupada o relógio mede a carga dos outros processos, e nenhum teste o compara com o
orçamento. ``make tempos`` imprime a mesma tabela (``python book/_ext/execution_report.py``).
"""

from __future__ import annotations

import html
import importlib.util
import json
import sys
from pathlib import Path

REPORT_NAME = "execucao.json"
PAGE_NAME = "execucao"
#: Orçamento de cada caderno: 60 s em 2 núcleos livres.
BUDGET_S = 60.0
ROOT = Path(__file__).resolve().parents[2]


def _notebook_cache():
    spec = importlib.util.spec_from_file_location(
        "notebook_cache", ROOT / "scripts" / "notebook_cache.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seconds(text: str | float | None) -> str:
    return "—" if text is None else f"{float(text):.1f}".replace(".", ",")


def verdict(row: dict) -> str:
    """ "dentro" ou "acima" do orçamento, pelo tempo de CPU quando há, senão pelo relógio."""
    measure = row.get("cpu_s") if row.get("cpu_s") is not None else row.get("runtime_s")
    if measure is None:
        return "sem medida"
    return "dentro" if measure <= BUDGET_S else "acima"


def table_lines(report: dict) -> list[str]:
    """A tabela em texto, uma linha por caderno, com o total."""
    lines = [f"{'relógio (s)':>12} {'CPU (s)':>9}  {'orçamento':<18} caderno"]
    for docname, row in report.items():
        budget = f"{verdict(row)} de {BUDGET_S:.0f} s"
        lines.append(
            f"{_seconds(row['runtime_s']):>12} {_seconds(row.get('cpu_s')):>9}  "
            f"{budget:<18} {docname}"
        )
    total = sum(row["runtime_s"] or 0.0 for row in report.values())
    lines.append(f"{_seconds(total):>12} {'':>9}  {'':<18} total")
    return lines


def collect(app) -> dict:
    from myst_nb.sphinx_ import NbMetadataCollector

    docs = NbMetadataCollector.get_doc_data(app.env)
    paths = {
        docname: Path(app.env.doc2path(docname)).resolve()
        for docname, data in docs.items()
        if data.get("exec_data")
    }
    try:
        cached = _notebook_cache().cached_timings(list(paths.values()))
    except Exception:  # sem cache legível: fica o tempo que o myst-nb registrou
        cached = {}
    report = {}
    for docname, path in sorted(paths.items()):
        exec_data = docs[docname]["exec_data"]
        runtime = exec_data.get("runtime")
        cpu = cached.get(path, {}).get("cpu_seconds")
        report[docname] = {
            "runtime_s": None if runtime is None else round(float(runtime), 2),
            "cpu_s": None if cpu is None else round(float(cpu), 2),
            "budget_s": BUDGET_S,
            "method": exec_data.get("method"),
            "succeeded": bool(exec_data.get("succeeded")),
        }
    return report


def _page_body(report: dict) -> str:
    rows = []
    for docname, row in report.items():
        rows.append(
            "<tr>"
            f"<td><code>{html.escape(docname)}</code></td>"
            f"<td>{_seconds(row['runtime_s'])}</td>"
            f"<td>{_seconds(row.get('cpu_s'))}</td>"
            f"<td>{verdict(row)}</td>"
            "</tr>"
        )
    return (
        "<section><h1>Tempo de execução dos cadernos</h1>"
        "<p>Cada caderno tem um orçamento de 60 s em 2 núcleos livres. O tempo de CPU do "
        "kernel (usuário + sistema) vale quando o caderno foi executado pelo nbval, no "
        "<code>make test</code>; o de relógio depende da carga da máquina. Este relatório "
        "não é um teste: nenhum teste compara tempos.</p>"
        '<table class="table"><thead><tr><th>caderno</th><th>relógio (s)</th>'
        "<th>CPU (s)</th><th>orçamento</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


def add_report_page(app):
    if app.builder.format != "html":
        return
    report = collect(app)
    path = Path(app.outdir).parent / REPORT_NAME
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    context = {"title": "Tempo de execução dos cadernos", "body": _page_body(report)}
    yield PAGE_NAME, context, "page.html"


def setup(app):
    app.connect("html-collect-pages", add_report_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main() -> int:
    """Imprime a tabela do último build (``make tempos``)."""
    path = ROOT / "_build" / REPORT_NAME
    if not path.exists():
        print("Sem relatório: rode `make book` (ou `make test`) antes.", file=sys.stderr)
        return 1
    report = json.loads(path.read_text(encoding="utf-8"))
    print("\n".join(table_lines(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
