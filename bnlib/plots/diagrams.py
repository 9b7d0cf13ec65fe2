"""Diagramas da normalização em lote desenhados pelo matplotlib a partir da sua estrutura.

Nada aqui é desenhado à mão: o grafo computacional sai da lista de arestas do passo direto,
com as colunas dadas pela profundidade de cada nó, e o diagrama dos eixos reduzidos sai do
shape do tensor.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from bnlib.plots import COLORS

#: Arestas do grafo de ``bnlib.core.reference.batchnorm_forward_steps`` (origem, destino).
BATCHNORM_EDGES = [
    ("x", "mu"),
    ("x", "xmu"),
    ("mu", "xmu"),
    ("xmu", "sq"),
    ("sq", "var"),
    ("var", "std"),
    ("std", "inv_std"),
    ("xmu", "x_hat"),
    ("inv_std", "x_hat"),
    ("x_hat", "y"),
    ("gamma", "y"),
    ("beta", "y"),
]

#: Rótulo matemático de cada nó.
NODE_LABELS = {
    "x": r"$x$",
    "mu": r"$\mu = \frac{1}{m}\sum x$",
    "xmu": r"$x - \mu$",
    "sq": r"$(x-\mu)^2$",
    "var": r"$\sigma^2 = \frac{1}{m}\sum (x-\mu)^2$",
    "std": r"$\sqrt{\sigma^2 + \epsilon}$",
    "inv_std": r"$1/\sqrt{\sigma^2+\epsilon}$",
    "x_hat": r"$\hat{x}$",
    "gamma": r"$\gamma$",
    "beta": r"$\beta$",
    "y": r"$y = \gamma\hat{x} + \beta$",
}

#: Deslocamento lateral de cada nó: o caminho principal no meio, a média à esquerda, o ramo
#: da variância à direita e os parâmetros dos dois lados da saída.
COLUMNS = {
    "mu": -1.25,
    "sq": 1.1,
    "var": 1.1,
    "std": 1.1,
    "inv_std": 1.1,
    "gamma": -1.5,
    "beta": 1.5,
}


def node_depths(edges: list[tuple[str, str]]) -> dict[str, int]:
    """Profundidade de cada nó: o comprimento do caminho mais longo desde uma entrada."""
    nodes = {n for edge in edges for n in edge}
    depth = {n: 0 for n in nodes}
    for _ in nodes:  # relaxa as arestas até estabilizar (o grafo é acíclico e pequeno)
        for source, target in edges:
            depth[target] = max(depth[target], depth[source] + 1)
    return depth


def draw_batchnorm_graph(ax=None, highlight: set[str] | None = None):
    """Desenha o grafo computacional da normalização em lote, de cima para baixo.

    A figura é estreita e alta, para que os rótulos se leiam também na tela de um celular.

    Parameters
    ----------
    ax : matplotlib Axes, opcional
    highlight : conjunto de nós a destacar, opcional

    Returns
    -------
    ax : matplotlib Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 7.2))
    depth = node_depths(BATCHNORM_EDGES)
    depth["gamma"] = depth["beta"] = depth["y"]
    position = {n: (COLUMNS.get(n, 0.0), -float(d)) for n, d in depth.items()}
    highlight = highlight or set()
    boxes = {}
    for node, (px, py) in position.items():
        face = COLORS["with_bn"] if node in highlight else "white"
        boxes[node] = ax.text(
            px,
            py,
            NODE_LABELS[node],
            ha="center",
            va="center",
            fontsize=15,
            bbox={"boxstyle": "round,pad=0.35", "facecolor": face, "edgecolor": "#333333"},
        )
    for source, target in BATCHNORM_EDGES:
        # a seta vai da borda da caixa de origem à borda da caixa de destino
        ax.annotate(
            "",
            xy=(0.5, 0.5),
            xycoords=boxes[target],
            xytext=(0.5, 0.5),
            textcoords=boxes[source],
            arrowprops={
                "arrowstyle": "-|>",
                "mutation_scale": 14,
                "color": COLORS["reference"],
                "patchA": boxes[source].get_bbox_patch(),
                "patchB": boxes[target].get_bbox_patch(),
                "shrinkA": 2,
                "shrinkB": 2,
            },
        )
    ax.set_xlim(-2.6, 2.6)
    ax.set_ylim(-max(depth.values()) - 0.5, 0.5)
    ax.axis("off")
    return ax


def draw_reduction_axes(n: int = 4, d: int = 5, c: int = 3, hw: int = 6, axes=None):
    """Que valores entram em cada média: atributo (N, D) contra canal (N, C, H, W).

    Em cima, uma matriz (N, D) com a coluna de um atributo destacada; embaixo, N exemplos
    de formato (C, H·W) com a linha do canal 0 destacada em todos eles. Os dois painéis
    ficam um sobre o outro, para caber na largura de um celular.

    Returns
    -------
    fig : matplotlib Figure
    """
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(6.4, 6.4), gridspec_kw={"height_ratios": [1.25, 1]})
    else:
        fig = axes[0].figure
    dense, conv = axes
    for i in range(n):
        for j in range(d):
            color = COLORS["with_bn"] if j == 1 else "#eeeeee"
            dense.add_patch(Rectangle((j, n - 1 - i), 1, 1, facecolor=color, edgecolor="#555555"))
    dense.set_xlim(-0.2, d + 0.2)
    dense.set_ylim(-0.9, n + 0.2)
    dense.text(d / 2, -0.6, f"x: (N={n}, D={d})", ha="center")
    dense.set_title("Camada densa: um atributo, todos os exemplos")
    gap = 1.0
    for k in range(n):
        left = k * (hw + gap)
        for ch in range(c):
            for p in range(hw):
                color = COLORS["with_bn"] if ch == 0 else "#eeeeee"
                conv.add_patch(
                    Rectangle((left + p, c - 1 - ch), 1, 1, facecolor=color, edgecolor="#555555")
                )
        conv.text(left + hw / 2, c + 0.3, f"exemplo {k + 1}", ha="center", fontsize=12)
    width = n * (hw + gap) - gap
    conv.set_xlim(-0.2, width + 0.2)
    conv.set_ylim(-1.6, c + 1.0)
    conv.text(width / 2, -1.2, f"x: (N={n}, C={c}, H·W={hw})", ha="center")
    conv.set_title("Convolucional: um canal, todos os exemplos\ne todas as posições")
    for ax in axes:
        ax.set_aspect("equal")
        ax.axis("off")
    return fig
