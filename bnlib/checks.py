"""Verificações automáticas dos trabalhos práticos, com retorno em português.

Cada questão avaliada tem uma função ``verificar_*`` que:

1. roda a função do aluno em casos com semente fixa, incluindo **casos ocultos** que o
   caderno do aluno não mostra;
2. compara com a implementação de referência com tolerâncias documentadas (por padrão
   ``rtol=1e-5, atol=1e-7`` em float64 e ``rtol=1e-3, atol=1e-5`` em float32);
3. imprime o que era esperado, o que veio e uma dica, reconhecendo os erros comuns
   (variância com 1/(N-1), épsilon fora da raiz, eixo errado, ...);
4. devolve um :class:`Resultado` com a pontuação (proporcional aos casos corretos).

Exceções levantadas pelo código do aluno são capturadas e explicadas: a verificação nunca
termina num *traceback*.

:func:`corrigir_trabalho` roda todas as verificações de um trabalho sobre as funções e
respostas definidas no caderno; o comando de correção (:mod:`bnlib.grading`) a chama no
fim de cada caderno e lê o registro que ela imprime.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bnlib.batchnorm import batchnorm_backward, batchnorm_forward, batchnorm_inference

MARCADOR = "@@BNLIB-NOTAS@@"
"""Prefixo da linha com o registro JSON que :func:`corrigir_trabalho` imprime."""

PLACEHOLDER = 'raise NotImplementedError("Escreva sua solução aqui.")'


# --------------------------------------------------------------------------------------
# Resultado
# --------------------------------------------------------------------------------------


@dataclass
class Resultado:
    """O resultado de uma questão.

    Attributes
    ----------
    questao : str
        Identificador, por exemplo ``"1.2"``.
    titulo : str
        O nome da função ou da resposta verificada.
    pontos, maximo : float
        Pontos obtidos e pontos possíveis.
    casos_ok, casos_total : int
        Casos de teste corretos e total de casos (visíveis e ocultos).
    mensagens : list of str
        O retorno impresso para o aluno.
    """

    questao: str
    titulo: str
    pontos: float
    maximo: float
    casos_ok: int
    casos_total: int
    mensagens: list[str] = field(default_factory=list)

    @property
    def aprovado(self) -> bool:
        """Verdadeiro quando todos os casos passaram."""
        return self.casos_ok == self.casos_total

    def como_dict(self) -> dict[str, Any]:
        """O resultado como dicionário simples (para JSON)."""
        return asdict(self)

    def texto(self) -> str:
        """O retorno completo, como é impresso."""
        simbolo = "✔" if self.aprovado else "✘"
        cabecalho = (
            f"{simbolo} Questão {self.questao} ({self.titulo}): "
            f"{_fmt_pontos(self.pontos)}/{_fmt_pontos(self.maximo)} pontos; "
            f"{self.casos_ok} de {self.casos_total} "
            f"{'caso correto' if self.casos_total == 1 else 'casos corretos'}."
        )
        return "\n".join([cabecalho, *("  " + m for m in self.mensagens)])

    def __repr__(self) -> str:
        return (
            f"Resultado(questão {self.questao}: {_fmt_pontos(self.pontos)}/"
            f"{_fmt_pontos(self.maximo)} pontos)"
        )


def _fmt_pontos(valor: float) -> str:
    return f"{valor:g}".replace(".", ",")


def _fmt_array(a: Any, n: int = 4) -> str:
    array = np.asarray(a)
    if array.ndim == 0:
        return np.format_float_positional(float(array), precision=6, trim="-")
    plano = array.reshape(-1)
    texto = np.array2string(plano[:n], precision=5, separator=", ")
    return texto[:-1] + ", …]" if plano.size > n else texto


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _de_biblioteca(arquivo: str) -> bool:
    partes = arquivo.replace("\\", "/").split("/")
    return (
        "bnlib" in partes
        or "site-packages" in partes
        or "lib" in partes[:-1]
        and ("python3" in "/".join(partes))
    )


def _traduzir_erro(erro: BaseException) -> str | None:
    """Uma explicação em português para as exceções mais comuns do numpy e do Python."""
    texto = str(erro)
    if isinstance(erro, ValueError) and "broadcast" in texto:
        return (
            "os shapes de dois arrays não combinam numa operação elemento a elemento "
            "(*broadcasting*): confira os shapes com `print(a.shape)`; uma média calculada "
            "sem `keepdims=True`, ou gamma e beta sem `reshape`, são as causas mais comuns."
        )
    if isinstance(erro, TypeError) and "cannot be interpreted as an integer" in texto:
        return "um shape ou um índice precisa ser inteiro: use a divisão inteira `//`, não `/`."
    if isinstance(erro, NameError):
        return "um nome usado não existe: confira a grafia, ou rode antes a célula que o define."
    if isinstance(erro, IndexError):
        return "um índice passou do tamanho do array: confira os limites dos laços e os eixos."
    if isinstance(erro, ZeroDivisionError):
        return "houve uma divisão por zero."
    return None


def _onde(erro: BaseException) -> tuple[int | None, str]:
    quadros = traceback.extract_tb(erro.__traceback__)
    dele = [q for q in quadros if not _de_biblioteca(q.filename)]
    if not dele:
        return None, ""
    ultimo = dele[-1]
    onde = f" na linha {ultimo.lineno} do seu código"
    if ultimo.line:
        onde += f" (`{ultimo.line.strip()}`)"
    return ultimo.lineno, onde


def _explicar_excecao(erro: BaseException) -> str:
    """Uma frase sobre a exceção do aluno, com a linha do código dele em que ocorreu."""
    if isinstance(erro, NotImplementedError):
        return "a função ainda não foi implementada (levantou NotImplementedError)."
    if isinstance(erro, TempoEsgotado):
        _, onde = _onde(erro)
        return (
            f"sua função passou de {_fmt_pontos(LIMITE_CASO)} s sem terminar e foi "
            f"interrompida{onde}. Há um laço infinito? Confira a condição de parada e o "
            "incremento de cada `while`."
        )
    _, onde = _onde(erro)
    frase = f"sua função levantou {type(erro).__name__}{onde}: {erro}"
    traducao = _traduzir_erro(erro)
    return f"{frase}. Em português: {traducao}" if traducao else frase


LIMITE_CASO = 5.0
"""Tempo máximo, em segundos, de uma chamada à função do aluno num caso de teste."""


class TempoEsgotado(BaseException):
    """A função do aluno passou de :data:`LIMITE_CASO` (herda de ``BaseException`` para
    que um ``except Exception`` no código do aluno não a engula)."""


@contextlib.contextmanager
def _limite_de_tempo(segundos: float = LIMITE_CASO):
    """Interrompe o bloco com :class:`TempoEsgotado` depois de ``segundos``.

    Usa ``SIGALRM``; fora da *thread* principal ou sem ``SIGALRM`` (Windows), não limita.
    """
    pode = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not pode:
        yield
        return

    def estourou(signum, frame):
        raise TempoEsgotado

    anterior = signal.signal(signal.SIGALRM, estourou)
    signal.setitimer(signal.ITIMER_REAL, segundos)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, anterior)


def _chamar(funcao, *args, **kwargs):
    """Chama a função do aluno com o limite de tempo :data:`LIMITE_CASO`."""
    with _limite_de_tempo():
        return funcao(*args, **kwargs)


def _casos_texto(n: int, oculto: bool = True) -> str:
    adjetivo = " oculto" if oculto else ""
    return f"{n} caso{adjetivo}" if n == 1 else f"{n} casos{adjetivo}s"


# --------------------------------------------------------------------------------------
# Motor das verificações de funções
# --------------------------------------------------------------------------------------


@dataclass
class _Caso:
    descricao: str
    args: tuple
    oculto: bool = True
    kwargs: dict = field(default_factory=dict)


@dataclass
class _Erro:
    """Um erro comum: uma implementação errada e a dica que explica o que corrigir."""

    dica: str
    funcao: Callable


def _copiar(valor):
    if isinstance(valor, np.ndarray):
        return valor.copy()
    if isinstance(valor, dict):
        return {k: _copiar(v) for k, v in valor.items()}
    return valor


def _tolerancias(caso: _Caso, rtol: float, atol: float) -> tuple[float, float]:
    arrays = [a for a in caso.args if isinstance(a, np.ndarray)]
    if any(a.dtype == np.float32 for a in arrays):
        return max(rtol, 1e-3), max(atol, 1e-5)
    return rtol, atol


def _como_partes(saida, n: int, nomes: tuple[str, ...]) -> tuple[list, str | None]:
    """Separa a saída em ``n`` partes; devolve também um problema de formato, se houver."""
    if saida is None:
        return [], "a função devolveu None: faltou o `return` no fim dela?"
    if n == 1:
        if isinstance(saida, tuple | list) and len(saida) > 1:
            return [], (
                f"a função deve devolver só {nomes[0]} (um array); devolveu uma sequência de "
                f"{len(saida)} valores. Tire os valores a mais do `return`."
            )
        return [saida], None
    if not isinstance(saida, tuple | list) or len(saida) != n:
        recebido = (
            f"uma sequência de {len(saida)} valores"
            if isinstance(saida, tuple | list)
            else f"um objeto do tipo {type(saida).__name__}"
        )
        return [], (
            f"a função deve devolver uma tupla de {n} valores ({', '.join(nomes)}); "
            f"devolveu {recebido}."
        )
    return list(saida), None


def _dica_de_shape(obtido: np.ndarray, esperado: np.ndarray, rtol: float, atol: float) -> str:
    """Explica um shape errado quando os valores, rearrumados, estão certos."""
    if obtido.size != esperado.size:
        return ""
    if np.allclose(obtido.reshape(esperado.shape), esperado, rtol=rtol, atol=atol):
        if obtido.squeeze().shape == esperado.squeeze().shape:
            return (
                " Os valores estão certos; sobram ou faltam eixos de tamanho 1: tire o "
                "`keepdims=True` do resultado final ou use `.reshape` no fim."
            )
        return " Os valores estão certos, mas na forma errada: use `.reshape` no fim."
    if (
        obtido.ndim == 2
        and esperado.ndim == 2
        and obtido.T.shape == esperado.shape
        and np.allclose(obtido.T, esperado, rtol=rtol, atol=atol)
    ):
        return " O resultado está transposto: não troque os eixos (sem `.T`)."
    return ""


def _diferenca(obtido, esperado: np.ndarray, rtol: float, atol: float) -> str | None:
    """Descreve a diferença entre ``obtido`` e ``esperado``; ``None`` se concordam."""
    try:
        obtido = np.asarray(obtido, dtype=np.float64)
    except (TypeError, ValueError):
        return f"esperado um array numérico; recebido {type(obtido).__name__}."
    if obtido.shape != esperado.shape:
        return (
            f"shape esperado {_shape_text(esperado.shape)}, recebido "
            f"{_shape_text(obtido.shape)}." + _dica_de_shape(obtido, esperado, rtol, atol)
        )
    if not np.all(np.isfinite(obtido)):
        return f"o resultado contém NaN ou infinito: {_fmt_array(obtido)}."
    if np.allclose(obtido, esperado, rtol=rtol, atol=atol):
        return None
    erro = np.abs(obtido - esperado) - rtol * np.abs(esperado)
    indice = np.unravel_index(int(np.argmax(erro)), esperado.shape) if esperado.ndim else ()
    posicao = f" na posição {tuple(int(i) for i in indice)}" if esperado.ndim else ""
    return (
        f"valores diferentes{posicao}: esperado {float(esperado[indice]):.6g}, "
        f"recebido {float(obtido[indice]):.6g} (esperado {_fmt_array(esperado)}, "
        f"recebido {_fmt_array(obtido)})."
    )


def _aviso_de_tipo(caso: _Caso, partes: list) -> str | None:
    """Um aviso quando a entrada é float32 e a saída veio em outro tipo (em geral float64)."""
    if not any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in caso.args):
        return None
    tipos = {np.asarray(p).dtype for p in partes}
    if tipos <= {np.dtype(np.float32)}:
        return None
    veio = ", ".join(sorted(t.name for t in tipos))
    return (
        f"no caso «{caso.descricao}» a entrada é float32 e a saída veio {veio}. Os valores "
        "estão certos, mas uma rede em float32 gastaria o dobro de memória: mantenha o tipo "
        "da entrada, sem `astype(np.float64)`, com `dtype=x.dtype` em `np.zeros`/`np.ones`, "
        "e com `int(...)` em contagens como `np.prod(...)` (um inteiro do numpy promove o "
        "float32 a float64)."
    )


def _concorda(partes, esperadas, rtol, atol) -> bool:
    return all(_diferenca(p, e, rtol, atol) is None for p, e in zip(partes, esperadas, strict=True))


def _verificar_funcao(
    questao: str,
    titulo: str,
    funcao,
    *,
    casos: list[_Caso],
    referencia: Callable,
    erros: list[_Erro],
    nomes: tuple[str, ...],
    dica_geral: str,
    pontos: float,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    silencioso: bool = False,
    extra: Callable[[_Caso, list], str | None] | None = None,
) -> Resultado:
    mensagens: list[str] = []
    ok = 0
    sem_dica = 0
    dicas_por_caso: list[list[str]] = []
    excecoes: dict[tuple, int] = {}
    aviso_dtype: str | None = None
    if not callable(funcao):
        mensagens.append(
            f"`{titulo}` deveria ser uma função; recebido {type(funcao).__name__}. "
            "Rode a célula em que você a define."
        )
        casos_executados = []
    else:
        casos_executados = casos
    for caso in casos_executados:
        rotulo = f"caso {'oculto ' if caso.oculto else ''}«{caso.descricao}»"
        rt, at = _tolerancias(caso, rtol, atol)
        esperado = referencia(*(_copiar(a) for a in caso.args), **caso.kwargs)
        esperadas = [np.asarray(e, dtype=np.float64) for e in _como_tupla(esperado, nomes)]
        args = tuple(_copiar(a) for a in caso.args)
        try:
            saida = _chamar(funcao, *args, **caso.kwargs)
        except (Exception, TempoEsgotado) as erro:  # noqa: BLE001 — o código do aluno pode levantar qualquer coisa
            explicacao = _explicar_excecao(erro)
            chave = (type(erro).__name__, _onde(erro)[0])
            if chave in excecoes:
                excecoes[chave] += 1
            else:
                excecoes[chave] = 0
                mensagens.append(f"✘ {rotulo}: {explicacao}")
            if isinstance(erro, NotImplementedError | TempoEsgotado):
                break
            continue
        partes, problema = _como_partes(saida, len(nomes), nomes)
        if problema is None and extra is not None:
            problema = extra(caso, [args, partes])
        if problema is None:
            diferencas = [
                (nome, _diferenca(p, e, rt, at))
                for nome, p, e in zip(nomes, partes, esperadas, strict=True)
            ]
            diferencas = [(nome, d) for nome, d in diferencas if d is not None]
            if not diferencas:
                ok += 1
                if aviso_dtype is None:
                    aviso_dtype = _aviso_de_tipo(caso, partes)
                continue
            problema = " ".join(f"{nome}: {d}" if len(nomes) > 1 else d for nome, d in diferencas)
            de_valor = any(not _explicada(d) for _, d in diferencas)
            dicas = _dicas_do_caso(erros, caso, partes, nomes, rt, at) if de_valor else []
            if dicas:
                dicas_por_caso.append(dicas)
            elif de_valor:
                sem_dica += 1
        chave = ("problema", problema)
        if chave in excecoes:  # o mesmo problema de formato em vários casos: uma linha só
            excecoes[chave] += 1
            continue
        excecoes[chave] = 0
        mensagens.append(f"✘ {rotulo}: {problema}")
    repetidas = sum(excecoes.values())
    if repetidas:
        mensagens.append(f"✘ o mesmo problema em mais {_casos_texto(repetidas)}.")
    escolhidas = _escolher_dicas(dicas_por_caso)
    if sem_dica and not escolhidas:
        escolhidas.append(dica_geral)
    mensagens.extend(f"Dica: {d}" for d in escolhidas)
    if aviso_dtype:
        mensagens.append(f"Aviso (sem desconto): {aviso_dtype}")
    total = len(casos)
    resultado = Resultado(
        questao, titulo, round(pontos * ok / total, 2), pontos, ok, total, mensagens
    )
    if not silencioso:
        print(resultado.texto())
    return resultado


def _explicada(diferenca: str) -> bool:
    """Se a mensagem já diz o que corrigir (tipo errado, ou shape errado com valores certos)."""
    return diferenca.startswith("os valores estão certos") or (
        diferenca.startswith("shape esperado")
        and ("Os valores estão certos" in diferenca or "transposto" in diferenca)
    )


def _dicas_do_caso(erros, caso, partes, nomes, rt, at) -> list[str]:
    """As dicas de todos os erros comuns que reproduzem a saída do aluno neste caso."""
    dicas = []
    for erro_comum in erros:
        try:
            errado = erro_comum.funcao(*(_copiar(a) for a in caso.args), **caso.kwargs)
        except (ValueError, FloatingPointError, ZeroDivisionError):
            continue
        errados = [np.asarray(e, dtype=np.float64) for e in _como_tupla(errado, nomes)]
        if _concorda(partes, errados, rt, at):
            dicas.append(erro_comum.dica)
    return dicas


def _escolher_dicas(dicas_por_caso: list[list[str]]) -> list[str]:
    """O menor conjunto de dicas que explica os casos: primeiro a que explica mais casos.

    Um erro pode coincidir com outro num caso particular (com N = 1, a BN sobre o lote é a
    normalização de instância); escolher a dica que explica mais casos evita a dica falsa.
    """
    restantes = [set(d) for d in dicas_por_caso]
    ordem = list(dict.fromkeys(d for dicas in dicas_por_caso for d in dicas))
    escolhidas: list[str] = []
    while restantes:
        melhor = max(ordem, key=lambda d: sum(d in r for r in restantes))
        escolhidas.append(melhor)
        restantes = [r for r in restantes if melhor not in r]
    return escolhidas


def _como_tupla(valor, nomes):
    return tuple(valor) if len(nomes) > 1 else (valor,)


def _verificar_valor(
    questao: str,
    titulo: str,
    valor,
    *,
    esperado: float,
    tolerancia: float,
    erros: list[tuple[float, str]],
    dica_geral: str,
    pontos: float,
    silencioso: bool,
    unidade: str = "",
) -> Resultado:
    """Verifica uma resposta numérica com tolerância absoluta ``tolerancia``."""
    mensagens: list[str] = []
    ok = 0
    if valor is None or valor is Ellipsis:
        mensagens.append(f"✘ a resposta `{titulo}` ainda não foi preenchida.")
    else:
        try:
            numero = float(valor)
        except (TypeError, ValueError):
            numero = None
            mensagens.append(f"✘ a resposta `{titulo}` deve ser um número; recebido {valor!r}.")
        if numero is not None:
            if abs(numero - esperado) <= tolerancia:
                ok = 1
            else:
                # O valor esperado não é mostrado: seria a própria resposta.
                mensagens.append(
                    f"✘ a resposta {numero:.6g}{unidade} não confere com a esperada "
                    f"(tolerância ±{tolerancia:g}{unidade})."
                )
                dica = dica_geral
                for errado, texto in erros:
                    if abs(numero - errado) <= tolerancia:
                        dica = texto
                        break
                else:
                    if abs(numero - esperado) <= 5 * tolerancia:
                        dica = (
                            "você está perto: confira o arredondamento e escreva a resposta "
                            "com mais algarismos significativos (ou calcule-a com código)."
                        )
                mensagens.append(f"Dica: {dica}")
    resultado = Resultado(questao, titulo, float(pontos * ok), pontos, ok, 1, mensagens)
    if not silencioso:
        print(resultado.texto())
    return resultado


# --------------------------------------------------------------------------------------
# Dados dos casos (sementes fixas)
# --------------------------------------------------------------------------------------


def _normal(seed: int, shape, loc=0.0, scale=1.0, dtype=np.float64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (loc + scale * rng.standard_normal(shape)).astype(dtype)


def _x_quase_constante(seed: int) -> np.ndarray:
    """Lote (16, 4) com um atributo de desvio padrão 1e-3, onde o épsilon pesa."""
    x = _normal(seed, (16, 4), loc=2.0, scale=1.5)
    x[:, 1] = 5.0 + 1e-3 * _normal(seed + 1, 16)
    return x


def _parametros(seed: int, f: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
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


def _normalize(x, axes, eps=EPS, ddof=0, eps_fora=False):
    mean, var = _stats(x, axes, ddof)
    if eps_fora:
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
    direto com a variância não enviesada; ``kind``: ``"so_direto"`` (dx sem os caminhos
    por μ e σ²), ``"sem_variancia"`` (sem o caminho por σ²), ``"sem_media"`` (sem o
    caminho por μ), ``"dx_sem_gamma"``, ``"dgamma_com_x"``; ``m``: o número de valores
    por atributo usado nas fórmulas (o certo é o produto dos eixos de ``axes``).
    """
    certos = (0,) if x.ndim == 2 else (0, 2, 3)
    axes = axes if axes is not None else certos
    contagem = int(np.prod([x.shape[a] for a in axes]))
    m = m if m is not None else contagem
    xmu = x - x.mean(axis=axes, keepdims=True)
    var = (xmu**2).sum(axis=axes, keepdims=True) / (contagem - ddof)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = xmu * inv_std
    dx_hat = dy * (1.0 if kind == "dx_sem_gamma" else gamma.reshape((1, -1) + (1,) * (x.ndim - 2)))
    dbeta = dy.sum(axis=certos)
    dgamma = (dy * (x if kind == "dgamma_com_x" else x_hat)).sum(axis=certos)
    dxmu = dx_hat * inv_std
    if kind not in ("so_direto", "sem_variancia"):
        dvar = (dx_hat * xmu).sum(axis=axes, keepdims=True) * (-0.5) * inv_std**3
        dxmu = dxmu + dvar * 2.0 * xmu / (m - ddof)
    sem_mu = kind in ("so_direto", "sem_media")
    dx = dxmu if sem_mu else dxmu - dxmu.sum(axis=axes, keepdims=True) / m
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

_DICA_VARIANCIA = "a variância deve usar 1/N, não 1/(N-1): use `x.var(axis=0)` (ddof=0)."
_DICA_EIXO = (
    "eixo errado: a média e a variância são calculadas sobre os exemplos (axis=0), "
    "uma por atributo, e têm shape (D,)."
)
_DICA_EPS_FORA = (
    "o épsilon vai dentro da raiz: divida por `np.sqrt(var + eps)`, não por `np.sqrt(var) + eps`."
)


def _casos_nd(com_parametros: bool = True) -> list[_Caso]:
    def montar(descricao, x, oculto, seed):
        if not com_parametros:
            return _Caso(descricao, (x,), oculto)
        gamma, beta = _parametros(seed, x.shape[1], x.dtype)
        return _Caso(descricao, (x, gamma, beta), oculto)

    return [
        montar("x de shape (4, 3)", _normal(0, (4, 3)), False, 100),
        montar("N = 2 exemplos", _normal(1, (2, 5), loc=1.0), True, 101),
        montar("float32, shape (64, 10)", _normal(2, (64, 10), 3.0, 2.0, np.float32), True, 102),
        montar("atributo quase constante", _x_quase_constante(3), True, 103),
        montar("média grande (100)", _normal(4, (32, 6), loc=100.0, scale=0.5), True, 104),
    ]


def verificar_media_e_variancia(funcao, silencioso: bool = False) -> Resultado:
    """Questão 1.1: ``media_e_variancia(x) -> (media, variancia)``, shapes (D,).

    Tolerância: ``rtol=1e-5, atol=1e-7`` (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    return _verificar_funcao(
        "1.1",
        "media_e_variancia",
        funcao,
        casos=_casos_nd(com_parametros=False),
        referencia=lambda x: (x.mean(axis=0), x.var(axis=0)),
        erros=[
            _Erro(_DICA_VARIANCIA, lambda x: (x.mean(axis=0), x.var(axis=0, ddof=1))),
            _Erro(_DICA_EIXO, lambda x: (x.mean(axis=1), x.var(axis=1))),
            _Erro(
                "a média e a variância são uma por atributo (shape (D,)), não um número "
                "para o lote inteiro: passe `axis=0`.",
                lambda x: (x.mean(), x.var()),
            ),
            _Erro(
                "a função deve devolver a variância (média dos quadrados dos desvios), "
                "não o desvio padrão.",
                lambda x: (x.mean(axis=0), x.std(axis=0)),
            ),
        ],
        nomes=("média", "variância"),
        dica_geral="confira a fórmula: média = Σx/N e variância = Σ(x - média)²/N, por coluna.",
        pontos=3,
        silencioso=silencioso,
    )


def verificar_normalizar(funcao, silencioso: bool = False) -> Resultado:
    """Questão 1.2: ``normalizar(x, eps=1e-5) -> x_hat``, shape (N, D).

    Tolerância: ``rtol=1e-5, atol=1e-7`` (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    return _verificar_funcao(
        "1.2",
        "normalizar",
        funcao,
        casos=_casos_nd(com_parametros=False),
        referencia=lambda x: _normalize(x, (0,)),
        erros=[
            _Erro(_DICA_VARIANCIA, lambda x: _normalize(x, (0,), ddof=1)),
            _Erro(_DICA_EIXO, lambda x: _normalize(x, (1,))),
            _Erro(_DICA_EPS_FORA, lambda x: _normalize(x, (0,), eps_fora=True)),
            _Erro(
                "faltou o épsilon: divida por `np.sqrt(var + eps)`; sem ele um atributo "
                "quase constante é amplificado demais.",
                lambda x: _normalize(x, (0,), eps=0.0),
            ),
            _Erro(
                "divida pelo desvio padrão (a raiz de var + eps), não pela variância.",
                lambda x: (x - x.mean(0)) / (x.var(0) + EPS),
            ),
        ],
        nomes=("x_hat",),
        dica_geral="x_hat = (x - média) / sqrt(variância + eps), com média e variância por coluna.",
        pontos=3,
        silencioso=silencioso,
    )


def verificar_bn_passo_direto(funcao, silencioso: bool = False) -> Resultado:
    """Questão 1.3: ``bn_passo_direto(x, gamma, beta, eps=1e-5) -> y``, shape (N, D).

    Referência: :func:`bnlib.batchnorm_forward`. Tolerância: ``rtol=1e-5, atol=1e-7``
    (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    return _verificar_funcao(
        "1.3",
        "bn_passo_direto",
        funcao,
        casos=_casos_nd(),
        referencia=lambda x, g, b: batchnorm_forward(x, g, b)[0],
        erros=[
            _Erro(_DICA_VARIANCIA, lambda x, g, b: _normalize(x, (0,), ddof=1) * g + b),
            _Erro(_DICA_EIXO, lambda x, g, b: _normalize(x, (1,)) * g + b),
            _Erro(_DICA_EPS_FORA, lambda x, g, b: _normalize(x, (0,), eps_fora=True) * g + b),
            _Erro(
                "faltou aplicar a escala e o deslocamento: y = gamma * x_hat + beta.",
                lambda x, g, b: _normalize(x, (0,)),
            ),
            _Erro(
                "gamma e beta trocados: gamma multiplica x_hat e beta é somado.",
                lambda x, g, b: _normalize(x, (0,)) * b + g,
            ),
            _Erro(
                "faltou somar beta: y = gamma * x_hat + beta.",
                lambda x, g, b: _normalize(x, (0,)) * g,
            ),
            _Erro(
                "faltou multiplicar por gamma: y = gamma * x_hat + beta.",
                lambda x, g, b: _normalize(x, (0,)) + b,
            ),
        ],
        nomes=("y",),
        dica_geral="y = gamma * (x - média) / sqrt(variância + eps) + beta, por atributo.",
        pontos=4,
        silencioso=silencioso,
    )


# --------------------------------------------------------------------------------------
# Trabalho 2: retropropagação
# --------------------------------------------------------------------------------------


def _casos_retro() -> list[_Caso]:
    casos = []
    specs = [
        ("x de shape (4, 3)", (4, 3), False, 0.0, 1.0, np.float64),
        ("N = 2 exemplos", (2, 4), True, 1.0, 1.0, np.float64),
        ("shape (50, 7)", (50, 7), True, -2.0, 3.0, np.float64),
        ("atributo quase constante", None, True, 0.0, 1.0, np.float64),
        ("float32, shape (32, 5)", (32, 5), True, 0.5, 2.0, np.float32),
    ]
    for i, (descricao, shape, oculto, loc, scale, dtype) in enumerate(specs):
        x = _x_quase_constante(20 + i) if shape is None else _normal(20 + i, shape, loc, scale)
        x = x.astype(dtype)
        gamma, _ = _parametros(40 + i, x.shape[1], dtype)
        dy = _normal(60 + i, x.shape, dtype=dtype)
        casos.append(_Caso(descricao, (dy, x, gamma), oculto))
    return casos


def _erros_retro() -> list[_Erro]:
    return [
        _Erro(
            "dx ignora que a média e a variância também dependem de x: faltam os "
            "caminhos por μ e por σ² (a soma dos gradientes de todos os caminhos).",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="so_direto"),
        ),
        _Erro(
            "dx considera o caminho pela média, mas falta o caminho pela variância "
            "(dvar = Σ dx_hat·(x - μ)·(-1/2)(var + eps)^(-3/2)).",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="sem_variancia"),
        ),
        _Erro(
            "dx considera o caminho pela variância, mas falta o caminho pela média: "
            "dμ = -Σ dx_mu (somando sobre os exemplos) e dx recebe dμ / N.",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="sem_media"),
        ),
        _Erro(
            "dx_hat = dy · gamma: faltou multiplicar dy por gamma antes de seguir para dx.",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="dx_sem_gamma"),
        ),
        _Erro(
            "dgamma = Σ dy · x_hat (a entrada normalizada), não Σ dy · x.",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="dgamma_com_x"),
        ),
        _Erro(
            _DICA_VARIANCIA + " O passo direto normaliza com a variância enviesada.",
            lambda dy, x, g: _bn_backward_variant(dy, x, g, ddof=1),
        ),
        _Erro(
            "eixo errado: dgamma e dbeta somam sobre os exemplos (axis=0) e têm shape (D,).",
            lambda dy, x, g: (
                _bn_backward_ref(dy, x, g)[0],
                (dy * _normalize(x, (0,))).sum(axis=1),
                dy.sum(axis=1),
            ),
        ),
        _Erro(
            "dgamma e dbeta estão trocados na tupla: devolva (dx, dgamma, dbeta).",
            lambda dy, x, g: (lambda r: (r[0], r[2], r[1]))(_bn_backward_ref(dy, x, g)),
        ),
    ]


def verificar_bn_retro_etapas(funcao, silencioso: bool = False) -> Resultado:
    """Questão 2.1: ``bn_retro_etapas(dy, x, gamma, eps=1e-5) -> (dx, dgamma, dbeta)``.

    Referência: :func:`bnlib.batchnorm_backward`. Tolerância: ``rtol=1e-5, atol=1e-7``
    (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    return _verificar_funcao(
        "2.1",
        "bn_retro_etapas",
        funcao,
        casos=_casos_retro(),
        referencia=_bn_backward_ref,
        erros=_erros_retro(),
        nomes=("dx", "dgamma", "dbeta"),
        dica_geral=(
            "percorra o grafo de trás para a frente, nó a nó, e some os gradientes que "
            "chegam a um mesmo nó por caminhos diferentes (x - μ é usado duas vezes)."
        ),
        pontos=4,
        silencioso=silencioso,
    )


def verificar_bn_retro_fechada(funcao, silencioso: bool = False) -> Resultado:
    """Questão 2.2: ``bn_retro_fechada(dy, x, gamma, eps=1e-5) -> (dx, dgamma, dbeta)``.

    Mesmas referência e tolerâncias da questão 2.1.
    """
    return _verificar_funcao(
        "2.2",
        "bn_retro_fechada",
        funcao,
        casos=_casos_retro(),
        referencia=_bn_backward_ref,
        erros=_erros_retro(),
        nomes=("dx", "dgamma", "dbeta"),
        dica_geral=(
            "forma fechada: dx = gamma / (N·sqrt(var + eps)) · (N·dy - Σdy - x_hat·Σ(dy·x_hat))."
        ),
        pontos=3,
        silencioso=silencioso,
    )


def _funcoes_teste_gradiente():
    """Funções de teste com gradiente analítico conhecido, ``(descrição, f, vjp)``."""

    def cubo(x):
        return x**3

    def bn(x):
        return batchnorm_forward(x, np.linspace(0.5, 1.5, x.shape[1]), np.zeros(x.shape[1]))[0]

    def bn_vjp(x, dy):
        return _bn_backward_ref(dy, x, np.linspace(0.5, 1.5, x.shape[1]))[0]

    return {
        "cubo": (cubo, lambda x, dy: 3 * x**2 * dy),
        "tanh": (np.tanh, lambda x, dy: (1 - np.tanh(x) ** 2) * dy),
        "bn": (bn, bn_vjp),
    }


def _num_grad(f, x, dy, h=1e-5, kind="central"):
    x = x.copy()
    dx = np.zeros_like(x)
    fx = np.sum(f(x) * dy)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        plus = np.sum(f(x) * dy)
        x[i] = original - h
        minus = np.sum(f(x) * dy)
        x[i] = original
        if kind == "central":
            dx[i] = (plus - minus) / (2 * h)
        elif kind == "frente":
            dx[i] = (plus - fx) / h
        elif kind == "sem_2":
            dx[i] = (plus - minus) / h
    return dx


def verificar_gradiente_numerico(funcao, silencioso: bool = False) -> Resultado:
    """Questão 2.3: ``gradiente_numerico(f, x, dy, h=1e-5) -> dx`` (diferenças centradas).

    O resultado é comparado com o gradiente **analítico** de funções de teste, com
    ``rtol=1e-6, atol=1e-8``: diferenças centradas erram ~h², diferenças para a frente
    ~h, e são reprovadas. Exige-se também que ``x`` volte intacto.
    """
    funcoes = _funcoes_teste_gradiente()
    casos = [
        _Caso("f(x) = x³, shape (3, 2)", ("cubo", _normal(70, (3, 2)), _normal(71, (3, 2))), False),
        _Caso("f(x) = tanh(x), shape (4, 3)", ("tanh", _normal(72, (4, 3)), _normal(73, (4, 3)))),
        _Caso("f = BN, shape (5, 3)", ("bn", _normal(74, (5, 3)), _normal(75, (5, 3)))),
    ]

    def com_f(kind):
        def g(nome, x, dy):
            return _num_grad(funcoes[nome][0], x, dy, kind=kind)

        return g

    def aluno(nome, x, dy):
        return funcao(funcoes[nome][0], x, dy)

    def x_intacto(caso, dados):
        args, _ = dados
        if not np.array_equal(args[1], caso.args[1]):
            return (
                "sua função deixou `x` alterado: restaure cada elemento depois de "
                "perturbá-lo (x[i] = original)."
            )
        return None

    return _verificar_funcao(
        "2.3",
        "gradiente_numerico",
        aluno if callable(funcao) else funcao,
        casos=casos,
        referencia=lambda nome, x, dy: funcoes[nome][1](x, dy),
        erros=[
            _Erro(
                "use diferenças centradas, (f(x + h) - f(x - h)) / 2h: as diferenças para a "
                "frente, (f(x + h) - f(x)) / h, erram da ordem de h.",
                com_f("frente"),
            ),
            _Erro("faltou dividir por 2h (você dividiu por h).", com_f("sem_2")),
        ],
        nomes=("dx",),
        dica_geral=(
            "para cada elemento i: dx[i] = (Σ f(x + h·e_i)·dy - Σ f(x - h·e_i)·dy) / (2h); "
            "some o produto com dy antes de subtrair."
        ),
        pontos=3,
        rtol=1e-6,
        atol=1e-8,
        silencioso=silencioso,
        extra=x_intacto,
    )


# --------------------------------------------------------------------------------------
# Trabalho 3: estatísticas acumuladas e inferência
# --------------------------------------------------------------------------------------


def _atualizar_ref(media, var, x, momentum=0.1, ddof=1, invertido=False, axis=0):
    m = x.mean(axis=axis)
    v = x.var(axis=axis, ddof=ddof)
    if invertido:
        return momentum * media + (1 - momentum) * m, momentum * var + (1 - momentum) * v
    return (1 - momentum) * media + momentum * m, (1 - momentum) * var + momentum * v


def verificar_atualizar_estatisticas(funcao, silencioso: bool = False) -> Resultado:
    """Questão 3.1: ``atualizar_estatisticas(media_acum, var_acum, x, momentum=0.1)``.

    Devolve ``(nova_media, nova_var)``, shapes (D,), na convenção do PyTorch (variância do
    lote não enviesada). Referência: :func:`bnlib.update_running_stats`. Tolerância:
    ``rtol=1e-5, atol=1e-7``.
    """
    casos = []
    for i, (descricao, n, d, mom, oculto) in enumerate(
        [
            ("estado inicial (0, 1), x (8, 3)", 8, 3, 0.1, False),
            ("momentum = 0,5", 5, 4, 0.5, True),
            ("estado qualquer, N = 2", 2, 6, 0.1, True),
            ("momentum = 0,01, x (40, 3)", 40, 3, 0.01, True),
        ]
    ):
        x = _normal(80 + i, (n, d), loc=3.0, scale=2.0)
        media = np.zeros(d) if i == 0 else _normal(90 + i, d)
        var = np.ones(d) if i == 0 else 1.0 + _normal(95 + i, d) ** 2
        casos.append(_Caso(descricao, (media, var, x), oculto, {"momentum": mom}))
    return _verificar_funcao(
        "3.1",
        "atualizar_estatisticas",
        funcao,
        casos=casos,
        referencia=_atualizar_ref,
        erros=[
            _Erro(
                "as estatísticas acumuladas guardam a variância NÃO enviesada, 1/(N-1), "
                "como o PyTorch: use `x.var(axis=0, ddof=1)`.",
                lambda *a, **k: _atualizar_ref(*a, ddof=0, **k),
            ),
            _Erro(
                "momentum é o peso do lote NOVO: acumulada = (1 - momentum)·acumulada + "
                "momentum·do_lote.",
                lambda *a, **k: _atualizar_ref(*a, invertido=True, **k),
            ),
            _Erro(
                "dois erros: momentum é o peso do lote NOVO, acumulada = (1 - momentum)·"
                "acumulada + momentum·do_lote; e a variância do lote entra NÃO enviesada, "
                "`x.var(axis=0, ddof=1)`.",
                lambda *a, **k: _atualizar_ref(*a, ddof=0, invertido=True, **k),
            ),
            _Erro(_DICA_EIXO, lambda *a, **k: _atualizar_ref(*a, axis=1, **k)),
        ],
        nomes=("nova_media", "nova_var"),
        dica_geral=(
            "nova = (1 - momentum)·acumulada + momentum·do_lote, com a média e a variância "
            "não enviesada do lote por atributo."
        ),
        pontos=4,
        silencioso=silencioso,
    )


def verificar_bn_inferencia(funcao, silencioso: bool = False) -> Resultado:
    """Questão 3.2: ``bn_inferencia(x, gamma, beta, media_acum, var_acum, eps=1e-5) -> y``.

    Referência: :func:`bnlib.batchnorm_inference`. Tolerância: ``rtol=1e-5, atol=1e-7``.
    Um caso oculto tem um único exemplo (N = 1).
    """
    casos = []
    for i, (descricao, n, d, oculto) in enumerate(
        [
            ("x de shape (4, 3)", 4, 3, False),
            ("um único exemplo (N = 1)", 1, 5, True),
            ("shape (20, 6)", 20, 6, True),
            ("variância acumulada pequena", 6, 4, True),
        ]
    ):
        x = _normal(110 + i, (n, d), loc=1.0, scale=2.0)
        gamma, beta = _parametros(120 + i, d)
        media = _normal(130 + i, d)
        var = (1e-5 if i == 3 else 1.0) * (0.5 + _normal(140 + i, d) ** 2)
        casos.append(_Caso(descricao, (x, gamma, beta, media, var), oculto))

    def com_lote(x, g, b, m, v):
        return _normalize(x, (0,)) * g + b if x.shape[0] > 1 else b + 0 * x

    return _verificar_funcao(
        "3.2",
        "bn_inferencia",
        funcao,
        casos=casos,
        referencia=batchnorm_inference,
        erros=[
            _Erro(
                "na inferência use as estatísticas ACUMULADAS (media_acum, var_acum), não a "
                "média e a variância do lote: a saída de um exemplo não pode depender dos "
                "outros exemplos.",
                com_lote,
            ),
            _Erro(
                _DICA_EPS_FORA,
                lambda x, g, b, m, v: (x - m) / (np.sqrt(v) + EPS) * g + b,
            ),
            _Erro(
                "divida pelo desvio padrão, np.sqrt(var_acum + eps), não pela variância.",
                lambda x, g, b, m, v: (x - m) / (v + EPS) * g + b,
            ),
        ],
        nomes=("y",),
        dica_geral="y = gamma · (x - media_acum) / sqrt(var_acum + eps) + beta.",
        pontos=4,
        silencioso=silencioso,
    )


def verificar_resposta_peso_inicial(valor, silencioso: bool = False) -> Resultado:
    """Questão 3.3: o peso do valor inicial na média acumulada após 50 lotes, momentum 0,1.

    Esperado 0,9⁵⁰ ≈ 0,00515, tolerância absoluta 1e-4.
    """
    return _verificar_valor(
        "3.3",
        "resposta_peso_inicial",
        valor,
        esperado=0.9**50,
        tolerancia=1e-4,
        erros=[
            (0.1**50, "cada atualização multiplica o valor antigo por (1 - momentum) = 0,9."),
            (0.9**49, "conte as 50 atualizações: são 50 fatores (1 - momentum)."),
            (0.9**51, "conte as 50 atualizações: são 50 fatores (1 - momentum)."),
        ],
        dica_geral="cada atualização multiplica o peso do valor inicial por (1 - momentum).",
        pontos=2,
        silencioso=silencioso,
    )


# --------------------------------------------------------------------------------------
# Trabalho 4: BN espacial (N, C, H, W)
# --------------------------------------------------------------------------------------


def _casos_espaciais(com_dy: bool) -> list[_Caso]:
    casos = []
    for i, (descricao, shape, oculto, dtype) in enumerate(
        [
            ("x de shape (2, 3, 4, 4)", (2, 3, 4, 4), False, np.float64),
            ("um único exemplo (N = 1)", (1, 3, 4, 5), True, np.float64),
            ("shape (4, 2, 3, 5)", (4, 2, 3, 5), True, np.float64),
            ("float32, shape (8, 4, 6, 6)", (8, 4, 6, 6), True, np.float32),
        ]
    ):
        x = _normal(150 + i, shape, loc=1.0, scale=2.0, dtype=dtype)
        x = x + np.arange(shape[1], dtype=dtype).reshape(1, -1, 1, 1)
        gamma, beta = _parametros(160 + i, shape[1], dtype)
        if com_dy:
            dy = _normal(170 + i, shape, dtype=dtype)
            casos.append(_Caso(descricao, (dy, x, gamma), oculto))
        else:
            casos.append(_Caso(descricao, (x, gamma, beta), oculto))
    return casos


_DICA_ESPACIAL_POSICAO = (
    "na BN espacial há uma média e uma variância por CANAL, calculadas sobre N, H e W "
    "juntos (axis=(0, 2, 3)); você normalizou cada posição (c, h, w) separadamente, como "
    "se cada pixel fosse um atributo."
)
_DICA_ESPACIAL_INSTANCIA = (
    "você normalizou cada exemplo sozinho (axis=(2, 3), a normalização de instância); a "
    "BN junta também os exemplos do lote: axis=(0, 2, 3)."
)


def verificar_bn_espacial_passo_direto(funcao, silencioso: bool = False) -> Resultado:
    """Questão 4.1: ``bn_espacial_passo_direto(x, gamma, beta, eps=1e-5) -> y``.

    ``x`` (N, C, H, W), ``gamma`` e ``beta`` (C,). Referência: :func:`bnlib.batchnorm_forward`.
    Tolerância: ``rtol=1e-5, atol=1e-7`` (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    return _verificar_funcao(
        "4.1",
        "bn_espacial_passo_direto",
        funcao,
        casos=_casos_espaciais(com_dy=False),
        referencia=lambda x, g, b: batchnorm_forward(x, g, b)[0],
        erros=[
            _Erro(_DICA_ESPACIAL_POSICAO, lambda x, g, b: _affine(_normalize(x, (0,)), g, b)),
            _Erro(_DICA_ESPACIAL_INSTANCIA, lambda x, g, b: _affine(_normalize(x, (2, 3)), g, b)),
            _Erro(
                _DICA_VARIANCIA.replace("1/N", "1/m").replace("1/(N-1)", "1/(m-1)")
                + " Aqui m = N·H·W.",
                lambda x, g, b: _affine(_normalize(x, (0, 2, 3), ddof=1), g, b),
            ),
            _Erro(
                "você normalizou cada exemplo sobre todos os canais (axis=(1, 2, 3)); a BN "
                "normaliza cada canal sobre o lote: axis=(0, 2, 3).",
                lambda x, g, b: _affine(_normalize(x, (1, 2, 3)), g, b),
            ),
        ],
        nomes=("y",),
        dica_geral=(
            "calcule a média e a variância com axis=(0, 2, 3) e keepdims=True, e dê a gamma e "
            "beta o shape (1, C, 1, 1)."
        ),
        pontos=5,
        silencioso=silencioso,
    )


def verificar_bn_espacial_retro(funcao, silencioso: bool = False) -> Resultado:
    """Questão 4.2: ``bn_espacial_retro(dy, x, gamma, eps=1e-5) -> (dx, dgamma, dbeta)``.

    Referência: :func:`bnlib.batchnorm_backward`. Tolerâncias como em 4.1.
    """
    return _verificar_funcao(
        "4.2",
        "bn_espacial_retro",
        funcao,
        casos=_casos_espaciais(com_dy=True),
        referencia=_bn_backward_ref,
        erros=[
            _Erro(_DICA_ESPACIAL_POSICAO, _per_position_backward),
            _Erro(
                _DICA_ESPACIAL_INSTANCIA,
                lambda dy, x, g: _bn_backward_variant(dy, x, g, axes=(2, 3)),
            ),
            _Erro(
                "a variância do passo direto divide por m = N·H·W, não por m - 1.",
                lambda dy, x, g: _bn_backward_variant(dy, x, g, ddof=1),
            ),
            _Erro(
                _DICA_ESPACIAL_POSICAO,
                lambda dy, x, g: _bn_backward_variant(dy, x, g, axes=(0,)),
            ),
            _Erro(
                "cada canal tem m = N·H·W valores, não N: use esse m nas divisões do dx.",
                lambda dy, x, g: _bn_backward_variant(dy, x, g, m=x.shape[0]),
            ),
            _Erro(
                "dx ignora que a média e a variância do canal também dependem de x.",
                lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="so_direto"),
            ),
            _Erro(
                "dx considera o caminho pela média, mas falta o caminho pela variância do canal.",
                lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="sem_variancia"),
            ),
            _Erro(
                "dx_hat = dy · gamma (com gamma.reshape(1, -1, 1, 1)): faltou o gamma no dx.",
                lambda dy, x, g: _bn_backward_variant(dy, x, g, kind="dx_sem_gamma"),
            ),
        ],
        nomes=("dx", "dgamma", "dbeta"),
        dica_geral=(
            "uma saída fácil: transponha x para (N, H, W, C), achate para (N·H·W, C), use a "
            "retropropagação de (N, D) e desfaça a transposição."
        ),
        pontos=5,
        silencioso=silencioso,
    )


# --------------------------------------------------------------------------------------
# Trabalho 5: normalização de camada e de grupo
# --------------------------------------------------------------------------------------


def verificar_norm_camada(funcao, silencioso: bool = False) -> Resultado:
    """Questão 5.1: ``norm_camada(x, gamma, beta, eps=1e-5) -> y``, ``x`` (N, D).

    Referência: :func:`layer_norm_reference` (igual a ``torch.nn.functional.layer_norm``).
    Tolerância: ``rtol=1e-5, atol=1e-7`` (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    casos = [c for c in _casos_nd() if "N = 2" not in c.descricao]
    casos.append(_Caso("um único exemplo (N = 1)", (_normal(9, (1, 6)), *_parametros(109, 6))))
    return _verificar_funcao(
        "5.1",
        "norm_camada",
        funcao,
        casos=casos,
        referencia=layer_norm_reference,
        erros=[
            _Erro(
                "você normalizou sobre o lote (axis=0): isso é a normalização em lote. A "
                "normalização de camada usa cada exemplo sozinho: axis=1, keepdims=True.",
                lambda x, g, b: _normalize(x, (0,)) * g + b,
            ),
            _Erro(
                _DICA_VARIANCIA.replace("1/N", "1/D")
                .replace("1/(N-1)", "1/(D-1)")
                .replace("axis=0", "axis=1"),
                lambda x, g, b: _normalize(x, (1,), ddof=1) * g + b,
            ),
            _Erro(_DICA_EPS_FORA, lambda x, g, b: _normalize(x, (1,), eps_fora=True) * g + b),
        ],
        nomes=("y",),
        dica_geral=(
            "média e variância de cada linha (axis=1, keepdims=True); gamma e beta, de "
            "shape (D,), continuam um por atributo."
        ),
        pontos=4,
        silencioso=silencioso,
    )


def verificar_norm_grupo(funcao, silencioso: bool = False) -> Resultado:
    """Questão 5.2: ``norm_grupo(x, gamma, beta, grupos, eps=1e-5) -> y``, ``x`` (N, C, H, W).

    Referência: :func:`group_norm_reference` (igual a ``torch.nn.functional.group_norm``).
    Tolerância: ``rtol=1e-5, atol=1e-7`` (float64), ``rtol=1e-3, atol=1e-5`` (float32).
    """
    casos = []
    for i, (descricao, shape, grupos, oculto, dtype) in enumerate(
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
        gamma, beta = _parametros(190 + i, shape[1], dtype)
        casos.append(_Caso(descricao, (x, gamma, beta, grupos), oculto))

    def entrelacado(x, g, b, grupos):
        n, c, h, w = x.shape
        grouped = x.reshape(n, c // grupos, grupos, h, w)
        return _affine(_normalize(grouped, (1, 3, 4)).reshape(x.shape), g, b)

    return _verificar_funcao(
        "5.2",
        "norm_grupo",
        funcao,
        casos=casos,
        referencia=group_norm_reference,
        erros=[
            _Erro(
                "os canais de um grupo são CONSECUTIVOS: use x.reshape(N, grupos, C // grupos, "
                "H, W), não x.reshape(N, C // grupos, grupos, H, W).",
                entrelacado,
            ),
            _Erro(
                "`grupos` é o NÚMERO de grupos, não o número de canais em cada grupo: "
                "x.reshape(N, grupos, C // grupos, H, W).",
                lambda x, g, b, grupos: group_norm_reference(x, g, b, x.shape[1] // grupos),
            ),
            _Erro(
                "você normalizou cada exemplo sobre todos os canais (um grupo só); divida os "
                "canais em `grupos` grupos.",
                lambda x, g, b, grupos: _affine(_normalize(x, (1, 2, 3)), g, b),
            ),
            _Erro(
                "você normalizou cada canal sozinho (normalização de instância); cada grupo "
                "reúne C // grupos canais.",
                lambda x, g, b, grupos: _affine(_normalize(x, (2, 3)), g, b),
            ),
            _Erro(
                "você normalizou sobre o lote (axis=(0, 2, 3)): isso é a normalização em lote; "
                "a normalização de grupo não mistura exemplos.",
                lambda x, g, b, grupos: _affine(_normalize(x, (0, 2, 3)), g, b),
            ),
            _Erro(
                "a variância deve dividir pelo número de valores do grupo, não por ele menos 1.",
                lambda x, g, b, grupos: _affine(
                    _normalize(
                        x.reshape(x.shape[0], grupos, -1, *x.shape[2:]), (2, 3, 4), ddof=1
                    ).reshape(x.shape),
                    g,
                    b,
                ),
            ),
        ],
        nomes=("y",),
        dica_geral=(
            "reagrupe para (N, grupos, C // grupos, H, W), normalize sobre os eixos (2, 3, 4), "
            "volte ao shape (N, C, H, W) e só então aplique gamma e beta por canal."
        ),
        pontos=6,
        silencioso=silencioso,
    )


# --------------------------------------------------------------------------------------
# Trabalho 6: mini-projeto com MNIST
# --------------------------------------------------------------------------------------

PROJETO: dict[str, Any] = {
    "tamanhos": (784, 100, 100, 10),
    "ativacao": "sigmoid",
    "passos": 200,
    "lote": 64,
    "taxa": 0.1,
    "n_treino": 10000,
    "n_validacao": 2000,
    "avaliar_cada": 25,
    "semente": 0,
    "alvo": 0.8,
}
"""A configuração fixa do mini-projeto: MLP 784-100-100-10 com sigmoide, SGD."""


def verificar_construir_mlp(funcao, silencioso: bool = False) -> Resultado:
    """Questão 6.1: ``construir_mlp(com_bn: bool) -> torch.nn.Module``.

    Exige camadas ``Linear`` 784→100→100→10, duas sigmoides e, com ``com_bn=True``, uma
    ``BatchNorm1d`` (do PyTorch ou de ``bnlib.nn``) de 100 atributos entre cada ``Linear``
    oculta e a sua sigmoide; a saída deve ter shape (B, 10).
    """
    import torch
    from torch import nn

    mensagens: list[str] = []
    dicas: list[str] = []
    ok = 0
    casos = [True, False]
    for com_bn in casos if callable(funcao) else []:
        rotulo = f"caso «com_bn={com_bn}»"
        try:
            with _limite_de_tempo():
                modelo = funcao(com_bn)
                saida = modelo(torch.zeros(5, 784)) if isinstance(modelo, nn.Module) else None
        except (Exception, TempoEsgotado) as erro:  # noqa: BLE001
            mensagens.append(f"✘ {rotulo}: {_explicar_excecao(erro)}")
            if isinstance(erro, NotImplementedError | TempoEsgotado):
                break
            continue
        if not isinstance(modelo, nn.Module):
            mensagens.append(f"✘ {rotulo}: devolva um torch.nn.Module; veio {type(modelo)}.")
            continue
        problemas = []
        if tuple(saida.shape) != (5, 10):
            problemas.append(
                f"a saída para 5 imagens deveria ter shape (5, 10), veio {tuple(saida.shape)}"
            )
        folhas = [m for m in modelo.modules() if not list(m.children())]
        lineares = [(m.in_features, m.out_features) for m in folhas if isinstance(m, nn.Linear)]
        if lineares != [(784, 100), (100, 100), (100, 10)]:
            problemas.append(f"camadas Linear esperadas 784→100→100→10, vieram {lineares}")
        tipos = []
        for m in folhas:
            nome = type(m).__name__
            if nome.startswith("BatchNorm"):
                tipos.append("BN")
            elif isinstance(m, nn.Linear):
                tipos.append("L")
            elif isinstance(m, nn.Sigmoid):
                tipos.append("S")
            else:
                tipos.append(nome)
        esperado = ["L", "BN", "S", "L", "BN", "S", "L"] if com_bn else ["L", "S", "L", "S", "L"]
        if tipos != esperado and not problemas:
            problemas.append(f"ordem das camadas {tipos}, esperada {esperado}")
            if com_bn and tipos == ["L", "S", "BN", "L", "S", "BN", "L"]:
                dicas.append(
                    "aqui a BN vem ANTES da ativação, como no artigo original: "
                    "Linear → BN → sigmoide."
                )
            elif "S" not in tipos:
                dicas.append("use a ativação sigmoide (nn.Sigmoid), como pede o enunciado.")
            elif tipos.count("BN") > 2:
                dicas.append("a última camada (os logits) não leva BN.")
        if problemas:
            mensagens.append(f"✘ {rotulo}: " + "; ".join(problemas) + ".")
        else:
            ok += 1
    if not callable(funcao):
        mensagens.append("`construir_mlp` deveria ser uma função; rode a célula que a define.")
    if ok < len(casos) and not dicas and not any("NotImplemented" in m for m in mensagens):
        dicas.append(
            "use bnlib.training.make_mlp(tamanhos, 'sigmoid', norm=torch.nn.BatchNorm1d if "
            "com_bn else None)."
        )
    mensagens.extend(f"Dica: {d}" for d in dict.fromkeys(dicas))
    resultado = Resultado(
        "6.1", "construir_mlp", round(3 * ok / len(casos), 2), 3, ok, len(casos), mensagens
    )
    if not silencioso:
        print(resultado.texto())
    return resultado


def _passos_ate_ref(historico, alvo):
    for passo, acc in zip(historico["eval_step"], historico["eval_accuracy"], strict=True):
        if acc >= alvo:
            return passo
    return None


def verificar_passos_ate(funcao, silencioso: bool = False) -> Resultado:
    """Questão 6.2: ``passos_ate(historico, alvo) -> int | None``.

    O primeiro passo avaliado em que a acurácia de validação é ≥ ``alvo``; ``None`` se
    nunca chega. Comparação exata.
    """
    base = {"eval_step": [25, 50, 75, 100], "eval_accuracy": [0.3, 0.6, 0.85, 0.9]}
    casos = [
        _Caso("acurácias 0,3 0,6 0,85 0,9; alvo 0,8", (base, 0.8), False),
        _Caso(
            "acurácia igual ao alvo",
            ({"eval_step": [10, 20, 30], "eval_accuracy": [0.5, 0.8, 0.95]}, 0.8),
        ),
        _Caso("nunca chega ao alvo", ({"eval_step": [25, 50], "eval_accuracy": [0.1, 0.2]}, 0.8)),
        _Caso(
            "já na primeira avaliação", ({"eval_step": [7, 14], "eval_accuracy": [0.9, 0.7]}, 0.5)
        ),
        _Caso(
            "sobe e desce",
            ({"eval_step": [5, 10, 15, 20], "eval_accuracy": [0.2, 0.81, 0.7, 0.95]}, 0.8),
        ),
    ]
    mensagens: list[str] = []
    dicas: list[str] = []
    ok = 0
    for caso in casos if callable(funcao) else []:
        rotulo = f"caso {'oculto ' if caso.oculto else ''}«{caso.descricao}»"
        esperado = _passos_ate_ref(*caso.args)
        try:
            obtido = _chamar(funcao, _copiar(caso.args[0]), caso.args[1])
        except (Exception, TempoEsgotado) as erro:  # noqa: BLE001
            mensagens.append(f"✘ {rotulo}: {_explicar_excecao(erro)}")
            if isinstance(erro, NotImplementedError | TempoEsgotado):
                break
            continue
        if obtido == esperado and (obtido is None) == (esperado is None):
            ok += 1
            continue
        mensagens.append(f"✘ {rotulo}: esperado {esperado!r}, recebido {obtido!r}.")
        historico, alvo = caso.args
        passos, accs = historico["eval_step"], historico["eval_accuracy"]
        indices = [i for i, a in enumerate(accs) if a >= alvo]
        if esperado is None:
            dicas.append("se a acurácia nunca chega ao alvo, devolva None.")
        elif indices and obtido == indices[0]:
            dicas.append("devolva o PASSO (historico['eval_step'][i]), não o índice i.")
        elif any(a > alvo for a in accs) and obtido == next(
            p for p, a in zip(passos, accs, strict=True) if a > alvo
        ):
            dicas.append("a condição é acurácia ≥ alvo (maior ou igual), não maior estrito.")
        elif obtido == passos[indices[-1]]:
            dicas.append("devolva o PRIMEIRO passo que chega ao alvo, não o último.")
    if not callable(funcao):
        mensagens.append("`passos_ate` deveria ser uma função; rode a célula que a define.")
    if ok < len(casos) and not dicas and not any("NotImplemented" in m for m in mensagens):
        dicas.append("percorra eval_step e eval_accuracy juntos (zip) e pare no primeiro ≥ alvo.")
    mensagens.extend(f"Dica: {d}" for d in dict.fromkeys(dicas))
    resultado = Resultado(
        "6.2", "passos_ate", round(3 * ok / len(casos), 2), 3, ok, len(casos), mensagens
    )
    if not silencioso:
        print(resultado.texto())
    return resultado


def treinar_projeto(construir: Callable[[bool], Any], com_bn: bool) -> dict[str, list[float]]:
    """Treina o MLP do mini-projeto com a configuração :data:`PROJETO`.

    Parameters
    ----------
    construir : função ``com_bn -> torch.nn.Module``
    com_bn : bool

    Returns
    -------
    historico : dict
        O devolvido por :func:`bnlib.training.train_classifier`.
    """
    import torch

    from bnlib.data import load_mnist

    cfg = PROJETO
    treino = load_mnist("train", n=cfg["n_treino"])
    validacao = load_mnist("validation", n=cfg["n_validacao"])
    # Um só fio de execução: com 2 núcleos, o PyTorch com vários fios fica muito mais lento
    # nestas matrizes pequenas. O número de fios anterior é restaurado no fim.
    fios = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(cfg["semente"])
        modelo = construir(com_bn)
        return _treinar(modelo, treino, validacao, cfg)
    finally:
        torch.set_num_threads(fios)


def _treinar(modelo, treino, validacao, cfg):
    import torch

    from bnlib.training import train_classifier

    return train_classifier(
        modelo,
        torch.from_numpy(np.array(treino.x)),
        torch.from_numpy(np.array(treino.y)),
        steps=cfg["passos"],
        batch_size=cfg["lote"],
        lr=cfg["taxa"],
        x_eval=torch.from_numpy(np.array(validacao.x)),
        y_eval=torch.from_numpy(np.array(validacao.y)),
        eval_every=cfg["avaliar_cada"],
        seed=cfg["semente"],
    )


@functools.cache
def medidas_referencia() -> dict[str, Any]:
    """As medidas de referência do mini-projeto (calculadas uma vez por processo).

    Returns
    -------
    dict
        ``passos_com_bn``, ``passos_sem_bn`` (passos até a acurácia ``PROJETO["alvo"]``,
        ``None`` se não chega), ``final_com_bn``, ``final_sem_bn`` (acurácia final).
    """
    import torch

    from bnlib.training import make_mlp

    def construir(com_bn):
        norm = torch.nn.BatchNorm1d if com_bn else None
        return make_mlp(PROJETO["tamanhos"], PROJETO["ativacao"], norm=norm)

    com = treinar_projeto(construir, True)
    sem = treinar_projeto(construir, False)
    return {
        "passos_com_bn": _passos_ate_ref(com, PROJETO["alvo"]),
        "passos_sem_bn": _passos_ate_ref(sem, PROJETO["alvo"]),
        "final_com_bn": com["eval_accuracy"][-1],
        "final_sem_bn": sem["eval_accuracy"][-1],
    }


def verificar_resposta_passos(valor, silencioso: bool = False) -> Resultado:
    """Questão 6.3: passos até 80 % de acurácia de validação COM BN.

    Comparado com :func:`medidas_referencia`, tolerância de um intervalo de avaliação
    (``PROJETO["avaliar_cada"]`` passos).
    """
    ref = medidas_referencia()
    return _verificar_valor(
        "6.3",
        "resposta_passos_com_bn",
        valor,
        esperado=ref["passos_com_bn"],
        tolerancia=PROJETO["avaliar_cada"],
        erros=[
            (
                (ref["passos_com_bn"] or 0) // PROJETO["avaliar_cada"] - 1,
                "responda em PASSOS de treino (eval_step), não com a posição na lista.",
            ),
            (ref["passos_sem_bn"] or -1e9, "a pergunta é sobre o treino COM BN."),
        ],
        dica_geral="use passos_ate(historico_com_bn, 0.8) com o histórico medido acima.",
        pontos=2,
        silencioso=silencioso,
        unidade=" passos",
    )


def verificar_resposta_diferenca(valor, silencioso: bool = False) -> Resultado:
    """Questão 6.4: acurácia final com BN menos sem BN, em pontos percentuais.

    Comparado com :func:`medidas_referencia`, tolerância de 1 ponto percentual.
    """
    ref = medidas_referencia()
    diferenca = 100 * (ref["final_com_bn"] - ref["final_sem_bn"])
    return _verificar_valor(
        "6.4",
        "resposta_diferenca_pp",
        valor,
        esperado=diferenca,
        tolerancia=1.0,
        erros=[
            (diferenca / 100, "responda em pontos percentuais: multiplique a diferença por 100."),
            (-diferenca, "a pergunta é acurácia COM BN menos acurácia SEM BN."),
        ],
        dica_geral="use o último valor de historico['eval_accuracy'] de cada treino.",
        pontos=2,
        silencioso=silencioso,
        unidade=" p.p.",
    )


# --------------------------------------------------------------------------------------
# Correção de um caderno inteiro
# --------------------------------------------------------------------------------------

TRABALHOS: dict[str, list[tuple[str, Callable[..., Resultado]]]] = {
    "01_passo_direto": [
        ("media_e_variancia", verificar_media_e_variancia),
        ("normalizar", verificar_normalizar),
        ("bn_passo_direto", verificar_bn_passo_direto),
    ],
    "02_retropropagacao": [
        ("bn_retro_etapas", verificar_bn_retro_etapas),
        ("bn_retro_fechada", verificar_bn_retro_fechada),
        ("gradiente_numerico", verificar_gradiente_numerico),
    ],
    "03_inferencia": [
        ("atualizar_estatisticas", verificar_atualizar_estatisticas),
        ("bn_inferencia", verificar_bn_inferencia),
        ("resposta_peso_inicial", verificar_resposta_peso_inicial),
    ],
    "04_espacial": [
        ("bn_espacial_passo_direto", verificar_bn_espacial_passo_direto),
        ("bn_espacial_retro", verificar_bn_espacial_retro),
    ],
    "05_camada_grupo": [
        ("norm_camada", verificar_norm_camada),
        ("norm_grupo", verificar_norm_grupo),
    ],
    "06_projeto": [
        ("construir_mlp", verificar_construir_mlp),
        ("passos_ate", verificar_passos_ate),
        ("resposta_passos_com_bn", verificar_resposta_passos),
        ("resposta_diferenca_pp", verificar_resposta_diferenca),
    ],
}
"""Para cada trabalho: o nome de cada função ou resposta do caderno e a sua verificação."""


def corrigir_trabalho(trabalho: str, namespace: dict[str, Any], imprimir: bool = True) -> list:
    """Roda todas as verificações de ``trabalho`` sobre os nomes definidos em ``namespace``.

    Nomes ausentes valem zero, com uma mensagem. Com ``imprimir=True``, imprime uma linha
    ``MARCADOR + JSON`` com a lista de resultados, que :mod:`bnlib.grading` lê.

    Parameters
    ----------
    trabalho : str
        Uma chave de :data:`TRABALHOS`, por exemplo ``"01_passo_direto"``.
    namespace : dict
        Em geral ``globals()`` do caderno.

    Returns
    -------
    list of Resultado
    """
    if trabalho not in TRABALHOS:
        raise ValueError(
            f"corrigir_trabalho: trabalho desconhecido {trabalho!r}; os trabalhos são "
            f"{sorted(TRABALHOS)}."
        )
    resultados = []
    for indice, (nome, verificar) in enumerate(TRABALHOS[trabalho], start=1):
        questao = f"{int(trabalho[:2])}.{indice}"
        if nome not in namespace:
            resultados.append(_resultado_ausente(questao, nome, verificar))
            continue
        try:
            resultados.append(verificar(namespace[nome], silencioso=True))
        except Exception as erro:  # noqa: BLE001 — nunca derrubar a correção
            motivo = f"erro inesperado na verificação: {type(erro).__name__}: {erro}"
            resultados.append(_resultado_ausente(questao, nome, verificar, motivo))
    if imprimir:
        registro = {"trabalho": trabalho, "questoes": [r.como_dict() for r in resultados]}
        print(MARCADOR + json.dumps(registro, ensure_ascii=False))
    return resultados


def _resultado_ausente(questao, nome, verificar, motivo=None) -> Resultado:
    pontos = _PONTOS.get(verificar, 0.0)
    motivo = motivo or f"`{nome}` não está definido no caderno."
    return Resultado(questao, nome, 0.0, pontos, 0, 1, [f"✘ {motivo}"])


_PONTOS: dict[Callable, float] = {
    verificar_media_e_variancia: 3,
    verificar_normalizar: 3,
    verificar_bn_passo_direto: 4,
    verificar_bn_retro_etapas: 4,
    verificar_bn_retro_fechada: 3,
    verificar_gradiente_numerico: 3,
    verificar_atualizar_estatisticas: 4,
    verificar_bn_inferencia: 4,
    verificar_resposta_peso_inicial: 2,
    verificar_bn_espacial_passo_direto: 5,
    verificar_bn_espacial_retro: 5,
    verificar_norm_camada: 4,
    verificar_norm_grupo: 6,
    verificar_construir_mlp: 3,
    verificar_passos_ate: 3,
    verificar_resposta_passos: 2,
    verificar_resposta_diferenca: 2,
}
