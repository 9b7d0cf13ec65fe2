"""Configuração comum dos testes.

* Os testes que leem o livro gerado (os que usam a *fixture* ``built_site``) levam a marca
  ``site``: o ``make test`` roda primeiro os demais (a bnlib e os cadernos, pelo nbval), gera
  o livro e só então roda ``pytest -m site``.
* Quando o nbval executa um caderno do sumário sem erro, o plugin :class:`StoreExecutedNotebooks`
  guarda as saídas no cache que o build do livro lê (``scripts/notebook_cache.py``): cada
  caderno é executado uma só vez no ``make test``.
"""

import importlib.util
import os
import time
from pathlib import Path

import nbformat
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"


def _load_notebook_cache():
    spec = importlib.util.spec_from_file_location(
        "notebook_cache", ROOT / "scripts" / "notebook_cache.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kernel_cpu_seconds(notebook_file) -> float | None:
    """Tempo de CPU (usuário + sistema) do processo do kernel do nbval, se der para ler."""
    try:
        import psutil

        provisioner = notebook_file.kernel.km.provisioner
        times = psutil.Process(provisioner.pid).cpu_times()
        return times.user + times.system + times.children_user + times.children_system
    except Exception:  # o tempo de CPU é informativo: sem ele, fica só o de relógio
        return None


class StoreExecutedNotebooks:
    """Guarda no cache do livro cada caderno do sumário que o nbval executou sem erro."""

    def __init__(self):
        self.cache = _load_notebook_cache()
        self.toc = {path.resolve() for path in self.cache.toc_notebooks()}
        self.started: dict[Path, float] = {}
        self.outputs: dict[Path, dict[int, list]] = {}
        self.failed: set[Path] = set()

    def _notebook(self, item) -> Path | None:
        if type(item).__name__ != "IPyNbCell":
            return None
        path = Path(str(item.parent.fspath)).resolve()
        return path if path in self.toc else None

    @pytest.hookimpl(tryfirst=True)  # antes de o pytest-xdist abrir os processos
    def pytest_sessionstart(self, session):
        if not hasattr(session.config, "workerinput"):  # só o processo principal
            self.cache.drop_if_stale()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        path = self._notebook(item)
        if path is not None and path not in self.started:
            self.started[path] = time.perf_counter()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        path = self._notebook(item)
        if path is None:
            return
        report = outcome.get_result()
        if report.failed or (call.when == "call" and report.skipped):
            self.failed.add(path)
        elif call.when == "call":
            outputs = [nbformat.from_dict(dict(out)) for out in item.test_outputs]
            self.outputs.setdefault(path, {})[item.cell_num] = outputs

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item, nextitem):
        """Depois da última célula, antes de o nbval desligar o kernel."""
        path = self._notebook(item)
        if path is None or (nextitem is not None and nextitem.parent is item.parent):
            return
        seconds = time.perf_counter() - self.started.pop(path)
        outputs = self.outputs.pop(path, {})
        if path in self.failed:
            self.cache.forget(path)
            return
        cpu_seconds = _kernel_cpu_seconds(item.parent)
        notebook = nbformat.read(path, as_version=4)
        code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
        if len(outputs) != len(code_cells):  # alguma célula não rodou: nada a guardar
            return
        for number, cell in enumerate(code_cells):
            cell.outputs = outputs[number]
            cell.execution_count = number + 1
        self.cache.store(path, notebook, seconds, cpu_seconds)


def pytest_configure(config):
    config.addinivalue_line("markers", "site: lê o livro gerado (rode `make book` antes)")
    if config.getoption("nbval_lax", False) or config.getoption("nbval", False):
        config.pluginmanager.register(StoreExecutedNotebooks(), "guarda-cadernos-executados")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "built_site" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.site)


# Os mesmos exemplos em toda execução: um teste que falha uma vez falha sempre.
settings.register_profile("reproducible", derandomize=True, database=None, deadline=None)
settings.load_profile("reproducible")


@pytest.fixture(scope="session")
def built_site() -> Path:
    """A pasta do livro HTML gerado por ``make book`` (``make test`` o gera antes dos testes).

    Fora da integração contínua, sem o livro gerado, os testes do site são pulados; na
    integração contínua (``CI`` definido), a falta do livro é uma falha.
    """
    html = BUILD / "html"
    if not (html / "index.html").exists():
        message = "o livro não foi gerado: rode `make book` (ou `make test`) antes"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return html
