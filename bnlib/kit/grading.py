"""A correção de uma turma: cada caderno isolado, respostas julgadas fora, relatório contínuo.

Uso::

    python -m bnlib.kit.grading corrigir entregas/ --saida correcao/ -j 2
    python -m bnlib.kit.grading corrigir entregas/ --saida correcao/ --retomar

Para cada arquivo da pasta de entregas (:mod:`bnlib.kit.intake`):

1. o caderno é lido como dados e refeito só com o código e o texto das células;
2. ele roda numa caixa de areia própria (:mod:`bnlib.kit.sandbox`), que devolve só as
   saídas das células e as **respostas**: o que as funções do aluno devolveram nos casos
   do professor, em JSON;
3. aqui, no processo de quem corrige, as respostas são julgadas
   (:func:`bnlib.kit.registry.judge_answers`): valores esperados, pontos, máximos e dicas
   nunca entram na caixa de areia, e nada que o caderno imprime ou grava vira nota;
4. o código é lido em busca de sinais de manipulação (:mod:`bnlib.kit.scan`);
5. os relatórios (:mod:`bnlib.kit.reports`) são regravados de forma atômica, e o caderno
   de retorno do aluno é gravado em ``retornos/``.

Os casos são sorteados na hora com a semente do professor (``--semente``, ou uma nova,
guardada em ``notas.json``); todos os alunos de uma execução recebem os mesmos casos.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from bnlib.kit import checks, intake, registry, reports, runner, sandbox, scan
from bnlib.kit.engine import fmt_number, missing_result
from bnlib.kit.package import build_runtime

WALL_SECONDS = {"06_projeto": 900.0}
"""Tempo total por entrega, por trabalho (os outros: :data:`DEFAULT_WALL`)."""
DEFAULT_WALL = 300.0
CELL_SECONDS = {"06_projeto": 180.0}
DEFAULT_CELL = 60.0
ISOLATED, NOT_ISOLATED = "bubblewrap", "sem isolamento"


class GradingError(Exception):
    """Um problema que impede a correção inteira (não o de uma entrega)."""


def limits_for(assignment: str, base: sandbox.Limits, wall: float | None, cell: float | None):
    return replace(
        base,
        wall_seconds=wall or WALL_SECONDS.get(assignment, DEFAULT_WALL),
        cell_seconds=cell or CELL_SECONDS.get(assignment, DEFAULT_CELL),
    )


def zero_questions(assignment: str, reason: str) -> list[dict]:
    return [
        reports.question_dict(missing_result(q.view(), reason))
        for q in registry.questions(assignment)
    ]


def cell_events(payload: dict) -> tuple[list[str], list[str], list | None]:
    """Os eventos (limites) e os erros das células que vieram da caixa de areia, conferidos."""
    events = payload.get("events")
    limits = [str(e)[:300] for e in events[:20]] if isinstance(events, list) else []
    cells = payload.get("cells") if isinstance(payload.get("cells"), list) else None
    errors = []
    for index, cell in enumerate(cells or []):
        if isinstance(cell, dict) and cell.get("status") == "error" and cell.get("error"):
            errors.append(f"célula {index + 1}: {str(cell['error'])[:200]}")
    if len(errors) > 5:
        errors = [*errors[:5], f"e mais {len(errors) - 5} células com erro"]
    return limits, errors, cells


def grade_submission(sub: intake.Submission, settings: dict, slot: int) -> reports.Row:
    """Corrige uma entrega; nunca levanta exceção por causa do caderno."""
    row = reports.Row(
        path=sub.relative,
        student=sub.student,
        assignment=sub.assignment,
        digest=sub.digest,
        isolation=ISOLATED if settings["isolated"] else NOT_ISOLATED,
        warnings=list(sub.warnings),
    )
    if sub.error:
        row.errors.append(sub.error)
        guess = sub.assignment or intake.name_assignment(sub.path.name)
        if guess:
            row.assignment = guess
            row.questions = zero_questions(guess, "a entrega não pôde ser corrigida")
            row.max_points = registry.max_points(guess)
        return row
    assignment, seed = sub.assignment, settings["seed"]
    row.flags = scan.flags(sub.notebook, assignment)
    request = {
        "notebook": sub.notebook,
        "answers": registry.request(assignment, seed),
        "name": reports.safe_name(Path(sub.relative).name),
    }
    limits = limits_for(assignment, settings["limits"], settings["wall"], settings["cell"])
    outcome = sandbox.run(request, settings["runtime"], limits, settings["isolated"], slot)
    row.seconds = round(outcome.seconds, 2)
    payload = outcome.payload or {}
    if outcome.error:
        row.errors.append(outcome.error)
    cpu = payload.get("cpu")
    row.cpu_seconds = round(float(cpu), 2) if isinstance(cpu, int | float) else 0.0
    row.limits, cell_errors, cells = cell_events(payload)
    answers = payload.get("answers")
    if outcome.payload is not None and answers is None:
        row.errors.append("as respostas do caderno não foram coletadas; as questões valem zero")
    row.errors += cell_errors
    judged = registry.judge_answers(assignment, seed, answers)
    row.questions = [reports.question_dict(result) for result, _ in judged]
    for result, facts in judged:
        if facts["blocked"]:
            row.flags.append(
                f"questão {result.question}: a função chamou uma implementação pronta, "
                "bloqueada na correção"
            )
        if result.time_limited:
            row.limits.append(
                f"questão {result.question}: o limite de {runner.CASE_TIME_LIMIT:g} s por caso "
                "interrompeu a função"
            )
    maxima = {q.id: float(q.points) for q in registry.questions(assignment)}
    row.total = round(
        sum(min(max(float(q["points"]), 0.0), maxima[q["id"]]) for q in row.questions), 2
    )
    row.max_points = registry.max_points(assignment)
    feedback = reports.feedback_notebook(sub.notebook, cells, row, checks.CHECKS)
    name = Path(reports.safe_name(Path(sub.relative).stem)).with_suffix(".ipynb")
    relative = Path("retornos") / reports.safe_name(row.student) / name
    if settings.get("digest_suffix"):
        relative = relative.with_name(f"{name.stem}-{sub.digest[:8]}.ipynb")
    reports.atomic_write(
        settings["output"] / relative, json.dumps(feedback, ensure_ascii=False, indent=1) + "\n"
    )
    row.feedback = relative.as_posix()
    return row


def load_state(output: Path) -> tuple[dict, list[reports.Row]]:
    state = json.loads((output / "notas.json").read_text(encoding="utf-8"))
    return state["execucao"], [reports.from_json(r) for r in state["entregas"]]


def grade(
    target: Path,
    output: Path,
    jobs: int | None = None,
    assignment: str | None = None,
    seed: int | None = None,
    resume: bool = False,
    redo: bool = False,
    isolated: bool = True,
    limits: sandbox.Limits | None = None,
    wall: float | None = None,
    cell: float | None = None,
    log=print,
) -> list[reports.Row]:
    """Corrige uma pasta (ou um caderno) e grava os relatórios em ``output``.

    Raises
    ------
    GradingError
        Sem bubblewrap (e sem ``isolated=False``), pasta de saída com outra correção, ou
        parâmetros que não combinam com a correção a retomar.
    """
    target, output = Path(target), Path(output)
    if not target.exists():
        raise GradingError(f"corrigir: {target} não existe.")
    if assignment is not None and assignment not in registry.ASSIGNMENTS:
        raise GradingError(
            f"trabalho desconhecido {assignment!r}; use um de {sorted(registry.ASSIGNMENTS)}."
        )
    if isolated:
        problem = sandbox.bwrap_problem()
        if problem:
            raise GradingError(
                f"a correção isola cada caderno com o bubblewrap, e {problem}. Instale o pacote "
                "`bubblewrap` (Debian/Ubuntu: `sudo apt-get install bubblewrap`) ou, sabendo que "
                "o código dos alunos rodará com as suas permissões, use --sem-isolamento."
            )
    kept: dict[str, reports.Row] = {}
    if (output / "notas.json").exists() and not redo:
        if not resume:
            raise GradingError(
                f"{output} já tem uma correção (notas.json): use --retomar para continuá-la ou "
                "--refazer para começar de novo."
            )
        run, previous = load_state(output)
        if seed is not None and seed != run["semente"]:
            raise GradingError("a semente pedida não é a da correção a retomar.")
        if assignment != run.get("trabalho"):
            raise GradingError("o --trabalho pedido não é o da correção a retomar.")
        seed = run["semente"]
        kept = {r.path: r for r in previous}
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    if seed == registry.PUBLIC_SEED:
        log("aviso: esta semente é a dos casos visíveis; os casos da correção não serão ocultos.")
    submissions = intake.discover(target, assignment)
    current = {s.relative: s for s in submissions}
    rows = {p: r for p, r in kept.items() if p in current and r.digest == current[p].digest}
    pending = [s for s in submissions if s.relative not in rows]
    run = {
        "semente": seed,
        "trabalho": assignment,
        "isolamento": ISOLATED if isolated else NOT_ISOLATED,
        "inicio": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    output.mkdir(parents=True, exist_ok=True)
    jobs = jobs or os.cpu_count() or 1
    log(
        f"{len(submissions)} arquivos, {len(pending)} a corrigir ({len(rows)} já corrigidos); "
        f"semente dos casos {seed}; {jobs} em paralelo; "
        f"{'isolados com bubblewrap' if isolated else 'SEM ISOLAMENTO'}."
    )
    for name in sorted({s.assignment for s in pending if s.assignment and not s.error}):
        registry.cases_for(name, seed)  # os casos e as referências, uma vez só
        if name == "06_projeto":
            log("calculando as medidas de referência do trabalho 6 (treina dois modelos)...")
            from bnlib.kit.assignments.project import reference_measurements

            reference_measurements()
    lock = threading.Lock()
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)
    reports.write_all(list(rows.values()), output, run)
    with tempfile.TemporaryDirectory(prefix="bnlib-correcao-") as temporary:
        settings = {
            "seed": seed,
            "runtime": build_runtime(Path(temporary)),
            "limits": limits or sandbox.Limits(),
            "wall": wall,
            "cell": cell,
            "isolated": isolated,
            "output": output,
            "digest_suffix": False,
        }
        names = [(s.student, Path(s.relative).stem) for s in submissions]
        settings["digest_suffix"] = len(set(names)) < len(names)

        def work(sub: intake.Submission) -> None:
            slot = slots.get()
            try:
                row = grade_submission(sub, settings, slot)
            except Exception as error:  # noqa: BLE001 — um defeito nosso não derruba a turma
                row = reports.Row(sub.relative, sub.student, sub.assignment, sub.digest)
                row.errors.append(f"erro interno da correção: {type(error).__name__}: {error}")
            finally:
                slots.put(slot)
            with lock:
                rows[row.path] = row
                reports.write_all(list(rows.values()), output, run)
                log(line(row))

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(work, pending))
    return sorted(rows.values(), key=lambda r: r.path)


def line(row: reports.Row) -> str:
    """Uma linha de progresso para o terminal."""
    text = f"{row.path}: {fmt_number(row.total)}/{fmt_number(row.max_points)}"
    marks = [
        m
        for m, items in (("erro", row.errors), ("limite", row.limits), ("sinal", row.flags))
        if items
    ]
    return text + (f" ({', '.join(marks)})" if marks else "")


def main(argv: list[str] | None = None) -> int:
    """Linha de comando: ``corrigir <pasta ou caderno> --saida <pasta>``."""
    parser = argparse.ArgumentParser(
        prog="python -m bnlib.kit.grading",
        description="Corrige os cadernos de uma turma, cada um isolado, e escreve os relatórios.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("corrigir", help="corrige uma pasta de entregas (ou um caderno)")
    p.add_argument(
        "target", metavar="entregas", type=Path, help="pasta com as entregas ou um caderno"
    )
    p.add_argument(
        "--saida",
        dest="output",
        type=Path,
        default=Path("correcao"),
        help="pasta dos relatórios (padrão: correcao)",
    )
    p.add_argument(
        "-j",
        dest="jobs",
        type=int,
        default=None,
        help="entregas em paralelo (padrão: núcleos da máquina)",
    )
    p.add_argument(
        "--trabalho",
        dest="assignment",
        help="corrige tudo como este trabalho (ex.: 01_passo_direto)",
    )
    p.add_argument(
        "--semente",
        dest="seed",
        type=int,
        help="semente dos casos (padrão: uma nova, guardada em notas.json)",
    )
    p.add_argument(
        "--retomar", dest="resume", action="store_true", help="continua uma correção interrompida"
    )
    p.add_argument(
        "--refazer",
        dest="redo",
        action="store_true",
        help="apaga a correção anterior da pasta de saída",
    )
    p.add_argument(
        "--sem-isolamento",
        dest="unsafe",
        action="store_true",
        help="roda sem bubblewrap, com as suas permissões",
    )
    p.add_argument("--tempo-celula", dest="cell", type=float, help="limite por célula, em segundos")
    p.add_argument("--tempo-total", dest="wall", type=float, help="limite por entrega, em segundos")
    p.add_argument(
        "--memoria", dest="memory", type=int, default=3072, help="memória por processo, em MB"
    )
    args = parser.parse_args(argv)
    limits = replace(sandbox.Limits(), memory_mb=args.memory)
    try:
        rows = grade(
            args.target, args.output, args.jobs, args.assignment, args.seed, args.resume,
            args.redo, not args.unsafe, limits, args.wall, args.cell,
        )  # fmt: skip
    except GradingError as error:
        print(f"erro: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrompido: os relatórios gravados valem; continue com --retomar.", file=sys.stderr
        )
        return 130
    print(
        f"{len(rows)} linhas em {args.output / 'notas.csv'} (e notas.json, moodle.csv, retornos/)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
