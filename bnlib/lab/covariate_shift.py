"""A mudança interna de covariáveis medida de duas maneiras, num passo de treino.

Capítulo: ``book/interacoes/covariaveis``.

Num ponto ``W_t`` do treino, com um lote ``(x, y)`` e a taxa de aprendizado ``η`` do SGD,
para cada camada com pesos ``i`` (menos a primeira, que não tem camadas antes dela):

- **a medida de Santurkar et al. (2018, § 2.2)**: ``G = ∇_{W_i} L(W_t)`` é o gradiente dos
  pesos da camada ``i``; ``G'`` é o mesmo gradiente, no mesmo lote, depois que **só as
  camadas anteriores** deram o seu passo de SGD (``W_j ← W_j − η ∇_{W_j} L`` para os
  parâmetros registrados antes de ``W_i``). A camada ``i`` ainda é a mesma; o que mudou foi
  a entrada que ela recebe. ``‖G − G'‖`` e o cosseno entre ``G`` e ``G'`` dizem quanto o
  problema de otimização da camada mudou por causa das outras;
- **a medida de distribuição**: a média e o desvio padrão de cada unidade da **entrada** da
  camada ``i`` no mesmo lote, antes e depois do mesmo passo das camadas anteriores. A
  mudança é dada em unidades do desvio padrão típico da entrada.

"Anteriores" quer dizer registrados antes em ``model.parameters()``; num ``nn.Sequential``
(como os de :func:`bnlib.lab.models.make_mlp`) é a ordem do passo direto. A BN entra no
modo em que o modelo está: em modo de treino, ela usa as estatísticas do lote, como no passo
de treino que a medida imita.

A medida não muda o modelo: tudo acontece numa cópia.

Examples
--------
>>> import torch
>>> from torch import nn
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> x, y = torch.randn(32, 4), torch.randint(3, (32,))
>>> [m.layer for m in covariate_shift(model, x, y, lr=0.1)]
['2']
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from bnlib.lab.models import weight_layers

#: Campos de :class:`LayerShift` que :class:`CovariateShiftProbe` junta em arrays.
SHIFT_FIELDS = ("grad_change", "grad_norm", "relative_change", "cosine", "mean_shift", "std_shift")


@dataclass(frozen=True)
class LayerShift:
    """As duas medidas do deslocamento para uma camada, num passo.

    Attributes
    ----------
    layer : str
        O nome da camada em ``model.named_modules()``.
    grad_change : float
        ``‖G − G'‖`` (norma de Frobenius).
    grad_norm : float
        ``‖G‖``.
    relative_change : float
        ``‖G − G'‖ / ‖G‖``.
    cosine : float
        ``⟨G, G'⟩ / (‖G‖ ‖G'‖)``; 1 quando o gradiente não muda de direção.
    mean_shift : float
        Média, sobre as unidades da entrada da camada, de ``|μ' − μ|``, dividida pela média
        dos desvios padrão ``σ`` antes do passo.
    std_shift : float
        O mesmo para ``|σ' − σ|``.
    """

    layer: str
    grad_change: float
    grad_norm: float
    relative_change: float
    cosine: float
    mean_shift: float
    std_shift: float


def _check_batch_and_lr(x, y, lr, where: str) -> float:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(
            f"{where}: os argumentos `x` e `y` devem ser torch.Tensor; recebido "
            f"{type(x).__name__} e {type(y).__name__}."
        )
    if x.ndim < 1 or len(x) != len(y) or len(x) < 2:
        raise ValueError(
            f"{where}: `x` (shape {tuple(x.shape)}) e `y` (shape {tuple(y.shape)}) devem ter o "
            f"mesmo número de exemplos na primeira dimensão, pelo menos 2."
        )
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not float(lr) > 0:
        raise ValueError(f"{where}: o argumento `lr` deve ser um número > 0; recebido {lr!r}.")
    return float(lr)


def _moments(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Média e desvio padrão (enviesado) de cada unidade: sobre N, e H, W se houver."""
    per_unit = h.transpose(0, 1).reshape(h.shape[1], -1)
    return per_unit.mean(dim=1), per_unit.std(dim=1, correction=0)


def covariate_shift(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> list[LayerShift]:
    """As duas medidas da mudança interna de covariáveis em cada camada com pesos.

    Parameters
    ----------
    model : nn.Module
        Recebe ``x`` e devolve *logits* (N, classes); precisa de pelo menos duas camadas
        com pesos (``Linear`` ou ``Conv``).
    x : Tensor, shape (N, ...)
    y : Tensor, shape (N,)
    lr : float
        A taxa de aprendizado ``η`` do passo de SGD das camadas anteriores.
    loss_fn : função ``(logits, y) -> perda``, opcional
        Padrão: entropia cruzada.

    Returns
    -------
    list of LayerShift
        Uma por camada com pesos, na ordem do modelo, a partir da segunda.
    """
    where = "covariate_shift"
    layers = weight_layers(model, where)  # também recusa o que não é nn.Module
    lr = _check_batch_and_lr(x, y, lr, where)
    loss_fn = nn.functional.cross_entropy if loss_fn is None else loss_fn
    if len(layers) < 2:
        raise ValueError(
            f"{where}: o modelo tem {len(layers)} camada com pesos; a medida precisa de "
            f"pelo menos duas (a primeira não tem camadas anteriores)."
        )
    names = list(layers)
    work = copy.deepcopy(model)  # a BN em modo de treino mexeria nas estatísticas acumuladas
    work_layers = dict(work.named_modules())
    params = list(work.parameters())
    inputs: dict[str, torch.Tensor] = {}
    hooks = [
        work_layers[name].register_forward_hook(
            lambda module, args, output, name=name: inputs.__setitem__(name, args[0].detach())
        )
        for name in names[1:]
    ]
    try:
        grads = torch.autograd.grad(loss_fn(work(x), y), params, allow_unused=True)
        grads = [
            torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)
        ]
        before = {name: _moments(h) for name, h in inputs.items()}
        start = [p.detach().clone() for p in params]
        results = []
        for name in names[1:]:
            weight = work_layers[name].weight
            index = next(k for k, p in enumerate(params) if p is weight)
            with torch.no_grad():
                for p, p0, g in zip(params[:index], start, grads, strict=False):
                    p.copy_(p0 - lr * g)
            g_new = torch.autograd.grad(loss_fn(work(x), y), weight)[0]
            with torch.no_grad():
                for p, p0 in zip(params[:index], start, strict=False):
                    p.copy_(p0)
            g_old = grads[index]
            mean0, std0 = before[name]
            mean1, std1 = _moments(inputs[name])
            typical = std0.mean().clamp_min(torch.finfo(std0.dtype).tiny)
            norm_old, norm_new = g_old.norm().item(), g_new.norm().item()
            change = (g_old - g_new).norm().item()
            cosine = (g_old * g_new).sum().item() / max(norm_old * norm_new, np.finfo(float).tiny)
            results.append(
                LayerShift(
                    layer=name,
                    grad_change=change,
                    grad_norm=norm_old,
                    relative_change=change / max(norm_old, np.finfo(float).tiny),
                    cosine=cosine,
                    mean_shift=((mean1 - mean0).abs().mean() / typical).item(),
                    std_shift=((std1 - std0).abs().mean() / typical).item(),
                )
            )
    finally:
        for hook in hooks:
            hook.remove()
    return results


class CovariateShiftProbe:
    """Aplica :func:`covariate_shift` a cada ``every`` passos de treino, num lote fixo.

    Cabe no argumento ``on_step`` de :func:`bnlib.lab.training.train_classifier`.

    Parameters
    ----------
    x : Tensor, shape (N, ...)
    y : Tensor, shape (N,)
    lr : float
        A taxa de aprendizado do treino.
    every : int
        Intervalo, em passos, entre duas medidas (>= 1).

    Attributes
    ----------
    steps : list of int
        Os passos medidos.
    results : list of list of LayerShift
        Para cada passo medido, uma medida por camada (a partir da segunda).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, lr: float, every: int = 25) -> None:
        where = "CovariateShiftProbe"
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"{where}: `every` deve ser um inteiro >= 1; recebido {every!r}.")
        self.lr = _check_batch_and_lr(x, y, lr, where)
        self.x, self.y = x, y
        self.every = every
        self.steps: list[int] = []
        self.results: list[list[LayerShift]] = []

    def __call__(self, step: int, model: nn.Module) -> None:
        """``on_step(passo, modelo)``: mede quando ``step`` é múltiplo de ``every``."""
        if step % self.every == 0:
            self.measure(step, model)

    def measure(self, step: int, model: nn.Module) -> list[LayerShift]:
        """Mede agora e guarda o resultado com o passo ``step``."""
        result = covariate_shift(model, self.x, self.y, self.lr)
        self.steps.append(int(step))
        self.results.append(result)
        return result

    @property
    def layers(self) -> list[str]:
        """Os nomes das camadas medidas."""
        return [m.layer for m in self.results[0]] if self.results else []

    def array(self, field: str) -> np.ndarray:
        """Um campo de :class:`LayerShift` como array de shape (passos medidos, camadas)."""
        if field not in SHIFT_FIELDS:
            raise ValueError(
                f"CovariateShiftProbe.array: `field` deve ser um de {list(SHIFT_FIELDS)}; "
                f"recebido {field!r}."
            )
        return np.array([[getattr(m, field) for m in row] for row in self.results]).reshape(
            len(self.results), -1
        )
