"""Extensão Sphinx local: a interface do livro toda em português, busca sem acentos, 404, PDF.

* **Textos dos temas**: catálogos ``pt_BR`` próprios (``book/_ext/locale``), compilados no
  build e postos *antes* dos catálogos dos temas (o pydata-sphinx-theme não tem português; o
  do sphinx-book-theme tem lacunas). Os poucos textos escritos direto nos modelos do tema
  ("Toggle primary sidebar", ``aria-label="Main"``...) são trocados no HTML gerado
  (:data:`FIXED_STRINGS`); os dos scripts (botão de copiar, botão de mostrar célula) por
  ``book/_static/ptbr.js``.
* **Busca sem acentos**: o índice e a consulta passam pela mesma dobra de acentos antes do
  radical (*stemming*) do português: "variancia" acha o que "variância" acha. Os trechos
  mostrados nos resultados trocam o TeX cru (``\\(\\mu\\)``) por texto (``ptbr.js``).
* As linhas longas de código e de saída quebram em vez de passar da coluna, e as tabelas
  cabem no celular (``ptbr.css``).
* Sem a página "Proof Index" do sphinx-proof (índices de domínio desligados); um ícone
  (``book/_static/favicon.svg``) e uma página 404 em português (sphinx-notfound-page).
* **PDF**: se ``make pdf`` já gerou ``_build/pdf/<nome>.pdf``, o botão ".pdf" de cada página
  baixa esse PDF (copiado para o site); senão, o botão some (nada de ``window.print()``).
"""

from __future__ import annotations

import gettext
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sphinx import locale as sphinx_locale
from sphinx.search.pt import SearchPortuguese

HERE = Path(__file__).resolve().parent
BOOK = HERE.parent
ROOT = BOOK.parent
LOCALE_SOURCE = HERE / "locale"
#: Nome do PDF do livro (``latex.latex_documents.targetname`` em ``_config.yml``, sem .tex).
PDF_NAME = "normalizacao-em-lote.pdf"
PDF_BUILT = ROOT / "_build" / "pdf" / PDF_NAME

#: Textos fixos nos modelos dos temas (sem tradução possível) → português.
FIXED_STRINGS = {
    'title="Toggle primary sidebar"': 'title="Mostrar ou ocultar o sumário"',
    'title="Toggle secondary sidebar"': 'title="Mostrar ou ocultar o conteúdo da página"',
    'aria-label="Main"': 'aria-label="Sumário do livro"',
    'aria-label="Page"': 'aria-label="Página"',
    'title="Launch via JupyterLite"': 'title="Executar no JupyterLite"',
    # Células com hide-input (myst-nb).
    'aria-label="Toggle hidden content"': 'aria-label="Mostrar ou ocultar o código"',
}


def fold_accents(word: str) -> str:
    """``"Variância"`` → ``"Variancia"``: tira os acentos (marcas combinantes)."""
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not _is_mark(c)))


def _is_mark(character: str) -> bool:
    return unicodedata.category(character) == "Mn"


class SearchPortugueseFolded(SearchPortuguese):
    """Português com os acentos dobrados antes do radical, no índice e na consulta.

    O lado da consulta (JavaScript) é ``book/_static/ptbr.js``, que embrulha o ``Stemmer``
    do Sphinx com a mesma dobra.
    """

    def stem(self, word: str) -> str:
        return super().stem(fold_accents(word.lower()))


def _compile_catalogs() -> Path:
    """Compila os ``.po`` de ``book/_ext/locale`` para ``.mo`` numa pasta temporária."""
    target = Path(tempfile.mkdtemp(prefix="livro-locale-"))
    for po in LOCALE_SOURCE.glob("*/LC_MESSAGES/*.po"):
        mo = target / po.relative_to(LOCALE_SOURCE).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source, mo.open("wb") as compiled:
            write_mo(compiled, read_po(source))
    return target


def put_our_catalogs_first(app) -> None:
    """Nossas traduções por cima das dos temas (que continuam valendo para o resto).

    O tradutor já instalado nos modelos é o mesmo objeto de ``sphinx.locale.translators``:
    as nossas mensagens entram no catálogo dele, em vez de trocá-lo por outro.
    """
    compiled = _compile_catalogs()
    for mo in sorted(compiled.glob(f"{app.config.language}/LC_MESSAGES/*.mo")):
        with mo.open("rb") as handle:
            ours = gettext.GNUTranslations(handle)
        key = ("general", mo.stem)
        existing = sphinx_locale.translators.get(key)
        catalog = getattr(existing, "_catalog", None)
        if existing is None or type(existing) is gettext.NullTranslations:
            sphinx_locale.translators[key] = ours
        elif catalog is not None:
            catalog.update({k: v for k, v in ours._catalog.items() if k})
        else:
            ours.add_fallback(existing)
            sphinx_locale.translators[key] = ours
    shutil.rmtree(compiled, ignore_errors=True)


def repository_parts(config) -> tuple[str, str] | None:
    """(dono, nome) do repositório do livro no GitHub, se ``repository.url`` foi dado."""
    url = (config.html_theme_options or {}).get("repository_url") or ""
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", url.strip())
    if match is None or url.startswith("https://github.com/executablebooks/"):
        return None
    return match.group(1), match.group(2)


def configure(app, config) -> None:
    """Valores de configuração que o livro sempre quer (sem depender de ``_config.yml``)."""
    # Muda quando o PDF aparece ou some: o Sphinx reescreve todas as páginas (sem reler).
    config.livro_pdf = PDF_BUILT.exists()
    config.html_static_path = [*config.html_static_path, str(BOOK / "_static")]
    config.html_domain_indices = False  # sem a página "Proof Index"
    if not config.html_favicon:
        config.html_favicon = str(BOOK / "_static" / "favicon.svg")
    repository = repository_parts(config)
    # A 404 do GitHub Pages é servida em qualquer endereço: os links dela são absolutos, a
    # partir da raiz do site (/<repositório>/ num site de projeto).
    if repository:
        owner, name = repository
        config.notfound_urls_prefix = "/" if name == f"{owner}.github.io" else f"/{name}/"
    else:
        config.notfound_urls_prefix = None  # sem endereço conhecido: links relativos
        # Sem o endereço do repositório, não há de onde o Colab ou o Binder abrirem os
        # cadernos: nada de botões de execução (o Jupyter Book poria o endereço dele).
        theme = config.html_theme_options
        launch = dict(theme.get("launch_buttons") or {})
        theme["launch_buttons"] = {k: v for k, v in launch.items() if not k.endswith("_url")}
    config.notfound_context = {
        "title": "Página não encontrada",
        "body": (
            "<h1>Página não encontrada</h1>"
            "<p>O endereço pedido não existe neste livro: talvez a página tenha mudado "
            "de nome. Use o sumário ao lado ou a busca para encontrá-la.</p>"
        ),
    }


def replace_pdf_button(app, pagename, templatename, context, doctree) -> None:
    """O botão ".pdf" baixa o livro em PDF, se ele existe; senão, some."""
    for group in context.get("header_buttons", []):
        buttons = group.get("buttons")
        if not buttons:
            continue
        kept = []
        for button in buttons:
            if button.get("label") == "download-pdf-button":
                if not PDF_BUILT.exists():
                    continue
                button = {
                    "type": "link",
                    "url": context["pathto"](PDF_NAME, 1),
                    "text": ".pdf",
                    "tooltip": "Baixar o livro inteiro em PDF",
                    "icon": "fas fa-file-pdf",
                    "label": "download-pdf-button",
                }
            kept.append(button)
        buttons[:] = kept


def guard_404_toctree(app, pagename, templatename, context, doctree) -> None:
    """Na 404, o sumário do sphinx-notfound-page pode vir ``None``; o tema quer um texto."""
    if pagename != app.config.notfound_pagename or "toctree" not in context:
        return
    toctree = context["toctree"]
    context["toctree"] = lambda *args, **kwargs: toctree(*args, **kwargs) or ""


def finish(app, exception) -> None:
    """Troca os textos fixos dos temas e copia o PDF do livro para o site, se houver."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = text
        for english, portuguese in FIXED_STRINGS.items():
            new = new.replace(english, portuguese)
        if new != text:
            page.write_text(new, encoding="utf-8")
    if PDF_BUILT.exists():
        shutil.copy2(PDF_BUILT, outdir / PDF_NAME)
    else:
        (outdir / PDF_NAME).unlink(missing_ok=True)  # um PDF velho, de outro build


def setup(app):
    app.add_config_value("livro_pdf", False, "html")
    app.add_search_language(SearchPortugueseFolded)
    app.setup_extension("notfound.extension")
    app.connect("config-inited", configure)
    app.connect("builder-inited", put_our_catalogs_first)
    # Depois do sphinx-notfound-page (400), antes do pydata-sphinx-theme (500).
    app.connect("html-page-context", guard_404_toctree, priority=450)
    # Depois do tema, que monta os botões com prioridade padrão (500).
    app.connect("html-page-context", replace_pdf_button, priority=900)
    app.connect("build-finished", finish)
    app.add_js_file("ptbr.js", loading_method="defer", priority=900)
    app.add_css_file("ptbr.css", priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
