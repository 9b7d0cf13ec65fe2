"""Treino distribuído simulado na CPU: processos locais num grupo ``torch.distributed``.

Capítulo: Limitações da BN (``book/limites/distribuida``). :func:`run_world` cria os
processos (*backend* ``gloo``, ``forkserver``); os *workers* daqui rodam a
:class:`bnlib.nn.SyncBatchNorm` numa fatia do minilote.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from bnlib.nn.sync import SyncBatchNorm, all_reduce_sum


def free_port() -> int:
    """Uma porta TCP livre em 127.0.0.1, escolhida pelo sistema operacional."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(rank: int, world_size: int, port: int, worker, args, queue) -> None:
    torch.set_num_threads(1)
    os.environ["GLOO_SOCKET_IFNAME"] = os.environ.get("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world_size,
    )
    try:
        result = worker(rank, world_size, *args)
        dist.barrier()
    finally:
        dist.destroy_process_group()
    queue.put((rank, result))


def run_world(worker: Callable, world_size: int, args: tuple = ()) -> list:
    """Roda ``worker(rank, world_size, *args)`` em ``world_size`` processos e devolve os resultados.

    Cada processo entra num grupo ``torch.distributed`` (*backend* ``gloo``, CPU, numa porta
    livre de 127.0.0.1), chama ``worker`` e manda o valor devolvido (numpy ou tensores
    pequenos) de volta ao processo principal. Todos os processos terminam antes do retorno.

    Parameters
    ----------
    worker : função definida num módulo importável
        Os processos são criados por um servidor de *fork* (``forkserver``) e recebem
        ``worker`` por ``pickle``: uma função definida num caderno não serve.
    world_size : int
        Número de processos, ≥ 1.
    args : tuple
        Argumentos extras de ``worker`` (precisam ser serializáveis por ``pickle``).

    Returns
    -------
    list
        ``[resultado do processo 0, resultado do processo 1, ...]``.
    """
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(
            f"run_world: `world_size` deve ser um inteiro ≥ 1; recebido {world_size!r}."
        )
    # Um servidor de *fork* que já importou o torch: o primeiro mundo leva alguns segundos,
    # os seguintes, décimos de segundo (com *spawn* cada processo importaria o torch de novo).
    mp.set_forkserver_preload(["torch", "bnlib.lab.distributed"])
    ctx = mp.get_context("forkserver")
    queue = ctx.SimpleQueue()
    port = free_port()
    context = mp.start_processes(
        _entry,
        args=(world_size, port, worker, args, queue),
        nprocs=world_size,
        join=False,
        start_method="forkserver",
    )
    results: dict[int, object] = {}
    try:
        for _ in range(world_size):
            rank, value = queue.get()
            results[rank] = value
        while not context.join():
            pass
    finally:
        for process in context.processes:
            if process.is_alive():
                process.terminate()
            process.join()
    return [results[r] for r in range(world_size)]


def forward_backward_worker(
    rank: int, world_size: int, x: np.ndarray, dy: np.ndarray, sync: bool
) -> dict[str, np.ndarray]:
    """Um processo: BN na sua fatia de ``x`` e retropropagação de ``sum(y · dy)``.

    O minilote inteiro ``x`` (N, ...) é dividido em ``world_size`` fatias iguais; o
    processo ``rank`` fica com a sua. Os gradientes de gamma e beta são somados entre os
    processos (como no paralelismo de dados com a perda somada).

    Returns
    -------
    dict
        ``"y"``, ``"dx"`` da fatia; ``"dweight"``, ``"dbias"`` somados; ``"running_mean"``,
        ``"running_var"`` deste processo.
    """
    x_local = torch.from_numpy(np.array_split(x, world_size)[rank]).requires_grad_()
    dy_local = torch.from_numpy(np.array_split(dy, world_size)[rank])
    bn = SyncBatchNorm(x.shape[1], sync=sync).to(x_local.dtype)
    y = bn(x_local)
    (y * dy_local).sum().backward()
    grads = torch.cat([bn.weight.grad, bn.bias.grad])
    dist.all_reduce(grads)
    c = x.shape[1]
    return {
        "y": y.detach().numpy(),
        "dx": x_local.grad.numpy(),
        "dweight": grads[:c].numpy(),
        "dbias": grads[c:].numpy(),
        "running_mean": bn.running_mean.numpy(),
        "running_var": bn.running_var.numpy(),
    }


def make_tiny_net(sync: bool, seed: int) -> nn.Sequential:
    """A rede dos experimentos de treino distribuído: ``Linear → SyncBatchNorm → ReLU → Linear``.

    Os pesos iniciais são sorteados com ``torch.manual_seed(seed)``, os mesmos em todos os
    processos.
    """
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(784, 32), SyncBatchNorm(32, sync=sync), nn.ReLU(), nn.Linear(32, 10)
    ).double()


def train_worker(
    rank: int,
    world_size: int,
    x: np.ndarray,
    y: np.ndarray,
    steps: int,
    batch_size: int,
    lr: float,
    sync: bool,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Treino com paralelismo de dados: cada passo, cada processo pega a sua fatia.

    Em cada passo o mesmo minilote global de ``batch_size`` exemplos (sorteado com a mesma
    semente em todos os processos) é dividido em fatias iguais; cada processo calcula a
    perda média da sua fatia, e os gradientes são somados entre os processos e divididos
    por ``world_size`` (a média, como no ``DistributedDataParallel``). Com ``world_size=1``
    é o treino comum com o minilote inteiro.

    Parameters
    ----------
    rank, world_size
        Deste processo e do grupo (dados por :func:`run_world`).
    x, y : ndarray, shapes (N, 784) e (N,)
        Os dados de treino, os mesmos em todos os processos.
    steps, batch_size, lr
        Passos de treino, tamanho do minilote global e taxa de aprendizado.
    sync : bool
        BN sincronizada (``True``) ou cada processo só com a sua fatia.
    seed : int
        Semente dos pesos iniciais; a ordem dos minilotes usa ``seed + 1``.

    Returns
    -------
    dict
        ``"params"``: todos os parâmetros e estatísticas acumuladas no fim, concatenados;
        ``"loss"``: a perda de cada passo (média entre os processos).
    """
    net = make_tiny_net(sync, seed)
    xt = torch.from_numpy(x).double()
    yt = torch.from_numpy(y)
    generator = torch.Generator().manual_seed(seed + 1)
    losses = []
    for _ in range(steps):
        index = torch.randint(len(yt), (batch_size,), generator=generator)
        index = index.chunk(world_size)[rank]
        loss = nn.functional.cross_entropy(net(xt[index]), yt[index])
        net.zero_grad()
        loss.backward()
        # Descida de gradiente à mão (o ``torch.optim`` importa o compilador do torch, o
        # que custa um segundo por processo).
        with torch.no_grad():
            for p in net.parameters():
                all_reduce_sum(p.grad)
                p -= lr * p.grad / world_size
        losses.append(float(all_reduce_sum(loss.detach().clone())) / world_size)
    state = torch.cat([t.detach().reshape(-1) for t in net.state_dict().values()])
    return {"params": state.numpy(), "loss": np.array(losses)}
