"""Sinais de manipulação no código de um caderno, lidos pelo corretor (o código não roda aqui).

A nota não depende disto: ela vem das respostas julgadas fora da caixa de areia, e nenhuma
manipulação consegue mais que a nota honesta. Os sinais servem ao professor: um caderno que
troca as verificações, lê quadros da pilha, registra ganchos do IPython, imprime registros de
nota ou usa as implementações prontas merece uma olhada. :func:`flags` analisa a árvore
sintática de cada célula (com as linhas mágicas do IPython trocadas por ``pass``); uma célula
com erro de sintaxe é analisada só por texto.
"""

from __future__ import annotations

import ast
import re

READY_MADE = {
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_inference",
    "batchnorm_forward_steps",
    "batchnorm_backward_staged",
    "batch_statistics",
    "update_running_stats",
    "numerical_gradient",
    "layer_norm_forward",
    "group_norm_forward",
    "instance_norm_forward",
}
"""Funções prontas do ``bnlib`` que resolvem as questões dos trabalhos 1 a 5."""

TORCH_READY = {"batch_norm", "layer_norm", "group_norm", "instance_norm"}
STUDENT_MODULES = {"checks", "bnlib", "runner", "engine", "answers", "kit", "_bnlib_runner"}

CALLS = {
    ("inspect", "stack"): "inspeciona a pilha de chamadas (`inspect.stack`)",
    ("inspect", "currentframe"): "inspeciona a pilha de chamadas (`inspect.currentframe`)",
    ("inspect", "getouterframes"): "inspeciona a pilha de chamadas",
    ("sys", "_getframe"): "inspeciona a pilha de chamadas (`sys._getframe`)",
    ("sys", "settrace"): "instala um rastreador (`sys.settrace`)",
    ("sys", "setprofile"): "instala um perfilador (`sys.setprofile`)",
    ("gc", "get_objects"): "vasculha os objetos da memória (`gc.get_objects`)",
    ("gc", "get_referrers"): "vasculha os objetos da memória (`gc.get_referrers`)",
    ("os", "fork"): "cria processos (`os.fork`)",
    ("os", "system"): "executa comandos do sistema (`os.system`)",
    ("os", "kill"): "envia sinais a processos (`os.kill`)",
    ("os", "setsid"): "cria uma sessão de processos (`os.setsid`)",
    ("signal", "signal"): "troca o tratamento de sinais (`signal.signal`)",
    ("atexit", "register"): "registra código para o fim do processo (`atexit.register`)",
}
MODULES = {
    "subprocess": "executa outros programas (`subprocess`)",
    "socket": "abre conexões de rede (`socket`)",
    "ctypes": "chama código nativo (`ctypes`)",
    "multiprocessing": "cria processos (`multiprocessing`)",
    "urllib": "acessa a rede (`urllib`)",
    "requests": "acessa a rede (`requests`)",
    "shutil": "copia ou apaga pastas (`shutil`)",
}
ATTRIBUTES = {
    "f_back": "inspeciona quadros da pilha (`f_back`)",
    "f_locals": "lê as variáveis de outros quadros (`f_locals`)",
    "f_globals": "lê as variáveis de outros quadros (`f_globals`)",
    "displayhook": "troca o `sys.displayhook`",
    "excepthook": "troca o `sys.excepthook`",
}
TEXTS = {
    "@@BNLIB-NOTAS@@": "imprime um registro de notas falso",
    "/proc/": "lê o sistema de arquivos `/proc`",
    "register_post_execute": "registra um gancho do IPython",
    "events.register": "registra um gancho do IPython (`events.register`)",
    "sys.modules[": "altera os módulos carregados (`sys.modules`)",
}


def without_magics(source: str) -> str:
    """O código com as linhas mágicas (``%``, ``!``) trocadas por ``pass``."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        lines.append(indent + "pass" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def dotted(node: ast.AST) -> list[str]:
    """``a.b.c`` como ``["a", "b", "c"]`` (vazio se não é um nome pontuado)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return []


def tree_flags(tree: ast.AST, assignment: str) -> list[str]:
    found = []
    numpy_assignment = not assignment.startswith("06")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [a.name for a in node.names]
            for name in [module, *names] if module else names:
                top = (name or "").split(".")[0]
                if top in MODULES:
                    found.append(MODULES[top])
                if numpy_assignment and (name or "").startswith(("bnlib.core", "bnlib.nn")):
                    found.append(f"importa uma implementação pronta (`{name}`)")
            if module and module.startswith("bnlib") and numpy_assignment:
                found += [
                    f"importa uma implementação pronta (`{n}`)" for n in names if n in READY_MADE
                ]
        elif isinstance(node, ast.Call):
            path = dotted(node.func)
            if len(path) >= 2 and tuple(path[-2:]) in CALLS:
                found.append(CALLS[tuple(path[-2:])])
            if path and path[-1] == "setattr" and node.args:
                target = dotted(node.args[0])
                if target and target[0] in STUDENT_MODULES:
                    found.append(f"altera a biblioteca com `setattr` (`{'.'.join(target)}`)")
            if (
                numpy_assignment
                and path
                and path[-1] in READY_MADE
                and len(path) > 1  # um nome solto pode ser a função do próprio aluno
                and path[0] in STUDENT_MODULES
            ):
                found.append(f"chama uma implementação pronta (`{'.'.join(path)}`)")
            if numpy_assignment and path and path[-1] in TORCH_READY and "torch" in path[:1] + path:
                found.append(f"chama uma implementação pronta do PyTorch (`{'.'.join(path)}`)")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                path = dotted(target)
                if len(path) >= 2 and path[0] in STUDENT_MODULES:
                    found.append(f"substitui parte da biblioteca (`{'.'.join(path)}`)")
                if len(path) >= 2 and path[0] == "builtins":
                    found.append(f"substitui uma função embutida (`{'.'.join(path)}`)")
        elif isinstance(node, ast.Attribute) and node.attr in ATTRIBUTES:
            found.append(ATTRIBUTES[node.attr])
    return found


def flags(notebook: dict, assignment: str) -> list[str]:
    """Os sinais de manipulação no código das células, sem repetição, em português."""
    found: list[str] = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        try:
            cell_found = tree_flags(ast.parse(without_magics(source)), assignment)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            cell_found = []
        cell_found += [text for token, text in TEXTS.items() if token in source]
        if re.search(r"get_ipython\(\)\s*\.\s*events", source):
            cell_found.append("registra um gancho do IPython (`events.register`)")
        found += [f"célula {index + 1}: {text}" for text in dict.fromkeys(cell_found)]
    return list(dict.fromkeys(found))
