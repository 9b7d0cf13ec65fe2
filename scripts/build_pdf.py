"""Gera o livro em PDF pelo LaTeX (XeLaTeX) e põe o PDF no site (``make pdf``).

1. ``jupyter-book build . --builder pdflatex``: o Sphinx escreve o LaTeX a partir dos mesmos
   cadernos executados (lidos do cache) e o ``latexmk`` roda o XeLaTeX, com as fontes
   FreeFont e a hifenização do português do Brasil (``polyglossia``);
2. o PDF vai para ``_build/pdf/normalizacao-em-lote.pdf``;
3. o livro HTML é gerado de novo: o botão ".pdf" de cada página passa a baixar esse PDF
   (``book/_ext/ptbr_ui.py``), que é copiado para ``_build/html``.

Precisa do TeX do Debian: ``apt-get install texlive-latex-extra texlive-xetex latexmk
texlive-lang-portuguese fonts-freefont-otf``. Não faz parte do ``make test``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "normalizacao-em-lote"
LATEX_DIR = ROOT / "_build" / "latex"
PDF_DIR = ROOT / "_build" / "pdf"
TOOLS = ["xelatex", "latexmk"]


def jupyter_book() -> str:
    return str(Path(sys.executable).with_name("jupyter-book"))


def main() -> int:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        print(
            f"Faltam {', '.join(missing)}: apt-get install texlive-latex-extra texlive-xetex "
            "latexmk texlive-lang-portuguese fonts-freefont-otf",
            file=sys.stderr,
        )
        return 1
    subprocess.run(
        [jupyter_book(), "build", str(ROOT), "--builder", "pdflatex", "-n", "--keep-going"],
        check=True,
        cwd=ROOT,
    )
    built = LATEX_DIR / f"{NAME}.pdf"
    PDF_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy2(built, PDF_DIR / built.name)
    log = (LATEX_DIR / f"{NAME}.log").read_text(encoding="utf-8", errors="replace")
    pages = re.search(r"Output written on .*?\((\d+) pages", log)
    overfull = log.count("Overfull \\hbox")
    print(
        f"PDF: {PDF_DIR / built.name} ({pages.group(1) if pages else '?'} páginas; "
        f"{overfull} linhas mais largas que a página, ver {NAME}.log)"
    )
    # O HTML de novo: com o PDF presente, todas as páginas são reescritas (sem reler os
    # cadernos), agora com o botão ".pdf" apontando para ele.
    subprocess.run(
        [jupyter_book(), "build", str(ROOT), "-W", "-n", "--keep-going"],
        check=True,
        cwd=ROOT,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
