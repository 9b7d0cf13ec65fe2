"""Números escritos como se escreve em português, para o texto do livro."""

from __future__ import annotations


def format_number(value: float, digits: int = 2) -> str:
    """Formata ``value`` com vírgula decimal e espaço entre os milhares, como em pt-BR.

    O espaço é o não separável (U+00A0), para que o número não se parta no fim da linha;
    é a mesma grafia do texto do livro ("10 000 imagens").

    Examples
    --------
    >>> format_number(1234.5678, 2)
    '1\xa0234,57'
    >>> format_number(3e-7, 1)
    '3,0 × 10⁻⁷'
    """
    value = float(value)
    if value != 0 and (abs(value) < 10 ** (-digits) or abs(value) >= 1e7):
        mantissa, exponent = f"{value:.{digits}e}".split("e")
        superscript = str(int(exponent)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
        return f"{mantissa.replace('.', ',')} × 10{superscript}"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def glue_number(name: str, value: float, digits: int = 2) -> None:
    """Cola (``myst_nb.glue``) um número formatado em pt-BR para ser citado no texto.

    No texto use ``{glue:md}`nome```; a célula não mostra nada.
    """
    glue_markdown(name, format_number(value, digits))


def markdown_table(header: list[str], rows: list[list]) -> str:
    """Uma tabela em Markdown; os números das linhas já devem vir formatados (texto).

    Examples
    --------
    >>> print(markdown_table(["rede", "acurácia (%)"], [["funda", format_number(93.25, 1)]]))
    | rede | acurácia (%) |
    |---|---|
    | funda | 93,2 |
    """
    for row in rows:
        if len(row) != len(header):
            raise ValueError(
                f"markdown_table: cada linha deve ter {len(header)} colunas, como o cabeçalho; "
                f"recebida uma linha com {len(row)}: {row!r}."
            )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def glue_markdown(name: str, text: str) -> None:
    """Cola um trecho de Markdown (uma frase, uma tabela) para ``{glue:md}`nome``` no texto."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(name, Markdown(text), display=False)
