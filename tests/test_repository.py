"""Regras do repositório: cadernos sem saídas, sumário completo, nada órfão."""

from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            files.append(chapter["file"])
            files.extend(section["file"] for section in chapter.get("sections", []))
    return files


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: célula {index} tem saídas gravadas"
            assert cell.execution_count is None, f"{path.name}: célula {index} tem contador"
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_toc_lists_existing_pages_only():
    for entry in toc_files():
        matches = [BOOK.parent / f"{entry}{suffix}" for suffix in (".md", ".ipynb")]
        assert any(m.exists() for m in matches), f"_toc.yml cita {entry}, que não existe"


def test_every_page_is_in_the_toc():
    listed = set(toc_files())
    pages = [
        p
        for p in BOOK.rglob("*")
        if p.suffix in {".md", ".ipynb"} and not ({"_build", ".ipynb_checkpoints"} & set(p.parts))
    ]
    for page in pages:
        stem = page.relative_to(ROOT).with_suffix("").as_posix()
        assert stem in listed, f"{stem} não está em _toc.yml"
