"""Fusão da BN (*BN folding*): incorporar a BN de inferência na camada anterior.

No modo de avaliação a BN é uma função afim fixa de cada atributo (ou canal)::

    y = gamma * (z - running_mean) / sqrt(running_var + eps) + beta

e, se ``z = W x + b`` vem de uma camada densa ou convolucional, a composição é outra
camada do mesmo tipo, com pesos ``s * W`` e viés ``s * (b - running_mean) + beta``, em que
``s = gamma / sqrt(running_var + eps)``. As funções daqui devolvem essa camada nova; as
camadas originais não são modificadas. Todas aceitam as camadas BN do torch e as da
``bnlib.nn``:

* :func:`fold_batchnorm_linear`, :func:`fold_batchnorm_conv2d`: um par de camadas;
* :func:`fold_sequential`: cada par ``Linear → BN`` ou ``Conv2d → BN`` de uma
  ``nn.Sequential``;
* :func:`fold_graph`: qualquer modelo que o ``torch.fx`` consiga traçar, como
  ``torch.fx.experimental.optimization.fuse`` (que só reconhece as classes exatas do torch);
* :data:`FUSER_METHOD_MAPPING`: para ``torch.ao.quantization.fuse_modules``, que procura a
  função de fusão pelos tipos **exatos** das camadas; passe
  ``fuse_custom_config_dict={"additional_fuser_method_mapping": FUSER_METHOD_MAPPING}``.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.ao.quantization.fuser_method_mappings import (
    fuse_conv_bn,
    fuse_conv_bn_relu,
    fuse_convtranspose_bn,
    fuse_linear_bn,
)

from bnlib.nn.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, is_batchnorm

FUSER_METHOD_MAPPING = {
    (nn.Conv1d, BatchNorm1d): fuse_conv_bn,
    (nn.Conv1d, BatchNorm1d, nn.ReLU): fuse_conv_bn_relu,
    (nn.Conv2d, BatchNorm2d): fuse_conv_bn,
    (nn.Conv2d, BatchNorm2d, nn.ReLU): fuse_conv_bn_relu,
    (nn.Conv3d, BatchNorm3d): fuse_conv_bn,
    (nn.Conv3d, BatchNorm3d, nn.ReLU): fuse_conv_bn_relu,
    (nn.Linear, BatchNorm1d): fuse_linear_bn,
    (nn.ConvTranspose1d, BatchNorm1d): fuse_convtranspose_bn,
    (nn.ConvTranspose2d, BatchNorm2d): fuse_convtranspose_bn,
    (nn.ConvTranspose3d, BatchNorm3d): fuse_convtranspose_bn,
}
"""Os pares (e trios com ReLU) de ``torch.ao.quantization.fuse_modules`` com as BN da ``bnlib``.

As mesmas funções de fusão do torch para as mesmas combinações, trocando só a classe da BN.
Faltam ``BN → ReLU`` (a camada fundida do torch exige a BN do torch).

Examples
--------
>>> from torch.ao.quantization import fuse_modules
>>> model = nn.Sequential(nn.Conv2d(1, 2, 3), BatchNorm2d(2)).eval()
>>> config = {"additional_fuser_method_mapping": FUSER_METHOD_MAPPING}
>>> fused = fuse_modules(model, [["0", "1"]], fuse_custom_config_dict=config)
>>> type(fused[1]).__name__
'Identity'
"""


def _check_batchnorm(bn, num_features: int, where: str) -> None:
    if not is_batchnorm(bn):
        raise TypeError(
            f"{where}: o argumento `bn` deve ser uma camada de normalização em lote "
            f"(torch.nn.BatchNorm1d/2d ou bnlib.nn.BatchNorm1d/2d); recebido "
            f"{type(bn).__name__}."
        )
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(
            f"{where}: a camada `bn` foi criada com track_running_stats=False e não tem "
            f"estatísticas acumuladas; sem elas a BN depende do lote e não pode ser fundida."
        )
    if bn.num_features != num_features:
        raise ValueError(
            f"{where}: `bn` normaliza {bn.num_features} atributos (ou canais), mas a camada "
            f"anterior tem {num_features} saídas; elas devem ser iguais."
        )
    if bn.training:
        raise ValueError(
            f"{where}: `bn` está no modo de treino, em que usa as estatísticas do lote e não "
            f"as acumuladas; chame `model.eval()` antes de fundir."
        )


def folded_parameters(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    bn: nn.Module,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pesos e viés da camada que resulta de ``camada → BN`` no modo de avaliação.

    As contas são feitas em float64 e o resultado volta ao dtype de ``weight``.

    Parameters
    ----------
    weight : Tensor, shape (F, ...)
        Pesos da camada anterior: (F, D) numa densa, (F, C_in, kH, kW) numa convolucional.
    bias : Tensor, shape (F,), ou None
        Viés da camada anterior (``None`` vale zero).
    bn : camada BN com estatísticas acumuladas e ``num_features == F``

    Returns
    -------
    new_weight : Tensor, shape igual à de ``weight``
    new_bias : Tensor, shape (F,)
    """
    where = "folded_parameters"
    _check_batchnorm(bn, weight.shape[0], where)
    with torch.no_grad():
        dtype = weight.dtype
        w = weight.detach().to(torch.float64)
        f = w.shape[0]
        b = torch.zeros(f, dtype=torch.float64) if bias is None else bias.detach().double()
        gamma = torch.ones(f, dtype=torch.float64) if bn.weight is None else bn.weight.double()
        beta = torch.zeros(f, dtype=torch.float64) if bn.bias is None else bn.bias.double()
        scale = gamma / torch.sqrt(bn.running_var.double() + bn.eps)
        new_weight = w * scale.reshape((-1,) + (1,) * (w.dim() - 1))
        new_bias = scale * (b - bn.running_mean.double()) + beta
    return new_weight.to(dtype), new_bias.to(dtype)


def fold_batchnorm_linear(linear: nn.Linear, bn: nn.Module) -> nn.Linear:
    """Uma ``nn.Linear`` nova que calcula ``bn(linear(x))`` no modo de avaliação.

    Parameters
    ----------
    linear : nn.Linear
        Camada densa com ``out_features == bn.num_features``.
    bn : BatchNorm1d (torch ou bnlib), no modo de avaliação

    Returns
    -------
    nn.Linear
        Sempre com viés. As camadas de entrada não são modificadas.

    Examples
    --------
    >>> linear, bn = nn.Linear(4, 3), nn.BatchNorm1d(3).eval()
    >>> fused = fold_batchnorm_linear(linear, bn)
    >>> x = torch.randn(5, 4)
    >>> bool(torch.allclose(fused(x), bn(linear(x)), atol=1e-6))
    True
    """
    if not isinstance(linear, nn.Linear):
        raise TypeError(
            f"fold_batchnorm_linear: o argumento `linear` deve ser uma torch.nn.Linear; "
            f"recebido {type(linear).__name__}."
        )
    _check_batchnorm(bn, linear.out_features, "fold_batchnorm_linear")
    weight, bias = folded_parameters(linear.weight, linear.bias, bn)
    fused = nn.Linear(
        linear.in_features,
        linear.out_features,
        bias=True,
        device=weight.device,
        dtype=weight.dtype,
    )
    with torch.no_grad():
        fused.weight.copy_(weight)
        fused.bias.copy_(bias)
    return fused


def fold_batchnorm_conv2d(conv: nn.Conv2d, bn: nn.Module) -> nn.Conv2d:
    """Uma ``nn.Conv2d`` nova que calcula ``bn(conv(x))`` no modo de avaliação.

    Parameters
    ----------
    conv : nn.Conv2d
        Com ``out_channels == bn.num_features`` (qualquer ``stride``, ``padding``,
        ``dilation`` ou ``groups``: só os pesos e o viés mudam).
    bn : BatchNorm2d (torch ou bnlib), no modo de avaliação

    Returns
    -------
    nn.Conv2d
        Cópia de ``conv`` com os pesos fundidos e sempre com viés.
    """
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(
            f"fold_batchnorm_conv2d: o argumento `conv` deve ser uma torch.nn.Conv2d; "
            f"recebido {type(conv).__name__}."
        )
    return fold_batchnorm_conv(conv, bn, "fold_batchnorm_conv2d")


def fold_batchnorm_conv(conv: nn.Module, bn: nn.Module, where: str = "fold_batchnorm_conv"):
    """Como :func:`fold_batchnorm_conv2d`, para ``nn.Conv1d``, ``nn.Conv2d`` ou ``nn.Conv3d``."""
    if not isinstance(conv, nn.Conv1d | nn.Conv2d | nn.Conv3d):
        raise TypeError(
            f"{where}: o argumento `conv` deve ser uma torch.nn.Conv1d, Conv2d ou Conv3d; "
            f"recebido {type(conv).__name__}."
        )
    _check_batchnorm(bn, conv.out_channels, where)
    weight, bias = folded_parameters(conv.weight, conv.bias, bn)
    fused = copy.deepcopy(conv)
    with torch.no_grad():
        fused.weight.copy_(weight)
        fused.bias = nn.Parameter(bias)
    return fused


def fold_sequential(model: nn.Sequential) -> nn.Sequential:
    """Cópia de ``model`` com cada par ``Linear → BN`` ou ``Conv2d → BN`` fundido.

    A BN fundida vira ``nn.Identity`` (o número e a posição das camadas não mudam). Uma BN
    que não vem logo depois de uma ``Linear`` ou ``Conv2d`` (por exemplo, depois da
    ativação) é mantida. O modelo deve estar no modo de avaliação.

    Parameters
    ----------
    model : nn.Sequential

    Returns
    -------
    nn.Sequential
        No modo de avaliação.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(
            f"fold_sequential: o argumento `model` deve ser uma torch.nn.Sequential; "
            f"recebido {type(model).__name__}."
        )
    if model.training:
        raise ValueError(
            "fold_sequential: o modelo está no modo de treino; chame `model.eval()` antes de "
            "fundir (a fusão usa as estatísticas acumuladas)."
        )
    layers = list(copy.deepcopy(model))
    for i in range(1, len(layers)):
        previous, current = layers[i - 1], layers[i]
        if is_batchnorm(current):
            if isinstance(previous, nn.Conv2d):
                layers[i - 1] = fold_batchnorm_conv2d(previous, current)
                layers[i] = nn.Identity()
            elif isinstance(previous, nn.Linear):
                layers[i - 1] = fold_batchnorm_linear(previous, current)
                layers[i] = nn.Identity()
    return nn.Sequential(*layers).eval()


def fold_graph(model: nn.Module) -> torch.fx.GraphModule:
    """Cópia de ``model``, traçada pelo ``torch.fx``, com cada BN fundida na camada anterior.

    Faz o que ``torch.fx.experimental.optimization.fuse`` faz, para as BN do torch e as da
    ``bnlib.nn``: toda BN com estatísticas acumuladas cuja entrada é a saída de uma
    ``Linear``, ``Conv1d``, ``Conv2d`` ou ``Conv3d``, usada só por ela, some do grafo, e a
    camada anterior passa a ter os pesos fundidos. As outras BN ficam.

    Parameters
    ----------
    model : nn.Module
        No modo de avaliação; qualquer modelo que ``torch.fx.symbolic_trace`` consiga traçar.

    Returns
    -------
    torch.fx.GraphModule
        No modo de avaliação. ``model`` não é modificado.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"fold_graph: o argumento `model` deve ser uma torch.nn.Module; recebido "
            f"{type(model).__name__}."
        )
    if model.training:
        raise ValueError(
            "fold_graph: o modelo está no modo de treino; chame `model.eval()` antes de "
            "fundir (a fusão usa as estatísticas acumuladas)."
        )
    traced = torch.fx.symbolic_trace(copy.deepcopy(model))
    modules = dict(traced.named_modules())
    for node in list(traced.graph.nodes):
        if node.op != "call_module" or not is_batchnorm(modules[node.target]):
            continue
        source = node.args[0] if node.args else node.kwargs.get("input")
        bn = modules[node.target]
        if (
            not isinstance(source, torch.fx.Node)
            or source.op != "call_module"
            or len(source.users) > 1
            or bn.running_mean is None
        ):
            continue
        previous = modules[source.target]
        if isinstance(previous, nn.Linear):
            fused = fold_batchnorm_linear(previous, bn)
        elif isinstance(previous, nn.Conv1d | nn.Conv2d | nn.Conv3d):
            fused = fold_batchnorm_conv(previous, bn, "fold_graph")
        else:
            continue
        traced.set_submodule(source.target, fused)
        modules[source.target] = fused
        node.replace_all_uses_with(source)
        traced.graph.erase_node(node)
    traced.graph.lint()
    traced.delete_all_unused_submodules()
    traced.recompile()
    return traced.eval()
