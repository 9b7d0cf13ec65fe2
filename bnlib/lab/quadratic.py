"""Descida de gradiente em funções quadráticas: o laboratório do capítulo sobre escalas.

A perda da regressão linear por mínimos quadrados é uma quadrática,

.. math:: f(w) = \\tfrac12 (w - w^*)^\\top H (w - w^*) + f^*,

e nela tudo se calcula: a descida de gradiente converge se e só se a taxa de aprendizado
for menor que ``2 / λ_max`` (o maior autovalor de ``H``), e o número de passos cresce com o
número de condição ``κ = λ_max / λ_min``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from bnlib.core.validation import as_float_array, check_finite, shape_text


@dataclass(frozen=True)
class Quadratic:
    """A quadrática ``f(w) = ½ (w − w*)ᵀ H (w − w*) + f*``, com ``H`` simétrica e positiva.

    Attributes
    ----------
    hessian : ndarray, shape (D, D)
        A matriz ``H`` das segundas derivadas (a curvatura).
    minimizer : ndarray, shape (D,)
        O ponto de mínimo ``w*``.
    minimum : float
        O valor mínimo ``f*``.
    """

    hessian: np.ndarray
    minimizer: np.ndarray
    minimum: float = 0.0

    def __post_init__(self) -> None:
        where = "Quadratic"
        hessian = as_float_array(self.hessian, "hessian", where).astype(np.float64)
        minimizer = as_float_array(self.minimizer, "minimizer", where).astype(np.float64)
        if hessian.ndim != 2 or hessian.shape[0] != hessian.shape[1]:
            raise ValueError(
                f"{where}: o argumento `hessian` deve ser uma matriz quadrada (D, D); "
                f"recebido shape {shape_text(hessian.shape)}."
            )
        if minimizer.shape != (hessian.shape[0],):
            raise ValueError(
                f"{where}: o argumento `minimizer` deve ter shape ({hessian.shape[0]},), um "
                f"valor por linha de `hessian`; recebido shape {shape_text(minimizer.shape)}."
            )
        check_finite(hessian, "hessian", where)
        check_finite(minimizer, "minimizer", where)
        if not np.allclose(hessian, hessian.T, rtol=1e-10, atol=0.0):
            raise ValueError(f"{where}: o argumento `hessian` deve ser simétrica.")
        if np.linalg.eigvalsh(hessian)[0] <= 0:
            raise ValueError(
                f"{where}: o argumento `hessian` deve ser positiva definida (todos os "
                f"autovalores > 0); o menor autovalor é {np.linalg.eigvalsh(hessian)[0]:.3g}. "
                f"Atributos repetidos ou constantes deixam a curvatura nula numa direção."
            )
        object.__setattr__(self, "hessian", hessian)
        object.__setattr__(self, "minimizer", minimizer)
        object.__setattr__(self, "minimum", float(self.minimum))

    @property
    def dim(self) -> int:
        """O número D de parâmetros."""
        return int(self.minimizer.shape[0])

    def _points(self, w, where: str) -> np.ndarray:
        array = np.asarray(w, dtype=np.float64)
        if array.ndim == 0 or array.shape[-1] != self.dim:
            raise ValueError(
                f"{where}: o argumento `w` deve ter shape ({self.dim},) ou (..., {self.dim}); "
                f"recebido shape {shape_text(array.shape)}."
            )
        return array

    def loss(self, w) -> np.ndarray | float:
        """O valor ``f(w)``.

        Parameters
        ----------
        w : ndarray, shape (D,) ou (..., D)
            Um ponto ou uma grade de pontos (por exemplo, para desenhar curvas de nível).

        Returns
        -------
        float ou ndarray, shape (...)
        """
        delta = self._points(w, "Quadratic.loss") - self.minimizer
        value = 0.5 * np.einsum("...i,ij,...j->...", delta, self.hessian, delta) + self.minimum
        return float(value) if np.ndim(value) == 0 else value

    def gradient(self, w) -> np.ndarray:
        """O gradiente ``H (w − w*)``, de shape (D,) ou (..., D)."""
        delta = self._points(w, "Quadratic.gradient") - self.minimizer
        return delta @ self.hessian

    @property
    def eigenvalues(self) -> np.ndarray:
        """As curvaturas principais, os autovalores de ``H`` em ordem crescente, shape (D,)."""
        return np.linalg.eigvalsh(self.hessian)

    @property
    def condition_number(self) -> float:
        """``κ = λ_max / λ_min``: 1 para curvas de nível redondas, grande para alongadas."""
        values = self.eigenvalues
        return float(values[-1] / values[0])

    @property
    def max_stable_lr(self) -> float:
        """A maior taxa de aprendizado com que a descida de gradiente converge: ``2 / λ_max``."""
        return float(2.0 / self.eigenvalues[-1])

    @property
    def best_lr(self) -> float:
        """A taxa fixa de melhor contração garantida: ``2 / (λ_min + λ_max)``.

        Com ela, a distância ao mínimo encolhe pelo fator ``(κ − 1) / (κ + 1)`` a cada passo
        em **todas** as direções; é a melhor taxa fixa para o pior ponto inicial. Para um
        ponto inicial específico, outra taxa pode chegar um pouco antes.
        """
        values = self.eigenvalues
        return float(2.0 / (values[0] + values[-1]))


def least_squares(x, y) -> Quadratic:
    """A perda da regressão linear, ``f(w) = (1 / 2N) Σ (x_i · w − y_i)²``, como quadrática.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Os atributos (inclua uma coluna de uns se quiser um termo de viés).
    y : ndarray, shape (N,)
        Os alvos.

    Returns
    -------
    Quadratic
        Com ``H = xᵀx / N``, ``w*`` a solução de mínimos quadrados e ``f*`` a perda nela.
    """
    where = "least_squares"
    x = as_float_array(x, "x", where).astype(np.float64)
    y = as_float_array(y, "y", where).astype(np.float64)
    if x.ndim != 2:
        raise ValueError(
            f"{where}: o argumento `x` deve ter 2 dimensões (N, D); recebido shape "
            f"{shape_text(x.shape)}."
        )
    if y.shape != (x.shape[0],):
        raise ValueError(
            f"{where}: o argumento `y` deve ter shape ({x.shape[0]},), um alvo por linha de "
            f"`x`; recebido shape {shape_text(y.shape)}."
        )
    check_finite(x, "x", where)
    check_finite(y, "y", where)
    minimizer = np.linalg.lstsq(x, y, rcond=None)[0]
    residual = x @ minimizer - y
    return Quadratic(x.T @ x / x.shape[0], minimizer, 0.5 * float(np.mean(residual**2)))


@dataclass(frozen=True)
class Descent:
    """O caminho de uma descida de gradiente.

    Attributes
    ----------
    path : ndarray, shape (T + 1, D)
        Os pontos visitados, do inicial ao último.
    losses : ndarray, shape (T + 1,)
        A perda em cada ponto.
    steps : int ou None
        O número de passos até a distância ao mínimo, em perda, cair abaixo de
        ``tol`` vezes a inicial; ``None`` se isso não aconteceu.
    diverged : bool
        ``True`` se a perda cresceu sem limite (a taxa de aprendizado era grande demais).
    """

    path: np.ndarray
    losses: np.ndarray
    steps: int | None
    diverged: bool


def gradient_descent(
    quadratic: Quadratic, w0, lr: float, max_steps: int, tol: float = 1e-6
) -> Descent:
    """Descida de gradiente ``w ← w − lr · ∇f(w)`` numa quadrática, guardando o caminho.

    Parameters
    ----------
    quadratic : Quadratic
    w0 : ndarray, shape (D,)
        O ponto inicial.
    lr : float, > 0
        A taxa de aprendizado.
    max_steps : int, ≥ 1
        O máximo de passos.
    tol : float, em (0, 1)
        Para quando ``f(w) − f* ≤ tol · (f(w0) − f*)``.

    Returns
    -------
    Descent
    """
    where = "gradient_descent"
    if not isinstance(quadratic, Quadratic):
        raise TypeError(
            f"{where}: o argumento `quadratic` deve ser um `Quadratic`; recebido "
            f"{type(quadratic).__name__}."
        )
    w = as_float_array(w0, "w0", where).astype(np.float64)
    if w.shape != (quadratic.dim,):
        raise ValueError(
            f"{where}: o argumento `w0` deve ter shape ({quadratic.dim},); recebido shape "
            f"{shape_text(w.shape)}."
        )
    check_finite(w, "w0", where)
    if not isinstance(lr, numbers.Real) or not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"{where}: o argumento `lr` deve ser um número positivo; recebido {lr!r}.")
    if not isinstance(max_steps, numbers.Integral) or max_steps < 1:
        raise ValueError(
            f"{where}: o argumento `max_steps` deve ser um inteiro ≥ 1; recebido {max_steps!r}."
        )
    if not isinstance(tol, numbers.Real) or not 0 < tol < 1:
        raise ValueError(f"{where}: o argumento `tol` deve estar em (0, 1); recebido {tol!r}.")

    hessian, target = quadratic.hessian, quadratic.minimizer
    delta = w - target
    gap0 = 0.5 * delta @ hessian @ delta
    deltas = [delta]
    gaps = [gap0]
    steps = 0 if gap0 == 0 else None
    diverged = False
    for step in range(1, int(max_steps) + 1):
        if steps is not None:
            break
        delta = delta - lr * (hessian @ delta)
        gap = 0.5 * delta @ hessian @ delta
        deltas.append(delta)
        gaps.append(gap)
        if gap <= tol * gap0:
            steps = step
        elif not np.isfinite(gap) or gap > 1e12 * gap0:
            diverged = True
            break
    path = np.array(deltas) + target
    losses = np.array(gaps) + quadratic.minimum
    return Descent(path, losses, steps, diverged)
