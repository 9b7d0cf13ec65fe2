"""Velocidade da correção: uma turma gerada de 100 entregas do trabalho 1, isoladas.

Uso (a partir da raiz do repositório)::

    .venv/bin/python benchmarks/grading_speed.py            # 100 entregas, -j = núcleos
    .venv/bin/python benchmarks/grading_speed.py -n 20 -j 2
    .venv/bin/python benchmarks/grading_speed.py --sem-isolamento   # sem bubblewrap

A turma mistura soluções certas, cadernos em branco e erros realistas (variância com
N - 1, épsilon fora da raiz, eixo errado), cada entrega numa pasta de aluno. O script imprime
as entregas por minuto (tempo de relógio), o tempo de CPU somado das caixas de areia (o que
cada entrega custa, independentemente da carga da máquina), o tempo de CPU de quem corrige e
a carga média da máquina durante a medida. Não faz parte da suíte de testes: tempos não são
testados. Meta (máquina com 2 núcleos livres): as 100 em até 5 minutos, isolamento incluído.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bnlib.kit import grading, sandbox  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MISTAKES = [
    ("variance = ((x - mean) ** 2).mean(axis=0)", "variance = x.var(axis=0, ddof=1)"),
    ("np.sqrt(variance + eps)", "(np.sqrt(variance) + eps)"),
    ("x.var(axis=0)\n    return", "x.var(axis=1, keepdims=True)\n    return"),
]  # fmt: skip


def make_class(folder: Path, n: int) -> None:
    """``n`` entregas: 40 % certas, 30 % em branco, 30 % com um erro realista."""
    solved = nbformat.read(ROOT / "trabalhos" / "fontes" / "01_passo_direto.ipynb", as_version=4)
    solved.cells = [c for c in solved.cells if "remover-no-aluno" not in c.metadata.get("tags", [])]
    blank = nbformat.read(ROOT / "trabalhos" / "alunos" / "01_passo_direto.ipynb", as_version=4)
    for i in range(n):
        kind = i % 10
        if kind < 4:
            nb = solved
        elif kind < 7:
            nb = blank
        else:
            nb = nbformat.from_dict(solved)
            old, new = MISTAKES[kind - 7]
            for cell in nb.cells:
                cell.source = cell.source.replace(old, new)
        student = folder / f"aluno_{i:03d}"
        student.mkdir(parents=True)
        nbformat.write(nb, student / "01_passo_direto.ipynb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100, help="entregas (padrão: 100)")
    parser.add_argument("-j", type=int, default=os.cpu_count(), help="em paralelo")
    parser.add_argument("--sem-isolamento", dest="unsafe", action="store_true")
    args = parser.parse_args(argv)
    isolated = not args.unsafe
    if isolated and sandbox.bwrap_problem():
        print(f"sem bubblewrap: {sandbox.bwrap_problem()}; use --sem-isolamento.")
        return 2
    print(f"Python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} núcleos")
    with tempfile.TemporaryDirectory(prefix="bnlib-turma-") as temporary:
        base = Path(temporary)
        make_class(base / "entregas", args.n)
        load_before = os.getloadavg()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        start = time.monotonic()
        rows = grading.grade(
            base / "entregas", base / "correcao", jobs=args.j, seed=1, isolated=isolated,
            log=lambda text: None,
        )  # fmt: skip
        elapsed = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        load_after = os.getloadavg()
    grader_cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    sandbox_cpu = sum(r.cpu_seconds for r in rows)
    totals = sorted(r.total for r in rows)
    print(f"entregas: {len(rows)} (notas: {totals.count(10)} com 10, {totals.count(0)} com 0)")
    print(f"isolamento: {'bubblewrap' if isolated else 'nenhum'}; -j {args.j}")
    print(f"tempo de relógio: {elapsed:.1f} s; {60 * len(rows) / elapsed:.1f} entregas por minuto")
    print(
        f"CPU: {sandbox_cpu:.1f} s nas caixas de areia ({sandbox_cpu / len(rows):.2f} s por "
        f"entrega), {grader_cpu:.1f} s em quem corrige"
    )
    ideal = (sandbox_cpu + grader_cpu) / (args.j * 60)
    print(f"com {args.j} núcleos livres, a CPU medida daria cerca de {ideal:.1f} min")
    print(f"carga média da máquina: {load_before[0]:.1f} no início, {load_after[0]:.1f} no fim")
    return 0


if __name__ == "__main__":
    sys.exit(main())
