"""Testes da normalização das entradas (``bnlib.lab.scaling``)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bnlib.lab.scaling import (
    Scaler,
    fit_min_max,
    fit_standardize,
    fraction_within,
    make_houses,
    normal_fraction_within,
    skewness,
)

tables = arrays(
    np.float64,
    st.tuples(st.integers(2, 20), st.integers(1, 4)),
    elements=st.floats(-1e3, 1e3, allow_nan=False),
)


@given(tables)
def test_standardize_gives_zero_mean_unit_std_on_train(x):
    z = fit_standardize(x).transform(x)
    assert np.allclose(z.mean(axis=0), 0.0, atol=1e-9)
    varying = x.std(axis=0) > 1e-6 * (1 + np.abs(x).max())
    assert np.allclose(z.std(axis=0)[varying], 1.0, rtol=1e-6)
    assert np.all(np.isfinite(z)) and np.abs(z).max() <= np.sqrt(len(x)) + 1e-9


@given(tables)
def test_min_max_maps_train_range_to_unit_interval(x):
    u = fit_min_max(x).transform(x)
    varying = np.ptp(x, axis=0) > 1e-6 * (1 + np.abs(x).max())
    assert np.allclose(u.min(axis=0)[varying], 0.0, atol=1e-9)
    assert np.allclose(u.max(axis=0)[varying], 1.0, atol=1e-9)


@given(tables)
def test_inverse_transform_undoes_transform(x):
    for scaler in (fit_min_max(x), fit_standardize(x)):
        assert np.allclose(scaler.inverse_transform(scaler.transform(x)), x, atol=1e-8)


def test_matches_numpy_formulas_and_uses_train_statistics_on_test():
    rng = np.random.default_rng(0)
    train = rng.normal([5.0, -3.0], [2.0, 0.1], size=(50, 2))
    test = rng.normal([5.0, -3.0], [2.0, 0.1], size=(7, 2))
    z = fit_standardize(train).transform(test)
    expected = (test - train.mean(axis=0)) / train.std(axis=0)
    np.testing.assert_allclose(z, expected, rtol=1e-12)
    u = fit_min_max(train).transform(test)
    low, high = train.min(axis=0), train.max(axis=0)
    np.testing.assert_allclose(u, (test - low) / (high - low), rtol=1e-12)
    # um único exemplo é transformado com as estatísticas do treino
    np.testing.assert_allclose(fit_standardize(train).transform(test[:1]), expected[:1])


def test_matches_torch_standardization():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).normal(3.0, 4.0, size=(30, 3))
    t = torch.from_numpy(x)
    expected = (t - t.mean(dim=0)) / t.std(dim=0, unbiased=False)
    np.testing.assert_allclose(fit_standardize(x).transform(x), expected.numpy(), rtol=1e-10)


def test_constant_feature_gets_scale_one():
    # com 5 cópias de 123.456, a média tem erro de arredondamento e o desvio padrão
    # calculado não é zero (≈ 1e-14), mas o atributo é constante
    x = np.column_stack([np.full(5, 123.456), np.arange(5.0)])
    assert x[:, 0].std() > 0
    for scaler in (fit_min_max(x), fit_standardize(x)):
        out = scaler.transform(x)
        assert scaler.scale[0] == 1.0
        assert np.abs(out[:, 0]).max() < 1e-9 and np.all(np.isfinite(out))


def test_keeps_float32():
    x = np.random.default_rng(2).normal(size=(10, 2)).astype(np.float32)
    assert fit_standardize(x).transform(x).dtype == np.float32


def test_errors_are_in_portuguese_and_name_the_argument():
    with pytest.raises(ValueError, match=r"`x_train`.*\(1, 2\)"):
        fit_standardize(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"2 dimensões \(N, D\).*\(5,\)"):
        fit_min_max(np.arange(5.0))
    with pytest.raises(TypeError, match="ponto flutuante"):
        fit_standardize(np.ones((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="NaN"):
        fit_standardize(np.array([[1.0], [np.nan]]))
    scaler = fit_standardize(np.ones((4, 3)) * np.arange(4.0)[:, None])
    with pytest.raises(ValueError, match=r"3 coluna\(s\).*\(2, 2\)"):
        scaler.transform(np.ones((2, 2)))
    assert isinstance(scaler, Scaler) and scaler.num_features == 3


def test_fraction_within_and_normal_rule():
    assert fraction_within(np.array([-2.0, -0.5, 0.0, 0.5, 3.0]), 1) == pytest.approx(0.6)
    for k, expected in ((1, 0.6827), (2, 0.9545), (3, 0.9973)):
        assert normal_fraction_within(k) == pytest.approx(expected, abs=1e-4)
    z = np.random.default_rng(3).normal(size=200_000)
    assert fraction_within(z, 1) == pytest.approx(math.erf(1 / math.sqrt(2)), abs=0.005)
    with pytest.raises(ValueError, match="`k`"):
        fraction_within(z, 0)


def test_skewness():
    rng = np.random.default_rng(4)
    assert abs(skewness(rng.normal(size=100_000))) < 0.05
    # assimetria exata da exponencial: 2
    assert skewness(rng.exponential(size=200_000)) == pytest.approx(2.0, abs=0.1)
    x = rng.lognormal(size=1000)
    assert skewness(3 * x + 7) == pytest.approx(skewness(x), rel=1e-10)
    with pytest.raises(ValueError, match="valores diferentes"):
        skewness(np.ones(4))


def test_make_houses_is_deterministic_and_has_different_scales():
    x1, y1 = make_houses(100, seed=5)
    x2, y2 = make_houses(100, seed=5)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert x1.shape == (100, 2) and y1.shape == (100,)
    assert x1[:, 0].std() > 20 * x1[:, 1].std()
    assert set(np.unique(x1[:, 1])) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    with pytest.raises(ValueError, match="`n`"):
        make_houses(1)
