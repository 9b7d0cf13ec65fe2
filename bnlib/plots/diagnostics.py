"""Gráficos para as estatísticas de :mod:`bnlib.lab.diagnostics`.

- :func:`plot_layer_histograms`: um histograma por camada, sobrepostos, da primeira
  (cor clara) à última (cor escura);
- :func:`plot_layer_curves`: uma grandeza por camada (desvio padrão, norma do gradiente...),
  em escala logarítmica, várias séries no mesmo eixo;
- :func:`plot_update_ratios`: a razão atualização/parâmetro de cada camada ao longo do
  treino, com a referência de 10⁻³.

Todas aceitam ``ax`` (para compor painéis) e devolvem a ``Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogFormatterSciNotation, LogLocator, NullFormatter

from bnlib.plots import COLORS


def _axes(ax):
    if ax is None:
        fig, ax = plt.subplots()
        return fig, ax
    return ax.figure, ax


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def _power_of_ten(value: float) -> str:
    """``1e-3`` vira ``$10^{-3}$``; outros valores, com vírgula decimal."""
    exponent = np.log10(value)
    if np.isclose(exponent, round(exponent)):
        return f"$10^{{{round(exponent)}}}$"
    return f"{value:g}".replace(".", ",")


def _check_mapping(values, name: str, where: str) -> None:
    if not isinstance(values, Mapping) or len(values) == 0:
        raise ValueError(
            f"{where}: o argumento `{name}` deve ser um dicionário não vazio "
            f"{{nome: valores}} (por exemplo `rec.activations`); recebido "
            f"{type(values).__name__} com {len(values) if hasattr(values, '__len__') else '?'} "
            f"item(ns)."
        )


def layer_colors(count: int) -> list:
    """``count`` cores do mapa *viridis*, do claro (primeira camada) ao escuro (última)."""
    cmap = plt.get_cmap("viridis_r")
    return [cmap(0.15 + 0.8 * i / max(count - 1, 1)) for i in range(count)]


def _log_ticks(ax) -> None:
    """Marcas do eixo y logarítmico: só potências de 10, ou também 2 e 5 × 10ᵏ se o eixo
    cobrir menos de duas décadas (senão sobraria uma única marca com número)."""
    low, high = ax.get_ylim()
    if low > 0 and np.log10(high / low) < 2:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(NullFormatter())


def plot_layer_histograms(
    values: Mapping[str, object],
    xlabel: str,
    ax=None,
    bins: int = 60,
    value_range: tuple[float, float] | None = None,
    labels: Sequence[str] | None = None,
    title: str | None = None,
):
    """Histogramas sobrepostos, um por camada, como densidade.

    Parameters
    ----------
    values : dict[str, Tensor ou ndarray]
        ``{nome da camada: valores}`` (qualquer shape; os valores são achatados), por
        exemplo ``rec.activations`` ou ``rec.gradients`` de um ``LayerRecorder``.
    xlabel : str
        Rótulo do eixo x, com a unidade.
    ax : matplotlib Axes, opcional
    bins : int
    value_range : (float, float), opcional
        Intervalo comum dos histogramas; padrão: do menor ao maior valor de todas as camadas.
    labels : sequência de str, opcional
        Rótulos da legenda; padrão ``"camada 1"``, ``"camada 2"``...
    title : str, opcional

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    where = "plot_layer_histograms"
    _check_mapping(values, "values", where)
    arrays = [_to_numpy(v).ravel() for v in values.values()]
    if labels is None:
        labels = [f"camada {i + 1}" for i in range(len(arrays))]
    if len(labels) != len(arrays):
        raise ValueError(
            f"{where}: o argumento `labels` tem {len(labels)} rótulo(s) para "
            f"{len(arrays)} camada(s) em `values`; devem ser iguais."
        )
    if value_range is None:
        lo = min(float(a.min()) for a in arrays)
        hi = max(float(a.max()) for a in arrays)
        value_range = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
    fig, ax = _axes(ax)
    for a, label, color in zip(arrays, labels, layer_colors(len(arrays)), strict=True):
        ax.hist(
            a,
            bins=bins,
            range=value_range,
            density=True,
            histtype="step",
            lw=1.6,
            color=color,
            label=label,
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("densidade")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, ncol=2 if len(arrays) > 5 else 1)
    return fig


def plot_layer_curves(
    curves: Mapping[str, Sequence[float]],
    ylabel: str,
    xlabel: str = "camada (1 = mais perto da entrada)",
    ax=None,
    log: bool = True,
    styles: Mapping[str, dict] | None = None,
    title: str | None = None,
):
    """Uma grandeza por camada, uma linha por série, em escala logarítmica.

    Parameters
    ----------
    curves : dict[str, sequência de float]
        ``{rótulo da série: valores por camada}``; a camada ``k`` (começando em 1) fica no
        eixo x. Por exemplo ``{"Xavier": rec.summary()["std"]}``.
    ylabel : str
        Rótulo do eixo y, com a unidade.
    xlabel : str
    ax : matplotlib Axes, opcional
    log : bool
        Escala logarítmica no eixo y (padrão): crescimento ou decaimento exponencial vira
        uma reta.
    styles : dict[str, dict], opcional
        Argumentos extras de ``ax.plot`` por série (cor, estilo de linha...).
    title : str, opcional

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    where = "plot_layer_curves"
    _check_mapping(curves, "curves", where)
    styles = styles or {}
    fig, ax = _axes(ax)
    for label, values in curves.items():
        y = _to_numpy(values)
        if y.ndim != 1:
            raise ValueError(
                f"{where}: a série {label!r} de `curves` deve ser um vetor (um valor por "
                f"camada); recebido shape {y.shape}."
            )
        ax.plot(np.arange(1, len(y) + 1), y, marker="o", ms=3, label=label, **styles.get(label, {}))
    if log:
        ax.set_yscale("log")
        _log_ticks(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=9)
    return fig


def plot_update_ratios(
    ratios,
    names: Sequence[str] | None = None,
    steps: Sequence[int] | None = None,
    ax=None,
    reference: float | None = 1e-3,
    window: int = 10,
    title: str | None = None,
):
    """A razão atualização/parâmetro de cada camada ao longo do treino (escala log).

    Parameters
    ----------
    ratios : ndarray, shape (passos, camadas), ou ``UpdateRatioTracker``
        As razões ``‖ΔW‖/‖W‖`` (``tracker.ratios()``).
    names : sequência de str, opcional
        Rótulos das camadas (padrão: ``"camada 1"``...).
    steps : sequência de int, opcional
        O passo de cada linha (padrão: 1, 2, ...).
    ax : matplotlib Axes, opcional
    reference : float ou None
        Altura de uma linha tracejada de referência (padrão 10⁻³, a regra prática).
    window : int
        Largura da média móvel que suaviza as curvas (1: sem suavizar).
    title : str, opcional

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    where = "plot_update_ratios"
    if hasattr(ratios, "ratios"):
        steps = ratios.steps if steps is None else steps
        ratios = ratios.ratios()
    r = _to_numpy(ratios)
    if r.ndim != 2 or r.shape[0] == 0:
        raise ValueError(
            f"{where}: o argumento `ratios` deve ter shape (passos, camadas) com pelo menos "
            f"um passo; recebido shape {r.shape}."
        )
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"{where}: `window` deve ser um inteiro ≥ 1; recebido {window!r}.")
    steps = np.arange(1, r.shape[0] + 1) if steps is None else np.asarray(steps)
    names = [f"camada {i + 1}" for i in range(r.shape[1])] if names is None else list(names)
    if len(names) != r.shape[1]:
        raise ValueError(
            f"{where}: `names` tem {len(names)} nome(s) e `ratios` tem {r.shape[1]} "
            f"coluna(s); devem ser iguais."
        )
    w = min(window, r.shape[0])
    kernel = np.ones(w) / w
    fig, ax = _axes(ax)
    for column, name, color in zip(r.T, names, layer_colors(r.shape[1]), strict=True):
        smooth = np.convolve(column, kernel, mode="valid")
        ax.plot(steps[w - 1 :], smooth, color=color, lw=1.4, label=name)
    if reference is not None:
        ax.axhline(
            reference,
            color=COLORS["reference"],
            ls="--",
            lw=1.2,
            label=f"referência ({_power_of_ten(reference)})",
        )
    ax.set_yscale("log")
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("passo de treino")
    ax.set_ylabel("‖ΔW‖ / ‖W‖")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, ncol=2 if len(names) > 5 else 1)
    return fig
