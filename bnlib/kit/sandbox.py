"""A caixa de areia de cada entrega: bubblewrap, limites e um relógio do lado de fora.

Cada caderno roda em :mod:`bnlib.kit.driver` dentro de um ``bwrap`` (pacote Debian
``bubblewrap``) com:

* o sistema (``/usr``), o Python e o ambiente virtual **somente leitura**, e só os arquivos
  de ``/etc`` que o Python precisa;
* a ``bnlib`` da correção (:func:`bnlib.kit.package.build_runtime`) somente leitura, sem as
  implementações prontas da BN;
* um ``/tmp`` próprio, em memória e com tamanho limitado, onde fica a **cópia** do caderno
  (nenhuma pasta de quem corrige é montada: nem as entregas, nem a pasta pessoal, nem o
  repositório);
* espaços de nomes próprios de rede (sem rede), processos, IPC e nome de máquina;
* limites de memória, processos, tamanho de arquivo, arquivos abertos e CPU
  (:mod:`bnlib.kit.driver`), de tamanho da saída (lido aqui, com teto) e de tempo total
  (imposto daqui: ao fim do prazo, o ``bwrap`` e todos os processos da entrega morrem).

Rodando como ``root``, a caixa começa com permissão para trocar de usuário e o programa
interno passa a um usuário sem privilégios, único por vaga de execução paralela (assim os
limites de processos de um aluno não atrapalham outro). Sem ``bwrap`` (macOS, Windows), a
correção só roda com ``--sem-isolamento``, e o relatório marca cada linha assim.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

RUNTIME_MOUNT = "/opt/bnlib"
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/fonts",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/mime.types",
)
UNPRIVILEGED_UID = 3_000_000_000
"""Base dos usuários sem privilégios usados quando a correção roda como ``root``."""


@dataclass
class Limits:
    """Os limites de cada entrega.

    Attributes
    ----------
    memory_mb : int
        Memória virtual de cada processo (``RLIMIT_AS``).
    processes : int
        Processos e *threads* do usuário da caixa (``RLIMIT_NPROC``).
    file_mb : int
        Tamanho de cada arquivo escrito (``RLIMIT_FSIZE``).
    tmp_mb : int
        Tamanho total do ``/tmp`` da caixa (em memória).
    open_files : int
    output_mb : int
        Teto do resultado que a caixa devolve; acima disso, a entrega é interrompida.
    cell_seconds : float
        Limite de cada célula.
    wall_seconds : float
        Limite de tempo de relógio da entrega inteira, imposto de fora.
    """

    memory_mb: int = 3072
    processes: int = 256
    file_mb: int = 64
    tmp_mb: int = 512
    open_files: int = 256
    output_mb: int = 48
    cell_seconds: float = 60.0
    wall_seconds: float = 600.0

    def for_driver(self) -> dict:
        limits = asdict(self)
        limits["cpu_seconds"] = int(self.wall_seconds) + 10
        limits["cells_seconds"] = max(self.wall_seconds - 60.0, self.wall_seconds * 0.6)
        return limits


@dataclass
class Outcome:
    """O que voltou de uma caixa de areia.

    ``payload`` é o JSON do programa interno (ou ``None``); ``error`` descreve o que impediu
    o resultado (tempo total, saída grande demais, resultado malformado).
    """

    payload: dict | None
    error: str | None
    seconds: float
    stderr: str


def bwrap_problem() -> str | None:
    """``None`` se o bubblewrap funciona aqui; senão, o motivo, em português."""
    if not sys.platform.startswith("linux"):
        return f"o bubblewrap só existe no Linux (este sistema é {sys.platform})"
    path = shutil.which("bwrap")
    if path is None:
        return "o programa `bwrap` não está instalado (pacote `bubblewrap`)"
    try:
        probe = subprocess.run(
            [path, *namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "true"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"o `bwrap` não pôde ser executado ({error})"
    if probe.returncode != 0:
        detail = probe.stderr.decode("utf-8", "replace").strip()[:300]
        return f"o `bwrap` não consegue criar a caixa de areia neste sistema ({detail})"
    return None


def namespace_args() -> list[str]:
    if os.geteuid() == 0:  # sem espaço de usuário: o programa interno troca de usuário
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    return ["--unshare-all"]


def bind(source: str, target: str, made: set[str]) -> list[str]:
    """``--ro-bind``, criando antes as pastas acima de ``target`` com permissão de leitura
    (o ``bwrap`` as criaria acessíveis só ao ``root``)."""
    args = []
    parents = list(Path(target).parents)[::-1][1:]  # sem a raiz
    for parent in map(str, parents):
        if parent not in made:
            made.add(parent)
            args += ["--perms", "0755", "--dir", parent]
    made.add(target)
    return [*args, "--ro-bind", source, target]


def system_mounts() -> list[str]:
    made: set[str] = set()
    args = bind("/usr", "/usr", made)
    for name in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    for name in ETC_FILES:
        if os.path.exists(name):
            args += bind(name, name, made)
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    for prefix in sorted(prefixes):
        if not prefix.startswith("/usr/"):
            args += bind(prefix, prefix, made)
    if sys.prefix != os.path.realpath(sys.prefix):
        args += bind(os.path.realpath(sys.prefix), sys.prefix, made)
    return args


def environment() -> dict[str, str]:
    home = "/tmp/home"
    return {
        "PATH": f"{sys.prefix}/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONPATH": RUNTIME_MOUNT,
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": "/tmp",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "IPYTHONDIR": f"{home}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter/runtime",
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "BNLIB_CORRECAO": "1",
    }


def bwrap_command(runtime: Path, limits: Limits) -> list[str]:
    """O comando ``bwrap`` que executa o programa interno de uma entrega."""
    tmp_bytes = str(limits.tmp_mb * 2**20)
    args = [
        shutil.which("bwrap") or "bwrap",
        "--die-with-parent",
        "--new-session",
        *namespace_args(),
        # O /tmp próprio vem antes das montagens do sistema: um Python (ou venv) que more
        # em /tmp, montado depois, fica visível por cima dele.
        "--size", tmp_bytes, "--perms", "1777", "--tmpfs", "/tmp",
        *system_mounts(),
        *bind(str(runtime), RUNTIME_MOUNT, set()),
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", tmp_bytes, "--perms", "1777", "--tmpfs", "/dev/shm",
        "--chdir", "/tmp",
        "--clearenv",
    ]  # fmt: skip
    for key, value in environment().items():
        args += ["--setenv", key, value]
    if os.geteuid() == 0:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return [*args, sys.executable, "-s", "-m", "bnlib.kit.driver"]


def direct_command(runtime: Path, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """O comando sem isolamento: o mesmo programa, com as permissões de quem corrige."""
    env = environment()
    env.update(
        PYTHONPATH=str(runtime),
        HOME=str(workdir / "home"),
        MPLCONFIGDIR=str(workdir / "home" / ".matplotlib"),
        IPYTHONDIR=str(workdir / "home" / ".ipython"),
        JUPYTER_RUNTIME_DIR=str(workdir / "home" / "runtime"),
        TMPDIR=str(workdir),
    )
    return [sys.executable, "-s", "-m", "bnlib.kit.driver"], env


def read_bounded(
    process: subprocess.Popen, deadline: float, limit: int
) -> tuple[bytes, bytes, str | None]:
    """Lê a saída e os erros do processo até o fim, o prazo ou o teto; devolve o problema."""
    out, err = bytearray(), bytearray()
    streams = {process.stdout.fileno(): out, process.stderr.fileno(): err}
    problem = None
    while streams:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            problem = "passou do tempo total da entrega e foi interrompida"
            break
        ready, _, _ = select.select(list(streams), [], [], min(remaining, 1.0))
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                del streams[fd]
                continue
            buffer = streams[fd]
            if buffer is out and len(out) + len(chunk) > limit:
                problem = "produziu um resultado grande demais e foi interrompida"
                streams.clear()
                break
            if buffer is err:
                err.extend(chunk)
                del err[: max(0, len(err) - 65536)]
            else:
                out.extend(chunk)
    return bytes(out), bytes(err), problem


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()


def run(
    request: dict, runtime: Path, limits: Limits, isolated: bool = True, slot: int = 0
) -> Outcome:
    """Executa uma entrega (o pedido já montado) e devolve o resultado, nunca uma exceção.

    Parameters
    ----------
    request : dict
        O pedido do programa interno, sem os limites (acrescentados aqui).
    runtime : Path
        A ``bnlib`` da correção (:func:`bnlib.kit.package.build_runtime`).
    isolated : bool
        ``False`` só com ``--sem-isolamento``.
    slot : int
        A vaga de execução paralela (escolhe o usuário sem privilégios).
    """
    request = dict(request, limits=limits.for_driver(), isolated=isolated)
    if not isolated:  # o limite de processos contaria os de quem corrige
        request["limits"]["processes"] = None
    if os.geteuid() == 0 and isolated:
        request["uid"] = UNPRIVILEGED_UID + slot
    start = time.monotonic()
    with contextlib.ExitStack() as stack:
        if isolated:
            command, env, cwd = bwrap_command(runtime, limits), None, None
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bnlib-")))
            command, env = direct_command(runtime, workdir)
            cwd = workdir
            request["workdir"] = str(workdir)
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as error:
            return Outcome(None, f"a caixa de areia não pôde ser iniciada: {error}", 0.0, "")
        try:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(json.dumps(request).encode("utf-8"))
                process.stdin.close()
            deadline = start + limits.wall_seconds
            out, err, problem = read_bounded(process, deadline, limits.output_mb * 2**20)
        finally:
            kill_group(process)
            process.wait()
            for stream in (process.stdout, process.stderr):
                stream.close()
    seconds = time.monotonic() - start
    stderr = err.decode("utf-8", "replace")
    if problem:
        return Outcome(None, f"a execução {problem}", seconds, stderr)
    try:
        payload = json.loads(out.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        tail = stderr.strip().splitlines()[-1:] or ["sem mensagem"]
        return Outcome(
            None, f"a execução não devolveu um resultado legível ({tail[0][:200]})", seconds, stderr
        )
    if not isinstance(payload, dict) or payload.get("protocol") != 1:
        return Outcome(
            None, "a execução devolveu um resultado em formato desconhecido", seconds, stderr
        )
    return Outcome(payload, None, seconds, stderr)
