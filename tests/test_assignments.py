"""Os trabalhos práticos: geração da versão do aluno e correção automática."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bnlib import assignments, checks, grading

ROOT = Path(__file__).resolve().parents[1]
FONTES = ROOT / "trabalhos" / "fontes"
ALUNOS = ROOT / "trabalhos" / "alunos"
TEACHER = sorted(FONTES.glob("*.ipynb"))


def _codigo(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells)


def test_every_assignment_has_a_source_and_checks():
    assert [p.stem for p in TEACHER] == sorted(checks.TRABALHOS)
    for path in TEACHER:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["bnlib"]["trabalho"] == path.stem
        assert nb.metadata["kernelspec"]["name"] == "python3"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


def test_student_versions_are_up_to_date():
    assert assignments.outdated(FONTES, ALUNOS) == [], (
        "rode: python -m bnlib.assignments gerar trabalhos/fontes trabalhos/alunos"
    )
    assert sorted(p.name for p in ALUNOS.glob("*.ipynb")) == [p.name for p in TEACHER]


@pytest.mark.parametrize("path", TEACHER, ids=lambda p: p.stem)
def test_generation_strips_solutions(path):
    teacher = _codigo(path)
    student = _codigo(ALUNOS / path.name)
    assert assignments.BEGIN_SOLUTION in teacher
    for marker in (assignments.BEGIN_SOLUTION, assignments.END_SOLUTION, "remover-no-aluno"):
        assert marker not in student
    assert "corrigir_trabalho" not in student  # a célula do professor foi removida
    assert assignments.PLACEHOLDER_CODE in student
    for nome, _ in checks.TRABALHOS[path.stem]:
        assert nome in student  # as funções e respostas continuam com os mesmos nomes


def test_generator_placeholders_and_errors():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION"
        ),
        nbformat.v4.new_code_cell("r = None\n### BEGIN SOLUTION\nr = 42\n### END SOLUTION"),
        nbformat.v4.new_markdown_cell("Pergunta\n### BEGIN SOLUTION\nResposta\n### END SOLUTION"),
        nbformat.v4.new_code_cell("a = 1\n### BEGIN HIDDEN TESTS\nassert a\n### END HIDDEN TESTS"),
        nbformat.v4.new_code_cell("segredo = 1", metadata={"tags": ["remover-no-aluno"]}),
    ]
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="saída")]
    nb.cells[0].execution_count = 3
    student = assignments.student_notebook(nb)
    sources = [c.source for c in student.cells]
    assert sources == [
        f"def f(x):\n    y = 1\n    {assignments.PLACEHOLDER_CODE}",
        f"r = None\n{assignments.PLACEHOLDER_TOP}",
        f"Pergunta\n{assignments.PLACEHOLDER_MARKDOWN}",
        "a = 1",
    ]
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None
    assert nb.cells[0].source.count("return x + y") == 1  # a entrada não muda
    broken = nbformat.v4.new_notebook()
    broken.cells = [nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1")]
    with pytest.raises(assignments.MarcasInvalidas, match="não foi fechado"):
        assignments.student_notebook(broken, "quebrado.ipynb")


def test_generate_cli(tmp_path):
    saida = tmp_path / "alunos"
    comando = [sys.executable, "-m", "bnlib.assignments"]
    gerar = subprocess.run([*comando, "gerar", str(FONTES), str(saida)], capture_output=True)
    assert gerar.returncode == 0, gerar.stderr
    for path in TEACHER:
        assert (saida / path.name).read_bytes() == (ALUNOS / path.name).read_bytes()
    conferir = subprocess.run(
        [*comando, "conferir", str(FONTES), str(saida)], text=True, capture_output=True
    )
    assert conferir.returncode == 0 and "em dia" in conferir.stdout
    (saida / TEACHER[0].name).write_text("{}", encoding="utf-8")
    conferir = subprocess.run(
        [*comando, "conferir", str(FONTES), str(saida)], text=True, capture_output=True
    )
    assert conferir.returncode == 1 and "desatualizado" in conferir.stdout


# ---- correção (executa os cadernos: a parte lenta) -------------------------------------


@pytest.fixture(scope="module")
def teacher_reports():
    return {Path(r.arquivo).stem: r for r in grading.corrigir(FONTES, tempo_celula=120)}


@pytest.fixture(scope="module")
def student_reports():
    return {Path(r.arquivo).stem: r for r in grading.corrigir(ALUNOS, tempo_celula=120)}


@pytest.mark.parametrize("nome", sorted(checks.TRABALHOS))
def test_teacher_version_gets_full_score(teacher_reports, nome):
    relatorio = teacher_reports[nome]
    assert relatorio.erros == [], relatorio.erros
    assert relatorio.total == relatorio.maximo == 10
    assert relatorio.porcentagem == 100


@pytest.mark.parametrize("nome", sorted(checks.TRABALHOS))
def test_student_version_runs_and_gets_zero(student_reports, nome):
    relatorio = student_reports[nome]
    assert relatorio.erros == [], relatorio.erros  # "Executar tudo" não para em nenhuma célula
    assert relatorio.total == 0 and relatorio.maximo == 10
    for questao in relatorio.questoes:
        texto = " ".join(questao["mensagens"])
        assert "ainda não foi implementada" in texto or "ainda não foi preenchida" in texto


def _planted(tmp_path: Path, nome: str, troca: tuple[str, str]) -> Path:
    """Uma entrega: a versão do professor com um erro típico plantado."""
    nb = nbformat.read(FONTES / f"{nome}.ipynb", as_version=4)
    antes, depois = troca
    achou = False
    for cell in nb.cells:
        if antes in cell.source:
            cell.source = cell.source.replace(antes, depois)
            achou = True
    assert achou, antes
    nb.cells = [c for c in nb.cells if "remover-no-aluno" not in c.metadata.get("tags", [])]
    destino = tmp_path / f"{nome}_aluno.ipynb"
    nbformat.write(nb, destino)
    return destino


def test_planted_mistakes_get_partial_score_with_the_right_hint(tmp_path):
    entregas = tmp_path / "entregas"
    entregas.mkdir()
    _planted(
        entregas,
        "01_passo_direto",
        ("variancia = ((x - media) ** 2).mean(axis=0)", "variancia = x.var(axis=0, ddof=1)"),
    )
    _planted(
        entregas,
        "04_espacial",
        (
            "media = x.mean(axis=(0, 2, 3), keepdims=True)\n"
            "    variancia = x.var(axis=(0, 2, 3), keepdims=True)",
            "media = x.mean(axis=0, keepdims=True)\n    variancia = x.var(axis=0, keepdims=True)",
        ),
    )
    relatorio_json = tmp_path / "notas.json"
    relatorio_csv = tmp_path / "notas.csv"
    comando = [sys.executable, "-m", "bnlib.grading", "corrigir", str(entregas)]
    for saida in (relatorio_json, relatorio_csv):
        resultado = subprocess.run(
            [*comando, "--relatorio", str(saida)], capture_output=True, text=True
        )
        assert resultado.returncode == 0, resultado.stderr
    assert "1/N, não 1/(N-1)" in resultado.stdout

    dados = {Path(r["arquivo"]).stem: r for r in json.loads(relatorio_json.read_text())}
    passo = dados["01_passo_direto_aluno"]
    assert 0 < passo["total"] < passo["maximo"]
    pontos = {q["questao"]: q["pontos"] for q in passo["questoes"]}
    assert pontos == {"1.1": 0, "1.2": 3, "1.3": 4}
    assert "1/N, não 1/(N-1)" in " ".join(passo["questoes"][0]["mensagens"])

    espacial = dados["04_espacial_aluno"]
    assert espacial["total"] == 5  # a retropropagação (4.2) continua certa
    assert "por CANAL" in " ".join(espacial["questoes"][0]["mensagens"])

    with relatorio_csv.open(encoding="utf-8") as arquivo:
        linhas = list(csv.DictReader(arquivo))
    assert {Path(linha["arquivo"]).stem for linha in linhas} == set(dados)
    assert {linha["questao_4.2"] for linha in linhas} == {"", "5.0"}


def test_grading_survives_timeouts_and_unknown_notebooks(tmp_path):
    nb = nbformat.read(ALUNOS / "03_inferencia.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    for cell in nb.cells:
        if cell.source.startswith("resposta_peso_inicial = None"):
            cell.source = "resposta_peso_inicial = 0.9**50"
    lento = tmp_path / "03_lento.ipynb"
    nbformat.write(nb, lento)
    executado = tmp_path / "executado.ipynb"
    relatorio = grading.corrigir_caderno(lento, tempo_celula=3, executado=executado)
    assert any("TempoEsgotado" in e for e in relatorio.erros)
    assert relatorio.total == 2  # a resposta 3.3 ainda conta
    # O caderno devolvido ao aluno explica a interrupção, sem traceback.
    saidas = nbformat.read(executado, as_version=4).cells[2].outputs
    assert [s.output_type for s in saidas] == ["stream"]
    assert "foi interrompida pela correção" in saidas[0].text

    desconhecido = tmp_path / "tarefa.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), desconhecido)
    relatorio = grading.corrigir_caderno(desconhecido)
    assert relatorio.total == 0 and "identificar o trabalho" in relatorio.erros[0]


def test_infinite_loop_in_one_function_does_not_zero_the_others(tmp_path):
    caderno = _planted(
        tmp_path,
        "01_passo_direto",
        (
            "    media = x.mean(axis=0)\n    variancia = ((x",
            "    while True:\n        pass\n    media = x.mean(axis=0)\n    variancia = ((x",
        ),
    )
    nb = nbformat.read(caderno, as_version=4)
    # Sem a célula de verificação da 1.1 (o aluno não a rodou): só a correção a chama.
    nb.cells = [c for c in nb.cells if "verificar_media_e_variancia" not in c.source]
    nbformat.write(nb, caderno)
    relatorio = grading.corrigir_caderno(caderno, tempo_celula=60)
    pontos = {q["questao"]: q["pontos"] for q in relatorio.questoes}
    assert pontos == {"1.1": 0, "1.2": 3, "1.3": 4}
    assert "laço infinito" in " ".join(relatorio.questoes[0]["mensagens"])
