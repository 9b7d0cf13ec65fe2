"""Um termo para cada ideia: as variantes proibidas pelo glossário não aparecem no texto."""

import re

import pytest
from prose import ROOT, markdown_of, plain_text, prose_files

# variante proibida (expressão regular, sem diferenciar maiúsculas) → termo do glossário
FORBIDDEN = {
    r"normaliza[çc][ãa]o (de|do|por|no) lote": "normalização em lote",
    r"\bmini-?batch(es)?\b": "mini-lote (inglês só entre parênteses e em itálico)",
    r"\bmini ?lotes?\b": "mini-lote",
    r"\bbatch ?norm(alization)?\b": "normalização em lote (BN)",
    r"taxas? de aprendizagem": "taxa de aprendizado",
    r"\blearning rates?\b": "taxa de aprendizado",
    r"polariza[çc][ãa]o": "viés",
    r"retro-propaga|propaga[çc][ãa]o reversa|\bbackprop": "retropropagação",
    r"propaga[çc][ãa]o (direta|para frente)|passo para frente": "passo direto",
    r"estat[íi]sticas (m[óo]veis|correntes)": "estatísticas acumuladas",
    r"m[ée]dias? correntes?": "média móvel",
    r"\bfeatures?\b": "atributo",
    r"gradientes? (evanescentes?|que somem|que explodem)": "desaparecimento/explosão do gradiente",
    r"\bdesvios?-padr": "desvio padrão",
    r"\bcovariate shift\b": "deslocamento interno de covariáveis",
    r"dissipa[çc][ãa]o do gradiente": "desaparecimento do gradiente",
    r"\bsobre-ajuste\b|\boverfitting\b": "sobreajuste",
}


def test_glossary_page_lists_the_terms():
    glossary = (ROOT / "book" / "glossario.md").read_text(encoding="utf-8")
    for term in ["normalização em lote", "mini-lote", "estatísticas acumuladas", "retropropagação"]:
        assert term in glossary


def test_forbidden_variants_match_what_they_should():
    text = "a normalização de lote usa o minibatch e a taxa de aprendizagem"
    found = [p for p in FORBIDDEN if re.search(p, text, re.IGNORECASE)]
    assert len(found) == 3
    assert not any(re.search(p, "sobreajuste", re.IGNORECASE) for p in list(FORBIDDEN)[-1:])


@pytest.mark.parametrize("path", prose_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_prose_uses_only_glossary_terms(path):
    text = plain_text(markdown_of(path))
    problems = []
    for pattern, preferred in FORBIDDEN.items():
        for match in re.finditer(pattern, text, re.IGNORECASE):
            context = text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " ")
            problems.append(f"{match.group(0)!r} → use {preferred!r}: …{context}…")
    assert not problems, "\n".join(problems)
