"""O estilo único das figuras do livro e gráficos reutilizados pelos capítulos.

:func:`apply_style` deixa toda figura nova com:

* **vírgula decimal** nos eixos (``0,5`` e não ``0.5``), também em escala logarítmica, sem
  depender de um *locale* pt_BR instalado: as escalas ``"linear"`` e ``"log"`` do
  matplotlib são registradas de novo com formatadores que escrevem a vírgula;
* letras grandes para a largura da coluna do livro e para a tela de um celular, e imagens
  com o dobro de pixels (*retina*) nos cadernos;
* as cores fixas de :data:`COLORS` para as comparações que se repetem no livro.

:func:`legend_below` põe a legenda abaixo dos eixos, fora dos dados.

Examples
--------
>>> comma_decimal("0.25"), comma_decimal("$10^{-3}$"), comma_decimal("$1.5$")
('0,25', '$10^{-3}$', '$1{,}5$')
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import scale as mscale
from matplotlib import ticker

#: Cores fixas para as comparações que se repetem no livro.
COLORS = {
    "without_bn": "#d95f02",
    "with_bn": "#1b9e77",
    "before": "#7570b3",
    "after": "#1b9e77",
    "reference": "#555555",
}

STYLE = {
    # 6,4 × 3,8 polegadas com letras de 13 pt: na coluna do livro (~800 px) e na tela de um
    # celular (~360 px) o texto da figura fica perto do tamanho do texto da página.
    "figure.figsize": (6.4, 3.8),
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "figure.constrained_layout.use": True,
    "font.size": 13,
    "axes.titlesize": 13,
    "axes.labelsize": 13,
    "legend.fontsize": 12,
    "legend.frameon": False,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "lines.linewidth": 2.0,
    "lines.markersize": 7,
    "axes.formatter.use_mathtext": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(
        color=["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
    ),
    "image.cmap": "viridis",
}


def comma_decimal(label: str) -> str:
    """Troca o ponto decimal por vírgula num rótulo de eixo (``{,}`` dentro de fórmulas)."""
    if "$" in label:
        return label.replace(".", "{,}")
    return label.replace(".", ",")


class CommaScalarFormatter(ticker.ScalarFormatter):
    """O formatador padrão dos eixos lineares, com vírgula decimal."""

    def __call__(self, x, pos=None) -> str:
        return comma_decimal(super().__call__(x, pos))

    def get_offset(self) -> str:
        return comma_decimal(super().get_offset())


class CommaLogFormatter(ticker.LogFormatterSciNotation):
    """O formatador padrão dos eixos logarítmicos, com vírgula decimal."""

    def __call__(self, x, pos=None) -> str:
        return comma_decimal(super().__call__(x, pos))


class CommaLinearScale(mscale.LinearScale):
    """A escala ``"linear"`` do matplotlib, com :class:`CommaScalarFormatter`."""

    def __init__(self) -> None:  # sem `axis`, a assinatura nova do matplotlib 3.11
        super().__init__(None)

    def set_default_locators_and_formatters(self, axis) -> None:
        super().set_default_locators_and_formatters(axis)
        axis.set_major_formatter(CommaScalarFormatter())


class CommaLogScale(mscale.LogScale):
    """A escala ``"log"`` do matplotlib, com :class:`CommaLogFormatter`."""

    def __init__(self, *, base: float = 10, subs=None, nonpositive: str = "clip") -> None:
        super().__init__(None, base=base, subs=subs, nonpositive=nonpositive)

    def set_default_locators_and_formatters(self, axis) -> None:
        super().set_default_locators_and_formatters(axis)
        axis.set_major_formatter(CommaLogFormatter(self.base))
        axis.set_minor_formatter(CommaLogFormatter(self.base, labelOnlyBase=False))


def apply_style() -> None:
    """Aplica o estilo do livro ao matplotlib (chame uma vez, no início do caderno)."""
    mpl.rcParams.update(STYLE)
    mscale.register_scale(CommaLinearScale)
    mscale.register_scale(CommaLogScale)
    try:  # nos cadernos: imagens com o dobro de pixels, mostradas no tamanho normal
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # fora do Jupyter não há o que configurar
        return
    set_matplotlib_formats("retina")


def legend_below(ax, ncol: int = 2, **kwargs):
    """Legenda abaixo dos eixos ``ax`` (ou da figura, se ``ax`` for uma ``Figure``), fora dos dados.

    Parameters
    ----------
    ax : matplotlib.axes.Axes ou matplotlib.figure.Figure
    ncol : int
        Colunas da legenda (2 cabem na largura de um celular).
    **kwargs
        Repassados a ``legend``.
    """
    options = (
        {"loc": "outside lower center", "ncol": ncol}
        if isinstance(ax, plt.Figure)
        else {
            "loc": "upper center",
            "bbox_to_anchor": (0.5, -0.22),
            "ncol": ncol,
        }
    )
    options.update(kwargs)
    return ax.legend(**options)


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
