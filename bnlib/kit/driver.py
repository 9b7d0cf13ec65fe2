"""O programa que roda dentro da caixa de areia da correção: executa um caderno e devolve respostas.

Uso (só pela correção, :mod:`bnlib.kit.sandbox`)::

    python -m bnlib.kit.driver < pedido.json > resultado.json

O pedido (JSON na entrada padrão) traz o caderno já limpo, o pedido de respostas
(:func:`bnlib.kit.registry.request`: só as **entradas** dos casos) e os limites. O programa:

1. impõe os limites do sistema (memória, processos, tamanho de arquivo, tempo de CPU) e, se
   começou como ``root``, passa a um usuário sem privilégios;
2. grava o caderno numa pasta de trabalho em ``/tmp`` e executa as células
   (:mod:`bnlib.kit.executor`);
3. pede ao núcleo as respostas (:func:`bnlib.kit.runner.answer_file`, um processo por
   questão) e lê o arquivo que ele gravou;
4. escreve na saída padrão um JSON com as saídas das células, os eventos e as respostas.

Nada aqui julga ou pontua: os valores esperados e os pontos nunca entram na caixa de areia.
Tudo o que sai dela é tratado como dado não confiável por quem corrige.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import sys
import time

from bnlib.kit.executor import Session, run_cells

PROTOCOL = 1
RESERVE_BYTES = 32 * 2**20
"""Espaço em disco reservado antes das células do aluno, liberado quando o programa precisa
escrever (reiniciar o núcleo, gravar as respostas): um caderno que enche o ``/tmp`` não
impede a coleta das suas próprias respostas."""
MAX_ANSWERS_BYTES = 64 * 2**20


def apply_limits(limits: dict) -> None:
    """Limites do sistema, herdados por todos os processos do caderno (não se aumentam)."""
    mb = 2**20
    pairs = {
        resource.RLIMIT_AS: limits["memory_mb"] * mb,
        resource.RLIMIT_NPROC: limits.get("processes"),
        resource.RLIMIT_FSIZE: limits["file_mb"] * mb,
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_CORE: 0,
    }
    for kind, value in pairs.items():
        if value is not None:
            resource.setrlimit(kind, (value, value))
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def drop_privileges(uid: int | None) -> None:
    """Se o processo é ``root`` (o professor rodou a correção como root), vira ``uid``."""
    if os.getuid() != 0 or uid is None:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def read_limited(path: str, limit: int) -> str | None:
    """O conteúdo de um arquivo comum (sem seguir links), se ele existe e cabe em ``limit``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        return file.read(limit + 1)[:limit].decode("utf-8", "replace")


ANSWER_CODE = """\
import bnlib.kit.runner as _bnlib_runner
_bnlib_runner.answer_file({request!r}, {output!r}, globals())
"""


def parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return int(file.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def kill_strays(kernel_pid: int | None, isolated: bool) -> int:
    """Mata os processos que o caderno deixou rodando, antes da coleta das respostas.

    Eles ocupariam o limite de processos de que a coleta precisa (um processo por questão).
    Na caixa de areia, todo processo além deste programa e do núcleo é do caderno; sem
    isolamento, só os descendentes do núcleo.
    """
    me, killed = os.getpid(), 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid in (1, me, kernel_pid):
            continue
        chain, ancestor = 0, parent_of(pid)
        while ancestor not in (None, 0, 1, kernel_pid) and chain < 64:
            ancestor, chain = parent_of(ancestor), chain + 1
        if isolated or (kernel_pid is not None and ancestor == kernel_pid):
            try:
                os.kill(pid, 9)
                killed += 1
            except OSError:
                pass
    return killed


class Reserve:
    """Um arquivo que ocupa :data:`RESERVE_BYTES` até ser liberado."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.take()

    def take(self) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.posix_fallocate(fd, 0, RESERVE_BYTES)
            finally:
                os.close(fd)
        except OSError:
            pass

    def release(self) -> None:
        try:
            os.remove(self.path)
        except OSError:
            pass


def collect(request: dict) -> dict:
    """Executa o caderno e pede as respostas; devolve o resultado (sem julgamento)."""
    limits = request["limits"]
    start = time.monotonic()
    base = request.get("workdir", "/tmp")
    workdir = os.path.join(base, "trabalho")
    for folder in ("home/.matplotlib", "home/.ipython", "home/.jupyter/runtime", "trabalho"):
        os.makedirs(os.path.join(base, folder), exist_ok=True)
    os.chdir(workdir)
    notebook = request["notebook"]
    with open(os.path.join(workdir, request.get("name", "caderno.ipynb")), "w") as file:
        json.dump(notebook, file)
    sources = [cell["source"] if cell["cell_type"] == "code" else "" for cell in notebook["cells"]]
    hidden = os.path.join(base, ".bnlib")
    os.makedirs(hidden, exist_ok=True)
    request_path = os.path.join(hidden, "pedido.json")
    output_path = os.path.join(hidden, "respostas.json")
    with open(request_path, "w") as file:
        json.dump(request["answers"], file)
    reserve = Reserve(os.path.join(hidden, "reserva"))
    session = Session(workdir)
    session.start()
    deadline = start + limits["cells_seconds"]
    runs, events = run_cells(
        session, sources, limits["cell_seconds"], deadline, before_restart=reserve.release
    )
    answers = None
    reserve.release()
    kernel_pid = getattr(getattr(session.km, "provisioner", None), "pid", None)
    if kill_strays(kernel_pid, request.get("isolated", False)):
        events.append("processos que o caderno deixou rodando foram encerrados antes da coleta")
    if session.km is None:
        events.append("as respostas não foram coletadas: o núcleo não pôde ser reiniciado")
    else:
        cases = sum(len(q.get("cases", [])) + 1 for q in request["answers"]["questions"])
        budget = 30 + cases * (request["answers"]["case_time_limit"] + 2)
        code = ANSWER_CODE.format(request=request_path, output=output_path)
        run = session.execute(code, budget)
        text = read_limited(output_path, MAX_ANSWERS_BYTES)
        if run.status != "ok" or text is None:
            detail = run.error or run.status
            events.append(f"as respostas não foram coletadas ({detail})")
        else:
            try:
                answers = json.loads(text)
            except ValueError:
                events.append("o arquivo de respostas veio malformado")
    session.kill()
    cells = [
        {"status": r.status, "outputs": r.outputs, "error": r.error, "seconds": r.seconds}
        for r in runs
    ]
    usage = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    return {"protocol": PROTOCOL, "cells": cells, "events": events, "answers": answers, "cpu": cpu}


def main() -> int:
    request = json.loads(sys.stdin.read())
    apply_limits(request["limits"])
    drop_privileges(request.get("uid"))
    try:
        result = collect(request)
    except Exception as error:  # noqa: BLE001 — sempre devolver um resultado legível
        result = {
            "protocol": PROTOCOL,
            "cells": [],
            "events": [f"a execução do caderno falhou ({type(error).__name__}: {error})"[:300]],
            "answers": None,
            "cpu": 0.0,
        }
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
