"""O livro num navegador de verdade (Chromium sem janela, dirigido pelo Playwright).

Serve ``_build/html`` em localhost e abre cada página: as fórmulas têm de estar compostas
pelo MathJax local (nada de TeX cru), as figuras carregadas, a interface em português e o
console sem erros. Capturas de tela ficam em ``artifacts/screenshots`` para serem olhadas.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

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
