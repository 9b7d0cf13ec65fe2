"""O livro gerado: idioma, links internos, referências, higiene das páginas e figuras.

Os testes de higiene leem o HTML de cada página e listam TODOS os problemas de uma vez
(página, tipo e o trecho), para que quem edita os capítulos saiba o que consertar:
reprs do Python, caminhos temporários, marcas de linter ou do nbval, frases sobre o tempo de
build e figuras sem número, legenda ou texto alternativo.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from conftest import BUILD, ROOT


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
            if parts.path.startswith("/"):
                # A 404 usa links absolutos, a partir da raiz do site publicado: "/" ou
                # "/<repositório>/" (sphinx-notfound-page).
                relative = unquote(parts.path).lstrip("/")
                target = built_site / relative
                if not target.exists() and "/" in relative:
                    target = built_site / relative.split("/", 1)[1]
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


# --- Higiene das páginas -------------------------------------------------------------------

#: O que não pode aparecer no texto de uma página (prosa, código mostrado ou saídas).
LEAKS = {
    "repr do Python": re.compile(
        r"<[\w.]+(?: object)? at 0x[0-9a-fA-F]+>"
        r"|\bText\(-?[\d.]+, -?[\d.]+, '.*?'\)"
        r"|<Figure size \d+(?:\.\d+)?x\d+(?:\.\d+)? with \d+ Axes>"
        r"|\[<matplotlib\.[\w.]+ object"
        r"|<(?:Axes|AxesSubplot): "
        r"|<matplotlib\.[\w.]+"
    ),
    "caminho temporário": re.compile(r"/tmp/|/var/folders/|/private/var/|\\AppData\\Local\\Temp"),
    "marca de linter ou do nbval": re.compile(r"#\s*noqa|NBVAL_|#\s*nbval-|# type: ignore"),
}
#: Frases sobre o tempo de build ou de execução (só na prosa).
BUILD_TIME = re.compile(
    r"levou cerca de \d|levaram cerca de \d|leva cerca de \d+ ?s\b"
    r"|\b(?:no|do|durante o) build\b|tempo de build|tempo de execução d[oe] (?:caderno|livro)"
    r"|\d+(?:,\d+)? ?s(?:egundos)? (?:para|de) (?:executar|rodar|gerar) "
    r"(?:o|este) (?:caderno|livro)",
    re.IGNORECASE,
)
#: Textos alternativos que não descrevem nada: um caminho, um nome de arquivo.
PATH_LIKE_ALT = re.compile(r"[\\/]|\.(?:png|svg|jpe?g|gif)$|^_images|^image$|^figura$", re.I)


class _PageText(HTMLParser):
    """O texto do artigo de uma página, separado em prosa e código, e as suas figuras."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0  # dentro de <article>
        self.code_depth = 0  # dentro de <pre>
        self.skip_depth = 0  # <script>, <style>
        self.prose: list[str] = []
        self.code: list[str] = []
        self.images: list[dict] = []
        self.figure_stack: list[dict] = []
        self.in_caption_number = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "article" and "bd-article" in classes:
            self.depth += 1
        elif self.depth and tag == "article":
            self.depth += 1
        if not self.depth:
            return
        if tag in {"script", "style"}:
            self.skip_depth += 1
        if tag == "pre":
            self.code_depth += 1
        if tag == "figure" or (tag == "div" and "figure" in classes):
            self.figure_stack.append(
                {"id": attributes.get("id"), "number": "", "caption": False, "tag": tag}
            )
        if tag == "figcaption" and self.figure_stack:
            self.figure_stack[-1]["caption"] = True
        if tag == "span" and "caption-number" in classes:
            self.in_caption_number += 1
        if tag == "img":
            figure = self.figure_stack[-1] if self.figure_stack else None
            self.images.append(
                {
                    "src": attributes.get("src", ""),
                    "alt": (attributes.get("alt") or "").strip(),
                    "figure": figure,
                }
            )

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "article":
            self.depth -= 1
        if tag in {"script", "style"} and self.skip_depth:
            self.skip_depth -= 1
        if tag == "pre" and self.code_depth:
            self.code_depth -= 1
        if tag == "span" and self.in_caption_number:
            self.in_caption_number -= 1
        if self.figure_stack and tag == self.figure_stack[-1]["tag"]:
            self.figure_stack.pop()

    def handle_data(self, data):
        if not self.depth or self.skip_depth:
            return
        if self.in_caption_number and self.figure_stack:
            self.figure_stack[-1]["number"] += data
        (self.code if self.code_depth else self.prose).append(data)


def _page_text(path: Path) -> _PageText:
    parser = _PageText()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _book_pages(site: Path) -> list[Path]:
    return sorted(site.glob("book/**/*.html"))


def _excerpt(text: str, match: re.Match) -> str:
    start, end = max(match.start() - 40, 0), min(match.end() + 40, len(text))
    return " ".join(text[start:end].split())


def test_pages_show_no_reprs_paths_markers_or_build_times(built_site):
    """Falha com a lista de cada vazamento: página, tipo e o trecho em volta."""
    problems = []
    for page in _book_pages(built_site):
        parsed = _page_text(page)
        prose, code = " ".join(parsed.prose), "\n".join(parsed.code)
        name = page.relative_to(built_site).as_posix()
        for kind, pattern in LEAKS.items():
            for text in (prose, code):
                for match in pattern.finditer(text):
                    problems.append(f"{name}: {kind}: …{_excerpt(text, match)}…")
        for match in BUILD_TIME.finditer(prose):
            problems.append(f"{name}: frase sobre tempo de build: …{_excerpt(prose, match)}…")
    assert not problems, f"{len(problems)} problemas nas páginas:\n" + "\n".join(problems)


def test_every_figure_has_a_number_a_caption_and_alt_text(built_site):
    """Toda imagem do texto é uma figura numerada ("Figura N"), com legenda e texto alternativo."""
    problems = []
    for page in _book_pages(built_site):
        name = page.relative_to(built_site).as_posix()
        for image in _page_text(page).images:
            issues = []
            figure = image["figure"]
            if figure is None or not figure["caption"]:
                issues.append("sem figura com legenda")
            elif not re.match(r"Figura \d+", figure["number"].strip()):
                issues.append(f"figura sem número ({figure['number']!r})")
            if not image["alt"] or PATH_LIKE_ALT.search(image["alt"]):
                issues.append(f"texto alternativo ruim ({Path(image['alt']).name!r})")
            if issues:
                problems.append(f"{name}: {Path(image['src']).name[:12]}…: " + "; ".join(issues))
    assert not problems, f"{len(problems)} problemas nas figuras:\n" + "\n".join(problems)


# --- Interface, busca, bibliografia, ícone, 404, PDF -----------------------------------------


ENGLISH_UI = re.compile(
    r"Toggle|sidebar|Color mode|Skip to main|Back to top|Copy to clipboard|Download|"
    r"Launch|Print to PDF|Fullscreen|previous page|next page|System Settings|"
    r"Proof Index|Version warning|Site navigation|On this page|Section Navigation|"
    r'aria-label="(?:Main|Page)"|title="(?:Light|Dark)"|"Contents"',
)


def test_theme_texts_are_in_portuguese(built_site):
    """Nenhum texto de interface em inglês nos atributos e no cabeçalho das páginas."""
    problems = []
    for page in _pages(built_site):
        text = page.read_text(encoding="utf-8")
        chrome = re.findall(r'(?:aria-label|title|data-bs-title|placeholder)="[^"]*"', text)
        chrome += re.findall(r">([^<>]*)</(?:button|a|label|span)>", text)
        for piece in chrome:
            match = ENGLISH_UI.search(piece)
            if match:
                problems.append(f"{page.relative_to(built_site)}: {piece.strip()[:80]!r}")
    assert not problems, "interface em inglês:\n" + "\n".join(sorted(set(problems)))


def test_no_proof_index_page(built_site):
    assert not list(built_site.glob("prf-*.html")), "a página 'Proof Index' voltou"


def _search_index(site: Path) -> dict:
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1 : text.rindex(")")])


def test_search_index_folds_accents(built_site):
    """O índice guarda os radicais sem acento: a consulta sem acento acha as mesmas páginas."""
    terms = _search_index(built_site)["terms"]
    spec = importlib.util.spec_from_file_location("ptbr_ui", ROOT / "book" / "_ext" / "ptbr_ui.py")
    ptbr_ui = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ptbr_ui)
    language = ptbr_ui.SearchPortugueseFolded({})
    assert language.stem("variância") == language.stem("variancia") in terms
    # O Sphinx guarda a palavra inteira (com acento) quando o radical tem até 2 letras ou é
    # palavra vazia ("é", "têm", "porém"); todo o resto tem de estar sem acento.
    accented = [
        term
        for term in terms
        if re.search(r"[áàâãéêíóôõúç]", term, re.I)
        and len(language.stem(term)) > 2
        and language.word_filter(language.stem(term))
    ]
    assert not accented, f"termos com acento no índice: {sorted(accented)[:20]}"


def test_bibliography_is_author_year(built_site):
    """A lista de referências usa rótulos autor-ano, em ordem de autor, como as citações."""
    text = (built_site / "book" / "referencias.html").read_text(encoding="utf-8")
    labels = re.findall(
        r'<span class="fn-bracket">\[</span>(.*?)<span class="fn-bracket">\]</span>', text
    )
    assert len(labels) >= 3
    numbered = [label for label in labels if not re.fullmatch(r"\D+, \d{4}[a-j]?", label)]
    assert not numbered, f"rótulos que não são autor-ano: {numbered}"
    first_authors = [label.split(",")[0].split()[0].casefold() for label in labels]
    assert first_authors == sorted(first_authors), labels
    # Citações no texto ("Ioffe e Szegedy (2015)") com link para a entrada da lista.
    intro = (built_site / "book" / "intro.html").read_text(encoding="utf-8")
    assert re.search(r'href="referencias\.html#id\d+"', intro)


def test_every_page_has_a_favicon(built_site):
    for page in _pages(built_site):
        text = page.read_text(encoding="utf-8")
        if 'http-equiv="Refresh"' in text:
            continue
        assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg"', text), page


def test_404_page_is_in_portuguese(built_site):
    page = built_site / "404.html"
    assert page.exists(), "sem página 404"
    text = page.read_text(encoding="utf-8")
    assert '<html lang="pt-BR"' in text
    assert "Página não encontrada" in text
    assert "Page not found" not in text


def test_pdf_button_downloads_the_book_not_print(built_site):
    pdf = built_site / "normalizacao-em-lote.pdf"
    for page in _book_pages(built_site):
        text = page.read_text(encoding="utf-8")
        assert "window.print()" not in text, f"{page}: botão .pdf imprime a página"
        if pdf.exists():
            assert "normalizacao-em-lote.pdf" in text, f"{page}: sem o PDF do livro"


def test_launch_buttons_only_with_a_repository(built_site):
    """Sem ``repository.url`` em ``_config.yml``, nenhum botão aponta para outro repositório."""
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    url = re.search(r"^repository:\n  url: \"?([^\"\n]*)\"?", config, re.M).group(1).strip()
    page = (built_site / "book" / "dados" / "normalizar.html").read_text(encoding="utf-8")
    assert "executablebooks" not in page
    if url:
        owner_repo = url.removeprefix("https://github.com/").strip("/")
        assert f"colab.research.google.com/github/{owner_repo}/blob/" in page
    else:
        assert "colab.research.google.com" not in page


# --- Tempo de execução: um relatório, não um teste ------------------------------------------


def test_execution_report_lists_every_notebook(built_site):
    """O relatório (``make tempos`` e ``execucao.html``) cobre todos os cadernos do sumário.

    Só confere que o relatório existe e está completo: nenhum teste compara tempos.
    """
    report = json.loads((BUILD / "execucao.json").read_text(encoding="utf-8"))
    notebooks = {
        p.relative_to(ROOT).with_suffix("").as_posix() for p in ROOT.glob("book/**/*.ipynb")
    }
    assert notebooks <= set(report), f"faltam no relatório: {sorted(notebooks - set(report))}"
    assert all(row["succeeded"] and row["runtime_s"] is not None for row in report.values())
    page = (built_site / "execucao.html").read_text(encoding="utf-8")
    assert all(f"<code>{name}</code>" in page for name in notebooks)
    printed = subprocess.run(
        [sys.executable, str(ROOT / "book" / "_ext" / "execution_report.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert all(name in printed for name in notebooks) and "orçamento" in printed


# --- A convenção das figuras e os botões de execução, num livro mínimo ------------------------

FIGURE_NOTEBOOK_CELLS = [
    ("markdown", "# Teste\n\nA {numref}`fig-teste-reta` mostra uma reta.", {}),
    (
        "code",
        "import matplotlib.pyplot as plt\n\nplt.plot([0, 1], [0, 1])\nplt.show()",
        {
            "tags": ["hide-input"],
            "mystnb": {
                "figure": {"name": "fig-teste-reta", "caption": "Uma reta de teste."},
                "image": {"alt": "Uma reta que sobe da esquerda para a direita."},
            },
        },
    ),
]


def test_figure_metadata_gives_a_numbered_captioned_figure(tmp_path):
    """O metadado ``mystnb.figure``/``mystnb.image`` da célula (ver CONTRIBUTING) rende uma
    figura numerada, com legenda e texto alternativo; com ``repository.url``, a página ganha
    o botão do Colab, e a 404 usa links a partir de ``/<repositório>/``."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    for kind, source, metadata in FIGURE_NOTEBOOK_CELLS:
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(make(source, metadata=metadata))
    nbformat.write(notebook, tmp_path / "index.ipynb")
    (tmp_path / "conf.py").write_text(
        f"""
import sys
sys.path.insert(0, {str(ROOT / "book" / "_ext")!r})
extensions = ["myst_nb", "ptbr_ui"]
html_theme = "sphinx_book_theme"
language = "pt_BR"
numfig = True
numfig_format = {{"figure": "Figura %s"}}
nb_execution_mode = "force"
html_theme_options = {{
    "repository_url": "https://github.com/exemplo/livro",
    "repository_branch": "main",
    "path_to_docs": "",
    "launch_buttons": {{"colab_url": "https://colab.research.google.com"}},
}}
""",
        encoding="utf-8",
    )
    sphinx_build = Path(sys.executable).with_name("sphinx-build")
    result = subprocess.run(
        [str(sphinx_build), "-b", "html", "-q", "-W", str(tmp_path), str(tmp_path / "html")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    html = tmp_path / "html" / "index.html"
    text = html.read_text(encoding="utf-8")
    parsed = _page_text(html)
    (image,) = parsed.images
    assert image["alt"] == "Uma reta que sobe da esquerda para a direita."
    assert image["figure"] is not None and image["figure"]["caption"]
    assert re.search(r'<span class="caption-number">Figura 1 </span>', text)
    assert "Uma reta de teste." in text
    assert re.search(r'href="#fig-teste-reta".*?Figura 1', text, re.S), "numref sem número"
    assert "colab.research.google.com/github/exemplo/livro/blob/main/index.ipynb" in text
    # A célula de gráfico fica recolhida (hide-input), com rótulo em português.
    assert re.search(r'<details class="[^"]*hide above-input"', text)
    assert "Toggle hidden content" not in text
    not_found = (tmp_path / "html" / "404.html").read_text(encoding="utf-8")
    assert 'href="/livro/' in not_found and "Página não encontrada" in not_found
