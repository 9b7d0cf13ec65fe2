"""Ortografia do texto em português, pelo Hunspell com o dicionário pt-BR do Debian.

Palavras técnicas que o dicionário não conhece (nomes de bibliotecas, siglas, termos da
área) ficam em ``tests/palavras.txt``, uma por linha. Termos estrangeiros vão em itálico no
texto e não são verificados.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prose import ROOT, markdown_of, plain_text, prose_files

WORDLIST = Path(__file__).with_name("palavras.txt")
DICTIONARY = Path("/usr/share/hunspell/pt_BR.dic")
HUNSPELL = shutil.which("hunspell")

pytestmark = pytest.mark.skipif(
    (HUNSPELL is None or not DICTIONARY.exists()) and not os.environ.get("CI"),
    reason="Hunspell pt-BR não instalado (apt-get install hunspell hunspell-pt-br)",
)


def words_of(text: str) -> list[str]:
    """Palavras candidatas: letras (com acentos e hífen interno), sem dígitos nem sublinhado."""
    tokens = re.findall(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", text)
    return [t for t in tokens if len(t) > 1]


def unknown_words(words: list[str]) -> set[str]:
    result = subprocess.run(
        [HUNSPELL, "-d", "pt_BR", "-p", str(WORDLIST), "-l"],
        input="\n".join(words),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    return set(result.stdout.split())


def test_wordlist_is_sorted_and_unique():
    words = WORDLIST.read_text(encoding="utf-8").split()
    assert words == sorted(set(words), key=str.lower), (
        "mantenha palavras.txt em ordem e sem repetições"
    )


def test_spell_checker_catches_a_typo():
    assert unknown_words(["normalização", "normalizaçao", "retropropagação"]) == {"normalizaçao"}


@pytest.mark.parametrize("path", prose_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_prose_is_spelled_correctly(path):
    unknown = unknown_words(words_of(plain_text(markdown_of(path))))
    assert not unknown, f"palavras desconhecidas: {sorted(unknown)}"
