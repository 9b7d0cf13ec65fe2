"""As camadas da bnlib: quem pode importar quem (ver ``bnlib/__init__.py`` e CONTRIBUTING.md).

As regras são verificadas em dois níveis: no código (as instruções ``import`` de cada módulo,
inclusive as de dentro de funções) e na execução (importar um módulo do núcleo não carrega o
torch nem o matplotlib, por nenhum caminho).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bnlib"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)

#: De que camadas da bnlib cada camada pode importar.
ALLOWED_LAYERS = {
    "core": {"core"},
    "nn": {"core", "nn"},
    "lab": {"core", "nn", "lab"},
    "plots": {"core", "lab", "plots"},
    "kit": {"core", "lab", "kit"},
    "text": set(),
}
#: Pacotes de fora que cada camada não pode importar.
FORBIDDEN_PACKAGES = {
    "core": {"torch", "matplotlib", "IPython", "tqdm", "myst_nb"},
    "nn": {"matplotlib", "IPython", "myst_nb"},
    "lab": {"matplotlib", "IPython", "myst_nb"},
    "plots": {"torch"},
    "kit": {"matplotlib"},
    "text": {"torch", "matplotlib"},
}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(name: str) -> str | None:
    """``"core"`` para ``bnlib.core.reference``; ``None`` para ``bnlib`` e ``bnlib._compat``."""
    parts = name.split(".")
    if len(parts) < 2 or parts[1] in {"_compat"}:
        return None
    return parts[1]


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """``(módulo importado, nomes, linha)`` de cada import do arquivo, relativos resolvidos."""
    found = []
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    )
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.append((base, [alias.name for alias in node.names], node.lineno))
    return found


def layer_modules(layer: str) -> list[Path]:
    return [p for p in MODULES if layer_of(module_name(p)) == layer]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path):
    me = module_name(path)
    layer = layer_of(me)
    if layer is None:
        return
    problems = []
    for target, names, line in imports(path):
        top = target.split(".")[0]
        if top in FORBIDDEN_PACKAGES[layer]:
            problems.append(f"linha {line}: a camada {layer} não pode importar {top}")
        if top != "bnlib":
            continue
        # `from bnlib import nn` importa a camada nn; `from bnlib.core import x` importa core
        targets = [f"bnlib.{n}" for n in names] if target == "bnlib" else [target]
        for t in targets:
            other = layer_of(t)
            if other is not None and other not in ALLOWED_LAYERS[layer]:
                problems.append(f"linha {line}: a camada {layer} não pode importar {t}")
            private_module = any(part.startswith("_") for part in t.split(".")[1:])
            if private_module and t.rsplit(".", 1)[0] != me.rsplit(".", 1)[0]:
                problems.append(f"linha {line}: módulo privado {t} importado de fora do pacote")
        private = [n for n in names if n.startswith("_")]
        if private:
            problems.append(f"linha {line}: nomes privados importados de {target}: {private}")
    assert not problems, f"{me}:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [("core", ["torch", "matplotlib", "IPython", "tqdm"]), ("plots", ["torch"])],
)
def test_layers_do_not_load_forbidden_packages_at_run_time(layer, forbidden):
    names = [module_name(p) for p in layer_modules(layer)]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in {forbidden!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]", f"{layer} carrega {result.stdout.strip()}"


def test_nothing_outside_the_kit_imports_the_kit():
    offenders = []
    for path in MODULES:
        me = module_name(path)
        if layer_of(me) in {"kit", None}:
            continue
        for target, names, line in imports(path):
            hits = [target] if target.startswith("bnlib.kit") else []
            hits += ["bnlib.kit"] if target == "bnlib" and "kit" in names else []
            offenders += [f"{me}, linha {line}: {h}" for h in hits]
    assert not offenders


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_are_small_or_say_why(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if lines <= MAX_LINES:
        return
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert f"mais de {MAX_LINES} linhas" in docstring, (
        f"{path.relative_to(ROOT)} tem {lines} linhas: divida o módulo ou diga no docstring "
        f"por que ele tem mais de {MAX_LINES} linhas"
    )


def unbiased_correction_sites(layer: str) -> list[str]:
    """Arquivos da camada que corrigem a variância do lote para a não enviesada (m / (m − 1))."""
    sites = []
    for path in layer_modules(layer):
        text = path.read_text(encoding="utf-8").replace(" ", "")
        if any(pattern in text for pattern in ("/(count-1", "/(m-1", "/(n-1")):
            sites.append(path.name)
    return sites


@pytest.mark.parametrize("layer", ["core", "nn"])
def test_running_statistics_update_is_written_once_per_backend(layer):
    """A atualização das estatísticas acumuladas existe uma vez por backend; o resto a reusa."""
    assert len(unbiased_correction_sites(layer)) == 1, unbiased_correction_sites(layer)
