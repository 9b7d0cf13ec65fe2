"""O estilo único das figuras do livro e gráficos reutilizados pelos capítulos."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

#: Cores fixas para as comparações que se repetem no livro.
COLORS = {
    "without_bn": "#d95f02",
    "with_bn": "#1b9e77",
    "before": "#7570b3",
    "after": "#1b9e77",
    "reference": "#555555",
}

STYLE = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "figure.constrained_layout.use": True,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(
        color=["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
    ),
    "image.cmap": "viridis",
}


def apply_style() -> None:
    """Aplica o estilo do livro ao matplotlib (chame uma vez, no início do caderno)."""
    mpl.rcParams.update(STYLE)


def compare_histograms(
    before: np.ndarray,
    after: np.ndarray,
    xlabels: tuple[str, str],
    titles: tuple[str, str] = ("Antes", "Depois"),
    bins: int = 40,
):
    """Dois histogramas lado a lado, cada um com a média marcada.

    Parameters
    ----------
    before, after : ndarray, qualquer shape (os valores são achatados)
    xlabels : (str, str)
        Rótulos dos eixos x dos dois painéis, com a unidade.
    titles : (str, str)
        Títulos dos dois painéis.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 2)
    colors = (COLORS["before"], COLORS["after"])
    for ax, values, title, xlabel, color in zip(
        axes, (before, after), titles, xlabels, colors, strict=True
    ):
        values = np.ravel(values)
        ax.hist(values, bins=bins, color=color, alpha=0.85)
        ax.axvline(values.mean(), color=COLORS["reference"], linestyle="--", label="média")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("contagem")
        ax.legend()
    return fig
