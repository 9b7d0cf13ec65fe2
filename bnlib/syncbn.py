"""Normalização em lote sincronizada (*synchronized BN*) sobre ``torch.distributed``.

No treino com paralelismo de dados (*data parallel*) cada processo (*worker*) recebe uma
fatia do mini-lote. Uma BN comum em cada processo só vê a sua fatia; a BN sincronizada soma,
entre todos os processos, as somas locais e as somas dos quadrados por canal (um
*all-reduce*), de modo que a média e a variância são as do mini-lote inteiro. Na
retropropagação as duas somas de que o gradiente precisa (``Σ dy`` e ``Σ dy · x_hat``)
também são somadas entre os processos: só assim o gradiente em relação a ``x`` é o mesmo
de um processo único com o mini-lote inteiro.

Aqui tudo roda na CPU com o *backend* ``gloo``, em processos locais criados por
``torch.multiprocessing`` com ``forkserver`` (:func:`run_world`). Em produção, com GPUs, use
``torch.nn.SyncBatchNorm``.
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


def _all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


class SyncBatchNormFunction(torch.autograd.Function):
    """Passo direto e retropropagação da BN com estatísticas somadas entre processos.

    ``forward(x, weight, bias, eps)`` com ``x`` de shape (N, C) ou (N, C, H, W) local a cada
    processo; devolve ``y`` e, para as estatísticas acumuladas, a média e a variância
    globais e a contagem global ``m``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        axes = [0, *range(2, x.dim())]
        shape = (1, -1) + (1,) * (x.dim() - 2)
        c = x.shape[1]
        local_count = x.numel() // c
        # Uma só comunicação: [Σx, Σx², m] por canal, em float64 para evitar o cancelamento
        # de E[x²] - E[x]².
        x64 = x.detach().to(torch.float64)
        packed = torch.cat(
            [
                x64.sum(dim=axes),
                (x64 * x64).sum(dim=axes),
                torch.full((1,), float(local_count), dtype=torch.float64),
            ]
        )
        _all_reduce_sum(packed)
        count = packed[-1]
        mean64 = packed[:c] / count
        var64 = (packed[c : 2 * c] / count - mean64 * mean64).clamp_min(0.0)
        mean = mean64.to(x.dtype)
        var = var64.to(x.dtype)
        inv_std = torch.rsqrt(var + eps)
        x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
        y = x_hat * weight.reshape(shape) + bias.reshape(shape)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.count = float(count)
        count = count.to(torch.float64)
        ctx.mark_non_differentiable(mean, var, count)
        return y, mean, var, count

    @staticmethod
    def backward(ctx, dy, _dmean, _dvar, _dcount):
        x_hat, inv_std, weight = ctx.saved_tensors
        axes = [0, *range(2, dy.dim())]
        shape = (1, -1) + (1,) * (dy.dim() - 2)
        c = dy.shape[1]
        sum_dy = dy.sum(dim=axes)
        sum_dy_xhat = (dy * x_hat).sum(dim=axes)
        # Gradientes de gamma e beta: só a parte local (o paralelismo de dados os soma ou
        # faz a média depois, como faz com todos os outros parâmetros).
        dweight, dbias = sum_dy_xhat.clone(), sum_dy.clone()
        packed = _all_reduce_sum(torch.cat([sum_dy, sum_dy_xhat]))
        sum_dy, sum_dy_xhat = packed[:c], packed[c:]
        m = ctx.count
        dx = (weight * inv_std / m).reshape(shape) * (
            m * dy - sum_dy.reshape(shape) - x_hat * sum_dy_xhat.reshape(shape)
        )
        return dx, dweight, dbias, None


class SyncBatchNorm(nn.Module):
    """BN sincronizada para (N, C) ou (N, C, H, W), com as mesmas estatísticas acumuladas.

    Fora de um grupo ``torch.distributed`` (ou com um processo só) é uma BN comum. A
    atualização das estatísticas acumuladas usa a média e a variância **globais** e a
    contagem global, então é idêntica em todos os processos.

    Parameters
    ----------
    num_features : int
    eps : float
    momentum : float
        Peso do mini-lote novo, como em ``torch.nn.BatchNorm2d``.
    sync : bool
        ``False`` desliga a comunicação: cada processo normaliza só a sua fatia (a BN
        comum num treino distribuído), para comparação.
    """

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, sync: bool = True
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.sync = sync
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() not in (2, 4) or x.shape[1] != self.num_features:
            raise ValueError(
                f"SyncBatchNorm: a entrada deve ter shape (N, C) ou (N, C, H, W) com "
                f"C = {self.num_features}; recebido shape {tuple(x.shape)}."
            )
        shape = (1, -1) + (1,) * (x.dim() - 2)
        if not self.training:
            scale = torch.rsqrt(self.running_var + self.eps) * self.weight
            centered = x - self.running_mean.reshape(shape)
            return centered * scale.reshape(shape) + self.bias.reshape(shape)
        if self.sync:
            y, mean, var, count = SyncBatchNormFunction.apply(x, self.weight, self.bias, self.eps)
            count = float(count)
        else:
            axes = [0, *range(2, x.dim())]
            mean = x.mean(dim=axes)
            var = x.var(dim=axes, correction=0)
            count = float(x.numel() // x.shape[1])
            y = (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + self.eps)
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        with torch.no_grad():
            unbiased = var.detach() * (count / max(count - 1.0, 1.0))
            self.running_mean.lerp_(mean.detach(), self.momentum)
            self.running_var.lerp_(unbiased, self.momentum)
        return y


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
    mp.set_forkserver_preload(["torch", "bnlib.syncbn"])
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

    O mini-lote inteiro ``x`` (N, ...) é dividido em ``world_size`` fatias iguais; o
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


def make_tiny_net(sync: bool, seed: int = 0) -> nn.Sequential:
    """A rede dos experimentos de treino distribuído: ``Linear → SyncBatchNorm → ReLU → Linear``."""
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
) -> dict[str, np.ndarray]:
    """Treino com paralelismo de dados: cada passo, cada processo pega a sua fatia.

    Em cada passo o mesmo mini-lote global de ``batch_size`` exemplos (sorteado com a mesma
    semente em todos os processos) é dividido em fatias iguais; cada processo calcula a
    perda média da sua fatia, e os gradientes são somados entre os processos e divididos
    por ``world_size`` (a média, como no ``DistributedDataParallel``). Com ``world_size=1``
    é o treino comum com o mini-lote inteiro.

    Returns
    -------
    dict
        ``"params"``: todos os parâmetros e estatísticas acumuladas no fim, concatenados;
        ``"loss"``: a perda de cada passo (média entre os processos).
    """
    net = make_tiny_net(sync)
    xt = torch.from_numpy(x).double()
    yt = torch.from_numpy(y)
    generator = torch.Generator().manual_seed(1)
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
                _all_reduce_sum(p.grad)
                p -= lr * p.grad / world_size
        losses.append(float(_all_reduce_sum(loss.detach().clone())) / world_size)
    state = torch.cat([t.detach().reshape(-1) for t in net.state_dict().values()])
    return {"params": state.numpy(), "loss": np.array(losses)}
