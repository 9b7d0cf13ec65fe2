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
SOURCES = ROOT / "trabalhos" / "fontes"
STUDENTS = ROOT / "trabalhos" / "alunos"
TEACHER = sorted(SOURCES.glob("*.ipynb"))


def _code(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells)


def test_every_assignment_has_a_source_and_checks():
    assert [p.stem for p in TEACHER] == sorted(checks.ASSIGNMENTS)
    for path in TEACHER:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["bnlib"]["trabalho"] == path.stem
        assert nb.metadata["kernelspec"]["name"] == "python3"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


def test_student_versions_are_up_to_date():
    assert assignments.outdated(SOURCES, STUDENTS) == [], (
        "rode: python -m bnlib.kit.generate gerar trabalhos/fontes trabalhos/alunos"
    )
    assert sorted(p.name for p in STUDENTS.glob("*.ipynb")) == [p.name for p in TEACHER]


@pytest.mark.parametrize("path", TEACHER, ids=lambda p: p.stem)
def test_generation_strips_solutions(path):
    teacher = _code(path)
    student = _code(STUDENTS / path.name)
    assert assignments.BEGIN_SOLUTION in teacher
    for marker in (assignments.BEGIN_SOLUTION, assignments.END_SOLUTION, "remover-no-aluno"):
        assert marker not in student
    assert "grade_assignment" not in student  # a célula do professor foi removida
    assert assignments.PLACEHOLDER_CODE in student
    for name, _ in checks.ASSIGNMENTS[path.stem]:
        assert name in student  # as funções e respostas continuam com os mesmos nomes


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
    with pytest.raises(assignments.InvalidMarkers, match="não foi fechado"):
        assignments.student_notebook(broken, "quebrado.ipynb")


def test_generate_cli(tmp_path):
    output = tmp_path / "alunos"
    command = [sys.executable, "-m", "bnlib.kit.generate"]
    generate_run = subprocess.run(
        [*command, "gerar", str(SOURCES), str(output)], capture_output=True
    )
    assert generate_run.returncode == 0, generate_run.stderr
    for path in TEACHER:
        assert (output / path.name).read_bytes() == (STUDENTS / path.name).read_bytes()
    check_run = subprocess.run(
        [*command, "conferir", str(SOURCES), str(output)], text=True, capture_output=True
    )
    assert check_run.returncode == 0 and "em dia" in check_run.stdout
    (output / TEACHER[0].name).write_text("{}", encoding="utf-8")
    check_run = subprocess.run(
        [*command, "conferir", str(SOURCES), str(output)], text=True, capture_output=True
    )
    assert check_run.returncode == 1 and "desatualizado" in check_run.stdout


# ---- correção (executa os cadernos: a parte lenta) -------------------------------------


@pytest.fixture(scope="module")
def teacher_reports():
    return {Path(r.path).stem: r for r in grading.grade(SOURCES, cell_timeout=120)}


@pytest.fixture(scope="module")
def student_reports():
    return {Path(r.path).stem: r for r in grading.grade(STUDENTS, cell_timeout=120)}


@pytest.mark.parametrize("name", sorted(checks.ASSIGNMENTS))
def test_teacher_version_gets_full_score(teacher_reports, name):
    report = teacher_reports[name]
    assert report.errors == [], report.errors
    assert report.total == report.max_points == 10
    assert report.percentage == 100


@pytest.mark.parametrize("name", sorted(checks.ASSIGNMENTS))
def test_student_version_runs_and_gets_zero(student_reports, name):
    report = student_reports[name]
    assert report.errors == [], report.errors  # "Executar tudo" não para em nenhuma célula
    assert report.total == 0 and report.max_points == 10
    for question in report.questions:
        text = " ".join(question["mensagens"])
        assert "ainda não foi implementada" in text or "ainda não foi preenchida" in text


def _planted(tmp_path: Path, name: str, swap: tuple[str, str]) -> Path:
    """Uma entrega: a versão do professor com um erro típico plantado."""
    nb = nbformat.read(SOURCES / f"{name}.ipynb", as_version=4)
    before, after = swap
    found = False
    for cell in nb.cells:
        if before in cell.source:
            cell.source = cell.source.replace(before, after)
            found = True
    assert found, before
    nb.cells = [c for c in nb.cells if "remover-no-aluno" not in c.metadata.get("tags", [])]
    destination = tmp_path / f"{name}_aluno.ipynb"
    nbformat.write(nb, destination)
    return destination


def test_planted_mistakes_get_partial_score_with_the_right_hint(tmp_path):
    submissions = tmp_path / "entregas"
    submissions.mkdir()
    _planted(
        submissions,
        "01_passo_direto",
        ("variance = ((x - mean) ** 2).mean(axis=0)", "variance = x.var(axis=0, ddof=1)"),
    )
    _planted(
        submissions,
        "04_espacial",
        (
            "mean = x.mean(axis=(0, 2, 3), keepdims=True)\n"
            "    variance = x.var(axis=(0, 2, 3), keepdims=True)",
            "mean = x.mean(axis=0, keepdims=True)\n    variance = x.var(axis=0, keepdims=True)",
        ),
    )
    report_json = tmp_path / "notas.json"
    report_csv = tmp_path / "notas.csv"
    command = [sys.executable, "-m", "bnlib.kit.grading", "corrigir", str(submissions)]
    for output in (report_json, report_csv):
        result = subprocess.run(
            [*command, "--relatorio", str(output)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    assert "1/N, não 1/(N-1)" in result.stdout

    data = {Path(r["arquivo"]).stem: r for r in json.loads(report_json.read_text())}
    forward_report = data["01_passo_direto_aluno"]
    assert 0 < forward_report["total"] < forward_report["maximo"]
    points = {q["questao"]: q["pontos"] for q in forward_report["questoes"]}
    assert points == {"1.1": 0, "1.2": 3, "1.3": 4}
    assert "1/N, não 1/(N-1)" in " ".join(forward_report["questoes"][0]["mensagens"])

    spatial_report = data["04_espacial_aluno"]
    assert spatial_report["total"] == 5  # a retropropagação (4.2) continua certa
    assert "por CANAL" in " ".join(spatial_report["questoes"][0]["mensagens"])

    with report_csv.open(encoding="utf-8") as path:
        lines = list(csv.DictReader(path))
    assert {Path(line["arquivo"]).stem for line in lines} == set(data)
    assert {line["questao_4.2"] for line in lines} == {"", "5.0"}


def test_grading_survives_timeouts_and_unknown_notebooks(tmp_path):
    nb = nbformat.read(STUDENTS / "03_inferencia.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    for cell in nb.cells:
        if cell.source.startswith("answer_initial_weight = None"):
            cell.source = "answer_initial_weight = 0.9**50"
    slow = tmp_path / "03_lento.ipynb"
    nbformat.write(nb, slow)
    executed = tmp_path / "executado.ipynb"
    report = grading.grade_notebook(slow, cell_timeout=3, executed=executed)
    assert any("CellTimeout" in e for e in report.errors)
    assert report.total == 2  # a resposta 3.3 ainda conta
    # O caderno devolvido ao aluno explica a interrupção, sem traceback.
    outputs = nbformat.read(executed, as_version=4).cells[2].outputs
    assert [s.output_type for s in outputs] == ["stream"]
    assert "foi interrompida pela correção" in outputs[0].text

    unknown = tmp_path / "tarefa.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), unknown)
    report = grading.grade_notebook(unknown)
    assert report.total == 0 and "identificar o trabalho" in report.errors[0]


def test_infinite_loop_in_one_function_does_not_zero_the_others(tmp_path):
    notebook_path = _planted(
        tmp_path,
        "01_passo_direto",
        (
            "    mean = x.mean(axis=0)\n    variance = ((x",
            "    while True:\n        pass\n    mean = x.mean(axis=0)\n    variance = ((x",
        ),
    )
    nb = nbformat.read(notebook_path, as_version=4)
    # Sem a célula de verificação da 1.1 (o aluno não a rodou): só a correção a chama.
    nb.cells = [c for c in nb.cells if "check_batch_mean_and_variance" not in c.source]
    nbformat.write(nb, notebook_path)
    report = grading.grade_notebook(notebook_path, cell_timeout=60)
    points = {q["questao"]: q["pontos"] for q in report.questions}
    assert points == {"1.1": 0, "1.2": 3, "1.3": 4}
    assert "laço infinito" in " ".join(report.questions[0]["mensagens"])
