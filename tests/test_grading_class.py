"""Os seis trabalhos corrigidos de ponta a ponta: a solução do professor tira 10, o caderno em
branco do aluno tira 0 e roda sem erro, e o retorno explica cada questão.

Com bubblewrap a turma é corrigida isolada, como o professor faria; sem ele (uma máquina sem
espaços de nomes de usuário), sem isolamento, para que a conferência dos cadernos continue.
"""

from pathlib import Path

import nbformat
import pytest

from bnlib.kit import grading, registry, sandbox

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    base = tmp_path_factory.mktemp("seis")
    for folder in ("professor", "aluno"):
        (base / "entregas" / folder).mkdir(parents=True)
    for path in sorted((ROOT / "trabalhos" / "fontes").glob("*.ipynb")):
        (base / "entregas" / "professor" / path.name).write_bytes(path.read_bytes())
    for path in sorted((ROOT / "trabalhos" / "alunos").glob("*.ipynb")):
        (base / "entregas" / "aluno" / path.name).write_bytes(path.read_bytes())
    result = grading.grade(
        base / "entregas",
        base / "correcao",
        jobs=2,
        seed=31,
        isolated=sandbox.bwrap_problem() is None,
        log=lambda text: None,
    )
    return {(r.student, r.assignment): (r, base / "correcao") for r in result}


@pytest.mark.parametrize("assignment", sorted(registry.ASSIGNMENTS))
def test_teacher_version_gets_full_score(rows, assignment):
    row, _ = rows[("professor", assignment)]
    assert row.errors == [] and row.limits == [] and row.flags == [], row
    assert row.total == row.max_points == 10


@pytest.mark.parametrize("assignment", sorted(registry.ASSIGNMENTS))
def test_student_version_runs_and_gets_zero(rows, assignment):
    row, output = rows[("aluno", assignment)]
    assert row.errors == [], row.errors  # "Executar tudo" não para em nenhuma célula
    assert row.total == 0 and row.max_points == 10
    for question in row.questions:
        text = " ".join(question["messages"])
        assert "ainda não foi implementada" in text or "ainda não foi preenchida" in text
    feedback = nbformat.read(output / row.feedback, as_version=4)
    assert feedback.cells[-1].source.startswith("## Resumo da correção")
