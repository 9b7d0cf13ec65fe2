"""Erros comuns plantados: variantes **deliberadamente erradas** da BN, usadas por vários trabalhos.

Nada aqui é uma implementação certa: as saídas certas vêm sempre de :mod:`bnlib.core`.
Cada variante reproduz um erro típico de aluno (variância dividida por m - 1, épsilon fora
da raiz, caminho esquecido na retropropagação...) para que a verificação reconheça o erro e
dê a dica certa. Quando um erro coincide com uma operação que existe (normalizar sobre o eixo
errado é a normalização de camada), o trabalho usa a operação de :mod:`bnlib.core`.
"""

from __future__ import annotations

import numpy as np

from bnlib.core import reference
from bnlib.kit.assignments.spec import EPS


def normalize_variant(x, axes, eps=EPS, ddof=0, eps_outside=False):
    """``x`` normalizado sobre ``axes`` com um erro: ``ddof=1`` (divide por m - 1),
    ``eps_outside`` (divide por ``sqrt(var) + eps``) ou ``eps=0`` (sem épsilon)."""
    mean = x.mean(axis=axes, keepdims=True)
    count = int(np.prod([x.shape[a] for a in axes]))
    var = ((x - mean) ** 2).sum(axis=axes, keepdims=True) / (count - ddof)
    if eps_outside:
        return (x - mean) / (np.sqrt(var) + eps)
    return (x - mean) / np.sqrt(var + eps)


def affine(x_hat, gamma, beta):
    """``gamma * x_hat + beta`` com ``gamma`` e ``beta`` por atributo (ou canal)."""
    return reference.per_feature(gamma, x_hat.ndim) * x_hat + reference.per_feature(
        beta, x_hat.ndim
    )


def backward_variant(dy, x, gamma, eps=EPS, axes=None, ddof=0, kind="", m=None):
    """A retropropagação nó a nó com um erro plantado.

    ``axes``: eixos das estatísticas (o certo é (0,) ou (0, 2, 3)); ``ddof=1``: passo direto
    com a variância não enviesada; ``kind``: ``"direct_only"`` (dx sem os caminhos por μ e
    σ²), ``"no_variance"`` (sem o caminho por σ²), ``"no_mean"`` (sem o caminho por μ),
    ``"dx_no_gamma"``, ``"dgamma_with_x"``; ``m``: o número de valores por atributo usado
    nas fórmulas (o certo é o produto dos eixos de ``axes``).
    """
    correct_axes = reference.reduction_axes(x.ndim)
    axes = axes if axes is not None else correct_axes
    count = int(np.prod([x.shape[a] for a in axes]))
    m = m if m is not None else count
    xmu = x - x.mean(axis=axes, keepdims=True)
    var = (xmu**2).sum(axis=axes, keepdims=True) / (count - ddof)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = xmu * inv_std
    dx_hat = dy * (1.0 if kind == "dx_no_gamma" else reference.per_feature(gamma, x.ndim))
    dbeta = dy.sum(axis=correct_axes)
    dgamma = (dy * (x if kind == "dgamma_with_x" else x_hat)).sum(axis=correct_axes)
    dxmu = dx_hat * inv_std
    if kind not in ("direct_only", "no_variance"):
        dvar = (dx_hat * xmu).sum(axis=axes, keepdims=True) * (-0.5) * inv_std**3
        dxmu = dxmu + dvar * 2.0 * xmu / (m - ddof)
    no_mean = kind in ("direct_only", "no_mean")
    dx = dxmu if no_mean else dxmu - dxmu.sum(axis=axes, keepdims=True) / m
    return dx, dgamma, dbeta


def backward(dy, x, gamma, eps=EPS):
    """A retropropagação certa, da referência (para montar erros de formato, como trocas)."""
    return reference.batchnorm_backward(
        dy, reference.batchnorm_forward(x, gamma, np.zeros_like(gamma), eps)[1]
    )


def per_position(x, gamma, beta):
    """O erro “cada posição espacial é um atributo”: a BN de (N, C·H·W), com gamma e beta por
    canal (a normalização é a da referência, sobre os N exemplos)."""
    n, c = x.shape[:2]
    flat = x.reshape(n, -1)
    ones = np.ones(flat.shape[1], dtype=x.dtype)
    x_hat = reference.batchnorm_forward(flat, ones, np.zeros_like(ones))[1].x_hat
    return affine(x_hat.reshape(x.shape), gamma, beta)


def per_position_backward(dy, x, gamma, eps=EPS):
    """A retropropagação do erro “cada posição é um atributo” (dgamma e dbeta por posição)."""
    n, c, h, w = x.shape
    g = np.repeat(gamma, h * w)
    dx, dgamma, dbeta = backward(dy.reshape(n, -1), x.reshape(n, -1), g, eps)
    return dx.reshape(x.shape), dgamma.reshape(c, h, w), dbeta.reshape(c, h, w)
