"""As saídas das células de um caderno corrigido: só tipos seguros, e cortadas como no nbgrader.

O caderno do aluno pode imprimir 50 MB, desenhar mil figuras ou devolver HTML com
*scripts*. Antes de ir para o retorno do aluno (e para o disco de quem corrige), cada saída
passa por :func:`clean_outputs`:

* só ficam os tipos ``stream``, ``display_data``, ``execute_result`` e ``error``, e, nos
  dados, só ``text/plain``, ``image/png`` e ``image/jpeg`` (nada de HTML ou JavaScript);
* um texto passa de :data:`MAX_LINES` linhas ou :data:`MAX_CHARS` caracteres é cortado,
  com um aviso no lugar do resto, como o ``LimitOutput`` do nbgrader (1000 linhas); um
  *traceback* fica com as últimas :data:`MAX_TRACEBACK` linhas;
* uma célula guarda no máximo :data:`MAX_IMAGES` imagens de até :data:`MAX_IMAGE_BYTES`.

O mesmo corte roda duas vezes: no processo isolado, para que a saída não esgote a memória,
e no processo de quem corrige, que não confia no que veio de lá.
"""

from __future__ import annotations

from typing import Any

MAX_LINES = 1000
MAX_CHARS = 100_000
MAX_TRACEBACK = 100
MAX_IMAGES = 10
MAX_IMAGE_BYTES = 2 * 2**20
MIME_TYPES = ("text/plain", "image/png", "image/jpeg")


def cut_text(text: str, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS) -> str:
    """O texto com no máximo ``max_lines`` linhas e ``max_chars`` caracteres, e um aviso."""
    if not isinstance(text, str):
        text = str(text)
    lines = text.splitlines(keepends=True)
    kept = "".join(lines[:max_lines])
    if len(kept) > max_chars:
        kept = kept[:max_chars]
    if len(kept) < len(text):
        omitted = len(text) - len(kept)
        kept += (
            f"\n… (saída cortada pela correção: {omitted} caracteres a mais; "
            f"o limite é {max_lines} linhas ou {max_chars} caracteres)\n"
        )
    return kept


def as_text(value) -> str:
    """Um texto de saída do Jupyter (às vezes uma lista de pedaços)."""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else str(value)


def clean_output(output: Any, images: list[int]) -> dict | None:
    """Uma saída com só os campos e tipos seguros, cortada; ``None`` se não serve."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return {
            "output_type": "stream",
            "name": name,
            "text": cut_text(as_text(output.get("text"))),
        }
    if kind == "error":
        traceback = output.get("traceback")
        traceback = (
            [cut_text(as_text(t), 50, 5000) for t in traceback[-MAX_TRACEBACK:]]
            if (isinstance(traceback, list))
            else []
        )
        return {
            "output_type": "error",
            "ename": cut_text(as_text(output.get("ename", "")), 1, 200),
            "evalue": cut_text(as_text(output.get("evalue", "")), 20, 2000),
            "traceback": traceback,
        }
    if kind not in ("display_data", "execute_result") or not isinstance(output.get("data"), dict):
        return None
    data = {}
    for mime in MIME_TYPES:
        value = output["data"].get(mime)
        if value is None:
            continue
        if mime == "text/plain":
            data[mime] = cut_text(as_text(value))
        elif len(as_text(value)) <= MAX_IMAGE_BYTES and images[0] < MAX_IMAGES:
            data[mime] = as_text(value)
            images[0] += 1
    if not data:
        return None
    clean = {"output_type": kind, "data": data, "metadata": {}}
    if kind == "execute_result":
        count = output.get("execution_count")
        clean["execution_count"] = count if type(count) is int else None
    return clean


def clean_outputs(outputs: Any, budget: int = 4 * 2**20) -> list[dict]:
    """As saídas de uma célula, limpas e cortadas, juntando textos seguidos do mesmo fluxo.

    ``budget`` limita o total de caracteres da célula.
    """
    if not isinstance(outputs, list):
        return []
    images = [0]
    result: list[dict] = []
    used = 0
    for output in outputs[:500]:
        clean = clean_output(output, images)
        if clean is None:
            continue
        if (
            clean["output_type"] == "stream"
            and result
            and result[-1]["output_type"] == "stream"
            and result[-1]["name"] == clean["name"]
        ):
            result[-1]["text"] = cut_text(result[-1]["text"] + clean["text"])
            continue
        size = len(str(clean))
        if used + size > budget:
            result.append(
                {
                    "output_type": "stream",
                    "name": "stderr",
                    "text": "… (mais saídas cortadas pela correção)\n",
                }
            )
            break
        used += size
        result.append(clean)
    return result
