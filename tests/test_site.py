"""O livro gerado: idioma, links internos, referências e tempo de execução dos cadernos."""

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import BUILD, ROOT

NOTEBOOK_BUDGET_S = 60.0
BOOK_BUDGET_S = 300.0


class _LinkCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag in {"img", "script"} and attributes.get("src"):
            self.links.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.links.append(attributes["href"])


def _parse(path: Path) -> _LinkCollector:
    collector = _LinkCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def _pages(site: Path) -> list[Path]:
    return [p for p in site.rglob("*.html") if "_static" not in p.parts]


def test_every_page_declares_portuguese(built_site):
    for page in _pages(built_site):
        text = page.read_text(encoding="utf-8")
        if 'http-equiv="Refresh"' in text:  # index.html só redireciona para a primeira página
            continue
        assert '<html lang="pt-BR"' in text, page


def test_no_broken_internal_links(built_site):
    parsed = {page: _parse(page) for page in _pages(built_site)}
    broken = []
    for page, collector in parsed.items():
        for link in collector.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith(("mailto:", "//")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(built_site)} → {link}")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(built_site)} → {link} (âncora)")
    assert not broken, "links quebrados:\n" + "\n".join(broken)


def test_references_read_in_portuguese(built_site):
    text = (built_site / "book" / "referencias.html").read_text(encoding="utf-8")
    body = re.sub(r"<[^>]+>", "", text)
    # Autores ligados por "e", trabalhos em anais por "Em" (os títulos ficam no original).
    assert "Sergey Ioffe e Christian Szegedy" in body
    assert "Em Proceedings of the 32nd International Conference" in body
    assert not re.search(r"[a-z]\. and [A-Z]|, and [A-Z]|\bIn Proceedings", body)
    intro = re.sub(r"<[^>]+>", "", (built_site / "book" / "intro.html").read_text(encoding="utf-8"))
    assert "Ioffe e Szegedy" in intro


def test_every_notebook_ran_within_budget():
    report = BUILD / "execucao.json"
    if not report.exists():
        pytest.skip("sem relatório de execução: rode `make book` antes")
    runtimes = json.loads(report.read_text(encoding="utf-8"))
    assert runtimes, "o relatório de execução está vazio"
    slow = {
        doc: row["runtime_s"]
        for doc, row in runtimes.items()
        if row["runtime_s"] > NOTEBOOK_BUDGET_S
    }
    assert not slow, f"cadernos acima de {NOTEBOOK_BUDGET_S} s: {slow}"
    assert all(row["succeeded"] for row in runtimes.values())
    # O make book executa os cadernos em paralelo, um por núcleo: o que conta para o livro é o
    # tempo de relógio dessa execução, quando ela executou todos os cadernos.
    parallel = BUILD / "execucao_paralela.json"
    if parallel.exists():
        run = json.loads(parallel.read_text(encoding="utf-8"))
        if run["executed"] == len(runtimes):
            assert run["wall_s"] <= BOOK_BUDGET_S, f"os cadernos levaram {run['wall_s']:.0f} s"
            return
    total = sum(row["runtime_s"] for row in runtimes.values())
    assert total <= BOOK_BUDGET_S, f"os cadernos somam {total:.0f} s"


def test_student_edition_hides_the_solutions(built_site, tmp_path):
    """``make livro-aluno``: os mesmos exercícios, sem nenhuma solução."""
    environment = dict(os.environ, EDICAO_DO_LIVRO="aluno")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(ROOT), "-W", "-n", "-q"]
    command += ["--path-output", str(tmp_path)]
    subprocess.run(command, check=True, env=environment, cwd=ROOT, capture_output=True)
    student = tmp_path / "_build" / "html"
    page = "book/dados/normalizar.html"
    full_text = (built_site / page).read_text(encoding="utf-8")
    student_text = (student / page).read_text(encoding="utf-8")
    assert 'class="solution' in full_text
    assert 'class="solution' not in student_text
    assert student_text.count('class="exercise admonition') == full_text.count(
        'class="exercise admonition'
    )
    leaked = [p for p in _pages(student) if 'class="solution' in p.read_text("utf-8")]
    assert not leaked, f"soluções na edição do aluno: {leaked}"
