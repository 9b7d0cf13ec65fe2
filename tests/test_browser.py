"""O livro num navegador de verdade (Chromium sem janela, dirigido pelo Playwright).

Serve ``_build/html`` em localhost e abre cada página: as fórmulas têm de estar compostas
pelo MathJax local (nada de TeX cru), as figuras carregadas, a interface em português e o
console sem erros. No celular (390 px), os botões visíveis de sumário (☰) e de conteúdo da
página abrem os menus; no computador (1280 px) há uma só caixa de busca. Em toda página e nas
duas larguras, nenhum bloco de código ou de saída, tabela ou equação passa da coluna (a
largura rolável comparada à visível). A busca acha sem acento o que acha com acento, e os
trechos dos resultados não mostram TeX cru. Capturas de tela ficam em
``artifacts/screenshots`` para serem olhadas.
"""

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import ROOT

CHROMIUM = next(
    filter(None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome"])), None
)
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Páginas fotografadas: a página inicial e as que têm mais matemática.
SCREENSHOT_PAGES = [
    "book/intro.html",
    "book/primeiros_passos.html",
    "book/algoritmo/passo_direto.html",
]

# Na integração contínua o Chromium é obrigatório (.ci/run o instala); fora dela, opcional.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium não instalado (apt-get install chromium)",
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def server(built_site):
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _visit(browser, url: str, screenshot: Path | None = None) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 2000})
    problems: list[str] = []
    page.on(
        "console",
        # Recursos que faltam aparecem com o endereço pelo evento "response", abaixo.
        lambda m: (
            problems.append(f"console: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"erro de script: {e}"))
    page.on(
        "response",
        lambda r: (
            problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and not r.url.endswith("favicon.ico")
            else None
        ),
    )
    page.goto(url, wait_until="load")
    has_math = page.locator(".math").count() > 0
    if has_math:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    result = page.evaluate(
        """() => ({
            math: document.querySelectorAll('.math').length,
            typeset: document.querySelectorAll('.math mjx-container').length,
            rawTex: Array.from(document.querySelectorAll('.math'))
                .filter(e => !e.querySelector('mjx-container'))
                .map(e => e.textContent.slice(0, 60)),
            brokenImages: Array.from(document.querySelectorAll('article img'))
                .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
            images: document.querySelectorAll('article img').length,
            search: document.querySelector('.search-button__default-text')?.textContent || '',
            prev: document.querySelector('.prev-next-area .left-prev')?.textContent || '',
            next: document.querySelector('.prev-next-area .right-next')?.textContent || '',
        })"""
    )
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=False)
    page.close()
    result["problems"] = problems
    return result


def test_pages_render_math_figures_and_portuguese_ui(built_site, server, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = sorted(p.relative_to(built_site).as_posix() for p in built_site.glob("book/**/*.html"))
    assert "book/primeiros_passos.html" in pages
    failures = []
    total_math = total_images = 0
    for relative in pages:
        shot = None
        if relative in SCREENSHOT_PAGES:
            shot = SCREENSHOTS / (relative.replace("/", "_").removesuffix(".html") + ".png")
        result = _visit(browser, f"{server}/{relative}", shot)
        total_math += result["typeset"]
        total_images += result["images"]
        if result["rawTex"]:
            failures.append(f"{relative}: TeX cru {result['rawTex'][:3]}")
        if result["brokenImages"]:
            failures.append(f"{relative}: figuras que não carregam {result['brokenImages']}")
        if result["problems"]:
            failures.append(f"{relative}: {result['problems']}")
        if "Buscar" not in result["search"]:
            failures.append(f"{relative}: busca sem rótulo em português ({result['search']!r})")
        for label, text in (("Anterior", result["prev"]), ("Próximo", result["next"])):
            if text and label.lower() not in text.lower():
                failures.append(f"{relative}: navegação {text.strip()!r} sem {label!r}")
    assert not failures, "\n".join(failures)
    assert total_math > 0 and total_images > 0


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _book_pages(built_site) -> list[str]:
    return sorted(p.relative_to(built_site).as_posix() for p in built_site.glob("book/**/*.html"))


def _open(browser, url: str, viewport: dict):
    page = browser.new_page(viewport=viewport)
    page.goto(url, wait_until="load")
    if page.locator(".math").count():
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    return page


@pytest.mark.parametrize("relative", ["book/intro.html", "book/dados/normalizar.html"])
def test_phone_menus_open_from_the_visible_buttons(built_site, server, browser, relative):
    """Em 390 px, o ☰ abre o sumário e o botão de conteúdo abre o índice da página."""
    page = _open(browser, f"{server}/{relative}", PHONE)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    failures = []
    menus = [("primary-toggle", "pst-primary-sidebar-modal", "sumário")]
    if page.locator(".secondary-toggle").count():
        menus.append(("secondary-toggle", "pst-secondary-sidebar-modal", "conteúdo"))
    for toggle, dialog, name in menus:
        button = page.locator(f".{toggle}").filter(visible=True)
        if button.count() != 1:
            failures.append(f"{name}: {button.count()} botões visíveis")
            continue
        button.click()
        try:
            page.wait_for_function(f"() => document.getElementById('{dialog}')?.open", timeout=3000)
        except Exception:
            failures.append(f"{name}: o clique no botão visível não abriu o menu")
            continue
        links = page.locator(f"#{dialog} a").filter(visible=True)
        box = page.locator(f"#{dialog}").bounding_box()
        if links.count() < 2 or box is None or box["width"] < 150 or box["x"] < -1:
            failures.append(f"{name}: menu aberto mas não visível ({links.count()} links, {box})")
        shot = relative.replace("/", "_").removesuffix(".html") + f"_celular_{name}.png"
        page.screenshot(path=str(SCREENSHOTS / shot))
        page.keyboard.press("Escape")
        page.wait_for_function(f"() => !document.getElementById('{dialog}')?.open")
    page.close()
    assert not failures, f"{relative}: " + "; ".join(failures)


def test_desktop_shows_one_search_box(built_site, server, browser):
    page = _open(browser, f"{server}/book/dados/normalizar.html", DESKTOP)
    visible = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              '.search-button-field, .search-button__button, form.bd-search, input[type=search]'))
            .filter(e => e.checkVisibility() && e.getBoundingClientRect().width > 0)
            .filter(e => !e.closest('dialog'))
            .map(e => e.className)"""
    )
    page.close()
    assert len(visible) == 1, f"caixas de busca visíveis: {visible}"


# Mede cada bloco de código ou saída, tabela e equação em destaque: a largura rolável
# (scrollWidth, ou a da fórmula composta) contra a largura visível do próprio bloco.
MEASURE_OVERFLOW = r"""() => {
  for (const details of document.querySelectorAll('article details')) {
    details.dataset.wasClosed = details.open ? '' : '1';
    details.open = true;
  }
  const found = [];
  const text = (el) => (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 70);
  const collapsed = (el) => el.closest('details[data-was-closed="1"]') ? ' (recolhido)' : '';
  for (const pre of document.querySelectorAll('article pre')) {
    if (!pre.checkVisibility() || pre.closest('mjx-container')) continue;
    const excess = pre.scrollWidth - pre.clientWidth;
    if (excess > 1) {
      const kind = pre.closest('.cell_output, .output') ? 'saída' : 'código';
      found.push({kind: kind + collapsed(pre), excess, text: text(pre)});
    }
  }
  for (const table of document.querySelectorAll('article table')) {
    const box = table.parentElement;
    const excess = Math.round(table.getBoundingClientRect().width - box.clientWidth);
    if (table.checkVisibility() && excess > 1) {
      found.push({kind: 'tabela' + collapsed(table), excess, text: text(table)});
    }
  }
  const column = document.querySelector('article.bd-article') || document.querySelector('main');
  const right = column.getBoundingClientRect().right;
  for (const math of document.querySelectorAll('article mjx-container[display="true"]')) {
    const inner = math.querySelector('mjx-math') || math;
    const box = math.closest('div.math') || math;
    const excess = Math.round(Math.max(
      inner.getBoundingClientRect().width - box.clientWidth,
      inner.getBoundingClientRect().right - right));
    if (math.checkVisibility() && excess > 1) {
      const items = window.MathJax?.startup?.document?.getMathItemsWithin?.(math) || [];
      const tex = items.length ? items[0].math : (math.textContent || '');
      found.push({kind: 'equação' + collapsed(math), excess, text: tex.slice(0, 70)});
    }
  }
  return found;
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_code_tables_and_equations_fit_the_column(built_site, server, browser, viewport):
    """Lista todo bloco que passa da coluna: página, tipo, quantos px e o começo do texto."""
    offenders = []
    for relative in _book_pages(built_site):
        page = _open(browser, f"{server}/{relative}", viewport)
        for item in page.evaluate(MEASURE_OVERFLOW):
            offenders.append(
                f"{relative}: {item['kind']} passa {item['excess']} px: {item['text']!r}"
            )
        page.close()
    width = viewport["width"]
    assert not offenders, f"{len(offenders)} blocos largos demais em {width} px:\n" + "\n".join(
        offenders
    )


def _search(browser, server, query: str) -> list[dict]:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{server}/search.html?q={quote(query)}", wait_until="load")
    page.wait_for_function(
        "() => (document.querySelector('#search-results .search-summary')?.innerText || '')"
        ".length > 0",
        timeout=60_000,
    )
    results = page.evaluate(
        """() => Array.from(document.querySelectorAll('#search-results ul.search > li'))
            .map(li => ({href: li.querySelector('a').getAttribute('href').split('#')[0]
                                 .split('?')[0],
                         context: li.querySelector('.context')?.textContent || ''}))"""
    )
    page.close()
    return results


def test_search_folds_accents_and_shows_no_raw_tex(built_site, server, browser):
    accented = _search(browser, server, "variância")
    plain = _search(browser, server, "variancia")
    assert len(accented) >= 3
    assert {r["href"] for r in plain} == {r["href"] for r in accented}
    raw = [r for r in accented + _search(browser, server, "média") if "\\(" in r["context"]]
    assert not raw, f"trechos com TeX cru: {[r['context'][:80] for r in raw]}"


def test_script_labels_are_in_portuguese(built_site, server, browser):
    """Os textos que os scripts dos temas escrevem (copiar, mostrar célula) em português."""
    page = _open(browser, f"{server}/book/dados/normalizar.html", DESKTOP)
    page.wait_for_timeout(300)
    labels = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              '[aria-label], [title], [data-tooltip], [data-bs-title], [data-bs-original-title]'))
            .flatMap(e => ['aria-label', 'title', 'data-tooltip', 'data-bs-title',
                           'data-bs-original-title'].map(a => e.getAttribute(a)))
            .filter(Boolean)"""
    )
    skip_link = page.locator(".skip-link").first.text_content() or ""
    page.close()
    english = re.compile(
        r"Toggle|sidebar|Copy|Color mode|Download|Launch|Fullscreen|Light|Dark|System"
    )
    assert not [label for label in set(labels) if english.search(label)], sorted(set(labels))
    assert "Pular" in skip_link
