"""Extensão Sphinx local do livro: MathJax servido localmente e referências em português.

* Copia o MathJax 3 (pacote ``django-static-mathjax`` do PyPI) para ``_static/mathjax``,
  para que as fórmulas apareçam sem acesso à rede. ``mathjax_path`` em ``_config.yml``
  aponta para essa cópia.
* Remove um script duplicado que o Jupyter Book 1.0 põe em toda página.
* Registra o estilo de bibliografia ``ptbr``: o ``unsrt`` do pybtex com "e" no lugar de
  "and", "Em" no lugar de "In" e as demais palavras em português, em ordem de autor e ano e
  com rótulos autor-ano ("Ioffe e Szegedy, 2015"; nada de "[1]"), como as citações do texto;
  e o estilo de citação ``author_year_ptbr``, com "e" entre os autores citados no texto.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import mathjax
from pybtex.plugin import register_plugin
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.formatting.unsrt import date, pages
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import (
    field,
    first_of,
    join,
    names,
    optional,
    optional_field,
    sentence,
    tag,
    words,
)
from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

MATHJAX_SOURCE = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
# O componente tex-chtml e o que ele carrega sob demanda (menu, acessibilidade, fontes).
MATHJAX_PARTS = ["tex-chtml.js", "a11y", "input", "output", "sre", "ui"]


class AuthorYearLabelStyle(BaseLabelStyle):
    """Rótulos autor-ano: "Ioffe e Szegedy, 2015", "Wu et al., 2018" (a, b se repetir)."""

    def format_labels(self, sorted_entries):
        labels = [self._label(entry) for entry in sorted_entries]
        for label in set(labels):
            same = [i for i, other in enumerate(labels) if other == label]
            if len(same) > 1:
                for letter, i in zip("abcdefghij", same, strict=False):
                    labels[i] = label + letter
        yield from labels

    @staticmethod
    def _label(entry) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        surnames = [" ".join(person.prelast_names + person.last_names) for person in people]
        if len(surnames) >= 3:
            who = f"{surnames[0]} et al."
        else:
            who = " e ".join(surnames) or entry.fields.get("title", "?")
        return f"{who}, {entry.fields.get('year', 's.d.')}"


class PortugueseStyle(UnsrtStyle):
    """Estilo ``unsrt`` com as palavras fixas em português e rótulos autor-ano."""

    default_sorting_style = "author_year_title"
    default_label_style = "autor_ano"

    def format_names(self, role, as_sentence=True):
        formatted = names(role, sep=", ", sep2=" e ", last_sep=" e ")
        return sentence[formatted] if as_sentence else formatted

    def get_article_template(self, e):
        volume_and_pages = first_of[
            optional[join[field("volume"), optional["(", field("number"), ")"], ":", pages]],
            words["páginas", pages],
        ]
        return toplevel[
            self.format_names("author"),
            self.format_title(e, "title"),
            sentence[tag("em")[field("journal")], optional[volume_and_pages], date],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_inproceedings_template(self, e):
        return toplevel[
            sentence[self.format_names("author")],
            self.format_title(e, "title"),
            words[
                "Em",
                sentence[
                    self.format_btitle(e, "booktitle", as_sentence=False),
                    optional[words["páginas", pages]],
                ],
                self.format_address_organization_publisher_date(e),
            ],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_incollection_template(self, e):
        return toplevel[
            sentence[self.format_names("author")],
            self.format_title(e, "title"),
            words[
                "Em",
                sentence[
                    self.format_btitle(e, "booktitle", as_sentence=False),
                    optional[words["páginas", pages]],
                ],
            ],
            sentence[optional_field("publisher"), date],
            self.format_web_refs(e),
        ]

    def get_book_template(self, e):
        return toplevel[
            self.format_author_or_editor(e),
            self.format_btitle(e, "title"),
            sentence[field("publisher"), optional_field("address"), date],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]


def _portuguese_persons() -> PersonStyle:
    return PersonStyle(sep2=" e ", last_sep=" e ")


@dataclasses.dataclass
class PortugueseAuthorYearStyle(AuthorYearReferenceStyle):
    """Citações autor-ano no texto com "e" entre os autores: "Ioffe e Szegedy (2015)"."""

    person: PersonStyle = dataclasses.field(default_factory=_portuguese_persons)


def copy_mathjax(app, exception) -> None:
    """Ao fim de um build HTML bem-sucedido, copia o MathJax para ``_static/mathjax``."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    for part in MATHJAX_PARTS:
        source = MATHJAX_SOURCE / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target / part)


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """Remove scripts repetidos no ``<head>``.

    O Jupyter Book 1.0 inclui duas vezes o script de configuração do sphinx-thebe, e o
    navegador acusa "Identifier 'THEBE_JS_URL' has already been declared" em toda página.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # A prioridade não conta: o mesmo script com prioridades diferentes é repetido.
        attributes = sorted(getattr(script, "attributes", {}).items())
        key = (getattr(script, "filename", str(script)) or "", repr(attributes))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


#: Com ``EDICAO_DO_LIVRO=aluno`` no ambiente, o livro sai sem as soluções dos exercícios.
STUDENT_EDITION_VARIABLE = "EDICAO_DO_LIVRO"


def configure_student_edition(app, config):
    """Na edição do aluno, esconde as soluções e reaproveita os cadernos já executados."""
    if os.environ.get(STUDENT_EDITION_VARIABLE) != "aluno":
        return
    config.hide_solutions = True
    # O cache da edição completa (em _build/.jupyter_cache) evita executar tudo de novo.
    config.nb_execution_cache_path = str(Path(app.srcdir) / "_build" / ".jupyter_cache")


def setup(app):
    register_plugin("pybtex.style.labels", "autor_ano", AuthorYearLabelStyle)
    register_plugin("pybtex.style.formatting", "ptbr", PortugueseStyle)
    register_bibtex_plugin(
        "sphinxcontrib.bibtex.style.referencing", "author_year_ptbr", PortugueseAuthorYearStyle
    )
    app.connect("config-inited", configure_student_edition)
    app.connect("build-finished", copy_mathjax)
    # Antes dos outros: o evento para no primeiro tratador que devolve um valor.
    app.connect("html-page-context", drop_duplicate_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
