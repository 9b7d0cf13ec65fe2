"""Chama as funções do aluno nos casos de uma questão e recolhe as respostas.

Há dois modos:

* **no próprio processo** (:func:`run_in_process`), o das verificações no caderno: cada
  chamada tem o limite :data:`CASE_TIME_LIMIT`, imposto com ``SIGALRM``; um ``except:``
  sem tipo no código do aluno pode engolir esse aviso, e então a célula espera;
* **num processo filho** (:func:`run_isolated`), o da correção: o núcleo do caderno cria
  (``fork``) um processo por questão, que roda os casos e manda cada resposta por um cano
  (*pipe*); quem espera mata o filho com ``SIGKILL`` quando um caso passa do limite. Nenhum
  ``except:``, sinal ignorado ou laço escapa disso, e o ``faulthandler`` mostra em que linha
  o código estava.

Cada resposta é um dicionário: ``status`` (``"ok"``, ``"error"``, ``"timeout"``,
``"skipped"``), ``output`` (o valor devolvido, codificado por :mod:`bnlib.kit.answers`),
``changed`` (os argumentos que a função alterou), ``explanation`` (a explicação em português
de uma exceção ou do tempo esgotado) e ``error_key`` (tipo e linha, para agrupar repetições).
"""

from __future__ import annotations

import contextlib
import copy
import faulthandler
import json
import os
import re
import select
import signal
import sys
import threading
import time

import numpy as np

from bnlib.kit.answers import decode_case, encode
from bnlib.kit.explain import CaseTimeout, explain, is_library_file, timeout_text

CASE_TIME_LIMIT = 5.0
"""Tempo máximo, em segundos, de uma chamada à função do aluno num caso."""

KILL_GRACE = 0.5
"""Folga, em segundos, entre o fim do limite (e o registro da linha) e o ``SIGKILL``."""

MAX_PIPE_BYTES = 64 * 2**20
"""O máximo que o processo de uma questão pode mandar pelo cano."""


# --------------------------------------------------------------------------------------
# Uma chamada
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def alarm(seconds: float):
    """Interrompe o bloco com :class:`CaseTimeout` depois de ``seconds`` (``SIGALRM``).

    Fora da *thread* principal, ou sem ``SIGALRM`` (Windows), não limita.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def on_alarm(signum, frame):
        raise CaseTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def gradient_test_function(name: str):
    """As funções de teste do gradiente numérico (questão 2.3), pelo nome."""

    def cube(x):
        return x**3

    def softmax(x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return {"cube": cube, "tanh": np.tanh, "softmax": softmax}[name]


def history(data: dict):
    """Um ``TrainHistory`` (questão 6.2) a partir das listas do caso."""
    from bnlib.lab.training import TrainHistory

    return TrainHistory(
        eval_step=list(data["eval_step"]), eval_accuracy=list(data["eval_accuracy"])
    )


def prepare(call: str, args: tuple) -> tuple:
    """Os argumentos da chamada: o caso, com nomes trocados pelos objetos que eles indicam."""
    if call == "gradient":
        return (gradient_test_function(args[0]), *args[1:])
    if call == "history":
        return (history(args[0]), *args[1:])
    return args


def call_once(function, call: str, args: tuple, kwargs: dict) -> dict:
    """Chama a função num caso (sem limite de tempo) e descreve a resposta."""
    given = tuple(copy.deepcopy(a) if isinstance(a, np.ndarray) else a for a in args)
    if call == "model":
        from bnlib.kit.project import describe_model

        description = describe_model(function(*given, **kwargs))
        return {"status": "ok", "output": description, "changed": []}
    output = function(*prepare(call, given), **kwargs)
    changed = [
        i
        for i, (before, after) in enumerate(zip(args, given, strict=True))
        if isinstance(before, np.ndarray)
        and (after.shape != before.shape or not np.array_equal(after, before, equal_nan=True))
    ]
    return {"status": "ok", "output": encode(output), "changed": changed}


def run_in_process(function, call: str, cases: list[dict], limit: float) -> list[dict]:
    """Roda os casos neste processo, com ``SIGALRM`` (as verificações do caderno)."""
    answers = []
    for case in cases:
        try:
            with alarm(limit):
                answers.append(call_once(function, call, case["args"], case.get("kwargs", {})))
        except (Exception, CaseTimeout) as error:  # noqa: BLE001 — o código do aluno pode levantar qualquer coisa
            answers.append(explain(error, limit))
            if isinstance(error, NotImplementedError | CaseTimeout):
                break
    return answers + [{"status": "skipped"}] * (len(cases) - len(answers))


# --------------------------------------------------------------------------------------
# Um processo por questão
# --------------------------------------------------------------------------------------

FAULT_LINE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def child(function, call: str, cases: list[dict], limit: float, fd: int) -> None:
    """O processo filho: roda os casos e escreve uma linha JSON por evento. Nunca volta."""
    try:
        os.setpgid(0, 0)
        null = os.open(os.devnull, os.O_RDWR)
        for standard in (0, 1, 2):
            os.dup2(null, standard)
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        out = os.fdopen(fd, "w", buffering=1)
        for index, case in enumerate(cases):
            out.write(json.dumps({"start": index}) + "\n")
            out.flush()
            faulthandler.dump_traceback_later(limit, file=out)
            try:
                answer = call_once(function, call, case["args"], case.get("kwargs", {}))
            except BaseException as error:  # noqa: BLE001
                answer = explain(error, limit)
            faulthandler.cancel_dump_traceback_later()
            out.write(json.dumps({"answer": index, "data": answer}) + "\n")
            out.flush()
            if answer["status"] != "ok" and answer["error_key"][0] == "NotImplementedError":
                break
        out.close()
    finally:
        os._exit(0)


def timeout_answer(dump: list[str], limit: float) -> dict:
    """A resposta de um caso morto por tempo, com a linha que o ``faulthandler`` registrou."""
    frames = [m for m in (FAULT_LINE.search(line) for line in dump) if m]
    # O faulthandler lista do quadro mais recente para o mais antigo.
    student = [m for m in frames if not is_library_file(m["file"])]
    line = int(student[0]["line"]) if student else None
    where = f" na linha {line} do seu código" if line else ""
    return {
        "status": "timeout",
        "explanation": timeout_text(where, limit),
        "error_key": ["CaseTimeout", line],
        "killed": True,
    }


def run_isolated(function, call: str, cases: list[dict], limit: float) -> list[dict]:
    """Roda os casos num processo filho, que é morto se um caso passa de ``limit``."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        child(function, call, cases, limit, write_fd)
    os.close(write_fd)
    answers: dict[int, dict] = {}
    current, dump, buffer, received = None, [], b"", 0
    deadline = time.monotonic() + limit + KILL_GRACE
    killed = False
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while True:
            remaining = deadline - time.monotonic()
            ready = select.select([pipe], [], [], max(remaining, 0))[0] if remaining > 0 else []
            if not ready:
                killed = True
                break
            chunk = pipe.read(65536)
            if not chunk:
                break
            received += len(chunk)
            if received > MAX_PIPE_BYTES:
                killed = True
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                text = raw.decode("utf-8", "replace")
                try:
                    event = json.loads(text) if text.startswith("{") else None
                except ValueError:
                    event = None
                if isinstance(event, dict) and isinstance(event.get("start"), int):
                    current, dump = event["start"], []
                    deadline = time.monotonic() + limit + KILL_GRACE
                elif isinstance(event, dict) and isinstance(event.get("answer"), int):
                    answers[event["answer"]] = event.get("data")
                    current = None
                else:
                    dump.append(text)
    if killed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    result = []
    for index in range(len(cases)):
        if index in answers:
            result.append(answers[index])
        elif index == current and killed:
            result.append(timeout_answer(dump, limit))
        elif index == current:
            result.append(
                {
                    "status": "error",
                    "explanation": "o processo que rodava a sua função terminou de repente "
                    "(memória demais, `exit()` ou `os._exit()` na função?).",
                    "error_key": ["ProcessoTerminou", None],
                }
            )
        else:
            result.append({"status": "skipped"})
    return result


# --------------------------------------------------------------------------------------
# O pedido da correção
# --------------------------------------------------------------------------------------


def answer_request(request: dict, namespace: dict, isolate: bool = True) -> dict:
    """As respostas de um caderno a um pedido da correção (:func:`bnlib.kit.registry.request`).

    Parameters
    ----------
    request : dict
        Para cada questão: ``id``, ``name``, ``kind`` e, nas funções, ``call`` e ``cases``
        (só as entradas).
    namespace : dict
        As variáveis do caderno (``globals()``).
    isolate : bool
        ``True``: cada questão roda num processo filho (:func:`run_isolated`).

    Returns
    -------
    dict
        ``{"questions": {id: resposta}}``, só com tipos do JSON.
    """
    limit = float(request.get("case_time_limit", CASE_TIME_LIMIT))
    result = {}
    for item in request["questions"]:
        name = item["name"]
        if name not in namespace:
            result[item["id"]] = {"status": "missing"}
            continue
        value = namespace[name]
        if item["kind"] == "value":
            result[item["id"]] = {"status": "ok", "value": encode(value)}
            continue
        if not callable(value):
            result[item["id"]] = {"status": "not_callable", "type": type(value).__name__}
            continue
        cases = [decode_case(case) for case in item["cases"]]
        run = run_isolated if isolate else run_in_process
        result[item["id"]] = {"status": "ok", "answers": run(value, item["call"], cases, limit)}
    return {"questions": result}


def reap_children() -> None:
    """Recolhe os processos filhos já terminados (que ainda contam no limite de processos)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def answer_file(request_path: str, output_path: str, namespace: dict) -> None:
    """Lê o pedido, responde com :func:`answer_request` e grava as respostas em JSON."""
    reap_children()
    with open(request_path, encoding="utf-8") as file:
        request = json.load(file)
    answers = answer_request(request, namespace, isolate=True)
    with open(output_path, "w", encoding="utf-8") as file:
        json.dump(answers, file)
