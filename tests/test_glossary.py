"""Um termo para cada ideia: as variantes proibidas pelo glossário não aparecem no texto."""

import re

import pytest
from prose import ROOT, markdown_of, plain_text, prose_files

# variante proibida (expressão regular, sem diferenciar maiúsculas) → termo do glossário
FORBIDDEN = {
    r"normaliza[çc][ãa]o (de|do|por|no) lote": "normalização em lote",
    r"\bmini-?batch(es)?\b": "minilote (inglês só entre parênteses e em itálico)",
    r"\bmini[- ]lotes?\b": "minilote",
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
    r"\bcovariate shift\b": "mudança interna de covariáveis",
    r"dissipa[çc][ãa]o do gradiente": "desaparecimento do gradiente",
    r"estat[íi]sticas (de popula[çc][ãa]o|populacionais)": "estatísticas da população",
    r"perceptrons? de (v[áa]rias|m[úu]ltiplas) camadas|multi-camadas": "perceptron multicamadas",
    r"\bneur[ôo]nios?\b": "unidade",
    r"camadas? (totalmente|completamente) conectadas?": "camada densa",
    r"precis[ãa]o (de |da |na |no )?(valida[çc][ãa]o|teste|treino|classifica[çc][ãa]o)": "acurácia",
    r"\bz-scores?\b": "escore z",
    r"\bbatch ?renorm": "renormalização em lote",
    r"\bsync ?bn\b": "BN sincronizada",
    r"\bdobra(r|mento)? (da|de|a) BN\b": "fusão da BN",
    r"\bsobre-ajuste\b|\boverfitting\b": "sobreajuste",
}


def test_glossary_page_lists_the_terms():
    glossary = (ROOT / "book" / "glossario.md").read_text(encoding="utf-8")
    for term in ["normalização em lote", "minilote", "estatísticas acumuladas", "retropropagação"]:
        assert term in glossary
    for preferred in FORBIDDEN.values():
        if " (" not in preferred and "/" not in preferred:
            assert preferred in glossary, f"{preferred!r} não está no glossário"


def _hits(text: str) -> list[str]:
    return [p for p in FORBIDDEN if re.search(p, text, re.IGNORECASE)]


def test_forbidden_variants_match_what_they_should():
    assert len(_hits("a normalização de lote usa o minibatch e a taxa de aprendizagem")) == 3
    wrong = [
        "as estatísticas de população",
        "um perceptron de várias camadas",
        "cada neurônio da camada",
        "uma camada totalmente conectada",
        "a precisão de validação subiu",
        "o z-score de cada pixel",
        "a dobra da BN",
        "sobre-ajuste",
    ]
    for text in wrong:
        assert len(_hits(text)) == 1, text


def test_forbidden_variants_spare_the_glossary_terms():
    right = [
        "a normalização em lote usa o minilote e a taxa de aprendizado",
        "as estatísticas da população e as estatísticas acumuladas",
        "um perceptron multicamadas com 100 unidades por camada densa",
        "a acurácia de validação, perto da precisão do float32",
        "o escore z, a renormalização em lote, a BN sincronizada, a fusão da BN",
        "dobrar a profundidade; a banda dobra",
        "sobreajuste",
    ]
    for text in right:
        assert _hits(text) == [], text


@pytest.mark.parametrize("path", prose_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_prose_uses_only_glossary_terms(path):
    text = plain_text(markdown_of(path))
    problems = []
    for pattern, preferred in FORBIDDEN.items():
        for match in re.finditer(pattern, text, re.IGNORECASE):
            context = text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " ")
            problems.append(f"{match.group(0)!r} → use {preferred!r}: …{context}…")
    assert not problems, "\n".join(problems)
