"""Configuração comum dos testes."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"

# Os mesmos exemplos em toda execução: um teste que falha uma vez falha sempre.
settings.register_profile("reproducible", derandomize=True, database=None, deadline=None)
settings.load_profile("reproducible")


@pytest.fixture(scope="session")
def built_site() -> Path:
    """A pasta do livro HTML gerado por ``make book`` (``make test`` o gera antes dos testes).

    Fora da integração contínua, sem o livro gerado, os testes do site são pulados; na
    integração contínua (``CI`` definido), a falta do livro é uma falha.
    """
    html = BUILD / "html"
    if not (html / "index.html").exists():
        message = "o livro não foi gerado: rode `make book` (ou `make test`) antes"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return html
