"""O estilo das figuras: vírgula decimal nos eixos, em escala linear e logarítmica."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bnlib.plots import apply_style, legend_below  # noqa: E402
from bnlib.plots.style import comma_decimal  # noqa: E402


@pytest.fixture(autouse=True)
def book_style():
    apply_style()
    yield
    plt.close("all")


def tick_labels(axis) -> list[str]:
    axis.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_linear_ticks_use_decimal_comma():
    fig, ax = plt.subplots()
    ax.plot([0.0, 1.5], [0.1, 0.35])
    for labels in (tick_labels(ax.xaxis), tick_labels(ax.yaxis)):
        assert labels and not any("." in s for s in labels)
        assert any("," in s for s in labels)


def test_log_ticks_and_minor_labels_use_decimal_comma():
    fig, ax = plt.subplots()
    ax.semilogy([0, 1], [0.2, 0.9])  # menos de uma década: rótulos menores com decimais
    labels = tick_labels(ax.yaxis) + [
        t.get_text() for t in ax.yaxis.get_minorticklabels() if t.get_text()
    ]
    assert labels and not any("." in s for s in labels)


def test_comma_decimal_inside_math():
    assert comma_decimal("$2.5\\times10^{-3}$") == "$2{,}5\\times10^{-3}$"
    assert comma_decimal("1.25") == "1,25"


def test_legend_below_puts_legend_under_the_axes():
    fig, ax = plt.subplots()
    ax.plot(np.arange(3), label="a")
    ax.plot(np.arange(3)[::-1], label="b")
    legend = legend_below(ax)
    fig.canvas.draw()
    legend_box = legend.get_window_extent()
    axes_box = ax.get_window_extent()
    assert legend_box.y1 <= axes_box.y0  # inteira abaixo da área dos dados
