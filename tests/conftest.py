"""Configuração comum dos testes: exemplos do hypothesis reprodutíveis."""

from hypothesis import settings

# Os mesmos exemplos em toda execução: um teste que falha uma vez falha sempre.
settings.register_profile("reproducible", derandomize=True, database=None, deadline=None)
settings.load_profile("reproducible")
