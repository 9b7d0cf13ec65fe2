"""Os modelos dos experimentos: MLP, CNN pequena e a inicialização dos pesos.

Capítulos: quase todos (``make_mlp`` e ``make_small_cnn``); a inicialização, em
``book/gradientes`` e ``book/vantagens/taxas``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def make_mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    norm: Callable[[int], nn.Module] | None = None,
    norm_after_activation: bool = False,
    bias: bool = True,
) -> nn.Sequential:
    """Perceptron de várias camadas: ``Linear → [norm] → ativação`` em cada camada oculta.

    Parameters
    ----------
    sizes : sequência de int
        ``[entrada, oculta_1, ..., oculta_k, saída]``; a última camada não tem ativação.
    activation : {"relu", "sigmoid", "tanh"}
    norm : função ``num_features -> nn.Module``, opcional
        Por exemplo ``torch.nn.BatchNorm1d`` ou ``bnlib.nn.BatchNorm1d``. ``None``: sem
        normalização.
    norm_after_activation : bool
        ``False`` (padrão, como no artigo original): ``Linear → norm → ativação``;
        ``True``: ``Linear → ativação → norm``.
    bias : bool
        Se as camadas ``Linear`` ocultas têm viés (*bias*). Antes de uma BN o viés é
        cancelado e pode ser tirado (``bias=False``); a camada de saída sempre tem viés.

    Returns
    -------
    nn.Sequential
    """
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"make_mlp: `activation` deve ser uma de {sorted(ACTIVATIONS)}; "
            f"recebido {activation!r}."
        )
    if len(sizes) < 2:
        raise ValueError(
            f"make_mlp: `sizes` precisa de pelo menos a entrada e a saída; recebido {sizes!r}."
        )
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers.append(nn.Linear(fan_in, fan_out, bias=bias))
        block = [ACTIVATIONS[activation]()]
        if norm is not None:
            block.insert(len(block) if norm_after_activation else 0, norm(fan_out))
        layers.extend(block)
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


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


WEIGHT_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def weight_layers(model: nn.Module, where: str) -> dict[str, nn.Module]:
    """As camadas com pesos (Linear, Conv) de ``model``, por nome; ``where`` vai nas mensagens."""
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"{where}: o argumento `model` deve ser um torch.nn.Module; "
            f"recebido {type(model).__name__}."
        )
    layers = {n: m for n, m in model.named_modules() if isinstance(m, WEIGHT_TYPES)}
    if not layers:
        raise ValueError(
            f"{where}: o argumento `model` não tem camadas com pesos (Linear ou Conv); "
            f"tipos procurados: {[t.__name__ for t in WEIGHT_TYPES]}."
        )
    return layers


INIT_SCHEMES = ("normal", "xavier", "he")


@torch.no_grad()
def initialize_weights(
    model: nn.Module,
    scheme: str,
    std: float | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Reinicializa os pesos das camadas densas/convolucionais e zera os vieses.

    Parameters
    ----------
    model : nn.Module
    scheme : {"normal", "xavier", "he"}
        ``"normal"``: pesos ~ N(0, ``std``²), o mesmo ``std`` em todas as camadas;
        ``"xavier"`` (Glorot): variância ``2 / (n_entrada + n_saída)``;
        ``"he"`` (Kaiming): variância ``2 / n_entrada``.
    std : float, opcional
        Obrigatório (e só aceito) com ``scheme="normal"``.
    seed : int, opcional
        Semente do ``torch`` usada antes de sortear.
    generator : torch.Generator, opcional
        Fonte dos sorteios, em vez do gerador global do ``torch`` (não combine com
        ``seed``).

    Returns
    -------
    nn.Module
        O próprio ``model``, modificado.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(
            f"initialize_weights: `scheme` deve ser um de {list(INIT_SCHEMES)}; "
            f"recebido {scheme!r}."
        )
    if (scheme == "normal") != (std is not None):
        raise ValueError(
            "initialize_weights: `std` é obrigatório com scheme='normal' e não se aplica a "
            f"{scheme!r}; recebido std={std!r}."
        )
    if std is not None and not std > 0:
        raise ValueError(f"initialize_weights: `std` deve ser > 0; recebido {std!r}.")
    if seed is not None and generator is not None:
        raise ValueError(
            "initialize_weights: passe `seed` ou `generator`, não os dois; recebidos "
            f"seed={seed!r} e um gerador."
        )
    if seed is not None:
        torch.manual_seed(seed)
    for module in weight_layers(model, "initialize_weights").values():
        if scheme == "normal":
            nn.init.normal_(module.weight, 0.0, float(std), generator=generator)
        elif scheme == "xavier":
            nn.init.xavier_normal_(module.weight, generator=generator)
        else:
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    return model
