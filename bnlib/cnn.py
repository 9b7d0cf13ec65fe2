"""Uma rede convolucional pequena para imagens (MNIST), treinável na CPU em segundos."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn


def make_small_cnn(
    channels: Sequence[int] = (8, 16),
    norm: Callable[[int], nn.Module] | None = nn.BatchNorm2d,
    num_classes: int = 10,
    global_pool: bool = False,
) -> nn.Sequential:
    """``[Conv2d 3×3 → norm → ReLU → MaxPool 2×2]`` por bloco, e uma camada densa no fim.

    Parameters
    ----------
    channels : sequência de int
        Canais de saída de cada bloco convolucional (cada bloco reduz H e W à metade).
    norm : função ``canais -> nn.Module``, opcional
        Por exemplo ``torch.nn.BatchNorm2d`` (padrão) ou ``bnlib.nn.BatchNorm2d``. Com
        normalização as convoluções não têm viés (a BN o cancelaria). ``None``: sem
        normalização, e as convoluções têm viés.
    num_classes : int
    global_pool : bool
        ``False`` (padrão): a camada densa recebe o mapa inteiro, e a entrada deve ser
        28×28. ``True``: antes dela, a média de cada canal sobre as posições, e a rede
        aceita imagens de qualquer tamanho.

    Returns
    -------
    nn.Sequential
        Recebe ``x`` de shape (N, 1, H, W) (28×28 se ``global_pool=False``) e devolve
        *logits* de shape (N, num_classes).
    """
    if len(channels) < 1 or any(int(c) < 1 for c in channels):
        raise ValueError(
            f"make_small_cnn: `channels` deve ter ao menos um número positivo de canais; "
            f"recebido {tuple(channels)!r}."
        )
    if len(channels) > 4:
        raise ValueError(
            f"make_small_cnn: no máximo 4 blocos para imagens 28×28 (cada um divide o lado "
            f"por 2); recebido {len(channels)}."
        )
    layers: list[nn.Module] = []
    fan_in, side = 1, 28
    for c in channels:
        layers.append(nn.Conv2d(fan_in, c, kernel_size=3, padding=1, bias=norm is None))
        if norm is not None:
            layers.append(norm(c))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        fan_in, side = c, side // 2
    if global_pool:
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(fan_in, num_classes)]
    else:
        layers += [nn.Flatten(), nn.Linear(fan_in * side * side, num_classes)]
    return nn.Sequential(*layers)
