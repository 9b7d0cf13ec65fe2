"""Fusão da BN (*BN folding*): incorporar a BN de inferência na camada anterior.

No modo de avaliação a BN é uma função afim fixa de cada atributo (ou canal)::

    y = gamma * (z - running_mean) / sqrt(running_var + eps) + beta

e, se ``z = W x + b`` vem de uma camada densa ou convolucional, a composição é outra
camada do mesmo tipo, com pesos ``s * W`` e viés ``s * (b - running_mean) + beta``, em que
``s = gamma / sqrt(running_var + eps)``. As funções daqui devolvem essa camada nova; as
camadas originais não são modificadas.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from bnlib.nn.batchnorm import is_batchnorm


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
    _check_batchnorm(bn, conv.out_channels, "fold_batchnorm_conv2d")
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
