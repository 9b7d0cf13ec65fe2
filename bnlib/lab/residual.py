"""Redes residuais com e sem BN: o bloco, a rede e a variância do caminho residual.

Capítulo: ``book/redes/residuais``.

Um bloco residual soma à sua entrada ``x`` a saída de um ramo (*branch*) ``f(x)``. Há duas
ordens clássicas para a BN dentro do ramo:

- ``"post"`` (pós-ativação, He et al. 2016a): ``f = camada → BN → ReLU → camada → BN`` e a
  saída é ``ReLU(x + f(x))``;
- ``"pre"`` (pré-ativação, He et al. 2016b): ``f = BN → ReLU → camada → BN → ReLU →
  camada`` e a saída é ``x + f(x)``, sem nada depois da soma.

``zero_init=True`` põe γ = 0 na última BN de cada ramo (Goyal et al. 2017): o ramo começa
devolvendo zero e o bloco começa como a identidade (na ordem ``"post"``, como ``ReLU``).
``skip_init=True`` multiplica o ramo por um escalar aprendido que começa em zero, o
SkipInit de De e Smith (2020), que faz o mesmo sem normalização.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

ORDERS = ("post", "pre")
LAYER_KINDS = ("dense", "conv")


class ResidualBlock(nn.Module):
    """``x + α·f(x)`` (ordem ``"pre"``) ou ``ReLU(x + α·f(x))`` (ordem ``"post"``).

    Parameters
    ----------
    branch : nn.Module
        O ramo ``f``; recebe e devolve tensores do mesmo shape.
    order : {"post", "pre"}
    skip_init : bool
        ``True``: ``α`` é um parâmetro escalar que começa em 0 (SkipInit); ``False``:
        ``α = 1`` fixo.

    Notes
    -----
    Shapes: ``x`` (N, D) com ramos densos, (N, C, H, W) com ramos convolucionais; a saída
    tem o shape de ``x``.
    """

    def __init__(self, branch: nn.Module, order: str = "pre", skip_init: bool = False) -> None:
        super().__init__()
        _check_order(order, "ResidualBlock")
        self.branch = branch
        self.order = order
        if skip_init:
            self.alpha = nn.Parameter(torch.zeros(()))
        else:
            self.register_parameter("alpha", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = self.branch(x)
        if self.alpha is not None:
            update = self.alpha * update
        out = x + update
        return torch.relu(out) if self.order == "post" else out

    def extra_repr(self) -> str:
        return f"order={self.order!r}, skip_init={self.alpha is not None}"


def _check_order(order: str, where: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"{where}: `order` deve ser um de {ORDERS}; recebido {order!r}.")


def make_residual_block(
    width: int,
    order: str = "pre",
    norm: Callable[[int], nn.Module] | None = nn.BatchNorm1d,
    layer: str = "dense",
    zero_init: bool = False,
    skip_init: bool = False,
) -> ResidualBlock:
    """Um bloco residual com duas camadas no ramo, na ordem pós- ou pré-ativação.

    Parameters
    ----------
    width : int
        Atributos (camada densa) ou canais (convolução 3×3) da entrada, do ramo e da saída.
    order : {"post", "pre"}
        ``"post"``: ``ReLU(x + BN(W₂ ReLU(BN(W₁ x))))``; ``"pre"``:
        ``x + W₂ ReLU(BN(W₁ ReLU(BN(x))))``.
    norm : função ``width -> nn.Module``, opcional
        Por exemplo ``torch.nn.BatchNorm1d`` (padrão), ``torch.nn.BatchNorm2d`` com
        ``layer="conv"``, ou ``bnlib.nn.BatchNorm1d``. Com normalização as camadas não têm
        viés; ``None``: sem normalização, e as camadas têm viés (que começa em zero).
    layer : {"dense", "conv"}
        ``"dense"``: ``nn.Linear(width, width)``, entrada (N, width); ``"conv"``:
        ``nn.Conv2d(width, width, 3, padding=1)``, entrada (N, width, H, W).
    zero_init : bool
        γ = 0 na última normalização do ramo (Goyal et al. 2017); exige ``norm``.
    skip_init : bool
        Multiplica o ramo por um escalar aprendido que começa em 0 (De e Smith 2020).

    Returns
    -------
    ResidualBlock
        Pesos com a inicialização de He (``kaiming_normal_``, ``fan_in``), que mantém a
        variância ao passar por ``camada → ReLU``.

    Examples
    --------
    >>> block = make_residual_block(8, order="post")
    >>> [type(m).__name__ for m in block.branch]
    ['Linear', 'BatchNorm1d', 'ReLU', 'Linear', 'BatchNorm1d']
    >>> tuple(block(torch.randn(4, 8)).shape)
    (4, 8)
    """
    where = "make_residual_block"
    _check_order(order, where)
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"{where}: `width` deve ser um inteiro positivo; recebido {width!r}.")
    if layer not in LAYER_KINDS:
        raise ValueError(f"{where}: `layer` deve ser um de {LAYER_KINDS}; recebido {layer!r}.")
    if zero_init and norm is None:
        raise ValueError(
            f"{where}: `zero_init=True` zera o γ da última normalização do ramo, mas "
            f"`norm` é None (sem normalização); use `skip_init=True` nesse caso."
        )

    def weights() -> nn.Module:
        if layer == "dense":
            module = nn.Linear(width, width, bias=norm is None)
        else:
            module = nn.Conv2d(width, width, kernel_size=3, padding=1, bias=norm is None)
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
        return module

    def normalize() -> list[nn.Module]:
        return [] if norm is None else [norm(width)]

    if order == "post":
        parts = [weights(), *normalize(), nn.ReLU(), weights(), *normalize()]
    else:
        parts = [*normalize(), nn.ReLU(), weights(), *normalize(), nn.ReLU(), weights()]
    branch = nn.Sequential(*parts)
    if zero_init:
        last_norm = [m for m in branch if not isinstance(m, nn.Linear | nn.Conv2d | nn.ReLU)][-1]
        if getattr(last_norm, "weight", None) is None:
            raise ValueError(
                f"{where}: `zero_init=True` precisa de uma normalização com γ (affine=True); "
                f"recebido {type(last_norm).__name__} sem `weight`."
            )
        with torch.no_grad():
            last_norm.weight.zero_()
    return ResidualBlock(branch, order=order, skip_init=skip_init)


def make_residual_mlp(
    in_features: int,
    width: int,
    depth: int,
    num_classes: int,
    order: str = "pre",
    norm: Callable[[int], nn.Module] | None = nn.BatchNorm1d,
    zero_init: bool = False,
    skip_init: bool = False,
) -> nn.Sequential:
    """Rede residual densa: entrada → ``depth`` blocos residuais → camada de saída.

    Parameters
    ----------
    in_features : int
        Atributos da entrada (784 para o MNIST achatado).
    width : int
        Largura do caminho residual.
    depth : int
        Número de blocos residuais (cada um com duas camadas densas).
    num_classes : int
    order, norm, zero_init, skip_init
        Como em :func:`make_residual_block`.

    Returns
    -------
    nn.Sequential
        Recebe ``x`` de shape (N, in_features) e devolve *logits* (N, num_classes). Na
        ordem ``"post"``: ``Linear → [norm] → ReLU → blocos → Linear``; na ``"pre"``:
        ``Linear → blocos → [norm] → ReLU → Linear`` (a última BN e ReLU da rede
        pré-ativação, como em He et al. 2016b).

    Examples
    --------
    >>> net = make_residual_mlp(784, 16, depth=3, num_classes=10)
    >>> sum(isinstance(m, ResidualBlock) for m in net), tuple(net(torch.rand(5, 784)).shape)
    (3, (5, 10))
    """
    where = "make_residual_mlp"
    _check_order(order, where)
    for name, value in (("in_features", in_features), ("width", width), ("depth", depth)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{where}: `{name}` deve ser um inteiro positivo; recebido {value!r}.")
    stem = nn.Linear(in_features, width, bias=norm is None)
    nn.init.kaiming_normal_(stem.weight, nonlinearity="relu")
    if stem.bias is not None:
        nn.init.zeros_(stem.bias)
    blocks = [
        make_residual_block(width, order, norm, "dense", zero_init, skip_init) for _ in range(depth)
    ]
    finish = ([] if norm is None else [norm(width)]) + [nn.ReLU()]
    if order == "post":
        layers = [stem, *finish, *blocks]
    else:
        layers = [stem, *blocks, *finish]
    return nn.Sequential(*layers, nn.Linear(width, num_classes))


def residual_blocks(model: nn.Module) -> list[ResidualBlock]:
    """Os blocos residuais de ``model``, na ordem de ``modules()``."""
    return [m for m in model.modules() if isinstance(m, ResidualBlock)]


@torch.no_grad()
def residual_stream_variance(model: nn.Module, x: torch.Tensor) -> dict[str, np.ndarray]:
    """A variância do caminho residual e a de cada ramo, bloco a bloco, num passo direto.

    A "variância" de um tensor aqui é a média de ``v²`` sobre exemplos e atributos (e
    posições): o segundo momento, que é a variância quando a média é zero, como na média
    sobre sorteios de pesos de média zero (De e Smith 2020). O passo direto é feito numa
    cópia do modelo, no modo em que ele está (no modo de treino a BN usa as estatísticas
    do lote); o modelo e as suas estatísticas acumuladas não mudam.

    Parameters
    ----------
    model : nn.Module
        Com pelo menos um :class:`ResidualBlock`.
    x : Tensor, shape (N, ...)
        A entrada do modelo.

    Returns
    -------
    dict
        ``"stream"``: ndarray, shape (L + 1,), a variância da entrada de cada um dos L
        blocos e, no fim, a da saída do último; ``"branch"``: ndarray, shape (L,), a
        variância da saída do ramo de cada bloco (antes do ``α`` do SkipInit);
        ``"ratio"``: ndarray, shape (L,), ``branch / stream[:-1]``, o tamanho do ramo
        relativo ao caminho direto (*skip path*) que ele encontra.
    """
    where = "residual_stream_variance"
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"{where}: `model` deve ser um torch.nn.Module; recebido {type(model).__name__}."
        )
    if not isinstance(x, torch.Tensor) or x.dim() < 2 or x.shape[0] < 2:
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(
            f"{where}: `x` deve ser um tensor (N, ...) com N ≥ 2 exemplos; recebido {shape}."
        )
    clone = copy.deepcopy(model)
    blocks = residual_blocks(clone)
    if not blocks:
        raise ValueError(
            f"{where}: o modelo não tem nenhum ResidualBlock (use make_residual_block ou "
            f"make_residual_mlp)."
        )
    stream: list[float] = []
    branch: list[float] = []

    def second_moment(t: torch.Tensor) -> float:
        return t.double().pow(2).mean().item()

    def record_input(module, inputs):
        stream.append(second_moment(inputs[0]))

    def record_branch(module, inputs, output):
        branch.append(second_moment(output))

    def record_output(module, inputs, output):
        stream.append(second_moment(output))

    handles = [block.register_forward_pre_hook(record_input) for block in blocks]
    handles += [block.branch.register_forward_hook(record_branch) for block in blocks]
    handles.append(blocks[-1].register_forward_hook(record_output))
    try:
        clone(x)
    finally:
        for handle in handles:
            handle.remove()
    stream_arr, branch_arr = np.array(stream), np.array(branch)
    return {"stream": stream_arr, "branch": branch_arr, "ratio": branch_arr / stream_arr[:-1]}
