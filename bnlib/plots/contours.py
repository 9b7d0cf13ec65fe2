"""Curvas de nível de uma perda quadrática em 2-D, com o caminho da descida de gradiente."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from bnlib.lab.quadratic import Quadratic
from bnlib.plots import COLORS


def plot_loss_contours(
    ax: plt.Axes,
    quadratic: Quadratic,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    path: np.ndarray | None = None,
    num_levels: int = 8,
    color: str = COLORS["before"],
    label: str | None = None,
    markers: int = 30,
    resolution: int = 300,
) -> plt.Axes:
    """Desenha as curvas de nível de ``quadratic`` (D = 2) e, se dado, o caminho percorrido.

    Os níveis são espaçados geometricamente acima do mínimo, para que as curvas perto do
    mínimo também apareçam.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    quadratic : Quadratic
        Uma quadrática com D = 2 parâmetros.
    xlim, ylim : (float, float)
        A janela do plano dos parâmetros.
    path : ndarray, shape (T + 1, 2), opcional
        Os pontos visitados pela descida de gradiente (``Descent.path``).
    num_levels : int
        Quantas curvas de nível.
    color : str
        A cor do caminho.
    label : str, opcional
        A legenda do caminho.
    markers : int
        Marca com um ponto só os primeiros ``markers`` pontos do caminho.
    resolution : int
        Pontos da grade em cada eixo.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if quadratic.dim != 2:
        raise ValueError(
            f"plot_loss_contours: a quadrática deve ter 2 parâmetros para caber num plano; "
            f"recebida uma com {quadratic.dim}."
        )
    grid_x, grid_y = np.meshgrid(
        np.linspace(*xlim, resolution), np.linspace(*ylim, resolution), indexing="xy"
    )
    gap = quadratic.loss(np.stack([grid_x, grid_y], axis=-1)) - quadratic.minimum
    top = np.quantile(gap, 0.9)
    levels = top * np.geomspace(1e-3, 1.0, num_levels)
    ax.contour(grid_x, grid_y, gap, levels=levels, colors=COLORS["reference"], linewidths=0.8)
    ax.plot(*quadratic.minimizer, marker="*", markersize=12, color="black", linestyle="none")
    if path is not None:
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], color=color, linewidth=1.2, label=label)
        ax.plot(path[:markers, 0], path[:markers, 1], "o", color=color, markersize=3)
        ax.plot(*path[0], "s", color=color, markersize=6)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    return ax
