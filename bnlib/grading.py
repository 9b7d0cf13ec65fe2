"""Correção automática dos trabalhos: roda o caderno do aluno e escreve um relatório de notas.

Uso::

    python -m bnlib.grading corrigir aluno.ipynb
    python -m bnlib.grading corrigir pasta_de_entregas/ --relatorio notas.csv
    python -m bnlib.grading corrigir pasta_de_entregas/ --relatorio notas.json --executados saida/

Para cada caderno:

1. descobre o trabalho (``metadata.bnlib.trabalho``, ou o prefixo ``01_``…``06_`` do nome);
2. roda todas as células com ``nbclient`` num núcleo (*kernel*) novo, com limite de tempo
   por célula (``--tempo-celula``, 60 s por padrão): uma célula que estoura o limite é
   interrompida e as seguintes continuam; erros do aluno não interrompem a correção;
3. acrescenta ao fim uma célula que chama :func:`bnlib.checks.corrigir_trabalho` sobre as
   funções e respostas que o caderno definiu (os casos ocultos incluídos) e lê o registro
   JSON que ela imprime;
4. soma os pontos por questão e no total.

O que a correção **não** protege: o código do aluno roda com as permissões de quem corrige,
sem isolamento. Ele pode ler e escrever arquivos, acessar a rede, gastar memória ou
processos, ler as implementações de referência do ``bnlib`` (ou chamá-las, em vez de
implementar) e alterar o ``bnlib.checks`` carregado no núcleo para forjar a nota. O limite
de tempo só evita laços infinitos, e a pasta temporária de trabalho só evita sujar a pasta
das entregas. Para turmas em que isso importa, rode a correção dentro de um contêiner ou de
uma máquina virtual descartável, sem rede, e leia os avisos do relatório, que apontam
cadernos que usam as funções prontas do ``bnlib``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from bnlib import checks

TEMPO_CELULA = 60
"""Limite de tempo padrão por célula, em segundos."""

SUSPEITOS = (
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_inference",
    "update_running_stats",
    "batch_statistics",
    "_reference",
    "medidas_referencia",
    "batch_norm(",
    "layer_norm(",
    "group_norm(",
)
"""Trechos de código que indicam o uso de uma implementação pronta (geram um aviso)."""


@dataclass
class Relatorio:
    """A nota de um caderno.

    Attributes
    ----------
    arquivo : str
    trabalho : str ou None
    questoes : list of dict
        Um :class:`bnlib.checks.Resultado` por questão, como dicionário.
    total, maximo : float
    erros : list of str
        Células que falharam ou estouraram o tempo, e problemas da correção.
    avisos : list of str
        Indícios de uso de implementações prontas.
    """

    arquivo: str
    trabalho: str | None
    questoes: list[dict[str, Any]] = field(default_factory=list)
    total: float = 0.0
    maximo: float = 0.0
    erros: list[str] = field(default_factory=list)
    avisos: list[str] = field(default_factory=list)

    @property
    def porcentagem(self) -> float:
        """A nota em porcentagem do máximo (0 se não há questões)."""
        return round(100.0 * self.total / self.maximo, 1) if self.maximo else 0.0

    def como_dict(self) -> dict[str, Any]:
        """O relatório como dicionário, com a porcentagem."""
        return {**asdict(self), "porcentagem": self.porcentagem}


def identificar_trabalho(notebook, caminho: Path) -> str | None:
    """O trabalho de um caderno: pelos metadados ou pelo prefixo numérico do nome."""
    trabalho = notebook.metadata.get("bnlib", {}).get("trabalho")
    if trabalho in checks.TRABALHOS:
        return trabalho
    match = re.match(r"(\d\d)", caminho.name)
    if match:
        for chave in checks.TRABALHOS:
            if chave.startswith(match.group(1)):
                return chave
    return None


def _celula_de_correcao(trabalho: str):
    codigo = (
        "import bnlib.checks as _bnlib_checks\n"
        f"_bnlib_checks.corrigir_trabalho({trabalho!r}, globals())"
    )
    return nbformat.v4.new_code_cell(codigo)


def _registro(celula) -> dict[str, Any] | None:
    for saida in celula.get("outputs", []):
        if saida.get("output_type") != "stream":
            continue
        for linha in saida.get("text", "").splitlines():
            if linha.startswith(checks.MARCADOR):
                return json.loads(linha[len(checks.MARCADOR) :])
    return None


def _zeros(trabalho: str, motivo: str) -> list[dict[str, Any]]:
    questoes = []
    for indice, (nome, verificar) in enumerate(checks.TRABALHOS[trabalho], start=1):
        questao = f"{int(trabalho[:2])}.{indice}"
        questoes.append(checks._resultado_ausente(questao, nome, verificar, motivo).como_dict())
    return questoes


def corrigir_caderno(
    caminho: Path | str,
    tempo_celula: int = TEMPO_CELULA,
    executado: Path | str | None = None,
) -> Relatorio:
    """Roda o caderno de um aluno e devolve a sua nota.

    Parameters
    ----------
    caminho : Path
        O caderno ``.ipynb`` entregue.
    tempo_celula : int
        Limite de tempo por célula, em segundos.
    executado : Path, opcional
        Onde gravar o caderno executado (com as mensagens das verificações), para devolver
        ao aluno.

    Returns
    -------
    Relatorio
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    caminho = Path(caminho)
    try:
        notebook = nbformat.read(caminho, as_version=4)
    except Exception as erro:  # noqa: BLE001 — um arquivo entregue pode estar corrompido
        return Relatorio(str(caminho), None, erros=[f"caderno ilegível: {erro}"])
    trabalho = identificar_trabalho(notebook, caminho)
    if trabalho is None:
        return Relatorio(
            str(caminho),
            None,
            erros=[
                "não foi possível identificar o trabalho: faltam os metadados "
                "`bnlib.trabalho` e o nome não começa com 01_ … 06_."
            ],
        )
    relatorio = Relatorio(str(caminho), trabalho)
    codigo = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    for trecho in SUSPEITOS:
        if trecho in codigo:
            relatorio.avisos.append(
                f"o código usa `{trecho}`: confira se não é uma solução pronta."
            )
    celula_final = _celula_de_correcao(trabalho)
    notebook.cells.append(celula_final)
    # A célula de correção roda todas as verificações; cada chamada à função do aluno tem
    # o seu limite (checks.LIMITE_CASO), e a célula inteira ganha folga para todas elas,
    # para que um laço infinito numa questão não zere as outras.
    tempo_final = max(
        tempo_celula, 60 + int(checks.LIMITE_CASO + 1) * len(checks.TRABALHOS[trabalho])
    )

    def tempo_da_celula(celula) -> int:
        return tempo_final if celula is celula_final else tempo_celula

    with tempfile.TemporaryDirectory(prefix="bnlib-correcao-") as pasta:
        client = NotebookClient(
            notebook,
            timeout=tempo_celula,
            timeout_func=tempo_da_celula,
            # Sem o aviso de conexão TCP do núcleo, que só polui a saída do professor.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": "TempoEsgotado",
                "evalue": f"a célula passou de {tempo_celula} s e foi interrompida",
                "traceback": [],
            },
            resources={"metadata": {"path": pasta}},
        )
        try:
            client.execute()
        except DeadKernelError as erro:
            relatorio.erros.append(f"o núcleo do Python morreu durante a execução: {erro}")
        except Exception as erro:  # noqa: BLE001
            relatorio.erros.append(f"falha ao executar o caderno: {type(erro).__name__}: {erro}")
    for indice, celula in enumerate(notebook.cells[:-1]):
        for saida in celula.get("outputs", []):
            if saida.get("output_type") != "error":
                continue
            if saida.get("ename") in ("KeyboardInterrupt", "TempoEsgotado"):
                relatorio.erros.append(
                    f"célula {indice}: TempoEsgotado: passou de {tempo_celula} s e foi interrompida"
                )
                # No caderno devolvido ao aluno, uma explicação no lugar do traceback.
                celula.outputs[celula.outputs.index(saida)] = nbformat.v4.new_output(
                    "stream",
                    name="stderr",
                    text=(
                        f"Esta célula passou de {tempo_celula} s e foi interrompida pela "
                        "correção. Há um laço infinito? Confira a condição de parada e o "
                        "incremento de cada `while`.\n"
                    ),
                )
            else:
                relatorio.erros.append(
                    f"célula {indice}: {saida.get('ename')}: {saida.get('evalue', '')[:200]}"
                )
    registro = _registro(notebook.cells[-1])
    if registro is None:
        relatorio.erros.append("a célula de correção não produziu o registro de notas.")
        relatorio.questoes = _zeros(trabalho, "a correção não pôde rodar as verificações.")
    else:
        relatorio.questoes = registro["questoes"]
    relatorio.total = round(sum(q["pontos"] for q in relatorio.questoes), 2)
    relatorio.maximo = round(sum(q["maximo"] for q in relatorio.questoes), 2)
    if executado is not None:
        nbformat.write(notebook, Path(executado))
    return relatorio


def corrigir(
    alvo: Path | str, tempo_celula: int = TEMPO_CELULA, executados: Path | str | None = None
) -> list[Relatorio]:
    """Corrige um caderno ou todos os ``*.ipynb`` de uma pasta (e subpastas)."""
    alvo = Path(alvo)
    if alvo.is_dir():
        cadernos = sorted(p for p in alvo.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    elif alvo.exists():
        cadernos = [alvo]
    else:
        raise FileNotFoundError(f"corrigir: {alvo} não existe.")
    relatorios = []
    for caderno in cadernos:
        destino = None
        if executados is not None:
            Path(executados).mkdir(parents=True, exist_ok=True)
            destino = Path(executados) / caderno.name
        relatorios.append(corrigir_caderno(caderno, tempo_celula, destino))
    return relatorios


def escrever_relatorio(relatorios: list[Relatorio], saida: Path | str) -> None:
    """Grava os relatórios em JSON (completo) ou CSV (uma linha por caderno)."""
    saida = Path(saida)
    if saida.suffix.lower() == ".json":
        dados = [r.como_dict() for r in relatorios]
        saida.write_text(json.dumps(dados, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    if saida.suffix.lower() != ".csv":
        raise ValueError(
            f"escrever_relatorio: use um arquivo .csv ou .json; recebido {saida.name}."
        )
    ids = sorted(
        {q["questao"] for r in relatorios for q in r.questoes},
        key=lambda s: tuple(int(p) for p in s.split(".")),
    )
    with saida.open("w", newline="", encoding="utf-8") as arquivo:
        writer = csv.writer(arquivo)
        writer.writerow(
            [
                "arquivo",
                "trabalho",
                *(f"questao_{i}" for i in ids),
                "total",
                "maximo",
                "porcentagem",
                "erros",
                "avisos",
            ]
        )
        for r in relatorios:
            pontos = {q["questao"]: q["pontos"] for q in r.questoes}
            writer.writerow(
                [
                    r.arquivo,
                    r.trabalho or "",
                    *(float(pontos[i]) if i in pontos else "" for i in ids),
                    r.total,
                    r.maximo,
                    r.porcentagem,
                    len(r.erros),
                    " | ".join(r.avisos),
                ]
            )


def _num(valor: float) -> str:
    """Um número com vírgula decimal, para o resumo em português."""
    return f"{valor:g}".replace(".", ",")


def _resumo(relatorio: Relatorio) -> str:
    linhas = [
        f"{relatorio.arquivo} ({relatorio.trabalho or 'trabalho desconhecido'}): "
        f"{_num(relatorio.total)}/{_num(relatorio.maximo)} pontos "
        f"({_num(relatorio.porcentagem)} %)"
    ]
    for q in relatorio.questoes:
        linhas.append(
            f"  questão {q['questao']} ({q['titulo']}): {_num(q['pontos'])}/{_num(q['maximo'])}"
        )
        linhas.extend(f"      {m}" for m in q["mensagens"])
    linhas.extend(f"  erro: {e}" for e in relatorio.erros)
    linhas.extend(f"  aviso: {a}" for a in relatorio.avisos)
    return "\n".join(linhas)


def main(argv: list[str] | None = None) -> int:
    """Linha de comando: ``corrigir <caderno ou pasta> [--relatorio saida.csv|json]``."""
    parser = argparse.ArgumentParser(
        prog="python -m bnlib.grading",
        description="Corrige cadernos de trabalhos e escreve um relatório de notas.",
    )
    sub = parser.add_subparsers(dest="comando", required=True)
    p = sub.add_parser("corrigir", help="corrige um caderno ou uma pasta de cadernos")
    p.add_argument("alvo", type=Path, help="caderno .ipynb ou pasta com cadernos")
    p.add_argument("--relatorio", type=Path, help="arquivo .csv ou .json para as notas")
    p.add_argument(
        "--tempo-celula", type=int, default=TEMPO_CELULA, help="limite por célula, em segundos"
    )
    p.add_argument("--executados", type=Path, help="pasta para os cadernos executados")
    args = parser.parse_args(argv)
    try:
        relatorios = corrigir(args.alvo, args.tempo_celula, args.executados)
    except FileNotFoundError as erro:
        print(f"erro: {erro}", file=sys.stderr)
        return 2
    for relatorio in relatorios:
        print(_resumo(relatorio))
    if args.relatorio is not None:
        escrever_relatorio(relatorios, args.relatorio)
        print(f"relatório gravado em {args.relatorio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
