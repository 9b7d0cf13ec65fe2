"""O juiz das verificações: compara as respostas do aluno com as esperadas e escreve o retorno.

Este módulo não chama o código do aluno (isso é :mod:`bnlib.kit.runner`) nem sabe de onde
vêm os valores esperados: recebe a descrição de uma questão, os casos com as saídas
esperadas e as saídas de erros comuns plantados, e as respostas do aluno já coletadas.
Assim o mesmo juiz serve à verificação no caderno (casos visíveis, dados gravados em
:mod:`bnlib.kit.visible`) e à correção (casos sorteados pelo professor, no processo de quem
corrige, longe do código do aluno).

As estruturas são dicionários simples, com chaves em inglês:

* questão (``view``): ``id``, ``name``, ``points``, ``outputs`` (nomes das saídas, em
  português), ``arg_names``, ``metric`` (``"allclose"``, ``"scaled"`` ou ``"exact"``),
  ``rtol``, ``atol``, ``general_hint`` e ``input_policy`` (``"forbid"``: o enunciado proíbe
  alterar as entradas; ``"warn"``: só um aviso);
* caso: ``description``, ``args`` (arrays e valores), ``expected`` (lista de saídas) e
  ``mistakes`` (lista de ``(dica, saídas)`` de erros comuns);
* resposta: ``status`` (``"ok"``, ``"error"``, ``"timeout"`` ou ``"skipped"``), ``output``
  (o valor devolvido, já decodificado), ``changed`` (índices dos argumentos que a função
  alterou), ``explanation`` e ``error_key``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bnlib.kit.compare import (
    agrees,
    difference,
    dtype_warning,
    is_self_explanatory,
    split_output,
    tolerances,
)


@dataclass
class Result:
    """O resultado de uma questão.

    Attributes
    ----------
    question : str
        Identificador, por exemplo ``"1.2"``.
    title : str
        O nome da função ou da resposta verificada.
    points, max_points : float
    cases_passed, cases_total : int
        Casos corretos e total de casos.
    messages : list of str
        O retorno para o aluno, em português.
    pending : bool
        A resposta só é conferida na correção (respostas numéricas).
    time_limited : bool
        Um limite de tempo interrompeu a função do aluno.
    """

    question: str
    title: str
    points: float
    max_points: float
    cases_passed: int
    cases_total: int
    messages: list[str] = field(default_factory=list)
    pending: bool = False
    time_limited: bool = False

    @property
    def passed(self) -> bool:
        """Verdadeiro quando todos os casos passaram."""
        return self.cases_passed == self.cases_total and not self.pending

    def text(self) -> str:
        """O retorno completo, como é impresso."""
        if self.pending:
            header = (
                f"… Questão {self.question} ({self.title}): vale {fmt_number(self.max_points)} "
                "pontos, conferidos na correção."
            )
        else:
            symbol = "✔" if self.passed else "✘"
            header = (
                f"{symbol} Questão {self.question} ({self.title}): "
                f"{fmt_number(self.points)}/{fmt_number(self.max_points)} pontos; "
                f"{self.cases_passed} de {self.cases_total} "
                f"{'caso correto' if self.cases_total == 1 else 'casos corretos'}."
            )
        return "\n".join([header, *("  " + m for m in self.messages)])

    def __repr__(self) -> str:
        return (
            f"Result(questão {self.question}: {fmt_number(self.points)}/"
            f"{fmt_number(self.max_points)} pontos)"
        )


def fmt_number(value: float) -> str:
    """Um número curto com vírgula decimal (``2,5``)."""
    return f"{value:g}".replace(".", ",")


def cases_text(n: int) -> str:
    """``"1 caso"`` ou ``"n casos"``."""
    return f"{n} caso" if n == 1 else f"{n} casos"


def choose_hints(hints_per_case: list[list[str]]) -> list[str]:
    """O menor conjunto de dicas que explica os casos: primeiro a que explica mais casos.

    Um erro pode coincidir com outro num caso particular (com N = 1, a BN sobre o lote é a
    normalização de instância); escolher a dica que explica mais casos evita a dica falsa.
    """
    remaining = [set(d) for d in hints_per_case]
    order = list(dict.fromkeys(d for hints in hints_per_case for d in hints))
    chosen: list[str] = []
    while remaining:
        best = max(order, key=lambda d: sum(d in r for r in remaining))
        chosen.append(best)
        remaining = [r for r in remaining if best not in r]
    return chosen


# --------------------------------------------------------------------------------------
# O juiz de uma questão de função
# --------------------------------------------------------------------------------------


def changed_message(view: dict, changed: list[int]) -> str:
    names = view.get("arg_names", ())
    labels = [f"`{names[i]}`" if i < len(names) else f"o argumento {i + 1}" for i in changed]
    return ", ".join(labels)


def judge_function(view: dict, cases: list[dict], answers: list[dict]) -> Result:
    """Julga as respostas de uma questão de função.

    Parameters
    ----------
    view : dict
        A descrição da questão (ver o início do módulo).
    cases : list of dict
        Os casos, com ``expected`` e ``mistakes``.
    answers : list of dict
        Uma resposta por caso, na ordem (menos respostas que casos: os que faltam contam
        como errados).

    Returns
    -------
    Result
    """
    names = tuple(view["outputs"])
    messages: list[str] = []
    ok = unexplained = 0
    hints_per_case: list[list[str]] = []
    repeats: dict[tuple, int] = {}
    warnings: list[str] = []
    time_limited = False
    for case, answer in zip(cases, answers, strict=False):
        label = f"caso “{case['description']}”"
        status = answer.get("status")
        if status == "skipped":
            continue
        if status in ("error", "timeout"):
            time_limited = time_limited or status == "timeout"
            key = ("error", answer.get("error_key"))
            if key in repeats:
                repeats[key] += 1
            else:
                repeats[key] = 0
                messages.append(f"✘ {label}: {answer.get('explanation', 'erro')}")
            continue
        rtol, atol = tolerances(view, case["args"])
        output = answer.get("output")
        if output is None and view.get("metric") == "exact":
            parts, problem = [None], None  # None é uma resposta válida (“nunca chega”)
        else:
            parts, problem = split_output(output, names)
        changed = list(answer.get("changed", []))
        if problem is None and changed and view.get("input_policy") == "forbid":
            problem = (
                f"sua função alterou {changed_message(view, changed)}, e o enunciado pede "
                "que as entradas voltem como chegaram: trabalhe numa cópia (`x.copy()`) ou "
                "restaure cada elemento que mudou."
            )
        elif changed and not warnings:
            warnings.append(
                f"sua função alterou {changed_message(view, changed)} no caso "
                f"“{case['description']}”; numa rede isso estragaria a entrada de quem chamou. "
                "Evite operações no lugar, como `x -= média`."
            )
        if problem is None:
            diffs = [
                (name, difference(p, e, view, rtol, atol))
                for name, p, e in zip(names, parts, case["expected"], strict=True)
            ]
            diffs = [(name, d) for name, d in diffs if d is not None]
            if not diffs:
                ok += 1
                if view.get("metric") != "exact" and not any("float32" in w for w in warnings):
                    warning = dtype_warning(case, parts)
                    if warning:
                        warnings.append(warning)
                continue
            problem = " ".join(f"{name}: {d}" if len(names) > 1 else d for name, d in diffs)
            value_mismatch = any(not is_self_explanatory(d) for _, d in diffs)
            hints = (
                [
                    h
                    for h, wrong in case.get("mistakes", [])
                    if agrees(parts, wrong, view, rtol, atol)
                ]
                if value_mismatch
                else []
            )
            if hints:
                hints_per_case.append(hints)
            elif value_mismatch:
                unexplained += 1
        key = ("problem", problem)
        if key in repeats:  # o mesmo problema em vários casos: uma linha só
            repeats[key] += 1
            continue
        repeats[key] = 0
        messages.append(f"✘ {label}: {problem}")
    repeated = sum(repeats.values())
    if repeated:
        messages.append(f"✘ o mesmo problema em mais {cases_text(repeated)}.")
    chosen = choose_hints(hints_per_case)
    if unexplained and not chosen:
        chosen.append(view["general_hint"])
    messages.extend(f"Dica: {d}" for d in chosen)
    messages.extend(f"Aviso (sem desconto): {w}" for w in warnings)
    total = len(cases)
    points = round(view["points"] * ok / total, 2) if total else 0.0
    return Result(
        view["id"],
        view["name"],
        points,
        float(view["points"]),
        ok,
        total,
        messages,
        time_limited=time_limited,
    )


def parse_value(view: dict, value) -> tuple[float | None, str | None]:
    """O número de uma resposta numérica, ou o problema de forma (não preenchida, não número)."""
    title = view["name"]
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
        value = value.item()
    if value is None or value is Ellipsis:
        return None, f"a resposta `{title}` ainda não foi preenchida."
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None, f"a resposta `{title}` deve ser um número; recebido {value!r}."
    if not np.isfinite(value):
        return None, f"a resposta `{title}` deve ser um número finito; recebido {value!r}."
    return float(value), None


def judge_value(view: dict, value, expected: float, mistakes: list[tuple[float, str]]) -> Result:
    """Julga uma resposta numérica com a tolerância absoluta ``view["tolerance"]``.

    O valor esperado nunca aparece na mensagem: seria a própria resposta.
    """
    tolerance, unit = view["tolerance"], view.get("unit", "")
    number, problem = parse_value(view, value)
    points = float(view["points"])
    if problem:
        return Result(view["id"], view["name"], 0.0, points, 0, 1, [f"✘ {problem}"])
    if abs(number - expected) <= tolerance:
        return Result(view["id"], view["name"], points, points, 1, 1, [])
    hint = view["general_hint"]
    for wrong, text in mistakes:
        if wrong is not None and abs(number - wrong) <= tolerance:
            hint = text
            break
    else:
        if abs(number - expected) <= 5 * tolerance:
            hint = (
                "você está perto: confira o arredondamento e escreva a resposta "
                "com mais algarismos significativos (ou calcule-a com código)."
            )
    messages = [
        f"✘ a resposta {number:.6g}{unit} não confere com a esperada "
        f"(tolerância ±{tolerance:g}{unit}).",
        f"Dica: {hint}",
    ]
    return Result(view["id"], view["name"], 0.0, points, 0, 1, messages)


def check_value_form(view: dict, value) -> Result:
    """A verificação de uma resposta numérica no caderno: só a forma, sem o valor.

    O valor esperado não vai no material do aluno; a correção o confere.
    """
    _, problem = parse_value(view, value)
    message = (
        f"✘ {problem}" if problem else "a resposta é um número; o valor é conferido na correção."
    )
    points = float(view["points"])
    return Result(view["id"], view["name"], 0.0, points, 0, 1, [message], pending=True)


def missing_result(view: dict, reason: str) -> Result:
    """Zero pontos numa questão, com o motivo."""
    points = float(view["points"])
    return Result(view["id"], view["name"], 0.0, points, 0, 1, [f"✘ {reason}"])
