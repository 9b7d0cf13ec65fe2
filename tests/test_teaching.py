"""As versões didáticas concordam com as rápidas e com as diferenças finitas."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnlib import batchnorm_backward, batchnorm_forward
from bnlib.core.gradcheck import numerical_gradient, relative_error
from bnlib.core.reference import batchnorm_backward_staged, batchnorm_forward_steps

TOLERANCE = {np.float32: 2e-5, np.float64: 1e-11}
shapes = st.one_of(
    st.tuples(st.integers(2, 40), st.integers(1, 12)),
    st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 6), st.integers(2, 6)),
)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=40)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_teaching_versions_equal_the_fast_ones(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=shape) * 3 + 1).astype(dtype)
    gamma = rng.normal(size=shape[1]).astype(dtype)
    beta = rng.normal(size=shape[1]).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    steps = batchnorm_forward_steps(x, gamma, beta)
    y, cache = batchnorm_forward(x, gamma, beta)
    slow = (steps["y"], *batchnorm_backward_staged(dy, steps))
    fast = (y, *batchnorm_backward(dy, cache))
    # Escala das parcelas de cada resultado (dx, dgamma e dbeta são somas que cancelam).
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    scales = [
        np.abs(y).max(),
        np.abs(gamma).max() * cache.inv_std.max() * np.abs(dy).max(),
        np.abs(dy * cache.x_hat).sum(axis=axes),
        np.abs(dy).sum(axis=axes),
    ]
    for a, b, scale in zip(slow, fast, scales, strict=True):
        assert a.dtype == b.dtype == dtype and a.shape == b.shape
        assert np.all(np.abs(a - b) <= TOLERANCE[dtype] * scale)


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
