"""Verificações automáticas dos trabalhos práticos, com retorno em português.

Cada questão avaliada tem uma função ``check_*`` que:

1. roda a função do aluno em casos com semente fixa, incluindo **casos ocultos** que o
   caderno do aluno não mostra;
2. compara com a implementação de referência com tolerâncias documentadas (por padrão
   ``rtol=1e-5, atol=1e-7`` em float64 e ``rtol=1e-3, atol=1e-5`` em float32);
3. imprime o que era esperado, o que veio e uma dica, reconhecendo os erros comuns
   (variância com 1/(N-1), épsilon fora da raiz, eixo errado, ...);
4. devolve um :class:`Result` com a pontuação (proporcional aos casos corretos).

Exceções levantadas pelo código do aluno são capturadas e explicadas: a verificação nunca
termina num *traceback*.

:func:`grade_assignment` roda todas as verificações de um trabalho sobre as funções e
respostas definidas no caderno; o comando de correção (:mod:`bnlib.kit.grading`) a chama no
fim de cada caderno e lê o registro que ela imprime.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import json
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bnlib.core.batchnorm import batchnorm_backward, batchnorm_forward
from bnlib.core.gradcheck import numerical_gradient
from bnlib.core.reference import batchnorm_inference
from bnlib.core.validation import shape_text

MARKER = "@@BNLIB-NOTAS@@"
"""Prefixo da linha com o registro JSON que :func:`grade_assignment` imprime."""

PLACEHOLDER = 'raise NotImplementedError("Escreva sua solução aqui.")'


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------

RESULT_KEYS = {
    "question": "questao",
    "title": "titulo",
    "points": "pontos",
    "max_points": "maximo",
    "cases_passed": "casos_ok",
    "cases_total": "casos_total",
    "messages": "mensagens",
}
"""As chaves do dicionário de :meth:`Result.as_dict`: o formato do registro JSON e do
relatório de notas, que continua em português."""


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
        Pontos obtidos e pontos possíveis.
    cases_passed, cases_total : int
        Casos de teste corretos e total de casos (visíveis e ocultos).
    messages : list of str
        O retorno impresso para o aluno.
    """

    question: str
    title: str
    points: float
    max_points: float
    cases_passed: int
    cases_total: int
    messages: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Verdadeiro quando todos os casos passaram."""
        return self.cases_passed == self.cases_total

    def as_dict(self) -> dict[str, Any]:
        """O resultado como dicionário simples (para JSON), com as chaves em português do
        registro e do relatório (:data:`RESULT_KEYS`)."""
        return {RESULT_KEYS[k]: v for k, v in asdict(self).items()}

    def text(self) -> str:
        """O retorno completo, como é impresso."""
        symbol = "✔" if self.passed else "✘"
        header = (
            f"{symbol} Questão {self.question} ({self.title}): "
            f"{_fmt_points(self.points)}/{_fmt_points(self.max_points)} pontos; "
            f"{self.cases_passed} de {self.cases_total} "
            f"{'caso correto' if self.cases_total == 1 else 'casos corretos'}."
        )
        return "\n".join([header, *("  " + m for m in self.messages)])

    def __repr__(self) -> str:
        return (
            f"Result(questão {self.question}: {_fmt_points(self.points)}/"
            f"{_fmt_points(self.max_points)} pontos)"
        )


def _fmt_points(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _fmt_array(a: Any, n: int = 4) -> str:
    array = np.asarray(a)
    if array.ndim == 0:
        return np.format_float_positional(float(array), precision=6, trim="-")
    flat_array = array.reshape(-1)
    text = np.array2string(flat_array[:n], precision=5, separator=", ")
    return text[:-1] + ", …]" if flat_array.size > n else text


def _is_library_file(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return (
        "bnlib" in parts
        or "site-packages" in parts
        or "lib" in parts[:-1]
        and ("python3" in "/".join(parts))
    )


def _translate_error(error: BaseException) -> str | None:
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
    return None


def _where(error: BaseException) -> tuple[int | None, str]:
    frames = traceback.extract_tb(error.__traceback__)
    student_frames = [q for q in frames if not _is_library_file(q.filename)]
    if not student_frames:
        return None, ""
    last = student_frames[-1]
    where = f" na linha {last.lineno} do seu código"
    if last.line:
        where += f" (`{last.line.strip()}`)"
    return last.lineno, where


def _explain_exception(error: BaseException) -> str:
    """Uma frase sobre a exceção do aluno, com a linha do código dele em que ocorreu."""
    if isinstance(error, NotImplementedError):
        return "a função ainda não foi implementada (levantou NotImplementedError)."
    if isinstance(error, CaseTimeout):
        _, where = _where(error)
        return (
            f"sua função passou de {_fmt_points(CASE_TIME_LIMIT)} s sem terminar e foi "
            f"interrompida{where}. Há um laço infinito? Confira a condição de parada e o "
            "incremento de cada `while`."
        )
    _, where = _where(error)
    sentence = f"sua função levantou {type(error).__name__}{where}: {error}"
    translation = _translate_error(error)
    return f"{sentence}. Em português: {translation}" if translation else sentence


CASE_TIME_LIMIT = 5.0
"""Tempo máximo, em segundos, de uma chamada à função do aluno num caso de teste."""


class CaseTimeout(BaseException):
    """A função do aluno passou de :data:`CASE_TIME_LIMIT` (herda de ``BaseException`` para
    que um ``except Exception`` no código do aluno não a engula)."""


@contextlib.contextmanager
def _time_limit(seconds: float = CASE_TIME_LIMIT):
    """Interrompe o bloco com :class:`CaseTimeout` depois de ``seconds``.

    Usa ``SIGALRM``; fora da *thread* principal ou sem ``SIGALRM`` (Windows), não limita.
    """
    can_limit = (
        hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    if not can_limit:
        yield
        return

    def on_alarm(signum, frame):
        raise CaseTimeout

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)


def _call(function, *args, **kwargs):
    """Chama a função do aluno com o limite de tempo :data:`CASE_TIME_LIMIT`."""
    with _time_limit():
        return function(*args, **kwargs)


def _cases_text(n: int, hidden: bool = True) -> str:
    adjective = " oculto" if hidden else ""
    return f"{n} caso{adjective}" if n == 1 else f"{n} casos{adjective}s"


# --------------------------------------------------------------------------------------
# Motor das verificações de funções
# --------------------------------------------------------------------------------------


@dataclass
class _Case:
    description: str
    args: tuple
    hidden: bool = True
    kwargs: dict = field(default_factory=dict)


@dataclass
class _Mistake:
    """Um erro comum: uma implementação errada e a dica que explica o que corrigir."""

    hint: str
    function: Callable


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if dataclasses.is_dataclass(value):
        return copy.deepcopy(value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _tolerances(case: _Case, rtol: float, atol: float) -> tuple[float, float]:
    arrays = [a for a in case.args if isinstance(a, np.ndarray)]
    if any(a.dtype == np.float32 for a in arrays):
        return max(rtol, 1e-3), max(atol, 1e-5)
    return rtol, atol


def _split_output(output, n: int, names: tuple[str, ...]) -> tuple[list, str | None]:
    """Separa a saída em ``n`` partes; devolve também um problema de formato, se houver."""
    if output is None:
        return [], "a função devolveu None: faltou o `return` no fim dela?"
    if n == 1:
        if isinstance(output, tuple | list) and len(output) > 1:
            return [], (
                f"a função deve devolver só {names[0]} (um array); devolveu uma sequência de "
                f"{len(output)} valores. Tire os valores a mais do `return`."
            )
        return [output], None
    if not isinstance(output, tuple | list) or len(output) != n:
        received = (
            f"uma sequência de {len(output)} valores"
            if isinstance(output, tuple | list)
            else f"um objeto do tipo {type(output).__name__}"
        )
        return [], (
            f"a função deve devolver uma tupla de {n} valores ({', '.join(names)}); "
            f"devolveu {received}."
        )
    return list(output), None


def _shape_hint(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str:
    """Explica um shape errado quando os valores, rearrumados, estão certos."""
    if got.size != expected.size:
        return ""
    if np.allclose(got.reshape(expected.shape), expected, rtol=rtol, atol=atol):
        if got.squeeze().shape == expected.squeeze().shape:
            return (
                " Os valores estão certos; sobram ou faltam eixos de tamanho 1: tire o "
                "`keepdims=True` do resultado final ou use `.reshape` no fim."
            )
        return " Os valores estão certos, mas na forma errada: use `.reshape` no fim."
    if (
        got.ndim == 2
        and expected.ndim == 2
        and got.T.shape == expected.shape
        and np.allclose(got.T, expected, rtol=rtol, atol=atol)
    ):
        return " O resultado está transposto: não troque os eixos (sem `.T`)."
    return ""


def _difference(got, expected: np.ndarray, rtol: float, atol: float) -> str | None:
    """Descreve a diferença entre ``got`` e ``expected``; ``None`` se concordam."""
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"esperado um array numérico; recebido {type(got).__name__}."
    if got.shape != expected.shape:
        return (
            f"shape esperado {shape_text(expected.shape)}, recebido "
            f"{shape_text(got.shape)}." + _shape_hint(got, expected, rtol, atol)
        )
    if not np.all(np.isfinite(got)):
        return f"o resultado contém NaN ou infinito: {_fmt_array(got)}."
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        return None
    error = np.abs(got - expected) - rtol * np.abs(expected)
    index = np.unravel_index(int(np.argmax(error)), expected.shape) if expected.ndim else ()
    position = f" na posição {tuple(int(i) for i in index)}" if expected.ndim else ""
    return (
        f"valores diferentes{position}: esperado {float(expected[index]):.6g}, "
        f"recebido {float(got[index]):.6g} (esperado {_fmt_array(expected)}, "
        f"recebido {_fmt_array(got)})."
    )


def _dtype_warning(case: _Case, parts: list) -> str | None:
    """Um aviso quando a entrada é float32 e a saída veio em outro tipo (em geral float64)."""
    if not any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in case.args):
        return None
    kinds = {np.asarray(p).dtype for p in parts}
    if kinds <= {np.dtype(np.float32)}:
        return None
    got = ", ".join(sorted(t.name for t in kinds))
    return (
        f"no caso «{case.description}» a entrada é float32 e a saída veio {got}. Os valores "
        "estão certos, mas uma rede em float32 gastaria o dobro de memória: mantenha o tipo "
        "da entrada, sem `astype(np.float64)`, com `dtype=x.dtype` em `np.zeros`/`np.ones`, "
        "e com `int(...)` em contagens como `np.prod(...)` (um inteiro do numpy promove o "
        "float32 a float64)."
    )


def _agrees(parts, expected_parts, rtol, atol) -> bool:
    return all(
        _difference(p, e, rtol, atol) is None for p, e in zip(parts, expected_parts, strict=True)
    )


def _check_function(
    question: str,
    title: str,
    function,
    *,
    cases: list[_Case],
    reference: Callable,
    mistakes: list[_Mistake],
    names: tuple[str, ...],
    general_hint: str,
    points: float,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    quiet: bool = False,
    extra: Callable[[_Case, list], str | None] | None = None,
) -> Result:
    messages: list[str] = []
    ok = 0
    unexplained = 0
    hints_per_case: list[list[str]] = []
    repeats: dict[tuple, int] = {}
    dtype_warning: str | None = None
    if not callable(function):
        messages.append(
            f"`{title}` deveria ser uma função; recebido {type(function).__name__}. "
            "Rode a célula em que você a define."
        )
        cases_to_run = []
    else:
        cases_to_run = cases
    for case in cases_to_run:
        label = f"caso {'oculto ' if case.hidden else ''}«{case.description}»"
        rt, at = _tolerances(case, rtol, atol)
        expected = reference(*(_copy(a) for a in case.args), **case.kwargs)
        expected_parts = [np.asarray(e, dtype=np.float64) for e in _as_tuple(expected, names)]
        args = tuple(_copy(a) for a in case.args)
        try:
            output = _call(function, *args, **case.kwargs)
        except (Exception, CaseTimeout) as error:  # noqa: BLE001 — o código do aluno pode levantar qualquer coisa
            explanation = _explain_exception(error)
            key = (type(error).__name__, _where(error)[0])
            if key in repeats:
                repeats[key] += 1
            else:
                repeats[key] = 0
                messages.append(f"✘ {label}: {explanation}")
            if isinstance(error, NotImplementedError | CaseTimeout):
                break
            continue
        parts, problem = _split_output(output, len(names), names)
        if problem is None and extra is not None:
            problem = extra(case, [args, parts])
        if problem is None:
            differences = [
                (name, _difference(p, e, rt, at))
                for name, p, e in zip(names, parts, expected_parts, strict=True)
            ]
            differences = [(name, d) for name, d in differences if d is not None]
            if not differences:
                ok += 1
                if dtype_warning is None:
                    dtype_warning = _dtype_warning(case, parts)
                continue
            problem = " ".join(f"{name}: {d}" if len(names) > 1 else d for name, d in differences)
            value_mismatch = any(not _is_self_explanatory(d) for _, d in differences)
            hints = _case_hints(mistakes, case, parts, names, rt, at) if value_mismatch else []
            if hints:
                hints_per_case.append(hints)
            elif value_mismatch:
                unexplained += 1
        key = ("problem", problem)
        if key in repeats:  # o mesmo problema de formato em vários casos: uma linha só
            repeats[key] += 1
            continue
        repeats[key] = 0
        messages.append(f"✘ {label}: {problem}")
    repeated = sum(repeats.values())
    if repeated:
        messages.append(f"✘ o mesmo problema em mais {_cases_text(repeated)}.")
    chosen = _choose_hints(hints_per_case)
    if unexplained and not chosen:
        chosen.append(general_hint)
    messages.extend(f"Dica: {d}" for d in chosen)
    if dtype_warning:
        messages.append(f"Aviso (sem desconto): {dtype_warning}")
    total = len(cases)
    result = Result(question, title, round(points * ok / total, 2), points, ok, total, messages)
    if not quiet:
        print(result.text())
    return result


def _is_self_explanatory(difference: str) -> bool:
    """Se a mensagem já diz o que corrigir (tipo errado, ou shape errado com valores certos)."""
    return difference.startswith("os valores estão certos") or (
        difference.startswith("shape esperado")
        and ("Os valores estão certos" in difference or "transposto" in difference)
    )


def _case_hints(mistakes, case, parts, names, rt, at) -> list[str]:
    """As dicas de todos os erros comuns que reproduzem a saída do aluno neste caso."""
    hints = []
    for mistake in mistakes:
        try:
            wrong = mistake.function(*(_copy(a) for a in case.args), **case.kwargs)
        except (ValueError, FloatingPointError, ZeroDivisionError):
            continue
        wrong_parts = [np.asarray(e, dtype=np.float64) for e in _as_tuple(wrong, names)]
        if _agrees(parts, wrong_parts, rt, at):
            hints.append(mistake.hint)
    return hints


def _choose_hints(hints_per_case: list[list[str]]) -> list[str]:
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


def _as_tuple(value, names):
    return tuple(value) if len(names) > 1 else (value,)


def _check_value(
    question: str,
    title: str,
    value,
    *,
    expected: float,
    tolerance: float,
    mistakes: list[tuple[float, str]],
    general_hint: str,
    points: float,
    quiet: bool,
    unit: str = "",
) -> Result:
    """Verifica uma resposta numérica com tolerância absoluta ``tolerance``."""
    messages: list[str] = []
    ok = 0
    if value is None or value is Ellipsis:
        messages.append(f"✘ a resposta `{title}` ainda não foi preenchida.")
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
            messages.append(f"✘ a resposta `{title}` deve ser um número; recebido {value!r}.")
        if number is not None:
            if abs(number - expected) <= tolerance:
                ok = 1
            else:
                # O valor esperado não é mostrado: seria a própria resposta.
                messages.append(
                    f"✘ a resposta {number:.6g}{unit} não confere com a esperada "
                    f"(tolerância ±{tolerance:g}{unit})."
                )
                hint = general_hint
                for wrong, text in mistakes:
                    if abs(number - wrong) <= tolerance:
                        hint = text
                        break
                else:
                    if abs(number - expected) <= 5 * tolerance:
                        hint = (
                            "você está perto: confira o arredondamento e escreva a resposta "
                            "com mais algarismos significativos (ou calcule-a com código)."
                        )
                messages.append(f"Dica: {hint}")
    result = Result(question, title, float(points * ok), points, ok, 1, messages)
    if not quiet:
        print(result.text())
    return result


# --------------------------------------------------------------------------------------
# Dados dos casos (sementes fixas)
# --------------------------------------------------------------------------------------


def _normal(seed: int, shape, loc=0.0, scale=1.0, dtype=np.float64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (loc + scale * rng.standard_normal(shape)).astype(dtype)


def _x_nearly_constant(seed: int) -> np.ndarray:
    """Lote (16, 4) com um atributo de desvio padrão 1e-3, onde o épsilon pesa."""
    x = _normal(seed, (16, 4), loc=2.0, scale=1.5)
    x[:, 1] = 5.0 + 1e-3 * _normal(seed + 1, 16)
    return x


def _params(seed: int, f: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        (1.0 + 0.5 * rng.standard_normal(f)).astype(dtype),
        (0.5 * rng.standard_normal(f)).astype(dtype),
    )


# --------------------------------------------------------------------------------------
# Referências e erros comuns
# --------------------------------------------------------------------------------------

EPS = 1e-5


def _stats(x, axes, ddof=0):
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).sum(axis=axes, keepdims=True) / (
        np.prod([x.shape[a] for a in axes]) - ddof
    )
    return mean, var


def _normalize(x, axes, eps=EPS, ddof=0, eps_outside=False):
    mean, var = _stats(x, axes, ddof)
    if eps_outside:
        return (x - mean) / (np.sqrt(var) + eps)
    return (x - mean) / np.sqrt(var + eps)


def _affine(x_hat, gamma, beta):
    shape = (1, -1) + (1,) * (x_hat.ndim - 2)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)


def layer_norm_reference(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = EPS):
    """Normalização de camada de referência.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Cada exemplo é normalizado sobre os seus D atributos (variância enviesada).
    gamma, beta : ndarray, shape (D,)
    eps : float

    Returns
    -------
    y : ndarray, shape (N, D)
    """
    return _normalize(x, (1,), eps) * gamma + beta


def group_norm_reference(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, groups: int, eps: float = EPS
):
    """Normalização de grupo de referência.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Os C canais são divididos em ``groups`` grupos de canais **consecutivos**; cada
        exemplo é normalizado sobre (canais do grupo, H, W).
    gamma, beta : ndarray, shape (C,)
    groups : int
        Divide C.
    eps : float

    Returns
    -------
    y : ndarray, shape (N, C, H, W)
    """
    n, c, h, w = x.shape
    grouped = x.reshape(n, groups, c // groups, h, w)
    x_hat = _normalize(grouped, (2, 3, 4), eps).reshape(x.shape)
    return _affine(x_hat, gamma, beta)


def _bn_backward_ref(dy, x, gamma, eps=EPS):
    _, cache = batchnorm_forward(x, gamma, np.zeros_like(gamma), eps)
    return batchnorm_backward(dy, cache)


def _bn_backward_variant(dy, x, gamma, eps=EPS, axes=None, ddof=0, kind="ok", m=None):
    """Retropropagação nó a nó com um erro comum planejado (para reconhecer o erro do aluno).

    ``axes``: eixos das estatísticas (o certo é (0,) ou (0, 2, 3)); ``ddof=1``: passo
    direto com a variância não enviesada; ``kind``: ``"direct_only"`` (dx sem os caminhos
    por μ e σ²), ``"no_variance"`` (sem o caminho por σ²), ``"no_mean"`` (sem o
    caminho por μ), ``"dx_no_gamma"``, ``"dgamma_with_x"``; ``m``: o número de valores
    por atributo usado nas fórmulas (o certo é o produto dos eixos de ``axes``).
    """
    correct_axes = (0,) if x.ndim == 2 else (0, 2, 3)
    axes = axes if axes is not None else correct_axes
    count = int(np.prod([x.shape[a] for a in axes]))
    m = m if m is not None else count
    xmu = x - x.mean(axis=axes, keepdims=True)
    var = (xmu**2).sum(axis=axes, keepdims=True) / (count - ddof)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = xmu * inv_std
    dx_hat = dy * (1.0 if kind == "dx_no_gamma" else gamma.reshape((1, -1) + (1,) * (x.ndim - 2)))
    dbeta = dy.sum(axis=correct_axes)
    dgamma = (dy * (x if kind == "dgamma_with_x" else x_hat)).sum(axis=correct_axes)
    dxmu = dx_hat * inv_std
    if kind not in ("direct_only", "no_variance"):
        dvar = (dx_hat * xmu).sum(axis=axes, keepdims=True) * (-0.5) * inv_std**3
        dxmu = dxmu + dvar * 2.0 * xmu / (m - ddof)
    no_mu = kind in ("direct_only", "no_mean")
    dx = dxmu if no_mu else dxmu - dxmu.sum(axis=axes, keepdims=True) / m
    return dx, dgamma, dbeta


def _per_position_backward(dy, x, gamma, eps=EPS):
    """O erro «cada posição espacial é um atributo» na BN espacial."""
    n, c, h, w = x.shape
    flat = x.reshape(n, -1)
    g = np.repeat(gamma, h * w)
    dx, dgamma, dbeta = _bn_backward_variant(dy.reshape(n, -1), flat, g, eps)
    return dx.reshape(x.shape), dgamma.reshape(c, h, w), dbeta.reshape(c, h, w)


# --------------------------------------------------------------------------------------
# Trabalho 1: passo direto (N, D)
# --------------------------------------------------------------------------------------

_HINT_VARIANCE = "a variância deve usar 1/N, não 1/(N-1): use `x.var(axis=0)` (ddof=0)."
_HINT_AXIS = (
    "eixo errado: a média e a variância são calculadas sobre os exemplos (axis=0), "
    "uma por atributo, e têm shape (D,)."
)
_HINT_EPS_OUTSIDE = (
    "o épsilon vai dentro da raiz: divida por `np.sqrt(var + eps)`, não por `np.sqrt(var) + eps`."
)


def _nd_cases(with_params: bool = True) -> list[_Case]:
    def build_case(description, x, hidden, seed):
        if not with_params:
            return _Case(description, (x,), hidden)
        gamma, beta = _params(seed, x.shape[1], x.dtype)
        return _Case(description, (x, gamma, beta), hidden)

    return [
        build_case("x de shape (4, 3)", _normal(0, (4, 3)), False, 100),
        build_case("N = 2 exemplos", _normal(1, (2, 5), loc=1.0), True, 101),
        build_case(
            "float32, shape (64, 10)", _normal(2, (64, 10), 3.0, 2.0, np.float32), True, 102
        ),
        build_case("atributo quase constante", _x_nearly_constant(3), True, 103),
        build_case("média grande (100)", _normal(4, (32, 6), loc=100.0, scale=0.5), True, 104),
    ]


def check_batch_mean_and_variance(function, quiet: bool = False) -> Result:
    """Questão 1.1: ``batch_mean_and_variance(x) -> (mean, variance)``, shapes (D,).

    Tolerância: ``rtol=1e-5, atol=1e-7`` (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    return _check_function(
        "1.1",
        "batch_mean_and_variance",
        function,
        cases=_nd_cases(with_params=False),
        reference=lambda x: (x.mean(axis=0), x.var(axis=0)),
        mistakes=[
            _Mistake(_HINT_VARIANCE, lambda x: (x.mean(axis=0), x.var(axis=0, ddof=1))),
            _Mistake(_HINT_AXIS, lambda x: (x.mean(axis=1), x.var(axis=1))),
            _Mistake(
                "a média e a variância são uma por atributo (shape (D,)), não um número "
                "para o lote inteiro: passe `axis=0`.",
                lambda x: (x.mean(), x.var()),
            ),
            _Mistake(
                "a função deve devolver a variância (média dos quadrados dos desvios), "
                "não o desvio padrão.",
                lambda x: (x.mean(axis=0), x.std(axis=0)),
            ),
        ],
        names=("média", "variância"),
        general_hint="confira a fórmula: média = Σx/N e variância = Σ(x - média)²/N, por coluna.",
        points=3,
        quiet=quiet,
    )


def check_normalize(function, quiet: bool = False) -> Result:
    """Questão 1.2: ``normalize(x, eps=1e-5) -> x_hat``, shape (N, D).

    Tolerância: ``rtol=1e-5, atol=1e-7`` (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    return _check_function(
        "1.2",
        "normalize",
        function,
        cases=_nd_cases(with_params=False),
        reference=lambda x: _normalize(x, (0,)),
        mistakes=[
            _Mistake(_HINT_VARIANCE, lambda x: _normalize(x, (0,), ddof=1)),
            _Mistake(_HINT_AXIS, lambda x: _normalize(x, (1,))),
            _Mistake(_HINT_EPS_OUTSIDE, lambda x: _normalize(x, (0,), eps_outside=True)),
            _Mistake(
                "faltou o épsilon: divida por `np.sqrt(var + eps)`; sem ele um atributo "
                "quase constante é amplificado demais.",
                lambda x: _normalize(x, (0,), eps=0.0),
            ),
            _Mistake(
                "divida pelo desvio padrão (a raiz de var + eps), não pela variância.",
                lambda x: (x - x.mean(0)) / (x.var(0) + EPS),
            ),
        ],
        names=("x_hat",),
        general_hint=(
            "x_hat = (x - média) / sqrt(variância + eps), com média e variância por coluna."
        ),
        points=3,
        quiet=quiet,
    )


def check_bn_forward_pass(function, quiet: bool = False) -> Result:
    """Questão 1.3: ``bn_forward_pass(x, gamma, beta, eps=1e-5) -> y``, shape (N, D).

    Referência: :func:`bnlib.batchnorm_forward`. Tolerância: ``rtol=1e-5, atol=1e-7``
    (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    return _check_function(
        "1.3",
        "bn_forward_pass",
        function,
        cases=_nd_cases(),
        reference=lambda x, g, b: batchnorm_forward(x, g, b)[0],
        mistakes=[
            _Mistake(_HINT_VARIANCE, lambda x, g, b: _normalize(x, (0,), ddof=1) * g + b),
            _Mistake(_HINT_AXIS, lambda x, g, b: _normalize(x, (1,)) * g + b),
            _Mistake(
                _HINT_EPS_OUTSIDE, lambda x, g, b: _normalize(x, (0,), eps_outside=True) * g + b
            ),
            _Mistake(
                "faltou aplicar a escala e o deslocamento: y = gamma * x_hat + beta.",
                lambda x, g, b: _normalize(x, (0,)),
            ),
            _Mistake(
                "gamma e beta trocados: gamma multiplica x_hat e beta é somado.",
                lambda x, g, b: _normalize(x, (0,)) * b + g,
            ),
            _Mistake(
                "faltou somar beta: y = gamma * x_hat + beta.",
                lambda x, g, b: _normalize(x, (0,)) * g,
            ),
            _Mistake(
                "faltou multiplicar por gamma: y = gamma * x_hat + beta.",
                lambda x, g, b: _normalize(x, (0,)) + b,
            ),
        ],
        names=("y",),
        general_hint="y = gamma * (x - média) / sqrt(variância + eps) + beta, por atributo.",
        points=4,
        quiet=quiet,
    )


# --------------------------------------------------------------------------------------
# Trabalho 2: retropropagação
# --------------------------------------------------------------------------------------


def _backward_cases() -> list[_Case]:
    cases = []
    specs = [
        ("x de shape (4, 3)", (4, 3), False, 0.0, 1.0, np.float64),
        ("N = 2 exemplos", (2, 4), True, 1.0, 1.0, np.float64),
        ("shape (50, 7)", (50, 7), True, -2.0, 3.0, np.float64),
        ("atributo quase constante", None, True, 0.0, 1.0, np.float64),
        ("float32, shape (32, 5)", (32, 5), True, 0.5, 2.0, np.float32),
    ]
    for i, (description, shape, hidden, loc, scale, dtype) in enumerate(specs):
        x = _x_nearly_constant(20 + i) if shape is None else _normal(20 + i, shape, loc, scale)
        x = x.astype(dtype)
        gamma, _ = _params(40 + i, x.shape[1], dtype)
        dy = _normal(60 + i, x.shape, dtype=dtype)
        cases.append(_Case(description, (dy, x, gamma), hidden))
    return cases


def _backward_mistakes() -> list[_Mistake]:
    return [
        _Mistake(
            "dx ignora que a média e a variância também dependem de x: faltam os "
            "caminhos por μ e por σ² (a soma dos gradientes de todos os caminhos).",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="direct_only"),
        ),
        _Mistake(
            "dx considera o caminho pela média, mas falta o caminho pela variância "
            "(dvar = Σ dx_hat·(x - μ)·(-1/2)(var + eps)^(-3/2)).",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="no_variance"),
        ),
        _Mistake(
            "dx considera o caminho pela variância, mas falta o caminho pela média: "
            "dμ = -Σ dx_mu (somando sobre os exemplos) e dx recebe dμ / N.",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="no_mean"),
        ),
        _Mistake(
            "dx_hat = dy · gamma: faltou multiplicar dy por gamma antes de seguir para dx.",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="dx_no_gamma"),
        ),
        _Mistake(
            "dgamma = Σ dy · x_hat (a entrada normalizada), não Σ dy · x.",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="dgamma_with_x"),
        ),
        _Mistake(
            _HINT_VARIANCE + " O passo direto normaliza com a variância enviesada.",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, ddof=1),
        ),
        _Mistake(
            "eixo errado: dgamma e dbeta somam sobre os exemplos (axis=0) e têm shape (D,).",
            lambda dy, x, g: (
                _bn_backward_ref(dy, x, g)[0],
                (dy * _normalize(x, (0,))).sum(axis=1),
                dy.sum(axis=1),
            ),
        ),
        _Mistake(
            "dgamma e dbeta estão trocados na tupla: devolva (dx, dgamma, dbeta).",
            lambda dy, x, g: (lambda r: (r[0], r[2], r[1]))(_bn_backward_ref(dy, x, g)),
        ),
    ]


def check_bn_backward_steps(function, quiet: bool = False) -> Result:
    """Questão 2.1: ``bn_backward_steps(dy, x, gamma, eps=1e-5) -> (dx, dgamma, dbeta)``.

    Referência: :func:`bnlib.batchnorm_backward`. Tolerância: ``rtol=1e-5, atol=1e-7``
    (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    return _check_function(
        "2.1",
        "bn_backward_steps",
        function,
        cases=_backward_cases(),
        reference=_bn_backward_ref,
        mistakes=_backward_mistakes(),
        names=("dx", "dgamma", "dbeta"),
        general_hint=(
            "percorra o grafo de trás para a frente, nó a nó, e some os gradientes que "
            "chegam a um mesmo nó por caminhos diferentes (x - μ é usado duas vezes)."
        ),
        points=4,
        quiet=quiet,
    )


def check_bn_backward_closed_form(function, quiet: bool = False) -> Result:
    """Questão 2.2: ``bn_backward_closed_form(dy, x, gamma, eps=1e-5) -> (dx, dgamma, dbeta)``.

    Mesmas referência e tolerâncias da questão 2.1.
    """
    return _check_function(
        "2.2",
        "bn_backward_closed_form",
        function,
        cases=_backward_cases(),
        reference=_bn_backward_ref,
        mistakes=_backward_mistakes(),
        names=("dx", "dgamma", "dbeta"),
        general_hint=(
            "forma fechada: dx = gamma / (N·sqrt(var + eps)) · (N·dy - Σdy - x_hat·Σ(dy·x_hat))."
        ),
        points=3,
        quiet=quiet,
    )


def _gradient_test_functions():
    """Funções de teste com gradiente analítico conhecido, ``(descrição, f, vjp)``."""

    def cube(x):
        return x**3

    def bn(x):
        return batchnorm_forward(x, np.linspace(0.5, 1.5, x.shape[1]), np.zeros(x.shape[1]))[0]

    def bn_vjp(x, dy):
        return _bn_backward_ref(dy, x, np.linspace(0.5, 1.5, x.shape[1]))[0]

    return {
        "cube": (cube, lambda x, dy: 3 * x**2 * dy),
        "tanh": (np.tanh, lambda x, dy: (1 - np.tanh(x) ** 2) * dy),
        "bn": (bn, bn_vjp),
    }


def _num_grad(f, x, dy, h=1e-5, kind="central"):
    """O gradiente numérico certo (``kind="central"``) e os dois erros típicos."""
    central = numerical_gradient(f, x.copy(), dy, h)
    if kind == "central":
        return central
    if kind == "no_2":  # esqueceu de dividir por 2h: dobra o gradiente
        return 2 * central
    x = x.copy()  # kind == "forward": diferenças para a frente
    fx = np.sum(f(x) * dy)
    dx = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        dx[i] = (np.sum(f(x) * dy) - fx) / h
        x[i] = original
    return dx


def check_numerical_gradient(function, quiet: bool = False) -> Result:
    """Questão 2.3: ``numerical_gradient(f, x, dy, h=1e-5) -> dx`` (diferenças centradas).

    O resultado é comparado com o gradiente **analítico** de funções de teste, com
    ``rtol=1e-6, atol=1e-8``: diferenças centradas erram ~h², diferenças para a frente
    ~h, e são reprovadas. Exige-se também que ``x`` volte intacto.
    """
    functions = _gradient_test_functions()
    cases = [
        _Case("f(x) = x³, shape (3, 2)", ("cube", _normal(70, (3, 2)), _normal(71, (3, 2))), False),
        _Case("f(x) = tanh(x), shape (4, 3)", ("tanh", _normal(72, (4, 3)), _normal(73, (4, 3)))),
        _Case("f = BN, shape (5, 3)", ("bn", _normal(74, (5, 3)), _normal(75, (5, 3)))),
    ]

    def with_kind(kind):
        def g(name, x, dy):
            return _num_grad(functions[name][0], x, dy, kind=kind)

        return g

    def student(name, x, dy):
        return function(functions[name][0], x, dy)

    def x_unchanged(case, data):
        args, _ = data
        if not np.array_equal(args[1], case.args[1]):
            return (
                "sua função deixou `x` alterado: restaure cada elemento depois de "
                "perturbá-lo (x[i] = original)."
            )
        return None

    return _check_function(
        "2.3",
        "numerical_gradient",
        student if callable(function) else function,
        cases=cases,
        reference=lambda name, x, dy: functions[name][1](x, dy),
        mistakes=[
            _Mistake(
                "use diferenças centradas, (f(x + h) - f(x - h)) / 2h: as diferenças para a "
                "frente, (f(x + h) - f(x)) / h, erram da ordem de h.",
                with_kind("forward"),
            ),
            _Mistake("faltou dividir por 2h (você dividiu por h).", with_kind("no_2")),
        ],
        names=("dx",),
        general_hint=(
            "para cada elemento i: dx[i] = (Σ f(x + h·e_i)·dy - Σ f(x - h·e_i)·dy) / (2h); "
            "some o produto com dy antes de subtrair."
        ),
        points=3,
        rtol=1e-6,
        atol=1e-8,
        quiet=quiet,
        extra=x_unchanged,
    )


# --------------------------------------------------------------------------------------
# Trabalho 3: estatísticas acumuladas e inferência
# --------------------------------------------------------------------------------------


def _update_ref(mean, var, x, momentum=0.1, ddof=1, inverted=False, axis=0):
    m = x.mean(axis=axis)
    v = x.var(axis=axis, ddof=ddof)
    if inverted:
        return momentum * mean + (1 - momentum) * m, momentum * var + (1 - momentum) * v
    return (1 - momentum) * mean + momentum * m, (1 - momentum) * var + momentum * v


def check_update_running_averages(function, quiet: bool = False) -> Result:
    """Questão 3.1: ``update_running_averages(running_mean, running_var, x, momentum=0.1)``.

    Devolve ``(new_mean, new_var)``, shapes (D,), na convenção do PyTorch (variância do
    lote não enviesada). Referência: :func:`bnlib.update_running_stats`. Tolerância:
    ``rtol=1e-5, atol=1e-7``.
    """
    cases = []
    for i, (description, n, d, mom, hidden) in enumerate(
        [
            ("estado inicial (0, 1), x (8, 3)", 8, 3, 0.1, False),
            ("momentum = 0,5", 5, 4, 0.5, True),
            ("estado qualquer, N = 2", 2, 6, 0.1, True),
            ("momentum = 0,01, x (40, 3)", 40, 3, 0.01, True),
        ]
    ):
        x = _normal(80 + i, (n, d), loc=3.0, scale=2.0)
        mean = np.zeros(d) if i == 0 else _normal(90 + i, d)
        var = np.ones(d) if i == 0 else 1.0 + _normal(95 + i, d) ** 2
        cases.append(_Case(description, (mean, var, x), hidden, {"momentum": mom}))
    return _check_function(
        "3.1",
        "update_running_averages",
        function,
        cases=cases,
        reference=_update_ref,
        mistakes=[
            _Mistake(
                "as estatísticas acumuladas guardam a variância NÃO enviesada, 1/(N-1), "
                "como o PyTorch: use `x.var(axis=0, ddof=1)`.",
                lambda *a, **k: _update_ref(*a, ddof=0, **k),
            ),
            _Mistake(
                "momentum é o peso do lote NOVO: acumulada = (1 - momentum)·acumulada + "
                "momentum·do_lote.",
                lambda *a, **k: _update_ref(*a, inverted=True, **k),
            ),
            _Mistake(
                "dois erros: momentum é o peso do lote NOVO, acumulada = (1 - momentum)·"
                "acumulada + momentum·do_lote; e a variância do lote entra NÃO enviesada, "
                "`x.var(axis=0, ddof=1)`.",
                lambda *a, **k: _update_ref(*a, ddof=0, inverted=True, **k),
            ),
            _Mistake(_HINT_AXIS, lambda *a, **k: _update_ref(*a, axis=1, **k)),
        ],
        names=("new_mean", "new_var"),
        general_hint=(
            "nova = (1 - momentum)·acumulada + momentum·do_lote, com a média e a variância "
            "não enviesada do lote por atributo."
        ),
        points=4,
        quiet=quiet,
    )


def check_bn_inference(function, quiet: bool = False) -> Result:
    """Questão 3.2: ``bn_inference(x, gamma, beta, running_mean, running_var, eps=1e-5) -> y``.

    Referência: :func:`bnlib.batchnorm_inference`. Tolerância: ``rtol=1e-5, atol=1e-7``.
    Um caso oculto tem um único exemplo (N = 1).
    """
    cases = []
    for i, (description, n, d, hidden) in enumerate(
        [
            ("x de shape (4, 3)", 4, 3, False),
            ("um único exemplo (N = 1)", 1, 5, True),
            ("shape (20, 6)", 20, 6, True),
            ("variância acumulada pequena", 6, 4, True),
        ]
    ):
        x = _normal(110 + i, (n, d), loc=1.0, scale=2.0)
        gamma, beta = _params(120 + i, d)
        mean = _normal(130 + i, d)
        var = (1e-5 if i == 3 else 1.0) * (0.5 + _normal(140 + i, d) ** 2)
        cases.append(_Case(description, (x, gamma, beta, mean, var), hidden))

    def with_batch_stats(x, g, b, m, v):
        return _normalize(x, (0,)) * g + b if x.shape[0] > 1 else b + 0 * x

    return _check_function(
        "3.2",
        "bn_inference",
        function,
        cases=cases,
        reference=batchnorm_inference,
        mistakes=[
            _Mistake(
                "na inferência use as estatísticas ACUMULADAS (running_mean, running_var), não a "
                "média e a variância do lote: a saída de um exemplo não pode depender dos "
                "outros exemplos.",
                with_batch_stats,
            ),
            _Mistake(
                _HINT_EPS_OUTSIDE,
                lambda x, g, b, m, v: (x - m) / (np.sqrt(v) + EPS) * g + b,
            ),
            _Mistake(
                "divida pelo desvio padrão, np.sqrt(running_var + eps), não pela variância.",
                lambda x, g, b, m, v: (x - m) / (v + EPS) * g + b,
            ),
        ],
        names=("y",),
        general_hint="y = gamma · (x - running_mean) / sqrt(running_var + eps) + beta.",
        points=4,
        quiet=quiet,
    )


def check_answer_initial_weight(value, quiet: bool = False) -> Result:
    """Questão 3.3: o peso do valor inicial na média acumulada após 50 lotes, momentum 0,1.

    Esperado 0,9⁵⁰ ≈ 0,00515, tolerância absoluta 1e-4.
    """
    return _check_value(
        "3.3",
        "answer_initial_weight",
        value,
        expected=0.9**50,
        tolerance=1e-4,
        mistakes=[
            (0.1**50, "cada atualização multiplica o valor antigo por (1 - momentum) = 0,9."),
            (0.9**49, "conte as 50 atualizações: são 50 fatores (1 - momentum)."),
            (0.9**51, "conte as 50 atualizações: são 50 fatores (1 - momentum)."),
        ],
        general_hint="cada atualização multiplica o peso do valor inicial por (1 - momentum).",
        points=2,
        quiet=quiet,
    )


# --------------------------------------------------------------------------------------
# Trabalho 4: BN espacial (N, C, H, W)
# --------------------------------------------------------------------------------------


def _spatial_cases(with_dy: bool) -> list[_Case]:
    cases = []
    for i, (description, shape, hidden, dtype) in enumerate(
        [
            ("x de shape (2, 3, 4, 4)", (2, 3, 4, 4), False, np.float64),
            ("um único exemplo (N = 1)", (1, 3, 4, 5), True, np.float64),
            ("shape (4, 2, 3, 5)", (4, 2, 3, 5), True, np.float64),
            ("float32, shape (8, 4, 6, 6)", (8, 4, 6, 6), True, np.float32),
        ]
    ):
        x = _normal(150 + i, shape, loc=1.0, scale=2.0, dtype=dtype)
        x = x + np.arange(shape[1], dtype=dtype).reshape(1, -1, 1, 1)
        gamma, beta = _params(160 + i, shape[1], dtype)
        if with_dy:
            dy = _normal(170 + i, shape, dtype=dtype)
            cases.append(_Case(description, (dy, x, gamma), hidden))
        else:
            cases.append(_Case(description, (x, gamma, beta), hidden))
    return cases


_HINT_SPATIAL_POSITION = (
    "na BN espacial há uma média e uma variância por CANAL, calculadas sobre N, H e W "
    "juntos (axis=(0, 2, 3)); você normalizou cada posição (c, h, w) separadamente, como "
    "se cada pixel fosse um atributo."
)
_HINT_SPATIAL_INSTANCE = (
    "você normalizou cada exemplo sozinho (axis=(2, 3), a normalização de instância); a "
    "BN junta também os exemplos do lote: axis=(0, 2, 3)."
)


def check_spatial_bn_forward(function, quiet: bool = False) -> Result:
    """Questão 4.1: ``spatial_bn_forward(x, gamma, beta, eps=1e-5) -> y``.

    ``x`` (N, C, H, W), ``gamma`` e ``beta`` (C,). Referência: :func:`bnlib.batchnorm_forward`.
    Tolerância: ``rtol=1e-5, atol=1e-7`` (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    return _check_function(
        "4.1",
        "spatial_bn_forward",
        function,
        cases=_spatial_cases(with_dy=False),
        reference=lambda x, g, b: batchnorm_forward(x, g, b)[0],
        mistakes=[
            _Mistake(_HINT_SPATIAL_POSITION, lambda x, g, b: _affine(_normalize(x, (0,)), g, b)),
            _Mistake(_HINT_SPATIAL_INSTANCE, lambda x, g, b: _affine(_normalize(x, (2, 3)), g, b)),
            _Mistake(
                _HINT_VARIANCE.replace("1/N", "1/m").replace("1/(N-1)", "1/(m-1)")
                + " Aqui m = N·H·W.",
                lambda x, g, b: _affine(_normalize(x, (0, 2, 3), ddof=1), g, b),
            ),
            _Mistake(
                "você normalizou cada exemplo sobre todos os canais (axis=(1, 2, 3)); a BN "
                "normaliza cada canal sobre o lote: axis=(0, 2, 3).",
                lambda x, g, b: _affine(_normalize(x, (1, 2, 3)), g, b),
            ),
        ],
        names=("y",),
        general_hint=(
            "calcule a média e a variância com axis=(0, 2, 3) e keepdims=True, e dê a gamma e "
            "beta o shape (1, C, 1, 1)."
        ),
        points=5,
        quiet=quiet,
    )


def check_spatial_bn_backward(function, quiet: bool = False) -> Result:
    """Questão 4.2: ``spatial_bn_backward(dy, x, gamma, eps=1e-5) -> (dx, dgamma, dbeta)``.

    Referência: :func:`bnlib.batchnorm_backward`. Tolerâncias como em 4.1.
    """
    return _check_function(
        "4.2",
        "spatial_bn_backward",
        function,
        cases=_spatial_cases(with_dy=True),
        reference=_bn_backward_ref,
        mistakes=[
            _Mistake(_HINT_SPATIAL_POSITION, _per_position_backward),
            _Mistake(
                _HINT_SPATIAL_INSTANCE,
                lambda dy, x, g: _bn_backward_variant(dy, x, g, axes=(2, 3)),
            ),
            _Mistake(
                "a variância do passo direto divide por m = N·H·W, não por m - 1.",
                lambda dy, x, g: _bn_backward_variant(dy, x, g, ddof=1),
            ),
            _Mistake(
                _HINT_SPATIAL_POSITION,
                lambda dy, x, g: _bn_backward_variant(dy, x, g, axes=(0,)),
            ),
            _Mistake(
                "cada canal tem m = N·H·W valores, não N: use esse m nas divisões do dx.",
                lambda dy, x, g: _bn_backward_variant(dy, x, g, m=x.shape[0]),
            ),
            _Mistake(
                "dx ignora que a média e a variância do canal também dependem de x.",
                lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="direct_only"),
            ),
            _Mistake(
                "dx considera o caminho pela média, mas falta o caminho pela variância do canal.",
                lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="no_variance"),
            ),
            _Mistake(
                "dx_hat = dy · gamma (com gamma.reshape(1, -1, 1, 1)): faltou o gamma no dx.",
                lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="dx_no_gamma"),
            ),
        ],
        names=("dx", "dgamma", "dbeta"),
        general_hint=(
            "uma saída fácil: transponha x para (N, H, W, C), achate para (N·H·W, C), use a "
            "retropropagação de (N, D) e desfaça a transposição."
        ),
        points=5,
        quiet=quiet,
    )


# --------------------------------------------------------------------------------------
# Trabalho 5: normalização de camada e de grupo
# --------------------------------------------------------------------------------------


def check_layer_normalization(function, quiet: bool = False) -> Result:
    """Questão 5.1: ``layer_normalization(x, gamma, beta, eps=1e-5) -> y``, ``x`` (N, D).

    Referência: :func:`layer_norm_reference` (igual a ``torch.nn.functional.layer_norm``).
    Tolerância: ``rtol=1e-5, atol=1e-7`` (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    cases = [c for c in _nd_cases() if "N = 2" not in c.description]
    cases.append(_Case("um único exemplo (N = 1)", (_normal(9, (1, 6)), *_params(109, 6))))
    return _check_function(
        "5.1",
        "layer_normalization",
        function,
        cases=cases,
        reference=layer_norm_reference,
        mistakes=[
            _Mistake(
                "você normalizou sobre o lote (axis=0): isso é a normalização em lote. A "
                "normalização de camada usa cada exemplo sozinho: axis=1, keepdims=True.",
                lambda x, g, b: _normalize(x, (0,)) * g + b,
            ),
            _Mistake(
                _HINT_VARIANCE.replace("1/N", "1/D")
                .replace("1/(N-1)", "1/(D-1)")
                .replace("axis=0", "axis=1"),
                lambda x, g, b: _normalize(x, (1,), ddof=1) * g + b,
            ),
            _Mistake(
                _HINT_EPS_OUTSIDE, lambda x, g, b: _normalize(x, (1,), eps_outside=True) * g + b
            ),
        ],
        names=("y",),
        general_hint=(
            "média e variância de cada linha (axis=1, keepdims=True); gamma e beta, de "
            "shape (D,), continuam um por atributo."
        ),
        points=4,
        quiet=quiet,
    )


def check_group_normalization(function, quiet: bool = False) -> Result:
    """Questão 5.2: ``group_normalization(x, gamma, beta, groups, eps=1e-5) -> y``.

    ``x`` (N, C, H, W).

    Referência: :func:`group_norm_reference` (igual a ``torch.nn.functional.group_norm``).
    Tolerância: ``rtol=1e-5, atol=1e-7`` (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    cases = []
    for i, (description, shape, groups, hidden, dtype) in enumerate(
        [
            ("x (2, 4, 3, 3), 2 grupos", (2, 4, 3, 3), 2, False, np.float64),
            ("x (3, 6, 2, 4), 3 grupos", (3, 6, 2, 4), 3, True, np.float64),
            ("um único exemplo, 4 grupos", (1, 8, 3, 3), 4, True, np.float64),
            ("float32, 2 grupos", (4, 6, 5, 5), 2, True, np.float32),
            ("1 grupo (= normalização de camada)", (2, 3, 4, 4), 1, True, np.float64),
        ]
    ):
        x = _normal(180 + i, shape, loc=1.0, scale=2.0, dtype=dtype)
        x = x + (np.arange(shape[1], dtype=dtype) ** 1.5).reshape(1, -1, 1, 1)
        gamma, beta = _params(190 + i, shape[1], dtype)
        cases.append(_Case(description, (x, gamma, beta, groups), hidden))

    def interleaved(x, g, b, groups):
        n, c, h, w = x.shape
        grouped = x.reshape(n, c // groups, groups, h, w)
        return _affine(_normalize(grouped, (1, 3, 4)).reshape(x.shape), g, b)

    return _check_function(
        "5.2",
        "group_normalization",
        function,
        cases=cases,
        reference=group_norm_reference,
        mistakes=[
            _Mistake(
                "os canais de um grupo são CONSECUTIVOS: use x.reshape(N, groups, C // groups, "
                "H, W), não x.reshape(N, C // groups, groups, H, W).",
                interleaved,
            ),
            _Mistake(
                "`groups` é o NÚMERO de grupos, não o número de canais em cada grupo: "
                "x.reshape(N, groups, C // groups, H, W).",
                lambda x, g, b, groups: group_norm_reference(x, g, b, x.shape[1] // groups),
            ),
            _Mistake(
                "você normalizou cada exemplo sobre todos os canais (um grupo só); divida os "
                "canais em `groups` grupos.",
                lambda x, g, b, groups: _affine(_normalize(x, (1, 2, 3)), g, b),
            ),
            _Mistake(
                "você normalizou cada canal sozinho (normalização de instância); cada grupo "
                "reúne C // groups canais.",
                lambda x, g, b, groups: _affine(_normalize(x, (2, 3)), g, b),
            ),
            _Mistake(
                "você normalizou sobre o lote (axis=(0, 2, 3)): isso é a normalização em lote; "
                "a normalização de grupo não mistura exemplos.",
                lambda x, g, b, groups: _affine(_normalize(x, (0, 2, 3)), g, b),
            ),
            _Mistake(
                "a variância deve dividir pelo número de valores do grupo, não por ele menos 1.",
                lambda x, g, b, groups: _affine(
                    _normalize(
                        x.reshape(x.shape[0], groups, -1, *x.shape[2:]), (2, 3, 4), ddof=1
                    ).reshape(x.shape),
                    g,
                    b,
                ),
            ),
        ],
        names=("y",),
        general_hint=(
            "reagrupe para (N, groups, C // groups, H, W), normalize sobre os eixos (2, 3, 4), "
            "volte ao shape (N, C, H, W) e só então aplique gamma e beta por canal."
        ),
        points=6,
        quiet=quiet,
    )


# --------------------------------------------------------------------------------------
# Trabalho 6: mini-projeto com MNIST
# --------------------------------------------------------------------------------------

PROJECT: dict[str, Any] = {
    "sizes": (784, 100, 100, 10),
    "activation": "sigmoid",
    "steps": 200,
    "batch_size": 64,
    "lr": 0.1,
    "n_train": 10000,
    "n_validation": 2000,
    "eval_every": 25,
    "seed": 0,
    "target": 0.8,
}
"""A configuração fixa do mini-projeto: MLP 784-100-100-10 com sigmoide, SGD."""


def check_build_mlp(function, quiet: bool = False) -> Result:
    """Questão 6.1: ``build_mlp(with_bn: bool) -> torch.nn.Module``.

    Exige camadas ``Linear`` 784→100→100→10, duas sigmoides e, com ``with_bn=True``, uma
    ``BatchNorm1d`` (do PyTorch ou de ``bnlib.nn``) de 100 atributos entre cada ``Linear``
    oculta e a sua sigmoide; a saída deve ter shape (B, 10).
    """
    import torch
    from torch import nn

    messages: list[str] = []
    hints: list[str] = []
    ok = 0
    cases = [True, False]
    for with_bn in cases if callable(function) else []:
        label = f"caso «with_bn={with_bn}»"
        try:
            with _time_limit():
                model = function(with_bn)
                output = model(torch.zeros(5, 784)) if isinstance(model, nn.Module) else None
        except (Exception, CaseTimeout) as error:  # noqa: BLE001
            messages.append(f"✘ {label}: {_explain_exception(error)}")
            if isinstance(error, NotImplementedError | CaseTimeout):
                break
            continue
        if not isinstance(model, nn.Module):
            messages.append(f"✘ {label}: devolva um torch.nn.Module; veio {type(model)}.")
            continue
        problems = []
        if tuple(output.shape) != (5, 10):
            problems.append(
                f"a saída para 5 imagens deveria ter shape (5, 10), veio {tuple(output.shape)}"
            )
        leaves = [m for m in model.modules() if not list(m.children())]
        linears = [(m.in_features, m.out_features) for m in leaves if isinstance(m, nn.Linear)]
        if linears != [(784, 100), (100, 100), (100, 10)]:
            problems.append(f"camadas Linear esperadas 784→100→100→10, vieram {linears}")
        kinds = []
        for m in leaves:
            name = type(m).__name__
            if name.startswith("BatchNorm"):
                kinds.append("BN")
            elif isinstance(m, nn.Linear):
                kinds.append("L")
            elif isinstance(m, nn.Sigmoid):
                kinds.append("S")
            else:
                kinds.append(name)
        expected = ["L", "BN", "S", "L", "BN", "S", "L"] if with_bn else ["L", "S", "L", "S", "L"]
        if kinds != expected and not problems:
            problems.append(f"ordem das camadas {kinds}, esperada {expected}")
            if with_bn and kinds == ["L", "S", "BN", "L", "S", "BN", "L"]:
                hints.append(
                    "aqui a BN vem ANTES da ativação, como no artigo original: "
                    "Linear → BN → sigmoide."
                )
            elif "S" not in kinds:
                hints.append("use a ativação sigmoide (nn.Sigmoid), como pede o enunciado.")
            elif kinds.count("BN") > 2:
                hints.append("a última camada (os logits) não leva BN.")
        if problems:
            messages.append(f"✘ {label}: " + "; ".join(problems) + ".")
        else:
            ok += 1
    if not callable(function):
        messages.append("`build_mlp` deveria ser uma função; rode a célula que a define.")
    if ok < len(cases) and not hints and not any("NotImplemented" in m for m in messages):
        hints.append(
            "use bnlib.lab.training.make_mlp(tamanhos, 'sigmoid', norm=torch.nn.BatchNorm1d if "
            "with_bn else None)."
        )
    messages.extend(f"Dica: {d}" for d in dict.fromkeys(hints))
    result = Result("6.1", "build_mlp", round(3 * ok / len(cases), 2), 3, ok, len(cases), messages)
    if not quiet:
        print(result.text())
    return result


def _steps_to_target_ref(history, target):
    for step, acc in zip(history.eval_step, history.eval_accuracy, strict=True):
        if acc >= target:
            return step
    return None


def check_steps_to_target(function, quiet: bool = False) -> Result:
    """Questão 6.2: ``steps_to_target(history, target) -> int | None``.

    O primeiro passo avaliado em que a acurácia de validação é ≥ ``target``; ``None`` se
    nunca chega. Comparação exata.
    """
    from bnlib.lab.training import TrainHistory

    base = TrainHistory(eval_step=[25, 50, 75, 100], eval_accuracy=[0.3, 0.6, 0.85, 0.9])
    cases = [
        _Case("acurácias 0,3 0,6 0,85 0,9; alvo 0,8", (base, 0.8), False),
        _Case(
            "acurácia igual ao alvo",
            (TrainHistory(eval_step=[10, 20, 30], eval_accuracy=[0.5, 0.8, 0.95]), 0.8),
        ),
        _Case(
            "nunca chega ao alvo", (TrainHistory(eval_step=[25, 50], eval_accuracy=[0.1, 0.2]), 0.8)
        ),
        _Case(
            "já na primeira avaliação",
            (TrainHistory(eval_step=[7, 14], eval_accuracy=[0.9, 0.7]), 0.5),
        ),
        _Case(
            "sobe e desce",
            (TrainHistory(eval_step=[5, 10, 15, 20], eval_accuracy=[0.2, 0.81, 0.7, 0.95]), 0.8),
        ),
    ]
    messages: list[str] = []
    hints: list[str] = []
    ok = 0
    for case in cases if callable(function) else []:
        label = f"caso {'oculto ' if case.hidden else ''}«{case.description}»"
        expected = _steps_to_target_ref(*case.args)
        try:
            got = _call(function, _copy(case.args[0]), case.args[1])
        except (Exception, CaseTimeout) as error:  # noqa: BLE001
            messages.append(f"✘ {label}: {_explain_exception(error)}")
            if isinstance(error, NotImplementedError | CaseTimeout):
                break
            continue
        if got == expected and (got is None) == (expected is None):
            ok += 1
            continue
        messages.append(f"✘ {label}: esperado {expected!r}, recebido {got!r}.")
        history, target = case.args
        steps, accs = history.eval_step, history.eval_accuracy
        indices = [i for i, a in enumerate(accs) if a >= target]
        if expected is None:
            hints.append("se a acurácia nunca chega ao alvo, devolva None.")
        elif indices and got == indices[0]:
            hints.append("devolva o PASSO (history.eval_step[i]), não o índice i.")
        elif any(a > target for a in accs) and got == next(
            p for p, a in zip(steps, accs, strict=True) if a > target
        ):
            hints.append("a condição é acurácia ≥ alvo (maior ou igual), não maior estrito.")
        elif got == steps[indices[-1]]:
            hints.append("devolva o PRIMEIRO passo que chega ao alvo, não o último.")
    if not callable(function):
        messages.append("`steps_to_target` deveria ser uma função; rode a célula que a define.")
    if ok < len(cases) and not hints and not any("NotImplemented" in m for m in messages):
        hints.append("percorra eval_step e eval_accuracy juntos (zip) e pare no primeiro ≥ alvo.")
    messages.extend(f"Dica: {d}" for d in dict.fromkeys(hints))
    result = Result(
        "6.2", "steps_to_target", round(3 * ok / len(cases), 2), 3, ok, len(cases), messages
    )
    if not quiet:
        print(result.text())
    return result


def train_project(build: Callable[[bool], Any], with_bn: bool) -> dict[str, list[float]]:
    """Treina o MLP do mini-projeto com a configuração :data:`PROJECT`.

    Parameters
    ----------
    build : função ``with_bn -> torch.nn.Module``
    with_bn : bool

    Returns
    -------
    history : TrainHistory
        O devolvido por :func:`bnlib.lab.training.train_classifier`.
    """
    import torch

    from bnlib.lab.data import load_mnist

    cfg = PROJECT
    train_data = load_mnist("train", n=cfg["n_train"])
    val_data = load_mnist("validation", n=cfg["n_validation"])
    # Um só fio de execução: com 2 núcleos, o PyTorch com vários fios fica muito mais lento
    # nestas matrizes pequenas. O número de fios anterior é restaurado no fim.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(cfg["seed"])
        model = build(with_bn)
        return _train(model, train_data, val_data, cfg)
    finally:
        torch.set_num_threads(threads)


def _train(model, train_data, val_data, cfg):
    import torch

    from bnlib.lab.training import train_classifier

    return train_classifier(
        model,
        torch.from_numpy(np.array(train_data.x)),
        torch.from_numpy(np.array(train_data.y)),
        steps=cfg["steps"],
        batch_size=cfg["batch_size"],
        lr=cfg["lr"],
        x_eval=torch.from_numpy(np.array(val_data.x)),
        y_eval=torch.from_numpy(np.array(val_data.y)),
        eval_every=cfg["eval_every"],
        seed=cfg["seed"],
    )


@functools.cache
def reference_measurements() -> dict[str, Any]:
    """As medidas de referência do mini-projeto (calculadas uma vez por processo).

    Returns
    -------
    dict
        ``steps_with_bn``, ``steps_without_bn`` (passos até a acurácia ``PROJECT["target"]``,
        ``None`` se não chega), ``final_with_bn``, ``final_without_bn`` (acurácia final).
    """
    import torch

    from bnlib.lab.models import make_mlp

    def build(with_bn):
        norm = torch.nn.BatchNorm1d if with_bn else None
        return make_mlp(PROJECT["sizes"], PROJECT["activation"], norm=norm)

    with_bn_history = train_project(build, True)
    without_bn_history = train_project(build, False)
    return {
        "steps_with_bn": _steps_to_target_ref(with_bn_history, PROJECT["target"]),
        "steps_without_bn": _steps_to_target_ref(without_bn_history, PROJECT["target"]),
        "final_with_bn": with_bn_history.final_accuracy,
        "final_without_bn": without_bn_history.final_accuracy,
    }


def check_answer_steps(value, quiet: bool = False) -> Result:
    """Questão 6.3: passos até 80 % de acurácia de validação COM BN.

    Comparado com :func:`reference_measurements`, tolerância de um intervalo de avaliação
    (``PROJECT["eval_every"]`` passos).
    """
    ref = reference_measurements()
    return _check_value(
        "6.3",
        "answer_steps_with_bn",
        value,
        expected=ref["steps_with_bn"],
        tolerance=PROJECT["eval_every"],
        mistakes=[
            (
                (ref["steps_with_bn"] or 0) // PROJECT["eval_every"] - 1,
                "responda em PASSOS de treino (eval_step), não com a posição na lista.",
            ),
            (ref["steps_without_bn"] or -1e9, "a pergunta é sobre o treino COM BN."),
        ],
        general_hint="use steps_to_target(history_with_bn, 0.8) com o histórico medido acima.",
        points=2,
        quiet=quiet,
        unit=" passos",
    )


def check_answer_difference(value, quiet: bool = False) -> Result:
    """Questão 6.4: acurácia final com BN menos sem BN, em pontos percentuais.

    Comparado com :func:`reference_measurements`, tolerância de 1 ponto percentual.
    """
    ref = reference_measurements()
    difference = 100 * (ref["final_with_bn"] - ref["final_without_bn"])
    return _check_value(
        "6.4",
        "answer_difference_pp",
        value,
        expected=difference,
        tolerance=1.0,
        mistakes=[
            (difference / 100, "responda em pontos percentuais: multiplique a diferença por 100."),
            (-difference, "a pergunta é acurácia COM BN menos acurácia SEM BN."),
        ],
        general_hint="use history.final_accuracy (o último valor de history.eval_accuracy).",
        points=2,
        quiet=quiet,
        unit=" p.p.",
    )


# --------------------------------------------------------------------------------------
# Correção de um caderno inteiro
# --------------------------------------------------------------------------------------

ASSIGNMENTS: dict[str, list[tuple[str, Callable[..., Result]]]] = {
    "01_passo_direto": [
        ("batch_mean_and_variance", check_batch_mean_and_variance),
        ("normalize", check_normalize),
        ("bn_forward_pass", check_bn_forward_pass),
    ],
    "02_retropropagacao": [
        ("bn_backward_steps", check_bn_backward_steps),
        ("bn_backward_closed_form", check_bn_backward_closed_form),
        ("numerical_gradient", check_numerical_gradient),
    ],
    "03_inferencia": [
        ("update_running_averages", check_update_running_averages),
        ("bn_inference", check_bn_inference),
        ("answer_initial_weight", check_answer_initial_weight),
    ],
    "04_espacial": [
        ("spatial_bn_forward", check_spatial_bn_forward),
        ("spatial_bn_backward", check_spatial_bn_backward),
    ],
    "05_camada_grupo": [
        ("layer_normalization", check_layer_normalization),
        ("group_normalization", check_group_normalization),
    ],
    "06_projeto": [
        ("build_mlp", check_build_mlp),
        ("steps_to_target", check_steps_to_target),
        ("answer_steps_with_bn", check_answer_steps),
        ("answer_difference_pp", check_answer_difference),
    ],
}
"""Para cada trabalho: o nome de cada função ou resposta do caderno e a sua verificação."""


def grade_assignment(assignment: str, namespace: dict[str, Any], verbose: bool = True) -> list:
    """Roda todas as verificações de ``assignment`` sobre os nomes definidos em ``namespace``.

    Nomes ausentes valem zero, com uma mensagem. Com ``verbose=True``, imprime uma linha
    ``MARKER + JSON`` com a lista de resultados, que :mod:`bnlib.kit.grading` lê.

    Parameters
    ----------
    assignment : str
        Uma chave de :data:`ASSIGNMENTS`, por exemplo ``"01_passo_direto"``.
    namespace : dict
        Em geral ``globals()`` do caderno.

    Returns
    -------
    list of Result
    """
    if assignment not in ASSIGNMENTS:
        raise ValueError(
            f"grade_assignment: trabalho desconhecido {assignment!r}; os trabalhos são "
            f"{sorted(ASSIGNMENTS)}."
        )
    results = []
    for index, (name, check) in enumerate(ASSIGNMENTS[assignment], start=1):
        question = f"{int(assignment[:2])}.{index}"
        if name not in namespace:
            results.append(_missing_result(question, name, check))
            continue
        try:
            results.append(check(namespace[name], quiet=True))
        except Exception as error:  # noqa: BLE001 — nunca derrubar a correção
            reason = f"erro inesperado na verificação: {type(error).__name__}: {error}"
            results.append(_missing_result(question, name, check, reason))
    if verbose:
        record = {"trabalho": assignment, "questoes": [r.as_dict() for r in results]}
        print(MARKER + json.dumps(record, ensure_ascii=False))
    return results


def _missing_result(question, name, check, reason=None) -> Result:
    points = _POINTS.get(check, 0.0)
    reason = reason or f"`{name}` não está definido no caderno."
    return Result(question, name, 0.0, points, 0, 1, [f"✘ {reason}"])


_POINTS: dict[Callable, float] = {
    check_batch_mean_and_variance: 3,
    check_normalize: 3,
    check_bn_forward_pass: 4,
    check_bn_backward_steps: 4,
    check_bn_backward_closed_form: 3,
    check_numerical_gradient: 3,
    check_update_running_averages: 4,
    check_bn_inference: 4,
    check_answer_initial_weight: 2,
    check_spatial_bn_forward: 5,
    check_spatial_bn_backward: 5,
    check_layer_normalization: 4,
    check_group_normalization: 6,
    check_build_mlp: 3,
    check_steps_to_target: 3,
    check_answer_steps: 2,
    check_answer_difference: 2,
}
