"""Os relatórios da correção: CSV, JSON, importação no Moodle e o caderno devolvido ao aluno.

Internamente cada entrega é uma :class:`Row` com chaves em inglês; os arquivos escritos
usam os nomes em português de :data:`JSON_KEYS` e :data:`CSV_COLUMNS`. Todo arquivo é escrito
de forma **atômica** (num temporário na mesma pasta, depois ``os.replace``): uma correção
interrompida deixa o relatório anterior inteiro, nunca um arquivo pela metade.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from bnlib.kit.engine import Result, fmt_number
from bnlib.kit.outputs import clean_outputs


@dataclass
class Row:
    """O resultado de uma entrega."""

    path: str
    student: str
    assignment: str | None
    digest: str = ""
    questions: list[dict[str, Any]] = field(default_factory=list)
    total: float = 0.0
    max_points: float = 0.0
    isolation: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)
    feedback: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def percentage(self) -> float:
        return round(100.0 * self.total / self.max_points, 1) if self.max_points else 0.0


JSON_KEYS = {
    "path": "arquivo",
    "student": "aluno",
    "assignment": "trabalho",
    "digest": "sha256",
    "questions": "questoes",
    "total": "total",
    "max_points": "maximo",
    "isolation": "isolamento",
    "errors": "erros",
    "warnings": "avisos",
    "flags": "sinais",
    "limits": "limites",
    "feedback": "retorno",
    "seconds": "segundos",
    "cpu_seconds": "segundos_cpu",
}
QUESTION_KEYS = {
    "id": "questao",
    "name": "titulo",
    "points": "pontos",
    "max_points": "maximo",
    "passed": "casos_ok",
    "total": "casos_total",
    "messages": "mensagens",
    "time_limited": "limite_de_tempo",
}


def question_dict(result: Result) -> dict[str, Any]:
    """Uma questão julgada, como dicionário interno (chaves em inglês)."""
    return {
        "id": result.question,
        "name": result.title,
        "points": result.points,
        "max_points": result.max_points,
        "passed": result.cases_passed,
        "total": result.cases_total,
        "messages": list(result.messages),
        "time_limited": result.time_limited,
    }


def to_json(row: Row) -> dict[str, Any]:
    data = {JSON_KEYS[k]: v for k, v in asdict(row).items()}
    data["questoes"] = [{QUESTION_KEYS[k]: v for k, v in q.items()} for q in row.questions]
    data["porcentagem"] = row.percentage
    return data


def from_json(data: dict[str, Any]) -> Row:
    """O caminho inverso de :func:`to_json` (para retomar uma correção)."""
    back = {v: k for k, v in JSON_KEYS.items()}
    q_back = {v: k for k, v in QUESTION_KEYS.items()}
    values = {back[k]: v for k, v in data.items() if k in back}
    values["questions"] = [{q_back[k]: v for k, v in q.items()} for q in values["questions"]]
    names = {f.name for f in fields(Row)}
    return Row(**{k: v for k, v in values.items() if k in names})


def atomic_write(path: Path, text: str) -> None:
    """Escreve ``text`` em ``path`` de uma vez (temporário + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def spreadsheet_text(value):
    """Um valor de planilha: um texto que começa com ``=``, ``+``, ``-`` ou ``@`` ganha um
    apóstrofo na frente, para que a planilha não o execute como fórmula (o nome de um arquivo
    entregue é escolhido pelo aluno)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def question_ids(rows: list[Row]) -> list[str]:
    ids = {q["id"] for r in rows for q in r.questions}
    return sorted(ids, key=lambda s: tuple(int(p) for p in s.split(".")))


def csv_text(rows: list[Row]) -> str:
    """O relatório em CSV: uma linha por entrega, pontos por questão e o texto dos erros."""
    ids = question_ids(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "aluno", "arquivo", "trabalho", *(f"questao_{i}" for i in ids), "total", "maximo",
            "porcentagem", "isolamento", "limites", "sinais", "avisos", "erros",
        ]
    )  # fmt: skip
    for r in rows:
        points = {q["id"]: q["points"] for q in r.questions}
        writer.writerow(
            [
                spreadsheet_text(r.student),
                spreadsheet_text(r.path),
                r.assignment or "",
                *(float(points[i]) if i in points else "" for i in ids),
                r.total,
                r.max_points,
                r.percentage,
                r.isolation,
                spreadsheet_text(" | ".join(r.limits)),
                spreadsheet_text(" | ".join(r.flags)),
                spreadsheet_text(" | ".join(r.warnings)),
                spreadsheet_text(" | ".join(r.errors)),
            ]
        )
    return buffer.getvalue()


def moodle_text(rows: list[Row]) -> str:
    """A planilha para *Importar notas → Arquivo CSV* do Moodle.

    Uma linha por aluno, a coluna ``Identificador`` (para mapear ao campo do usuário que os
    nomes das entregas trazem), uma coluna de nota por trabalho (ponto decimal) e um
    comentário curto. Com duas entregas do mesmo trabalho, vale a maior nota, e o comentário
    diz isso.
    """
    assignments = sorted({r.assignment for r in rows if r.assignment})
    best: dict[tuple[str, str], Row] = {}
    repeated: set[tuple[str, str]] = set()
    for r in rows:
        if not r.assignment:
            continue
        key = (r.student, r.assignment)
        if key in best:
            repeated.add(key)
            if r.total <= best[key].total:
                continue
        best[key] = r
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Identificador", *(f"Trabalho {a}" for a in assignments), "Comentário"])
    for student in sorted({s for s, _ in best}):
        grades, comments = [], []
        for a in assignments:
            r = best.get((student, a))
            grades.append(f"{r.total:.2f}" if r else "")
            if r and (student, a) in repeated:
                comments.append(f"{a}: mais de uma entrega, vale a maior nota")
            if r and r.errors:
                comments.append(f"{a}: {r.errors[0][:120]}")
        writer.writerow([spreadsheet_text(student), *grades, spreadsheet_text("; ".join(comments))])
    return buffer.getvalue()


def write_all(rows: list[Row], folder: Path, run: dict[str, Any]) -> None:
    """Grava ``notas.json`` (com os dados da execução, para retomar), ``notas.csv`` e
    ``moodle.csv`` em ``folder``, cada um de forma atômica."""
    rows = sorted(rows, key=lambda r: r.path)
    state = {"execucao": run, "entregas": [to_json(r) for r in rows]}
    atomic_write(folder / "notas.json", json.dumps(state, ensure_ascii=False, indent=1) + "\n")
    atomic_write(folder / "notas.csv", csv_text(rows))
    atomic_write(folder / "moodle.csv", moodle_text(rows))


def safe_name(text: str) -> str:
    """Um nome de arquivo sem barras nem caracteres de controle."""
    return re.sub(r"[^\w.\- ]+", "_", text).strip(" .")[:80] or "entrega"


# --------------------------------------------------------------------------------------
# O caderno devolvido ao aluno
# --------------------------------------------------------------------------------------

CHECK_CALL = re.compile(r"checks\s*\.\s*(check_\w+)\s*\(")


def summary_table(row: Row) -> str:
    """A tabela final do retorno, em português."""
    isolation = (
        "corrigido sem isolamento"
        if row.isolation == "sem isolamento"
        else "corrigido numa caixa de areia isolada"
    )
    lines = [
        "## Resumo da correção",
        "",
        f"Aluno: {row.student} · trabalho {row.assignment} · {isolation}",
        "",
        "| Questão | Pontos | Máximo | Casos corretos |",
        "|---|---|---|---|",
    ]
    for q in row.questions:
        cases = f"{q['passed']} de {q['total']}"
        if q.get("time_limited"):
            cases += " (interrompida por tempo)"
        lines.append(
            f"| {q['id']} `{q['name']}` | {fmt_number(q['points'])} | "
            f"{fmt_number(q['max_points'])} | {cases} |"
        )
    lines.append(
        f"| **Total** | **{fmt_number(row.total)}** | **{fmt_number(row.max_points)}** | "
        f"{fmt_number(row.percentage)} % |"
    )
    notes = row.errors + row.limits + row.warnings + row.flags
    if notes:
        lines += ["", "Observações da correção:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines)


def feedback_notebook(
    notebook: dict, cells: list[dict] | None, row: Row, checks: dict[str, str]
) -> dict:
    """O caderno do aluno com as saídas da execução, o retorno de cada verificação no lugar
    da célula que a chama, o retorno completo e a tabela de resumo no fim.

    ``checks`` leva o nome de cada função ``check_*`` ao nome da questão.
    """
    by_name = {q["name"]: q for q in row.questions}
    result = {k: v for k, v in notebook.items() if k != "cells"}
    new_cells = []
    for index, cell in enumerate(notebook["cells"]):
        cell = dict(cell)
        if cell["cell_type"] == "code":
            run = (
                cells[index]
                if cells and index < len(cells) and isinstance(cells[index], dict)
                else {}
            )
            outputs = clean_outputs(run.get("outputs", []))
            match = CHECK_CALL.search(cell["source"])
            question = by_name.get(checks.get(match.group(1), "")) if match else None
            if question is not None:
                outputs = [stream(question_text(question))]
            elif run.get("status") in ("timeout", "killed"):
                outputs.append(
                    stream(
                        "Esta célula passou do limite de tempo e foi interrompida pela correção.\n",
                        "stderr",
                    )
                )
            elif run.get("status") == "skipped":
                outputs = [stream("Esta célula não foi executada pela correção.\n", "stderr")]
            cell.update(outputs=outputs, execution_count=None)
        new_cells.append(cell)
    details = "\n\n".join(question_text(q) for q in row.questions)
    new_cells.append(
        markdown(f"## Retorno de cada questão\n\n````text\n{details}\n````", "retorno")
    )
    new_cells.append(markdown(summary_table(row), "resumo"))
    result["cells"] = new_cells
    return result


def question_text(q: dict) -> str:
    header = (
        f"{'✔' if q['passed'] == q['total'] else '✘'} Questão {q['id']} ({q['name']}): "
        f"{fmt_number(q['points'])}/{fmt_number(q['max_points'])} pontos; "
        f"{q['passed']} de {q['total']} {'caso correto' if q['total'] == 1 else 'casos corretos'}."
    )
    return "\n".join([header, *("  " + m for m in q["messages"])])


def stream(text: str, name: str = "stdout") -> dict:
    return {
        "output_type": "stream",
        "name": name,
        "text": text if text.endswith("\n") else text + "\n",
    }


def markdown(text: str, cell_id: str) -> dict:
    return {
        "cell_type": "markdown",
        "id": f"correcao-{cell_id}",
        "metadata": {},
        "source": text,
    }
