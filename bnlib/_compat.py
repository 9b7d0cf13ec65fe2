"""Os caminhos de importação antigos da bnlib, que continuam funcionando.

Até a versão 0.1 a bnlib era uma pasta só de módulos (``bnlib.training``,
``bnlib.checks``...). Cadernos já distribuídos a alunos e leitores usam esses nomes; aqui
cada nome antigo aponta para o módulo (ou módulos) onde o código mora agora. Um nome antigo
com um só destino é o próprio módulo novo (``bnlib.checks is bnlib.kit.checks``); com
vários, é um módulo que procura cada atributo nos destinos, em ordem.
``python -m bnlib.grading`` também funciona.

Código novo deve usar os caminhos novos, que a documentação de cada camada lista.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

OLD_PATHS: dict[str, tuple[str, ...]] = {
    "bnlib.alternatives": ("bnlib.core.alternatives", "bnlib.core.renorm"),
    "bnlib.assignments": ("bnlib.kit.generate",),
    "bnlib.batchnorm": ("bnlib.core.batchnorm", "bnlib.core.reference"),
    "bnlib.checks": ("bnlib.kit.checks",),
    "bnlib.cnn": ("bnlib.lab.models",),
    "bnlib.contours": ("bnlib.plots.contours",),
    "bnlib.data": ("bnlib.lab.data",),
    "bnlib.diagnostic_plots": ("bnlib.plots.diagnostics",),
    "bnlib.diagnostics": ("bnlib.lab.diagnostics", "bnlib.lab.weights", "bnlib.lab.models"),
    "bnlib.diagrams": ("bnlib.plots.diagrams",),
    "bnlib.folding": ("bnlib.nn.folding", "bnlib.nn.batchnorm"),
    "bnlib.gradcheck": ("bnlib.core.gradcheck",),
    "bnlib.grading": ("bnlib.kit.grading",),
    "bnlib.landscape": ("bnlib.lab.landscape",),
    "bnlib.nn_alternatives": ("bnlib.nn.alternatives",),
    "bnlib.noisy_bn": ("bnlib.nn.noisy",),
    "bnlib.percentiles": ("bnlib.lab.percentiles",),
    "bnlib.progress": ("bnlib.lab.progress",),
    "bnlib.quadratic": ("bnlib.lab.quadratic",),
    "bnlib.recalibration": ("bnlib.nn.recalibration",),
    "bnlib.scaling": ("bnlib.lab.scaling",),
    "bnlib.sweeps": ("bnlib.lab.sweeps",),
    "bnlib.syncbn": ("bnlib.lab.distributed", "bnlib.nn.sync"),
    "bnlib.teaching": ("bnlib.core.reference",),
    "bnlib.timing": ("bnlib.lab.timing",),
    "bnlib.training": ("bnlib.lab.training", "bnlib.lab.models"),
    "bnlib.validation": ("bnlib.core.validation",),
}


def combined_module(name: str, targets: tuple[str, ...]) -> types.ModuleType:
    """Um módulo ``name`` cujos atributos vêm dos módulos ``targets``, o primeiro que tiver."""
    modules = [importlib.import_module(t) for t in targets]
    module = types.ModuleType(name, f"Caminho antigo; o código está em {', '.join(targets)}.")

    def __getattr__(attribute: str):
        for target in modules:
            if hasattr(target, attribute):
                return getattr(target, attribute)
        raise AttributeError(
            f"o módulo antigo {name!r} não tem {attribute!r} (procurado em {', '.join(targets)})"
        )

    module.__getattr__ = __getattr__
    module.__all__ = sorted({a for m in modules for a in getattr(m, "__all__", dir(m))})
    return module


class OldPathLoader(importlib.abc.Loader):
    """Carrega um caminho antigo devolvendo o módulo novo (ou a combinação dos novos)."""

    def __init__(self, targets: tuple[str, ...]) -> None:
        self.targets = targets

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if len(self.targets) == 1:
            return importlib.import_module(self.targets[0])
        return combined_module(spec.name, self.targets)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nada a executar: o módulo novo já foi importado."""

    def get_code(self, fullname: str):
        """O código do primeiro destino, para ``python -m <caminho antigo>``."""
        return importlib.util.find_spec(self.targets[0]).loader.get_code(self.targets[0])


class OldPathFinder(importlib.abc.MetaPathFinder):
    """Encontra os nomes de :data:`OLD_PATHS`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in OLD_PATHS:
            return None
        return importlib.machinery.ModuleSpec(fullname, OldPathLoader(OLD_PATHS[fullname]))


def install() -> None:
    """Registra o buscador dos caminhos antigos (uma vez só)."""
    if not any(isinstance(f, OldPathFinder) for f in sys.meta_path):
        sys.meta_path.append(OldPathFinder())
