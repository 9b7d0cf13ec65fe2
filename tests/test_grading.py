"""A correção, peça por peça: entregas malformadas, respostas forjadas, relatórios e retomada.

Estes testes não dependem do bubblewrap (a turma hostil inteira está em
``test_grading_hostile.py``): a leitura das entregas e o julgamento rodam no processo de
quem corrige, e a execução isolada dos casos (um processo por questão) roda aqui mesmo.
"""

import csv
import io
import json
import os
import signal
from pathlib import Path

import nbformat
import numpy as np
import pytest

from bnlib.kit import answers, grading, intake, registry, reports, runner, sandbox, scan

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = ROOT / "trabalhos" / "alunos"
SOURCES = ROOT / "trabalhos" / "fontes"


def blank(assignment: str = "01_passo_direto") -> bytes:
    return (STUDENTS / f"{assignment}.ipynb").read_bytes()


# ---- leitura das entregas -------------------------------------------------------------


@pytest.fixture
def messy(tmp_path):
    """Uma pasta com um arquivo para cada defeito de entrega."""
    root = tmp_path / "entregas"
    (root / "ana").mkdir(parents=True)
    (root / "bia").mkdir()
    (root / "ana" / "01_passo_direto.ipynb").write_bytes(blank())
    (root / "bia" / "01_passo_direto.ipynb").write_bytes(blank())  # mesmo nome, outra pasta
    (root / "01_json_quebrado.ipynb").write_text('{"cells": [', encoding="utf-8")
    (root / "01_vazio.ipynb").write_bytes(b"")
    nb = json.loads(blank())
    nb["metadata"]["bnlib"] = "01_passo_direto"
    (root / "01_metadados_texto.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    nb = json.loads(blank())
    nb["metadata"]["bnlib"] = {"trabalho": ["01_passo_direto"]}
    (root / "01_trabalho_lista.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    nb = json.loads(blank())
    del nb["cells"][1]["source"]
    (root / "01_sem_source.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (root / "01_script.py").write_text("print('oi')\n", encoding="utf-8")
    (root / "01_MAIUSCULAS.IPYNB").write_bytes(blank())
    (root / "01_trocado.ipynb").write_bytes(blank("03_inferencia"))
    (root / "notas.txt").write_text("sem número", encoding="utf-8")
    os.symlink("/etc/passwd", root / "01_link.ipynb")
    name = os.fsencode(root) + b"/01_jo\xe3o.ipynb"  # nome em Latin-1, não UTF-8
    with open(name, "wb") as file:
        file.write(blank())
    (root / ".ipynb_checkpoints").mkdir()
    (root / ".ipynb_checkpoints" / "01_passo_direto-checkpoint.ipynb").write_bytes(blank())
    return root


def test_every_malformed_file_gets_its_own_row(messy):
    subs = {s.relative: s for s in intake.discover(messy)}
    assert len(subs) == 13  # a pasta oculta de checkpoints fica de fora
    assert "JSON inválido na linha 1" in subs["01_json_quebrado.ipynb"].error
    assert "arquivo vazio" in subs["01_vazio.ipynb"].error
    assert "não é um caderno" in subs["01_script.py"].error
    assert "não é um caderno" in subs["notas.txt"].error
    assert "link simbólico" in subs["01_link.ipynb"].error
    text = subs["01_metadados_texto.ipynb"]
    assert text.error is None and text.assignment == "01_passo_direto"
    assert any("`bnlib` deveriam ser um objeto" in w for w in text.warnings)
    assert any("inválidos" in w for w in subs["01_trabalho_lista.ipynb"].warnings)
    no_source = subs["01_sem_source.ipynb"]
    assert no_source.error is None and any("sem `source`" in w for w in no_source.warnings)
    upper = subs["01_MAIUSCULAS.IPYNB"]
    assert upper.error is None and any("maiúsculas" in w for w in upper.warnings)
    swapped = subs["01_trocado.ipynb"]
    assert swapped.assignment == "03_inferencia"
    assert any("o nome do arquivo indica 01_passo_direto" in w for w in swapped.warnings)
    latin = next(s for r, s in subs.items() if r.startswith("01_jo"))
    assert latin.error is None and "\ufffd" in latin.relative
    latin.relative.encode("utf-8")  # o relatório consegue escrever o nome
    assert subs["ana/01_passo_direto.ipynb"].student == "ana"
    assert subs["bia/01_passo_direto.ipynb"].student == "bia"


def test_forced_assignment_warns_on_mismatch(messy):
    subs = {s.relative: s for s in intake.discover(messy, "01_passo_direto")}
    swapped = subs["01_trocado.ipynb"]
    assert swapped.assignment == "01_passo_direto"
    assert any(
        "os metadados indicam 03_inferencia" in w or "03_inferencia" in w for w in swapped.warnings
    )


def test_duplicates_of_one_student_are_flagged(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / "Maria Silva_123_assignsubmission_file_" / folder).mkdir(parents=True)
        path = tmp_path / "Maria Silva_123_assignsubmission_file_" / folder / "01_a.ipynb"
        path.write_bytes(blank())
    subs = intake.discover(tmp_path)
    assert {s.student for s in subs} == {"Maria Silva_123"}
    assert all(any("2 entregas" in w for w in s.warnings) for s in subs)


def test_notebook_is_rebuilt_without_student_metadata_or_outputs():
    data = json.loads(blank())
    data["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    data["cells"][1]["metadata"] = {"tags": ["raises-exception"], "trusted": True}
    data["cells"].append(
        {"cell_type": "code", "source": "x=1", "metadata": {"tags": ["remover-no-aluno"]}}
    )
    warnings = []
    rebuilt = intake.rebuild(data, warnings)
    nbformat.validate(nbformat.from_dict(rebuilt))
    assert all(c["metadata"] == {} for c in rebuilt["cells"])
    assert all(c.get("outputs", []) == [] for c in rebuilt["cells"])
    assert len(rebuilt["cells"]) == len(data["cells"]) - 1


# ---- respostas: só dados, e desconfiança ----------------------------------------------


def test_answers_roundtrip_keeps_dtype_and_values():
    for value in [np.float32([[1.5, 2.25]]), np.arange(6.0).reshape(2, 3), 3, 2.5, None, "oi"]:
        back = answers.decode(answers.encode(value))
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and np.array_equal(back, value)
        else:
            assert back == value
    pair = answers.decode(answers.encode((np.ones(2), [1.0, 2.0])))
    assert len(pair) == 2 and pair[1].dtype == np.float64
    assert isinstance(answers.decode(answers.encode({"a": 1})), answers.Opaque)


@pytest.mark.parametrize(
    "bad",
    [
        {"t": "array", "dtype": "object", "shape": [1], "data": [1]},
        {"t": "array", "dtype": "float64", "shape": [10**9], "data": [1.0]},
        {"t": "array", "dtype": "float64", "shape": [2], "data": [1.0, "x"]},
        {"t": "pickle", "v": "gASV"},
        {"t": "seq", "items": [{"t": "seq", "items": []}]},
        "texto",
    ],
)
def test_malformed_answers_are_rejected(bad):
    with pytest.raises(ValueError):
        answers.decode(bad)


def test_forged_answer_payloads_score_zero_without_crashing():
    cases = registry.cases_for("01_passo_direto", 5)
    forged = [
        None,
        "999",
        {"questions": {"1.1": {"status": "ok", "points": 999, "answers": "todas certas"}}},
        {"questions": {"1.1": {"status": "ok", "answers": [{"status": "ok", "output": 1}]}}},
        {"questions": {"1.1": {"status": "ok", "answers": [{"status": "passou", "pontos": 3}]}}},
        {"questions": [1, 2, 3], "total": 10},
    ]
    for raw in forged:
        judged = registry.judge_answers("01_passo_direto", 5, raw)
        assert [r.points for r, _ in judged] == [0, 0, 0], raw
    assert len(cases) == 3


def test_grader_judges_with_its_own_expected_values():
    """As respostas certas para os casos da semente valem o máximo; as da semente pública não."""

    def solve(x):
        return x.mean(0), x.var(0)

    namespace = {"batch_mean_and_variance": solve}
    request = registry.request("01_passo_direto", 99)
    raw = runner.answer_request(request, namespace, isolate=False)
    assert registry.judge_answers("01_passo_direto", 99, raw)[0][0].points == 3
    public = runner.answer_request(
        registry.request("01_passo_direto", registry.PUBLIC_SEED), namespace, False
    )
    assert registry.judge_answers("01_passo_direto", 99, public)[0][0].points < 3


# ---- um processo por questão: limites que não se burlam ------------------------------


def test_isolated_runner_kills_what_ignores_interrupts_and_bare_excepts():
    cases = [{"description": f"c{i}", "args": (np.ones((3, 2)),), "kwargs": {}} for i in range(3)]

    def stubborn(x):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            try:
                pass
            except:  # noqa: E722 — o laço de nova tentativa de um iniciante
                pass

    result = runner.run_isolated(stubborn, "direct", cases, limit=0.5)
    assert result[0]["status"] == "timeout" and result[0]["killed"]
    assert "na linha" in result[0]["explanation"]
    assert [r["status"] for r in result[1:]] == ["skipped", "skipped"]
    fine = runner.run_isolated(lambda x: (x.mean(0), x.var(0)), "direct", cases, limit=0.5)
    assert [r["status"] for r in fine] == ["ok"] * 3
    dies = runner.run_isolated(lambda x: os._exit(3), "direct", cases, limit=0.5)
    assert dies[0]["status"] == "error" and "terminou de repente" in dies[0]["explanation"]


def test_in_place_modification_follows_the_statement():
    request = registry.request("03_inferencia", 3)

    def update_in_place(mean, var, x, momentum=0.1):
        mean *= 1 - momentum
        mean += momentum * x.mean(0)
        var *= 1 - momentum
        var += momentum * x.var(0, ddof=1)
        return mean, var

    raw = runner.answer_request(request, {"update_running_averages": update_in_place}, False)
    result = registry.judge_answers("03_inferencia", 3, raw)[0][0]
    assert result.points == 0 and "alterou `running_mean`" in result.text()

    def normalize_in_place(x, eps=1e-5):
        x -= x.mean(0)
        x /= np.sqrt(x.var(0) + eps)
        return x

    raw = runner.answer_request(
        registry.request("01_passo_direto", 3), {"normalize": normalize_in_place}, False
    )
    result = registry.judge_answers("01_passo_direto", 3, raw)[1][0]
    assert (
        result.points == 3
        and "Aviso (sem desconto)" in result.text()
        and "alterou `x`" in result.text()
    )


# ---- sinais de manipulação ------------------------------------------------------------


def test_scan_flags_tampering_but_not_honest_code():
    honest = json.loads((SOURCES / "01_passo_direto.ipynb").read_text(encoding="utf-8"))
    honest = intake.rebuild(honest, [])
    assert scan.flags(honest, "01_passo_direto") == []
    cells = [
        "checks.check_normalize = lambda f: None",
        "import inspect\nprint(inspect.stack()[1].frame.f_locals)",
        "from bnlib import batchnorm_forward",
        "%matplotlib inline\nimport subprocess",
        "get_ipython().events.register('post_run_cell', print)",
        "print('@@BNLIB-NOTAS@@{}')",
        "def f(:\n  pass  # erro de sintaxe",
    ]
    nb = {"cells": [{"cell_type": "code", "source": s} for s in cells]}
    found = " ".join(scan.flags(nb, "01_passo_direto"))
    for text in [
        "substitui parte",
        "pilha",
        "implementação pronta",
        "subprocess",
        "gancho",
        "registro",
    ]:
        assert text in found


# ---- relatórios, Moodle, retomada e recusa sem isolamento ------------------------------


def test_reports_are_written_atomically_with_student_ids(tmp_path):
    row = reports.Row("ana/01.ipynb", "ana", "01_passo_direto", total=7.5, max_points=10)
    row.questions = [
        {
            "id": "1.1",
            "name": "f",
            "points": 3.0,
            "max_points": 3.0,
            "passed": 5,
            "total": 5,
            "messages": [],
            "time_limited": False,
        }
    ]
    row.errors = ["célula 3: NameError: x"]
    other = reports.Row("bia/01.ipynb", "bia", "01_passo_direto", total=9, max_points=10)
    formula = reports.Row("=HYPERLINK(1).ipynb", "=HYPERLINK(1)", "01_passo_direto")
    reports.write_all([row, other, formula], tmp_path, {"semente": 1})
    lines = list(csv.DictReader(io.StringIO((tmp_path / "notas.csv").read_text(encoding="utf-8"))))
    assert lines[0]["aluno"] == "'=HYPERLINK(1)"  # nada vira fórmula na planilha
    lines = lines[1:]
    assert lines[0]["aluno"] == "ana" and lines[0]["questao_1.1"] == "3.0"
    assert lines[0]["erros"] == "célula 3: NameError: x"
    moodle = list(csv.reader(io.StringIO((tmp_path / "moodle.csv").read_text(encoding="utf-8"))))
    assert moodle[0] == ["Identificador", "Trabalho 01_passo_direto", "Comentário"]
    assert moodle[1][:2] == ["'=HYPERLINK(1)", "0.00"]
    assert moodle[2][:2] == ["ana", "7.50"] and moodle[3][:2] == ["bia", "9.00"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moodle.csv", "notas.csv", "notas.json"]
    state = json.loads((tmp_path / "notas.json").read_text(encoding="utf-8"))
    assert reports.from_json(state["entregas"][1]) == row


def test_without_bubblewrap_grading_refuses_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "o programa `bwrap` não está instalado")
    (tmp_path / "entregas").mkdir()
    (tmp_path / "entregas" / "01_ana.ipynb").write_bytes(blank())
    with pytest.raises(grading.GradingError, match="--sem-isolamento"):
        grading.grade(tmp_path / "entregas", tmp_path / "saida", log=lambda t: None)
    assert not (tmp_path / "saida").exists()


def test_unisolated_run_marks_every_row_and_resume_skips_graded_files(tmp_path):
    folder = tmp_path / "entregas"
    folder.mkdir()
    solved = nbformat.read(SOURCES / "01_passo_direto.ipynb", as_version=4)
    nbformat.write(solved, folder / "01_ana.ipynb")
    (folder / "01_bia.ipynb").write_bytes(blank())
    (folder / "01_quebrado.ipynb").write_text("{", encoding="utf-8")
    output = tmp_path / "saida"
    logs = []
    rows = grading.grade(folder, output, jobs=2, seed=11, isolated=False, log=logs.append)
    by_student = {r.student: r for r in rows}
    assert by_student["ana"].total == 10 and by_student["bia"].total == 0
    assert all(r.isolation == "sem isolamento" for r in rows)
    summary = nbformat.read(output / by_student["ana"].feedback, as_version=4).cells[-1].source
    assert "sem isolamento" in summary
    with pytest.raises(grading.GradingError, match="--retomar"):
        grading.grade(folder, output, isolated=False, log=logs.append)
    # Uma correção interrompida: uma linha some do estado, um arquivo muda.
    state = json.loads((output / "notas.json").read_text(encoding="utf-8"))
    state["entregas"] = [e for e in state["entregas"] if e["aluno"] != "ana"]
    (output / "notas.json").write_text(json.dumps(state), encoding="utf-8")
    logs.clear()
    rows = grading.grade(folder, output, jobs=1, resume=True, isolated=False, log=logs.append)
    assert "1 a corrigir (2 já corrigidos)" in logs[0]
    assert {r.student: r.total for r in rows} == {"ana": 10, "bia": 0, "quebrado": 0}
