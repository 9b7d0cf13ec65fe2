"""Diagnóstico de redes profundas: estatísticas por camada das ativações e dos gradientes.

Três ferramentas, que funcionam com qualquer ``torch.nn.Module``:

- :class:`LayerRecorder` (gerenciador de contexto): ganchos (*hooks*) que guardam a saída de
  cada camada escolhida no passo direto e o gradiente da perda em relação a ela na
  retropropagação. Ao sair do ``with`` os ganchos são removidos.
- :func:`record_layers`: o atalho para um passo direto (e uma retropropagação) registrado;
- :func:`capture_output`: a saída de uma camada para uma entrada, no modo de avaliação.

As medidas sobre os pesos (norma do gradiente, razão atualização/parâmetro) estão em
:mod:`bnlib.lab.weights`.

Exemplo
-------
>>> import torch
>>> from torch import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
>>> x, y = torch.randn(16, 4), torch.randint(2, (16,))
>>> with LayerRecorder(model) as rec:
...     nn.functional.cross_entropy(model(x), y).backward()
>>> [s.name for s in rec.stats()]
['1']
>>> rec.stats()[0].kind
'tanh'

A reinicialização dos pesos (:func:`bnlib.lab.models.initialize_weights`) fica com os modelos.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

#: Camadas registradas por padrão: as ativações não lineares.
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (nn.Sigmoid, nn.Tanh, nn.ReLU)

#: Camadas com pesos, usadas por :func:`weight_grad_norms` e :class:`UpdateRatioTracker`.

#: Limiar padrão de saturação: ``|tanh| > 0,97`` (ou ``|2·sigmoide − 1| > 0,97``).
SATURATION_THRESHOLD = 0.97

_KINDS = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu"}


def layer_kind(module: nn.Module) -> str:
    """Nome curto do tipo da camada: ``"sigmoid"``, ``"tanh"``, ``"relu"`` ou o nome da classe
    em minúsculas (``"linear"``, ``"batchnorm1d"``...)."""
    for cls, kind in _KINDS.items():
        if isinstance(module, cls):
            return kind
    return type(module).__name__.lower()


def saturation_fraction(
    values: torch.Tensor, kind: str, threshold: float = SATURATION_THRESHOLD
) -> float:
    """Fração das saídas de uma ativação que estão na região de saturação.

    Parameters
    ----------
    values : Tensor, qualquer shape
        Saídas da ativação (depois da não linearidade).
    kind : {"tanh", "sigmoid", "relu"}
        ``"tanh"``: conta ``|y| > threshold``. ``"sigmoid"``: conta ``|2y − 1| > threshold``,
        a mesma região (pois ``sigmoide(z) = (1 + tanh(z/2))/2``). ``"relu"``: conta as
        saídas exatamente iguais a zero, onde a derivada é nula.
    threshold : float
        Entre 0 e 1 (padrão 0,97: a derivada da tanh fica abaixo de 6 % do seu máximo).

    Returns
    -------
    float
        Número entre 0 e 1; ``nan`` para outros tipos de camada.
    """
    if not isinstance(threshold, numbers.Real) or not 0.0 < float(threshold) < 1.0:
        raise ValueError(
            f"saturation_fraction: o argumento `threshold` deve estar entre 0 e 1 "
            f"(exclusive); recebido {threshold!r}."
        )
    v = values.detach()
    if kind == "tanh":
        return (v.abs() > threshold).float().mean().item()
    if kind == "sigmoid":
        return ((2 * v - 1).abs() > threshold).float().mean().item()
    if kind == "relu":
        return (v == 0).float().mean().item()
    return math.nan


@dataclass(frozen=True)
class LayerStats:
    """Estatísticas de uma camada num passo direto (e na retropropagação que o seguiu).

    Attributes
    ----------
    name : str
        Nome da camada em ``model.named_modules()`` (em ``nn.Sequential``, o índice: ``"3"``).
    kind : str
        Tipo da camada (ver :func:`layer_kind`).
    mean, std : float
        Média e desvio padrão de todas as saídas da camada no lote.
    saturation : float
        Ver :func:`saturation_fraction` (``nan`` para camadas sem saturação definida).
    grad_mean, grad_std, grad_norm : float
        Média, desvio padrão e norma euclidiana do gradiente da perda em relação à saída
        da camada; ``nan`` se não houve retropropagação.
    """

    name: str
    kind: str
    mean: float
    std: float
    saturation: float
    grad_mean: float = math.nan
    grad_std: float = math.nan
    grad_norm: float = math.nan


class LayerRecorder:
    """Guarda as saídas e os gradientes das camadas escolhidas de um modelo.

    Use como gerenciador de contexto: os ganchos são registrados ao entrar e removidos ao
    sair (ou chame :meth:`remove`). Cada passo direto dentro do ``with`` substitui o que foi
    guardado no passo anterior; assim, ``rec.stats()`` descreve sempre o último lote. Uma
    mesma instância de camada usada duas vezes no mesmo passo direto guarda só a última
    chamada: dê a cada posição a sua própria instância (como faz ``make_mlp``).

    Parameters
    ----------
    model : nn.Module
    layer_types : tupla de classes
        Tipos de camada registrados (padrão: :data:`ACTIVATION_TYPES`, as ativações
        sigmoide, tanh e ReLU). Passe, por exemplo, ``(nn.Linear,)`` para as saídas das
        camadas densas ou ``(nn.BatchNorm1d,)`` para as da BN.
    names : iterável de str, opcional
        Em vez de ``layer_types``, os nomes exatos (de ``model.named_modules()``).
    threshold : float
        Limiar de saturação (ver :func:`saturation_fraction`).

    Attributes
    ----------
    activations : dict[str, Tensor]
        Saída de cada camada registrada no último passo direto (cópia destacada do grafo).
    gradients : dict[str, Tensor]
        Gradiente da perda em relação a cada saída, preenchido por ``loss.backward()``.
    """

    def __init__(
        self,
        model: nn.Module,
        layer_types: tuple[type[nn.Module], ...] = ACTIVATION_TYPES,
        names: Iterable[str] | None = None,
        threshold: float = SATURATION_THRESHOLD,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"LayerRecorder: o argumento `model` deve ser um torch.nn.Module; "
                f"recebido {type(model).__name__}."
            )
        modules = dict(model.named_modules())
        if names is not None:
            names = list(names)
            missing = [n for n in names if n not in modules]
            if missing:
                raise ValueError(
                    f"LayerRecorder: o argumento `names` cita camadas que não existem no "
                    f"modelo: {missing}; nomes válidos: {[n for n in modules if n]}."
                )
            self.layers = {n: modules[n] for n in names}
        else:
            self.layers = {n: m for n, m in modules.items() if isinstance(m, layer_types) and n}
        if not self.layers:
            raise ValueError(
                "LayerRecorder: nenhuma camada do modelo corresponde a `layer_types` "
                f"{[t.__name__ for t in layer_types]}; escolha outros tipos ou passe `names`."
            )
        saturation_fraction(torch.zeros(1), "tanh", threshold)  # valida o limiar
        self.threshold = float(threshold)
        self.activations: dict[str, torch.Tensor] = {}
        self.gradients: dict[str, torch.Tensor] = {}
        self._handles: list = []
        self.attach()

    # -- ganchos ---------------------------------------------------------------------------
    def attach(self) -> LayerRecorder:
        """Registra os ganchos (feito automaticamente na criação)."""
        if not self._handles:
            for name, module in self.layers.items():
                self._handles.append(module.register_forward_hook(self._forward_hook(name)))
        return self

    def remove(self) -> None:
        """Remove todos os ganchos; os valores já guardados continuam disponíveis."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    @property
    def attached(self) -> bool:
        """``True`` enquanto os ganchos estão registrados."""
        return bool(self._handles)

    def __enter__(self) -> LayerRecorder:
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.remove()

    def _forward_hook(self, name: str):
        def hook(module, inputs, output):
            if not isinstance(output, torch.Tensor):
                return
            self.activations[name] = output.detach().clone()
            self.gradients.pop(name, None)
            if output.requires_grad:
                output.register_hook(self._grad_hook(name))

        return hook

    def _grad_hook(self, name: str):
        def hook(grad):
            self.gradients[name] = grad.detach().clone()

        return hook

    # -- resultados ------------------------------------------------------------------------
    def stats(self) -> list[LayerStats]:
        """Estatísticas de cada camada registrada, na ordem do modelo.

        Returns
        -------
        list[LayerStats]
            Uma entrada por camada que já recebeu um passo direto.
        """
        out = []
        for name, module in self.layers.items():
            if name not in self.activations:
                continue
            a = self.activations[name].double()
            kind = layer_kind(module)
            g = self.gradients.get(name)
            grad = {}
            if g is not None:
                g = g.double()
                grad = dict(
                    grad_mean=g.mean().item(),
                    grad_std=g.std(unbiased=False).item(),
                    grad_norm=g.norm().item(),
                )
            out.append(
                LayerStats(
                    name=name,
                    kind=kind,
                    mean=a.mean().item(),
                    std=a.std(unbiased=False).item(),
                    saturation=saturation_fraction(a, kind, self.threshold),
                    **grad,
                )
            )
        return out

    def summary(self) -> dict[str, np.ndarray]:
        """As mesmas estatísticas de :meth:`stats`, como colunas: um array por campo.

        Returns
        -------
        dict[str, ndarray]
            Chaves ``"name"``, ``"kind"``, ``"mean"``, ``"std"``, ``"saturation"``,
            ``"grad_mean"``, ``"grad_std"``, ``"grad_norm"``; cada array tem shape (L,),
            com L o número de camadas registradas.
        """
        rows = self.stats()
        fields = LayerStats.__dataclass_fields__
        return {f: np.array([getattr(r, f) for r in rows]) for f in fields}


@torch.no_grad()
def capture_output(model: nn.Module, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A saída de ``layer`` quando ``model`` processa ``x`` no modo de avaliação, sem gradiente.

    O modo do modelo é restaurado ao final; a BN usa as estatísticas acumuladas e não as
    altera.

    Raises
    ------
    ValueError
        Se ``layer`` não é usada no passo direto de ``model``.
    """
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda module, inputs, output: captured.append(output))
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        handle.remove()
        model.train(was_training)
    if not captured:
        raise ValueError(
            "capture_output: a camada `layer` não foi usada no passo direto do modelo; "
            "passe uma camada que pertença a `model`."
        )
    return captured[0].detach()


def record_layers(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    loss_fn=None,
    layer_types: tuple[type[nn.Module], ...] = ACTIVATION_TYPES,
) -> LayerRecorder:
    """Um passo direto (e, se ``y`` for dado, uma retropropagação) com as camadas registradas.

    Atalho para o caso mais comum: olhar a rede num lote, sem treinar. Os gradientes dos
    parâmetros ficam em ``p.grad`` (zerados antes), prontos para :func:`weight_grad_norms`.

    Parameters
    ----------
    model : nn.Module
    x : Tensor, shape (N, ...)
    y : Tensor, shape (N,), opcional
        Rótulos; sem eles só o passo direto é feito.
    loss_fn : função ``(logits, y) -> perda``, opcional
        Padrão: entropia cruzada.
    layer_types : tupla de classes
        Ver :class:`LayerRecorder`.

    Returns
    -------
    LayerRecorder
        Já sem ganchos, com ``activations``, ``gradients`` e ``stats()`` preenchidos.
    """
    loss_fn = nn.functional.cross_entropy if loss_fn is None else loss_fn
    model.zero_grad(set_to_none=True)
    with LayerRecorder(model, layer_types=layer_types) as rec:
        if y is None:
            with torch.no_grad():
                model(x)
        else:
            loss_fn(model(x), y).backward()
    return rec
