"""As explicações, em português, do que deu errado numa chamada à função do aluno.

Uma exceção vira uma frase com o tipo, a linha do código do aluno em que ocorreu (as linhas
da ``bnlib`` e das bibliotecas instaladas são puladas) e, para os erros mais comuns do numpy,
uma tradução do que significa. Aqui também ficam as exceções da própria verificação: o tempo
esgotado (:class:`CaseTimeout`) e uma implementação pronta bloqueada na correção
(:class:`BlockedImplementation`, levantada pelos substitutos :class:`Blocked`).
"""

from __future__ import annotations

import traceback


class CaseTimeout(BaseException):
    """A função do aluno passou do limite (herda de ``BaseException`` para que um
    ``except Exception`` no código do aluno não a engula)."""


class BlockedImplementation(RuntimeError):
    """Uma implementação pronta do ``bnlib`` chamada durante a correção."""


class Blocked:
    """O que a correção põe no lugar de uma implementação pronta: levanta ao ser usada."""

    def __init__(self, module: str, name: str) -> None:
        self.qualified_name = f"{module}.{name}"

    def __call__(self, *args, **kwargs):
        raise BlockedImplementation(
            f"`{self.qualified_name}` não está disponível na correção: o trabalho pede a "
            "sua própria implementação."
        )

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return Blocked(self.qualified_name, name)


def blocked(module: str, name: str) -> Blocked:
    """O substituto de ``module.name`` (usado pelos módulos bloqueados da correção)."""
    return Blocked(module, name)


def is_library_file(path: str) -> bool:
    """Se o arquivo é da ``bnlib`` ou de uma biblioteca instalada (não do aluno)."""
    parts = path.replace("\\", "/").split("/")
    return (
        "bnlib" in parts
        or "site-packages" in parts
        or ("lib" in parts[:-1] and any(p.startswith("python3") for p in parts))
    )


def translate_error(error: BaseException) -> str | None:
    """Uma explicação em português para as exceções mais comuns do numpy e do Python."""
    text = str(error)
    if isinstance(error, ValueError) and "broadcast" in text:
        return (
            "os shapes de dois arrays não combinam numa operação elemento a elemento "
            "(*broadcasting*): confira os shapes com `print(a.shape)`; uma média calculada "
            "sem `keepdims=True`, ou gamma e beta sem `reshape`, são as causas mais comuns."
        )
    if isinstance(error, TypeError) and "cannot be interpreted as an integer" in text:
        return "um shape ou um índice precisa ser inteiro: use a divisão inteira `//`, não `/`."
    if isinstance(error, NameError):
        return "um nome usado não existe: confira a grafia, ou rode antes a célula que o define."
    if isinstance(error, IndexError):
        return "um índice passou do tamanho do array: confira os limites dos laços e os eixos."
    if isinstance(error, ZeroDivisionError):
        return "houve uma divisão por zero."
    if isinstance(error, MemoryError):
        return "faltou memória: algum array ficou grande demais?"
    return None


def student_line(frames: list[traceback.FrameSummary]) -> tuple[int | None, str]:
    """A última linha do código do aluno numa pilha, como ``(número, " na linha ...")``."""
    student = [f for f in frames if not is_library_file(f.filename)]
    if not student:
        return None, ""
    last = student[-1]
    where = f" na linha {last.lineno} do seu código"
    if last.line:
        where += f" (`{last.line.strip()}`)"
    return last.lineno, where


def timeout_text(where: str, limit: float) -> str:
    """A explicação de um caso interrompido por tempo."""
    seconds = f"{limit:g}".replace(".", ",")
    return (
        f"sua função passou de {seconds} s sem terminar e foi interrompida{where}. Há um "
        "laço infinito? Confira a condição de parada e o incremento de cada `while`."
    )


def explain(error: BaseException, limit: float) -> dict:
    """A resposta de um caso em que a função do aluno levantou ``error``."""
    line, where = student_line(traceback.extract_tb(error.__traceback__))
    if isinstance(error, CaseTimeout):
        return {
            "status": "timeout",
            "explanation": timeout_text(where, limit),
            "error_key": ["CaseTimeout", line],
        }
    answer = {"status": "error", "error_key": [type(error).__name__, line]}
    if isinstance(error, NotImplementedError):
        answer["explanation"] = (
            "a função ainda não foi implementada (levantou NotImplementedError)."
        )
        return answer
    cause = error
    while cause is not None and not isinstance(cause, BlockedImplementation):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        answer["blocked"] = True
        answer["explanation"] = f"sua função usou uma implementação pronta{where}: {cause}"
        return answer
    sentence = f"sua função levantou {type(error).__name__}{where}: {str(error)[:300]}"
    translation = translate_error(error)
    answer["explanation"] = f"{sentence}. Em português: {translation}" if translation else sentence
    return answer
