"""O caminho de inferência da bnlib contra o modo de avaliação do torch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import bnlib.nn as bnn
from bnlib import batchnorm_forward, batchnorm_inference, update_running_stats

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def run_numpy_and_torch(shape, dtype, momentum, steps, seed):
    """``steps`` passos de treino em numpy e em torch com os mesmos minilotes."""
    rng = np.random.default_rng(seed)
    features = shape[1]
    layer = nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d
    bn = layer(features, momentum=momentum, dtype=TORCH_DTYPE[dtype])
    gamma = rng.normal(size=features).astype(dtype)
    beta = rng.normal(size=features).astype(dtype)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    mean, var = np.zeros(features, dtype), np.ones(features, dtype)
    for k in range(1, steps + 1):
        x = (rng.normal(size=shape) * 3 + rng.normal() * 2).astype(dtype)
        _, cache = batchnorm_forward(x, gamma, beta)
        mean, var = update_running_stats(mean, var, cache, momentum, num_batches_tracked=k)
        bn(torch.from_numpy(x))
    return bn, gamma, beta, mean, var


def close(a, b, dtype):
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    return np.abs(a - b).max() <= TOLERANCE[dtype] * max(1.0, np.abs(b).max())


@settings(max_examples=20)
@given(
    st.sampled_from([(8, 5), (3, 2), (4, 3, 2, 5)]),
    st.sampled_from([np.float32, np.float64]),
    st.sampled_from([0.1, 0.01, 0.5, None]),
    st.integers(1, 60),
    st.integers(0, 1000),
)
def test_running_stats_after_many_steps_match_torch(shape, dtype, momentum, steps, seed):
    bn, _, _, mean, var = run_numpy_and_torch(shape, dtype, momentum, steps, seed)
    assert int(bn.num_batches_tracked) == steps
    assert close(mean, bn.running_mean, dtype)
    assert close(var, bn.running_var, dtype)


@pytest.mark.parametrize("shape", [(16, 4), (4, 3, 5, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inference_matches_torch_eval_mode(shape, dtype):
    bn, gamma, beta, mean, var = run_numpy_and_torch(shape, dtype, 0.1, 30, 7)
    bn.eval()
    x = np.random.default_rng(3).normal(size=shape).astype(dtype) * 2
    ours = batchnorm_inference(x, gamma, beta, mean, var)
    with torch.no_grad():
        theirs = bn(torch.from_numpy(x))
    assert ours.dtype == dtype
    assert close(ours, theirs, dtype)


def test_cumulative_average_is_the_plain_mean_of_the_batches():
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm1d(3, momentum=None, dtype=torch.float64)
    batches = [rng.normal(size=(10, 3)) * 2 + k for k in range(25)]
    for x in batches:
        bn(torch.from_numpy(x))
    means = np.mean([x.mean(axis=0) for x in batches], axis=0)
    variances = np.mean([x.var(axis=0, ddof=1) for x in batches], axis=0)
    assert np.allclose(bn.running_mean.numpy(), means, rtol=1e-12)
    assert np.allclose(bn.running_var.numpy(), variances, rtol=1e-12)


def test_running_var_is_unbiased_and_normalization_is_biased():
    x = torch.tensor([[0.0], [2.0]], dtype=torch.float64)
    bn = nn.BatchNorm1d(1, momentum=1.0, eps=1e-12, dtype=torch.float64)
    y = bn(x)
    assert bn.running_var.item() == pytest.approx(2.0)  # soma dos quadrados 2 / (m - 1)
    assert y.detach().numpy().ravel() == pytest.approx([-1.0, 1.0])  # divide por sqrt(1)


def test_keras_momentum_converts_to_torch_momentum():
    rng = np.random.default_rng(5)
    keras_momentum = 0.99
    bn = nn.BatchNorm1d(2, momentum=1 - keras_momentum, dtype=torch.float64)
    keras_mean = np.zeros(2)
    for _ in range(50):
        x = rng.normal(size=(8, 2)) + 4
        keras_mean = keras_momentum * keras_mean + (1 - keras_momentum) * x.mean(axis=0)
        bn(torch.from_numpy(x))
    assert np.allclose(bn.running_mean.numpy(), keras_mean, rtol=1e-12)


@pytest.mark.parametrize("layer", [nn.BatchNorm1d, bnn.BatchNorm1d])
def test_training_forward_under_no_grad_still_updates_running_stats(layer):
    bn = layer(2)
    with torch.no_grad():
        bn(torch.randn(8, 2) + 5)
    assert bn.running_mean.abs().min() > 0.1
    assert int(bn.num_batches_tracked) == 1


@pytest.mark.parametrize("layer", [nn.BatchNorm1d, bnn.BatchNorm1d])
def test_batch_of_one_fails_in_training_and_works_in_eval(layer):
    bn = layer(3)
    with pytest.raises(ValueError, match="1 value per channel|mais de um valor"):
        bn(torch.randn(1, 3))
    bn.eval()
    assert bn(torch.randn(1, 3)).shape == (1, 3)


def test_single_example_inference_equals_batched_inference():
    bn, gamma, beta, mean, var = run_numpy_and_torch((16, 4), np.float64, 0.1, 10, 2)
    x = np.random.default_rng(9).normal(size=(5, 4))
    batched = batchnorm_inference(x, gamma, beta, mean, var)
    one_by_one = np.vstack(
        [batchnorm_inference(x[i : i + 1], gamma, beta, mean, var) for i in range(5)]
    )
    assert np.array_equal(batched, one_by_one)
