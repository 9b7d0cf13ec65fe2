"""O texto corrido do livro, sem código, matemática nem marcação, para os testes de escrita."""

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
EXCLUDED_PARTS = {"_build", ".ipynb_checkpoints", "_ext"}

_FENCE = re.compile(r"^(```|~~~|:::).*?$", re.MULTILINE)
_PATTERNS = [
    re.compile(r"```.*?```", re.DOTALL),  # blocos de código
    re.compile(r"\$\$.*?\$\$", re.DOTALL),  # matemática em destaque
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.DOTALL),
    re.compile(r"(?<!\\)\$(?:(?!\n\s*\n)[^$])+\$"),  # matemática no texto (pode quebrar a linha)
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # papéis MyST: {cite:t}`...`, {glue:md}`...`
    re.compile(r"`[^`]*`"),  # código no texto (pode quebrar a linha)
    re.compile(r"<[^>\n]+>"),  # HTML
    re.compile(r"https?://\S+"),
    re.compile(r"\]\([^)]*\)"),  # destino de links markdown
    re.compile(r"^\s*:[\w-]+:.*$", re.MULTILINE),  # opções de diretivas
    re.compile(r"^\(\S+\)=\s*$", re.MULTILINE),  # alvos MyST: (rotulo)=
    re.compile(r"^\s*(```|~~~|:::+)\S*.*$", re.MULTILINE),  # aberturas de diretivas
    re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.MULTILINE),  # separadores de tabelas
]
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)([^*]+?)\*(?!\*)")


def prose_files() -> list[Path]:
    """As páginas do livro e da documentação com texto corrido."""
    files = [p for p in (ROOT / "book").rglob("*") if p.suffix in {".md", ".ipynb"}]
    files += [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    return sorted(p for p in files if not EXCLUDED_PARTS & set(p.parts))


def markdown_of(path: Path) -> str:
    """O markdown de uma página: o arquivo ``.md`` ou as células de texto do caderno."""
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    text = path.read_text(encoding="utf-8")
    return re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)  # sem front matter


def plain_text(markdown: str, keep_italics: bool = False) -> str:
    """Tira do markdown o código, a matemática, os papéis e a marcação.

    Com ``keep_italics=False`` somem também os trechos em itálico, que o livro reserva aos
    termos estrangeiros, como em "minilote (*mini-batch*)".
    """
    text = markdown
    for pattern in _PATTERNS:
        text = pattern.sub(" ", text)
    if not keep_italics:
        text = _ITALIC.sub(" ", text)
    return text
