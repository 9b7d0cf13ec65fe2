"""Decaimento de pesos com BN: a norma dos pesos e a taxa de aprendizado efetiva.

Capítulo: ``book/interacoes/decaimento``.

Pesos ``W`` seguidos de BN são invariantes à escala: a perda não muda quando ``W`` é
multiplicado por ``a > 0``. Daí saem duas identidades: o gradiente ``G = ∂perda/∂W`` é
ortogonal a ``W`` e encolhe como ``1/‖W‖``. Um passo de SGD com decaimento de pesos λ,
``W ← (1 − ηλ)·W − η·G``, muda então a norma como

    ‖W_{t+1}‖² = (1 − ηλ)²·‖W_t‖² + η²·‖G_t‖²,

e a direção de ``W`` anda como se a taxa fosse a taxa de aprendizado efetiva
``η / ‖W‖²``. Com ``g̃ = ‖W‖·G`` (o gradiente no ponto ``W/‖W‖``, de norma 1), o ponto fixo
da recorrência é ``‖W‖⁴ = η·‖g̃‖² / (2λ − ηλ²)``.

- :func:`effective_learning_rate` e :func:`equilibrium_weight_norm`: as duas fórmulas;
- :class:`ScaleInvariantTracker`: um ``on_step`` de
  :func:`bnlib.lab.training.train_classifier` que registra, passo a passo, ``‖W‖``,
  ``‖G‖``, o cosseno entre ``W`` e ``G`` e o ângulo que ``W`` girou.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import nn

from bnlib.lab.models import weight_layers


def _positive(value, name: str, where: str, allow_zero: bool = False) -> float:
    """``value`` como float, se for um número finito > 0 (ou ≥ 0); senão, um ValueError."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        expected = "≥ 0" if allow_zero else "> 0"
        raise ValueError(
            f"{where}: `{name}` deve ser um número finito {expected}; recebido {value!r}."
        )
    return float(value)


def effective_learning_rate(lr: float, weight_norm) -> np.ndarray | float:
    """A taxa de aprendizado efetiva ``η / ‖W‖²`` de pesos invariantes à escala.

    Parameters
    ----------
    lr : float
        A taxa de aprendizado η do SGD, > 0.
    weight_norm : float ou ndarray, qualquer shape
        Normas ``‖W‖`` (> 0), por exemplo ``tracker.weight_norm`` de shape (passos, camadas).

    Returns
    -------
    float ou ndarray, o shape de ``weight_norm``

    Examples
    --------
    >>> effective_learning_rate(0.5, 2.0)
    0.125
    """
    where = "effective_learning_rate"
    lr = _positive(lr, "lr", where)
    norm = np.asarray(weight_norm, dtype=float)
    if not np.all(np.isfinite(norm) & (norm > 0)):
        raise ValueError(
            f"{where}: `weight_norm` deve conter só normas finitas > 0; o menor valor "
            f"recebido é {np.nanmin(norm) if norm.size else 'nenhum'}."
        )
    result = lr / norm**2
    return float(result) if result.ndim == 0 else result


def equilibrium_weight_norm(lr: float, weight_decay: float, scale_free_grad_sq) -> float:
    """A norma ``‖W‖`` em que o SGD com decaimento de pesos deixa de encolher ou crescer ``W``.

    O ponto fixo de ``x ← (1 − ηλ)²·x + η²·‖g̃‖²/x``, com ``x = ‖W‖²``:
    ``‖W‖⁴ = η·‖g̃‖² / (2λ − ηλ²)``, que para ``ηλ ≪ 1`` é ``η·‖g̃‖² / (2λ)``.

    Parameters
    ----------
    lr : float
        A taxa de aprendizado η, > 0.
    weight_decay : float
        O decaimento de pesos λ, com ``0 < ηλ < 2``.
    scale_free_grad_sq : float
        ``‖g̃‖² = ‖W‖²·‖G‖²``, o quadrado do gradiente sem escala (na prática, a média ao
        longo de alguns passos), ≥ 0.

    Returns
    -------
    float

    Examples
    --------
    >>> round(equilibrium_weight_norm(0.5, 0.01, 2.0), 4)  # (0,5·2 / 0,01995)^(1/4)
    2.6608
    """
    where = "equilibrium_weight_norm"
    lr = _positive(lr, "lr", where)
    weight_decay = _positive(weight_decay, "weight_decay", where)
    grad_sq = _positive(scale_free_grad_sq, "scale_free_grad_sq", where, allow_zero=True)
    if lr * weight_decay >= 2:
        raise ValueError(
            f"{where}: com `lr`·`weight_decay` = {lr * weight_decay:g} ≥ 2 o passo "
            f"(1 − ηλ)·W inverte e aumenta W; não há equilíbrio (use ηλ < 2)."
        )
    return (lr * grad_sq / (2 * weight_decay - lr * weight_decay**2)) ** 0.25


class ScaleInvariantTracker:
    """Registra, a cada passo, a norma dos pesos, a do gradiente e o ângulo entre eles.

    Para cada camada escolhida (densa ou convolucional), depois de cada ``optimizer.step()``:

    - ``weight_norm``: ``‖W_t‖``, os pesos **em que o gradiente foi calculado**;
    - ``grad_norm``: ``‖G_t‖``, com ``G_t = W.grad`` (o gradiente da perda; o decaimento de
      pesos do ``torch.optim.SGD`` não entra em ``.grad``);
    - ``cosine``: ``⟨W_t, G_t⟩ / (‖W_t‖·‖G_t‖)``; zero (a menos do arredondamento do tipo
      dos pesos) para pesos invariantes à escala;
    - ``angle``: o ângulo, em radianos, entre ``W_t`` e ``W_{t+1}``: quanto a direção girou.

    Os pesos da criação são ``W_0``; crie o rastreador logo antes do treino. Cabe no
    argumento ``on_step`` de :func:`bnlib.lab.training.train_classifier`:

    >>> tracker = ScaleInvariantTracker(model, ["3"])            # doctest: +SKIP
    >>> train_classifier(model, ..., on_step=tracker)            # doctest: +SKIP
    >>> tracker.weight_norm.shape  # (passos, camadas)           # doctest: +SKIP

    Parameters
    ----------
    model : nn.Module
    names : lista de str, opcional
        Nomes (de ``model.named_modules()``) das camadas a seguir. Padrão: todas as camadas
        densas e convolucionais.
    """

    FIELDS = ("weight_norm", "grad_norm", "cosine", "angle")

    def __init__(self, model: nn.Module, names: list[str] | None = None) -> None:
        where = "ScaleInvariantTracker"
        available = weight_layers(model, where)
        if names is None:
            names = list(available)
        unknown = [n for n in names if n not in available]
        if unknown or not names:
            raise ValueError(
                f"{where}: `names` deve listar camadas com pesos do modelo; recebido "
                f"{names!r}, camadas disponíveis: {list(available)}."
            )
        self.names = list(names)
        self.layers = {n: available[n] for n in self.names}
        self._previous = {n: m.weight.detach().clone() for n, m in self.layers.items()}
        self.steps: list[int] = []
        self._rows: dict[str, list[list[float]]] = {f: [] for f in self.FIELDS}

    @torch.no_grad()
    def update(self, step: int | None = None) -> None:
        """Mede o passo que acabou de ser dado (chame depois de ``optimizer.step()``)."""
        row = {f: [] for f in self.FIELDS}
        for name, module in self.layers.items():
            if module.weight.grad is None:
                raise RuntimeError(
                    f"ScaleInvariantTracker: a camada {name!r} não tem gradiente; chame o "
                    f"rastreador depois de loss.backward() e optimizer.step()."
                )
            previous = self._previous[name]
            w_old = previous.reshape(-1)
            grad = module.weight.grad.detach().reshape(-1)
            change = module.weight.detach().reshape(-1) - w_old
            # cinco produtos internos numa só ida ao tensor; o resto é conta com escalares
            ww, gg, wg, cc, wc = (
                torch.stack(
                    [
                        w_old.dot(w_old),
                        grad.dot(grad),
                        w_old.dot(grad),
                        change.dot(change),
                        w_old.dot(change),
                    ]
                )
                .double()
                .tolist()
            )
            w_norm, g_norm = math.sqrt(ww), math.sqrt(gg)
            along = wc / w_norm  # componente do passo na direção de W_t
            across = math.sqrt(max(cc - along**2, 0.0))  # componente perpendicular
            row["weight_norm"].append(w_norm)
            row["grad_norm"].append(g_norm)
            row["cosine"].append(wg / (w_norm * g_norm))
            row["angle"].append(math.atan2(across, w_norm + along))
            previous.copy_(module.weight.detach())
        for field, values in row.items():
            self._rows[field].append(values)
        self.steps.append(len(self.steps) + 1 if step is None else int(step))

    def __call__(self, step: int, model: nn.Module | None = None) -> None:
        """Assinatura de ``on_step(passo, modelo)`` de ``train_classifier``."""
        self.update(step)

    def _array(self, field: str) -> np.ndarray:
        return np.array(self._rows[field], dtype=float).reshape(len(self.steps), len(self.names))

    @property
    def weight_norm(self) -> np.ndarray:
        """``‖W_t‖``, shape (passos, camadas)."""
        return self._array("weight_norm")

    @property
    def grad_norm(self) -> np.ndarray:
        """``‖G_t‖``, shape (passos, camadas)."""
        return self._array("grad_norm")

    @property
    def cosine(self) -> np.ndarray:
        """Cosseno entre ``W_t`` e ``G_t``, shape (passos, camadas)."""
        return self._array("cosine")

    @property
    def angle(self) -> np.ndarray:
        """Ângulo entre ``W_t`` e ``W_{t+1}``, em radianos, shape (passos, camadas)."""
        return self._array("angle")

    @property
    def scale_free_grad_norm(self) -> np.ndarray:
        """``‖g̃_t‖ = ‖W_t‖·‖G_t‖``, o gradiente no ponto de norma 1; shape (passos, camadas)."""
        return self.weight_norm * self.grad_norm
