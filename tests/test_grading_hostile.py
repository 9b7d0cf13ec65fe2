"""Uma turma hostil: notas honestas, nada muda fora da caixa de areia, todos corrigidos.

Uma pasta de turma mistura a solução do professor, um caderno em branco, um erro realista e
um caderno hostil por ameaça (``tests/fixtures/hostis``), e é corrigida uma vez, com
``-j 2`` e isolamento. Cada teste confere uma linha do relatório ou um efeito (ou a falta
dele) fora da caixa de areia.

Os cadernos hostis são guardados como ``*.ipynb.hostil``: com a extensão ``.ipynb`` o nbval
(e quem os abrisse no Jupyter) os executaria fora da caixa de areia, e um deles tenta apagar
todos os cadernos que encontra.
"""

import hashlib
import json
import os
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest

from bnlib.kit import grading, sandbox

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "hostis"
SOURCES = ROOT / "trabalhos" / "fontes"
STUDENTS = ROOT / "trabalhos" / "alunos"
CANARY = "segredo-do-professor-7f3a"
SURVIVOR = "bnlib-processo-sobrevivente"
PORT = 47613

pytestmark = pytest.mark.skipif(
    sandbox.bwrap_problem() is not None,
    reason=f"sem bubblewrap utilizável: {sandbox.bwrap_problem()}",
)


def solved(source: Path = SOURCES / "01_passo_direto.ipynb") -> nbformat.NotebookNode:
    nb = nbformat.read(source, as_version=4)
    nb.cells = [c for c in nb.cells if "remover-no-aluno" not in c.metadata.get("tags", [])]
    return nb


def snapshot(folder: Path, skip: Path | None = None) -> dict[str, str]:
    result = {}
    for path in sorted(folder.rglob("*")):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        if path.is_file() and not path.is_symlink():
            result[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def survivors() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if SURVIVOR.encode() in cmdline:
                found.append(proc.name)
    return found


class Listener:
    """Um servidor TCP em 127.0.0.1 que conta as conexões recebidas."""

    def __init__(self) -> None:
        self.connections = 0
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", PORT))
        self.server.listen()
        self.server.settimeout(0.5)
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.running:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("turma")
    home = base / "professor"  # a pasta pessoal de quem corrige, com um segredo
    home.mkdir()
    (home / "segredo.txt").write_text(CANARY)
    (home / "notas.csv").write_text("aluno,total\n")
    turma = home / "entregas"
    turma.mkdir()
    for fixture in sorted(FIXTURES.glob("*.ipynb.hostil")):
        folder = turma / fixture.name.removesuffix(".ipynb.hostil").removeprefix("01_")
        folder.mkdir()
        (folder / "01_passo_direto.ipynb").write_bytes(fixture.read_bytes())
    honest = solved()
    honest.cells[0].source += f"\n\n<!-- {CANARY} -->"
    (turma / "professor_solucao").mkdir()
    nbformat.write(honest, turma / "professor_solucao" / "01_passo_direto.ipynb")
    (turma / "em_branco").mkdir()
    (turma / "em_branco" / "01_passo_direto.ipynb").write_bytes(
        (STUDENTS / "01_passo_direto.ipynb").read_bytes()
    )
    mistake = solved()
    for cell in mistake.cells:
        cell.source = cell.source.replace(
            "variance = ((x - mean) ** 2).mean(axis=0)", "variance = x.var(axis=0, ddof=1)"
        )
    (turma / "erro_realista").mkdir()
    nbformat.write(mistake, turma / "erro_realista" / "01_passo_direto.ipynb")
    malformed = turma / "malformados"  # uma pasta de aluno com todos os defeitos de arquivo
    malformed.mkdir()
    (malformed / "01_json_quebrado.ipynb").write_text('{"cells": [', encoding="utf-8")
    (malformed / "01_vazio.ipynb").write_bytes(b"")
    (malformed / "01_script.py").write_text("print('oi')\n", encoding="utf-8")
    (malformed / "01_MAIUSCULAS.IPYNB").write_bytes(
        STUDENTS.joinpath("01_passo_direto.ipynb").read_bytes()
    )
    (malformed / "01_nome_diz_01.ipynb").write_bytes(
        (STUDENTS / "03_inferencia.ipynb").read_bytes()
    )
    data = json.loads((STUDENTS / "01_passo_direto.ipynb").read_text(encoding="utf-8"))
    data["metadata"]["bnlib"] = "01_passo_direto"
    del data["cells"][1]["source"]
    (malformed / "01_metadados_texto_sem_source.ipynb").write_text(json.dumps(data))
    data["metadata"]["bnlib"] = {"trabalho": ["03_inferencia"]}
    (malformed / "01_trabalho_lista.ipynb").write_text(json.dumps(data))
    with open(os.fsencode(malformed) + b"/01_jo\xe3o.ipynb", "wb") as file:
        file.write((STUDENTS / "01_passo_direto.ipynb").read_bytes())
    output = home / "correcao"
    before = snapshot(home, skip=output)
    repo_before = snapshot(ROOT / "trabalhos")
    assert not survivors()
    try:
        listener = Listener()
    except OSError:
        listener = None
    start = time.monotonic()
    rows = grading.grade(
        turma,
        output,
        jobs=2,
        seed=2024,
        limits=sandbox.Limits(tmp_mb=128, memory_mb=2048),
        cell=5,
        log=lambda text: None,
    )
    elapsed = time.monotonic() - start
    time.sleep(1.0)
    if listener is not None:
        listener.close()
    return {
        "rows": {Path(r.path).parts[0]: r for r in rows if not r.path.startswith("malformados")},
        "malformed": {Path(r.path).name: r for r in rows if r.path.startswith("malformados")},
        "home": home,
        "output": output,
        "before": before,
        "after": snapshot(home, skip=output),
        "repo_before": repo_before,
        "connections": None if listener is None else listener.connections,
        "survivors": survivors(),
        "elapsed": elapsed,
    }


def feedback(graded, name) -> str:
    row = graded["rows"][name]
    return (graded["output"] / row.feedback).read_text(encoding="utf-8")


def printed(graded, name) -> str:
    """O texto que as células do caderno imprimiram na correção."""
    nb = json.loads(feedback(graded, name))
    texts = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") + str(output.get("data", "")))
    return "\n".join(texts)


def test_every_submission_has_a_row_and_the_run_completed(graded):
    expected = {
        p.name.removesuffix(".ipynb.hostil").removeprefix("01_")
        for p in FIXTURES.glob("*.ipynb.hostil")
    }
    expected |= {"professor_solucao", "em_branco", "erro_realista"}
    assert set(graded["rows"]) == expected
    report = json.loads((graded["output"] / "notas.json").read_text(encoding="utf-8"))
    assert len(report["entregas"]) == len(expected) + len(graded["malformed"])
    assert all(r.isolation == "bubblewrap" for r in graded["rows"].values())
    lines = (graded["output"] / "notas.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + len(report["entregas"])


def test_malformed_files_each_get_a_row_and_do_not_stop_the_run(graded):
    rows = graded["malformed"]
    assert len(rows) == 8
    assert "JSON inválido" in rows["01_json_quebrado.ipynb"].errors[0]
    assert "arquivo vazio" in rows["01_vazio.ipynb"].errors[0]
    assert "não é um caderno" in rows["01_script.py"].errors[0]
    assert rows["01_MAIUSCULAS.IPYNB"].total == 0 and rows["01_MAIUSCULAS.IPYNB"].feedback
    swapped = rows["01_nome_diz_01.ipynb"]
    assert swapped.assignment == "03_inferencia" and swapped.warnings
    assert rows["01_metadados_texto_sem_source.ipynb"].warnings
    latin = next(r for name, r in rows.items() if name.startswith("01_jo"))
    assert latin.errors == [] and latin.total == 0
    feedbacks = [r.feedback for r in graded["rows"].values()]
    assert len(set(feedbacks)) == len(feedbacks)  # o mesmo nome em pastas diferentes


def test_honest_class_members_get_honest_scores(graded):
    rows = graded["rows"]
    assert rows["professor_solucao"].total == 10 and not rows["professor_solucao"].errors
    assert rows["em_branco"].total == 0
    mistake = rows["erro_realista"]
    assert [q["points"] for q in mistake.questions] == [0, 3, 4]
    assert "1/N, não 1/(N-1)" in " ".join(mistake.questions[0]["messages"])


@pytest.mark.parametrize(
    ("name", "flag"),
    [
        ("forja_registro", "registro de notas falso"),
        ("troca_verificacoes", "substitui parte da biblioteca"),
        ("le_pilha", "pilha"),
        ("ganchos_ipython", "gancho do IPython"),
        ("usa_referencia", "implementação pronta"),
    ],
)
def test_forgery_gets_the_honest_score_and_a_visible_flag(graded, name, flag):
    row = graded["rows"][name]
    assert row.total == 0, (name, row.questions)
    assert any(flag in f for f in row.flags), row.flags


def test_ready_made_implementation_is_blocked_in_the_sandbox(graded):
    row = graded["rows"]["usa_referencia"]
    assert any("bloqueada na correção" in f for f in row.flags)
    assert "não está disponível na correção" in " ".join(row.questions[0]["messages"])


def test_nothing_outside_the_sandbox_changed(graded):
    assert graded["after"] == graded["before"]
    assert snapshot(ROOT / "trabalhos") == graded["repo_before"]
    files = {p.relative_to(graded["output"]).parts[0] for p in graded["output"].rglob("*")}
    assert files == {"notas.json", "notas.csv", "moodle.csv", "retornos"}


def test_other_submissions_and_the_teacher_files_are_invisible(graded):
    text = printed(graded, "le_outros")
    assert "achados:" in text
    assert CANARY not in text and "professor_solucao" not in text
    assert str(graded["home"]) not in text
    assert "BEGIN SOLUTION" not in text


def test_no_network(graded):
    text = printed(graded, "rede")
    assert "CONECTOU" not in text and "sem rede" in text
    if graded["connections"] is not None:
        assert graded["connections"] == 0
    assert graded["rows"]["rede"].total == 10


def test_background_processes_die_with_the_submission(graded):
    assert graded["survivors"] == []
    assert graded["rows"]["processo_fundo"].total == 10


@pytest.mark.parametrize("name", ["memoria", "fork_bomba", "disco", "derruba_nucleo"])
def test_resource_abuse_only_hurts_itself(graded, name):
    row = graded["rows"][name]
    expected = 7 if name == "memoria" else 10  # memoria: a questão 1.1 esgota a memória
    assert row.total == expected, (name, row.questions, row.errors, row.limits)


def test_time_limits_cannot_be_defeated_and_the_teacher_is_told(graded):
    sigint = graded["rows"]["ignora_sigint"]
    assert sigint.total == 10
    assert any("não respondeu à interrupção" in x for x in sigint.limits)
    bare = graded["rows"]["except_nu"]
    assert [q["points"] for q in bare.questions] == [3, 0, 4]
    assert any("questão 1.2" in x for x in bare.limits)
    assert "laço infinito" in " ".join(bare.questions[1]["messages"])


def test_huge_output_is_cut_like_limit_output(graded):
    row = graded["rows"]["saida_enorme"]
    assert row.total == 10
    path = graded["output"] / row.feedback
    assert path.stat().st_size < 2 * 2**20
    assert "saída cortada pela correção" in path.read_text(encoding="utf-8")


def test_feedback_ends_with_a_summary_table(graded):
    nb = nbformat.read(graded["output"] / graded["rows"]["erro_realista"].feedback, as_version=4)
    nbformat.validate(nb)
    last = nb.cells[-1].source
    assert last.startswith("## Resumo da correção")
    assert "| **Total** | **7** | **10** |" in last
    check_cell = next(c for c in nb.cells if "check_batch_mean_and_variance" in c.source)
    assert "1/N, não 1/(N-1)" in check_cell.outputs[0]["text"]
    assert os.environ.get("BNLIB_CORRECAO") is None  # o modo da correção não vaza para cá
