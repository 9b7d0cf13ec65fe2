"""Executa as células de um caderno num núcleo (*kernel*) Jupyter, com limites que não se burlam.

Roda dentro da caixa de areia da correção (:mod:`bnlib.kit.driver`). Cada célula tem um
limite de tempo; ao estourá-lo, o núcleo recebe uma interrupção (``SIGINT``), como no
Jupyter. Um código que ignora a interrupção (``signal.signal(SIGINT, SIG_IGN)``) ou a engole
num ``except:`` sem tipo continuaria rodando e prenderia as células seguintes; aqui, se o
núcleo não volta em :data:`INTERRUPT_GRACE` segundos, ele é morto (``SIGKILL``, no grupo de
processos inteiro), um núcleo novo é iniciado e as células que já tinham terminado rodam de
novo, em silêncio, para recriar as variáveis. A célula culpada fica de fora e é marcada.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import time
from dataclasses import dataclass, field

from jupyter_client import KernelManager

from bnlib.kit.outputs import clean_outputs

INTERRUPT_GRACE = 3.0
"""Segundos que o núcleo tem para voltar depois de uma interrupção."""

MAX_RESTARTS = 3
"""Quantas vezes um caderno pode derrubar ou travar o núcleo antes de a execução parar."""

START_TIMEOUT = 60.0


@dataclass
class CellRun:
    """O resultado de executar uma célula.

    ``status``: ``"ok"``, ``"error"`` (uma exceção do aluno), ``"timeout"`` (interrompida
    pelo limite), ``"killed"`` (não respondeu à interrupção e o núcleo foi morto), ``"dead"``
    (o núcleo morreu durante a célula) ou ``"skipped"`` (não executada).
    """

    status: str
    outputs: list[dict] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


class Session:
    """Um núcleo Python e o seu cliente, com execução limitada por tempo."""

    def __init__(self, cwd: str) -> None:
        self.cwd = cwd
        self.km: KernelManager | None = None
        self.kc = None

    def start(self) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            extra_arguments=["--IPKernelApp.log_level=ERROR", "--HistoryManager.enabled=False"],
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=START_TIMEOUT)

    def kill(self) -> None:
        """Mata o núcleo e tudo o que estiver no grupo de processos dele."""
        if self.km is None:
            return
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        pgid = getattr(self.km.provisioner, "pgid", None)
        if pgid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)
        with contextlib.suppress(Exception):
            self.km.cleanup_resources()
        self.km = self.kc = None

    def alive(self) -> bool:
        return self.km is not None and self.km.is_alive()

    def execute(self, code: str, timeout: float) -> CellRun:
        """Executa ``code`` e recolhe as saídas, com o limite ``timeout`` em segundos."""
        start = time.monotonic()
        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        deadline = start + timeout
        interrupted = False
        outputs: list[dict] = []
        error = ""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if interrupted:
                    return CellRun("killed", clean_outputs(outputs), error, timeout)
                with contextlib.suppress(Exception):
                    self.km.interrupt_kernel()
                interrupted = True
                deadline = time.monotonic() + INTERRUPT_GRACE
                continue
            try:
                msg = self.kc.get_iopub_msg(timeout=min(remaining, 0.5))
            except queue.Empty:
                if not self.alive():
                    return CellRun("dead", clean_outputs(outputs), error, time.monotonic() - start)
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if kind == "clear_output":
                outputs = []
            elif kind in ("stream", "display_data", "execute_result", "error"):
                output = dict(content, output_type=kind)
                if kind == "error":
                    error = f"{content.get('ename', '')}: {content.get('evalue', '')}"[:500]
                outputs.append(output)
                if len(outputs) > 2000:  # um laço que imprime sem parar: junta o que veio
                    outputs = clean_outputs(outputs)
        status = "timeout" if interrupted else ("error" if error else "ok")
        return CellRun(status, clean_outputs(outputs), error, time.monotonic() - start)


def run_cells(
    session: Session,
    sources: list[str],
    cell_timeout: float,
    deadline: float,
    before_restart=None,
) -> tuple[list[CellRun], list[str]]:
    """Executa as células em ordem; reinicia o núcleo quando uma célula o trava ou derruba.

    Parameters
    ----------
    session : Session
        Já iniciada.
    sources : list of str
        O código de cada célula (células vazias são puladas).
    cell_timeout : float
        Limite de cada célula, em segundos.
    deadline : float
        Instante (``time.monotonic()``) em que nenhuma célula nova começa.
    before_restart : função sem argumentos, opcional
        Chamada antes de reiniciar o núcleo (para liberar o espaço reservado em disco).

    Returns
    -------
    runs : list of CellRun
        Um por célula.
    events : list of str
        O que aconteceu de anormal, em português (para o relatório do professor).
    """
    runs: list[CellRun] = []
    events: list[str] = []
    finished: list[int] = []
    restarts = 0
    for index, source in enumerate(sources):
        if not source.strip():
            runs.append(CellRun("ok"))
            continue
        if time.monotonic() >= deadline or session.km is None:
            runs.append(CellRun("skipped"))
            continue
        run = session.execute(source, cell_timeout)
        runs.append(run)
        if run.status == "timeout":
            events.append(f"célula {index + 1}: passou de {cell_timeout:g} s e foi interrompida")
        elif run.status in ("killed", "dead"):
            what = (
                "não respondeu à interrupção depois do limite de tempo"
                if run.status == "killed"
                else "derrubou o núcleo do Python (memória demais? `exit()`?)"
            )
            events.append(f"célula {index + 1}: {what}; o núcleo foi reiniciado sem ela")
            session.kill()
            restarts += 1
            if restarts > MAX_RESTARTS:
                events.append("o caderno travou o núcleo vezes demais: a execução parou")
                continue
            if before_restart is not None:
                before_restart()
            try:
                session.start()
            except Exception as error:  # noqa: BLE001 — um disco cheio, por exemplo
                events.append(f"o núcleo não pôde ser reiniciado ({type(error).__name__})")
                session.kill()
                continue
            for earlier in finished:  # recria as variáveis, sem guardar as saídas
                replay = session.execute(sources[earlier], cell_timeout)
                if replay.status in ("killed", "dead"):
                    events.append(f"célula {earlier + 1}: falhou ao rodar de novo; execução parada")
                    session.kill()
                    break
        else:
            finished.append(index)
    return runs, events
