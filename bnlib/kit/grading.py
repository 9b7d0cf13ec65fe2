"""Correção automática dos trabalhos: roda o caderno do aluno e escreve um relatório de notas.

Uso::

    python -m bnlib.kit.grading corrigir aluno.ipynb
    python -m bnlib.kit.grading corrigir pasta_de_entregas/ --relatorio notas.csv
    python -m bnlib.kit.grading corrigir entregas/ --relatorio notas.json --executados saida/

Para cada caderno:

1. descobre o trabalho (``metadata.bnlib.trabalho``, ou o prefixo ``01_``…``06_`` do nome);
2. roda todas as células com ``nbclient`` num núcleo (*kernel*) novo, com limite de tempo
   por célula (``--tempo-celula``, 60 s por padrão): uma célula que estoura o limite é
   interrompida e as seguintes continuam; erros do aluno não interrompem a correção;
3. acrescenta ao fim uma célula que chama :func:`bnlib.kit.checks.grade_assignment` sobre as
   funções e respostas que o caderno definiu (os casos ocultos incluídos) e lê o registro
   JSON que ela imprime;
4. soma os pontos por questão e no total.

O que a correção **não** protege: o código do aluno roda com as permissões de quem corrige,
sem isolamento. Ele pode ler e escrever arquivos, acessar a rede, gastar memória ou
processos, ler as implementações de referência do ``bnlib`` (ou chamá-las, em vez de
implementar) e alterar o ``bnlib.kit.checks`` carregado no núcleo para forjar a nota. O limite
de tempo só evita laços infinitos, e a pasta temporária de trabalho só evita sujar a pasta
das entregas. Para turmas em que isso importa, rode a correção dentro de um contêiner ou de
uma máquina virtual descartável, sem rede, e leia os avisos do relatório, que apontam
cadernos que usam as funções prontas do ``bnlib``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from bnlib.kit import checks

CELL_TIME_LIMIT = 60
"""Limite de tempo padrão por célula, em segundos."""

SUSPICIOUS = (
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_inference",
    "update_running_stats",
    "batch_statistics",
    "_reference",
    "reference_measurements",
    "batch_norm(",
    "layer_norm(",
    "group_norm(",
)
"""Trechos de código que indicam o uso de uma implementação pronta (geram um aviso)."""


REPORT_KEYS = {
    "path": "arquivo",
    "assignment": "trabalho",
    "questions": "questoes",
    "total": "total",
    "max_points": "maximo",
    "errors": "erros",
    "warnings": "avisos",
}
"""As chaves do relatório em JSON (:meth:`Report.as_dict`), que continuam em português."""


@dataclass
class Report:
    """A nota de um caderno.

    Attributes
    ----------
    path : str
    assignment : str ou None
    questions : list of dict
        Um :class:`bnlib.kit.checks.Result` por questão, como dicionário.
    total, max_points : float
    errors : list of str
        Células que falharam ou estouraram o tempo, e problemas da correção.
    warnings : list of str
        Indícios de uso de implementações prontas.
    """

    path: str
    assignment: str | None
    questions: list[dict[str, Any]] = field(default_factory=list)
    total: float = 0.0
    max_points: float = 0.0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def percentage(self) -> float:
        """A nota em porcentagem do máximo (0 se não há questões)."""
        return round(100.0 * self.total / self.max_points, 1) if self.max_points else 0.0

    def as_dict(self) -> dict[str, Any]:
        """O relatório como dicionário, com a porcentagem (chaves em português, como no
        relatório em JSON)."""
        return {REPORT_KEYS[k]: v for k, v in asdict(self).items()} | {
            "porcentagem": self.percentage
        }


def identify_assignment(notebook, path: Path) -> str | None:
    """O trabalho de um caderno: pelos metadados ou pelo prefixo numérico do nome."""
    assignment = notebook.metadata.get("bnlib", {}).get("trabalho")
    if assignment in checks.ASSIGNMENTS:
        return assignment
    match = re.match(r"(\d\d)", path.name)
    if match:
        for key in checks.ASSIGNMENTS:
            if key.startswith(match.group(1)):
                return key
    return None


def _grading_cell(assignment: str):
    code = (
        "import bnlib.kit.checks as _bnlib_checks\n"
        f"_bnlib_checks.grade_assignment({assignment!r}, globals())"
    )
    return nbformat.v4.new_code_cell(code)


def _record(cell) -> dict[str, Any] | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") != "stream":
            continue
        for line in output.get("text", "").splitlines():
            if line.startswith(checks.MARKER):
                return json.loads(line[len(checks.MARKER) :])
    return None


def _zeros(assignment: str, reason: str) -> list[dict[str, Any]]:
    questions = []
    for index, (name, check) in enumerate(checks.ASSIGNMENTS[assignment], start=1):
        question = f"{int(assignment[:2])}.{index}"
        questions.append(checks._missing_result(question, name, check, reason).as_dict())
    return questions


def grade_notebook(
    path: Path | str,
    cell_timeout: int = CELL_TIME_LIMIT,
    executed: Path | str | None = None,
) -> Report:
    """Roda o caderno de um aluno e devolve a sua nota.

    Parameters
    ----------
    path : Path
        O caderno ``.ipynb`` entregue.
    cell_timeout : int
        Limite de tempo por célula, em segundos.
    executed : Path, opcional
        Onde gravar o caderno executado (com as mensagens das verificações), para devolver
        ao aluno.

    Returns
    -------
    Report
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = Path(path)
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 — um arquivo entregue pode estar corrompido
        return Report(str(path), None, errors=[f"caderno ilegível: {error}"])
    assignment = identify_assignment(notebook, path)
    if assignment is None:
        return Report(
            str(path),
            None,
            errors=[
                "não foi possível identificar o trabalho: faltam os metadados "
                "`bnlib.trabalho` e o nome não começa com 01_ … 06_."
            ],
        )
    report = Report(str(path), assignment)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    for snippet in SUSPICIOUS:
        if snippet in code:
            report.warnings.append(
                f"o código usa `{snippet}`: confira se não é uma solução pronta."
            )
    final_cell = _grading_cell(assignment)
    notebook.cells.append(final_cell)
    # A célula de correção roda todas as verificações; cada chamada à função do aluno tem
    # o seu limite (checks.CASE_TIME_LIMIT), e a célula inteira ganha folga para todas elas,
    # para que um laço infinito numa questão não zere as outras.
    final_timeout = max(
        cell_timeout, 60 + int(checks.CASE_TIME_LIMIT + 1) * len(checks.ASSIGNMENTS[assignment])
    )

    def timeout_for_cell(cell) -> int:
        return final_timeout if cell is final_cell else cell_timeout

    with tempfile.TemporaryDirectory(prefix="bnlib-correcao-") as workdir:
        client = NotebookClient(
            notebook,
            timeout=cell_timeout,
            timeout_func=timeout_for_cell,
            # Sem o aviso de conexão TCP do núcleo, que só polui a saída do professor.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": "CellTimeout",
                "evalue": f"a célula passou de {cell_timeout} s e foi interrompida",
                "traceback": [],
            },
            resources={"metadata": {"path": workdir}},
        )
        try:
            client.execute()
        except DeadKernelError as error:
            report.errors.append(f"o núcleo do Python morreu durante a execução: {error}")
        except Exception as error:  # noqa: BLE001
            report.errors.append(f"falha ao executar o caderno: {type(error).__name__}: {error}")
    for index, cell in enumerate(notebook.cells[:-1]):
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            if output.get("ename") in ("KeyboardInterrupt", "CellTimeout"):
                report.errors.append(
                    f"célula {index}: CellTimeout: passou de {cell_timeout} s e foi interrompida"
                )
                # No caderno devolvido ao aluno, uma explicação no lugar do traceback.
                cell.outputs[cell.outputs.index(output)] = nbformat.v4.new_output(
                    "stream",
                    name="stderr",
                    text=(
                        f"Esta célula passou de {cell_timeout} s e foi interrompida pela "
                        "correção. Há um laço infinito? Confira a condição de parada e o "
                        "incremento de cada `while`.\n"
                    ),
                )
            else:
                report.errors.append(
                    f"célula {index}: {output.get('ename')}: {output.get('evalue', '')[:200]}"
                )
    record = _record(notebook.cells[-1])
    if record is None:
        report.errors.append("a célula de correção não produziu o registro de notas.")
        report.questions = _zeros(assignment, "a correção não pôde rodar as verificações.")
    else:
        report.questions = record["questoes"]
    report.total = round(sum(q["pontos"] for q in report.questions), 2)
    report.max_points = round(sum(q["maximo"] for q in report.questions), 2)
    if executed is not None:
        nbformat.write(notebook, Path(executed))
    return report


def grade(
    target: Path | str, cell_timeout: int = CELL_TIME_LIMIT, executed_dir: Path | str | None = None
) -> list[Report]:
    """Corrige um caderno ou todos os ``*.ipynb`` de uma pasta (e subpastas)."""
    target = Path(target)
    if target.is_dir():
        notebooks = sorted(
            p for p in target.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
        )
    elif target.exists():
        notebooks = [target]
    else:
        raise FileNotFoundError(f"corrigir: {target} não existe.")
    reports = []
    for notebook_path in notebooks:
        destination = None
        if executed_dir is not None:
            Path(executed_dir).mkdir(parents=True, exist_ok=True)
            destination = Path(executed_dir) / notebook_path.name
        reports.append(grade_notebook(notebook_path, cell_timeout, destination))
    return reports


def write_report(reports: list[Report], output: Path | str) -> None:
    """Grava os relatórios em JSON (completo) ou CSV (uma linha por caderno)."""
    output = Path(output)
    if output.suffix.lower() == ".json":
        data = [r.as_dict() for r in reports]
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    if output.suffix.lower() != ".csv":
        raise ValueError(f"write_report: use um arquivo .csv ou .json; recebido {output.name}.")
    ids = sorted(
        {q["questao"] for r in reports for q in r.questions},
        key=lambda s: tuple(int(p) for p in s.split(".")),
    )
    with output.open("w", newline="", encoding="utf-8") as path:
        writer = csv.writer(path)
        writer.writerow(
            [
                "arquivo",
                "trabalho",
                *(f"questao_{i}" for i in ids),
                "total",
                "maximo",
                "porcentagem",
                "erros",
                "avisos",
            ]
        )
        for r in reports:
            points = {q["questao"]: q["pontos"] for q in r.questions}
            writer.writerow(
                [
                    r.path,
                    r.assignment or "",
                    *(float(points[i]) if i in points else "" for i in ids),
                    r.total,
                    r.max_points,
                    r.percentage,
                    len(r.errors),
                    " | ".join(r.warnings),
                ]
            )


def _num(value: float) -> str:
    """Um número com vírgula decimal, para o resumo em português."""
    return f"{value:g}".replace(".", ",")


def _summary(report: Report) -> str:
    lines = [
        f"{report.path} ({report.assignment or 'trabalho desconhecido'}): "
        f"{_num(report.total)}/{_num(report.max_points)} pontos "
        f"({_num(report.percentage)} %)"
    ]
    for q in report.questions:
        lines.append(
            f"  questão {q['questao']} ({q['titulo']}): {_num(q['pontos'])}/{_num(q['maximo'])}"
        )
        lines.extend(f"      {m}" for m in q["mensagens"])
    lines.extend(f"  erro: {e}" for e in report.errors)
    lines.extend(f"  aviso: {a}" for a in report.warnings)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Linha de comando: ``corrigir <caderno ou pasta> [--relatorio saida.csv|json]``."""
    parser = argparse.ArgumentParser(
        prog="python -m bnlib.kit.grading",
        description="Corrige cadernos de trabalhos e escreve um relatório de notas.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("corrigir", help="corrige um caderno ou uma pasta de cadernos")
    p.add_argument("target", metavar="alvo", type=Path, help="caderno .ipynb ou pasta com cadernos")
    p.add_argument(
        "--relatorio",
        dest="report",
        metavar="RELATORIO",
        type=Path,
        help="arquivo .csv ou .json para as notas",
    )
    p.add_argument(
        "--tempo-celula",
        dest="cell_timeout",
        metavar="TEMPO_CELULA",
        type=int,
        default=CELL_TIME_LIMIT,
        help="limite por célula, em segundos",
    )
    p.add_argument(
        "--executados",
        dest="executed_dir",
        metavar="EXECUTADOS",
        type=Path,
        help="pasta para os cadernos executados",
    )
    args = parser.parse_args(argv)
    try:
        reports = grade(args.target, args.cell_timeout, args.executed_dir)
    except FileNotFoundError as error:
        print(f"erro: {error}", file=sys.stderr)
        return 2
    for report in reports:
        print(_summary(report))
    if args.report is not None:
        write_report(reports, args.report)
        print(f"relatório gravado em {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
