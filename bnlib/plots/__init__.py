"""As figuras do livro: o estilo único e os gráficos que mais de um capítulo usa.

- :mod:`~bnlib.plots.style`: ``apply_style``, as cores fixas (``COLORS``) e histogramas
  comparados;
- :mod:`~bnlib.plots.diagnostics`: gráficos das estatísticas por camada;
- :mod:`~bnlib.plots.contours`: curvas de nível de uma perda quadrática;
- :mod:`~bnlib.plots.diagrams`: o grafo computacional da BN e o diagrama dos eixos.

É a única camada que importa o matplotlib, e nunca importa o torch.
"""

from bnlib.plots.style import COLORS, STYLE, apply_style, compare_histograms, legend_below

__all__ = ["COLORS", "STYLE", "apply_style", "compare_histograms", "legend_below"]
