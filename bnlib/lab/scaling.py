"""Normalização das entradas: min-max e padronização, com estatísticas do conjunto de treino.

As duas transformações têm a mesma forma, ``(x - deslocamento) / escala``, com um
deslocamento e uma escala por atributo (coluna). Elas são **ajustadas** (*fit*) no conjunto
de treino e depois **aplicadas** sem mudança ao conjunto de teste e a cada exemplo novo::

    scaler = fit_standardize(x_train)
    z_train = scaler.transform(x_train)
    z_test = scaler.transform(x_test)  # média e desvio padrão do treino!
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bnlib.core.validation import as_float_array, check_finite, shape_text

KINDS = ("min-max", "padronização")


def _check_table(x, name: str, where: str) -> np.ndarray:
    """Exige um array de ponto flutuante (N, D), finito."""
    array = as_float_array(x, name, where)
    if array.ndim != 2:
        raise ValueError(
            f"{where}: o argumento `{name}` deve ter 2 dimensões (N, D), uma linha por exemplo "
            f"e uma coluna por atributo; recebido shape {shape_text(array.shape)}. "
            f"Para um único atributo use `{name}.reshape(-1, 1)`; para um único exemplo, "
            f"`{name}.reshape(1, -1)`."
        )
    check_finite(array, name, where)
    return array


@dataclass(frozen=True)
class Scaler:
    """Uma normalização já ajustada: ``z = (x - offset) / scale``, coluna por coluna.

    Attributes
    ----------
    kind : {"min-max", "padronização"}
    offset : ndarray, shape (D,)
        O mínimo (min-max) ou a média (padronização) de cada atributo no treino.
    scale : ndarray, shape (D,)
        A amplitude ``máximo - mínimo`` (min-max) ou o desvio padrão (padronização) de cada
        atributo no treino. Um atributo constante no treino (variação menor que 10⁻¹² do
        maior valor absoluto) recebe escala 1, para não dividir por zero; ele vira 0 em todos
        os exemplos do treino.
    """

    kind: str
    offset: np.ndarray
    scale: np.ndarray

    @property
    def num_features(self) -> int:
        """O número D de atributos que o ajuste espera."""
        return int(self.offset.shape[0])

    def _check(self, x, name: str, where: str) -> np.ndarray:
        array = _check_table(x, name, where)
        if array.shape[1] != self.num_features:
            raise ValueError(
                f"{where}: o argumento `{name}` deve ter {self.num_features} coluna(s), como o "
                f"conjunto de treino usado no ajuste, isto é, shape (N, {self.num_features}); "
                f"recebido shape {shape_text(array.shape)}."
            )
        return array

    def transform(self, x) -> np.ndarray:
        """Aplica a normalização ajustada a ``x``.

        Parameters
        ----------
        x : ndarray, shape (N, D)
            Qualquer conjunto (treino, teste, um só exemplo com N = 1).

        Returns
        -------
        ndarray, shape (N, D), no dtype de ``x``
        """
        array = self._check(x, "x", "Scaler.transform")
        return ((array - self.offset) / self.scale).astype(array.dtype, copy=False)

    def inverse_transform(self, z) -> np.ndarray:
        """Desfaz a normalização: ``x = z * scale + offset``.

        Parameters
        ----------
        z : ndarray, shape (N, D)

        Returns
        -------
        ndarray, shape (N, D), no dtype de ``z``
        """
        array = self._check(z, "z", "Scaler.inverse_transform")
        return (array * self.scale + self.offset).astype(array.dtype, copy=False)


def _fit_table(x, where: str) -> np.ndarray:
    array = _check_table(x, "x_train", where)
    if array.shape[0] < 2:
        raise ValueError(
            f"{where}: o ajuste precisa de pelo menos 2 exemplos para medir a variação de cada "
            f"atributo; `x_train` tem shape {shape_text(array.shape)}. Ajuste no conjunto de "
            f"treino inteiro e use `Scaler.transform` para exemplos isolados."
        )
    return array.astype(np.float64)


def _safe_scale(scale: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    """Escala 1 para atributos constantes (ou cuja variação é só erro de arredondamento)."""
    return np.where(scale > 1e-12 * magnitude, scale, 1.0)


def fit_min_max(x_train) -> Scaler:
    """Ajusta a normalização min-max: o intervalo [mínimo, máximo] do treino vira [0, 1].

    Parameters
    ----------
    x_train : ndarray, shape (N, D), N ≥ 2
        O conjunto de treino; só ele define o mínimo e o máximo de cada atributo.

    Returns
    -------
    Scaler
        Com ``offset`` = mínimo e ``scale`` = máximo − mínimo de cada coluna. Valores de
        teste fora do intervalo do treino caem fora de [0, 1], e isso é esperado.
    """
    array = _fit_table(x_train, "fit_min_max")
    low = array.min(axis=0)
    magnitude = np.abs(array).max(axis=0)
    return Scaler("min-max", low, _safe_scale(array.max(axis=0) - low, magnitude))


def fit_standardize(x_train) -> Scaler:
    """Ajusta a padronização (escores z): cada atributo do treino fica com média 0 e desvio 1.

    Parameters
    ----------
    x_train : ndarray, shape (N, D), N ≥ 2
        O conjunto de treino; só ele define a média e o desvio padrão de cada atributo.

    Returns
    -------
    Scaler
        Com ``offset`` = média e ``scale`` = desvio padrão (dividido por N, como ``np.std``)
        de cada coluna.
    """
    array = _fit_table(x_train, "fit_standardize")
    magnitude = np.abs(array).max(axis=0)
    return Scaler("padronização", array.mean(axis=0), _safe_scale(array.std(axis=0), magnitude))


def fraction_within(z, k: float) -> float:
    """Fração dos valores de ``z`` com ``|z| ≤ k`` (a regra 68-95-99,7 usa k = 1, 2, 3).

    Parameters
    ----------
    z : ndarray, qualquer shape
        Escores z (valores já padronizados).
    k : float, > 0
        Quantos desvios padrão a partir da média.
    """
    array = as_float_array(z, "z", "fraction_within")
    check_finite(array, "z", "fraction_within")
    if array.size == 0:
        raise ValueError("fraction_within: o argumento `z` está vazio; recebido shape (0,).")
    if not k > 0:
        raise ValueError(f"fraction_within: o argumento `k` deve ser positivo; recebido {k!r}.")
    return float(np.mean(np.abs(array) <= k))


def normal_fraction_within(k: float) -> float:
    """A fração exata de uma distribuição normal a no máximo ``k`` desvios da média.

    É ``erf(k / √2)``: 0,6827 para k = 1, 0,9545 para k = 2 e 0,9973 para k = 3.
    """
    if not k > 0:
        raise ValueError(
            f"normal_fraction_within: o argumento `k` deve ser positivo; recebido {k!r}."
        )
    return math.erf(k / math.sqrt(2.0))


def skewness(x) -> float:
    """Assimetria amostral: a média de ``z³``. É 0 para dados simétricos, como a normal.

    Parameters
    ----------
    x : ndarray, qualquer shape, com pelo menos 2 valores distintos
    """
    array = as_float_array(x, "x", "skewness").ravel().astype(np.float64)
    check_finite(array, "x", "skewness")
    std = array.std()
    if array.size < 2 or std == 0:
        raise ValueError(
            "skewness: o argumento `x` precisa de pelo menos 2 valores diferentes; "
            f"recebido {array.size} valor(es) com desvio padrão {std}."
        )
    centered = array - array.mean()
    return float(np.mean(centered * centered * centered) / std**3)


def make_houses(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Um conjunto gerado de casas: área em m², número de quartos e preço.

    Dois atributos em escalas muito diferentes (a área vai de dezenas a centenas de m²; os
    quartos, de 1 a 5) e correlacionados (casas maiores têm mais quartos).

    Parameters
    ----------
    n : int, ≥ 2
        Número de casas.
    seed : int
        Semente do gerador; a mesma semente dá os mesmos dados.

    Returns
    -------
    x : ndarray, shape (n, 2), float64
        Colunas: área (m²) e número de quartos.
    y : ndarray, shape (n,), float64
        Preço em milhares de reais.
    """
    if not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"make_houses: o argumento `n` deve ser um inteiro ≥ 2; recebido {n!r}.")
    rng = np.random.default_rng(seed)
    area = rng.uniform(40.0, 220.0, size=n)
    rooms = np.clip(np.round(area / 60.0 + rng.normal(0.0, 1.0, size=n)), 1, 5)
    price = 150.0 + 4.0 * area + 40.0 * rooms + rng.normal(0.0, 60.0, size=n)
    return np.column_stack([area, rooms]), price
