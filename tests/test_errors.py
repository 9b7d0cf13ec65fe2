"""Toda entrada inválida levanta um erro em português que nomeia o argumento e os shapes."""

import numpy as np
import pytest
import torch

from bnlib import (
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_inference,
    update_running_stats,
)
from bnlib import nn as bnn

ONES3, ZEROS3 = np.ones(3), np.zeros(3)


@pytest.mark.parametrize(
    ("x", "fragments"),
    [
        (
            np.zeros(3),
            ["`x`", "2 dimensões (N, D)", "4 dimensões (N, C, H, W)", "1 dimensão", "(3,)"],
        ),
        (np.zeros((2, 3, 4)), ["`x`", "3 dimensão", "(2, 3, 4)"]),
    ],
)
def test_wrong_number_of_dimensions(x, fragments):
    with pytest.raises(ValueError) as error:
        batchnorm_forward(x, ONES3, ZEROS3)
    for fragment in fragments:
        assert fragment in str(error.value)


@pytest.mark.parametrize("name", ["gamma", "beta"])
def test_gamma_or_beta_of_wrong_shape(name):
    arguments = {"gamma": ONES3, "beta": ZEROS3, name: np.ones(4)}
    with pytest.raises(ValueError) as error:
        batchnorm_forward(np.zeros((5, 3)), **arguments)
    message = str(error.value)
    assert f"`{name}`" in message and "(3,)" in message and "(4,)" in message


def test_gamma_per_channel_for_images():
    with pytest.raises(ValueError, match=r"`gamma` deve ter shape \(3,\).*recebido shape \(5,\)"):
        batchnorm_forward(np.zeros((2, 3, 4, 5)), np.ones(5), ZEROS3)


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1, 1)])
def test_single_value_per_feature_in_training(shape):
    with pytest.raises(ValueError) as error:
        batchnorm_forward(np.zeros(shape), ONES3, ZEROS3)
    message = str(error.value)
    assert "mais de um valor" in message and str(shape) in message


def test_single_example_with_spatial_positions_is_allowed():
    y, _ = batchnorm_forward(np.random.default_rng(0).normal(size=(1, 3, 2, 2)), ONES3, ZEROS3)
    assert y.shape == (1, 3, 2, 2)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input(bad):
    x = np.ones((4, 3))
    x[2, 1] = bad
    with pytest.raises(ValueError, match=r"`x` contém 1 valor\(es\) NaN ou infinito"):
        batchnorm_forward(x, ONES3, ZEROS3)


def test_integer_input_is_rejected_with_a_hint():
    with pytest.raises(TypeError, match=r"`x`.*float32 ou float64.*int64.*astype"):
        batchnorm_forward(np.arange(6).reshape(2, 3), ONES3, ZEROS3)


@pytest.mark.parametrize("eps", [-1e-5, np.nan, "0.1"])
def test_invalid_eps(eps):
    with pytest.raises(ValueError, match="`eps`"):
        batchnorm_forward(np.ones((2, 3)), ONES3, ZEROS3, eps=eps)


def test_backward_dy_of_wrong_shape():
    _, cache = batchnorm_forward(np.random.default_rng(0).normal(size=(4, 3)), ONES3, ZEROS3)
    with pytest.raises(ValueError, match=r"`dy`.*\(4, 3\).*recebido shape \(3, 4\)"):
        batchnorm_backward(np.ones((3, 4)), cache)


def test_backward_needs_the_cache():
    with pytest.raises(TypeError, match="`cache`.*batchnorm_forward"):
        batchnorm_backward(np.ones((4, 3)), (np.ones((4, 3)),))


def test_inference_running_stats_of_wrong_shape():
    with pytest.raises(ValueError, match=r"`running_var` deve ter shape \(3,\).*\(2,\)"):
        batchnorm_inference(np.ones((2, 3)), ONES3, ZEROS3, ZEROS3, np.ones(2))


def test_momentum_none_needs_a_count():
    _, cache = batchnorm_forward(np.random.default_rng(0).normal(size=(4, 3)), ONES3, ZEROS3)
    with pytest.raises(ValueError, match="num_batches_tracked"):
        update_running_stats(ZEROS3, ONES3, cache, momentum=None)
    with pytest.raises(ValueError, match="`momentum`"):
        update_running_stats(ZEROS3, ONES3, cache, momentum=0.9 + 1)


@pytest.mark.parametrize(
    ("layer", "x", "error_type", "fragments"),
    [
        (
            bnn.BatchNorm1d(3),
            torch.zeros(2, 3, 4, 5),
            ValueError,
            ["2 dimensões (N, C)", "(2, 3, 4, 5)"],
        ),
        (bnn.BatchNorm2d(3), torch.zeros(2, 3), ValueError, ["4 dimensões (N, C, H, W)", "(2, 3)"]),
        # Como no torch: um número de canais errado é RuntimeError.
        (bnn.BatchNorm1d(3), torch.zeros(2, 4), RuntimeError, ["num_features = 3", "(2, 4)"]),
        (bnn.BatchNorm1d(3), torch.zeros(1, 3), ValueError, ["mais de um valor", "model.eval()"]),
        (
            bnn.BatchNorm1d(3, affine=False, track_running_stats=False, strict=True),
            torch.zeros(2, 4),
            RuntimeError,
            ["num_features = 3", "(2, 4)"],
        ),
        (bnn.BatchNorm1d(3, strict=True), torch.zeros(0, 3), ValueError, ["mais de um valor"]),
    ],
)
def test_module_errors(layer, x, error_type, fragments):
    with pytest.raises(error_type) as error:
        layer(x)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_module_constructor_errors_in_strict_mode():
    # O torch aceita esses valores; a bnlib os recusa só com strict=True.
    with pytest.raises(ValueError, match="num_features"):
        bnn.BatchNorm1d(0, strict=True)
    with pytest.raises(ValueError, match="momentum"):
        bnn.BatchNorm2d(3, momentum=1.5, strict=True)
    with pytest.raises(ValueError, match="eps"):
        bnn.BatchNorm2d(3, eps=0.0, strict=True)


def test_module_accepts_one_example_in_eval():
    layer = bnn.BatchNorm1d(3).eval()
    assert layer(torch.ones(1, 3)).shape == (1, 3)
