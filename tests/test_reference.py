"""A versão de referência concorda com a rápida, com o torch e com as diferenças finitas."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from bnlib import batchnorm_backward, batchnorm_forward
from bnlib.core import reference
from bnlib.core.gradcheck import numerical_gradient, relative_error
from bnlib.core.reference import batchnorm_backward_staged, batchnorm_forward_steps

TOLERANCE = {np.float32: 2e-5, np.float64: 1e-11}
shapes = st.one_of(
    st.tuples(st.integers(2, 40), st.integers(1, 12)),
    st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 6), st.integers(2, 6)),
)


LAYOUTS = ("C", "F", "permuted", "strided")


def with_layout(a: np.ndarray, layout: str) -> np.ndarray:
    """O mesmo array em outra disposição na memória (os valores não mudam)."""
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "permuted":  # uma visão transposta de um array guardado em outra ordem
        order = tuple(reversed(range(a.ndim)))
        return np.ascontiguousarray(a.transpose(order)).transpose(order)
    if layout == "strided":  # uma fatia com passo 2 no último eixo
        wide = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), dtype=a.dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    return np.ascontiguousarray(a)


def torch_oracle(x, gamma, beta, dy):
    xt, gt, bt = (
        torch.from_numpy(np.ascontiguousarray(a)).requires_grad_() for a in (x, gamma, beta)
    )
    y = F.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
    y.backward(torch.from_numpy(np.ascontiguousarray(dy)))
    return [t.detach().numpy() for t in (y, xt.grad, gt.grad, bt.grad)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=40)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), layout=st.sampled_from(LAYOUTS))
def test_reference_fast_and_torch_agree(dtype, shape, seed, layout):
    rng = np.random.default_rng(seed)
    x = with_layout((rng.normal(size=shape) * 3 + 1).astype(dtype), layout)
    gamma = rng.normal(size=shape[1]).astype(dtype)
    beta = rng.normal(size=shape[1]).astype(dtype)
    dy = with_layout(rng.normal(size=shape).astype(dtype), layout)
    y_ref, cache_ref = reference.batchnorm_forward(x, gamma, beta)
    steps = reference.batchnorm_forward_steps(x, gamma, beta)
    y, cache = batchnorm_forward(x, gamma, beta)
    results = {
        "referência, forma fechada": (y_ref, *reference.batchnorm_backward(dy, cache_ref)),
        "referência, nó a nó": (steps["y"], *reference.batchnorm_backward_staged(dy, steps)),
        "rápida": (y, *batchnorm_backward(dy, cache)),
    }
    expected = torch_oracle(x, gamma, beta, dy)
    # Escala das parcelas de cada resultado (dx, dgamma e dbeta são somas que cancelam).
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    scales = [
        np.abs(expected[0]).max(),
        np.abs(gamma).max() * cache.inv_std.max() * np.abs(dy).max(),
        np.abs(dy * cache.x_hat).sum(axis=axes),
        np.abs(dy).sum(axis=axes),
    ]
    for name, got in results.items():
        for a, b, scale in zip(got, expected, scales, strict=True):
            assert a.dtype == dtype and a.shape == b.shape, name
            assert np.all(np.abs(a - b) <= TOLERANCE[dtype] * scale), name
    for field in ("mean", "var", "inv_std"):
        np.testing.assert_allclose(
            getattr(cache_ref, field), getattr(cache, field), rtol=10 * TOLERANCE[dtype]
        )


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 2, 2)])
def test_staged_backward_matches_finite_differences(shape):
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape) * 2 + 3
    gamma, beta = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    dy = rng.normal(size=shape)
    dx, _, _ = batchnorm_backward_staged(dy, batchnorm_forward_steps(x, gamma, beta))
    numeric = numerical_gradient(lambda v: batchnorm_forward_steps(v, gamma, beta)["y"], x, dy)
    assert relative_error(dx, numeric) < 1e-6


def test_steps_have_the_documented_nodes():
    steps = batchnorm_forward_steps(np.arange(6.0).reshape(3, 2), np.ones(2), np.zeros(2))
    assert set(steps) == {
        "x",
        "mu",
        "xmu",
        "sq",
        "var",
        "std",
        "inv_std",
        "x_hat",
        "gamma",
        "beta",
        "y",
        "m",
    }
    np.testing.assert_allclose(steps["mu"], [[2.0, 3.0]])
    np.testing.assert_allclose(steps["var"], [[8 / 3, 8 / 3]])


def test_teaching_versions_check_their_input():
    with pytest.raises(ValueError, match="`gamma`"):
        batchnorm_forward_steps(np.ones((3, 2)), np.ones(3), np.zeros(2))
    steps = batchnorm_forward_steps(np.arange(6.0).reshape(3, 2), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="`dy`"):
        batchnorm_backward_staged(np.ones((2, 3)), steps)
