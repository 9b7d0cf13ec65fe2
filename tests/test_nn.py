"""bnlib.nn contra torch.nn: mesmas saídas, gradientes, estatísticas e state_dict."""

import itertools

import pytest
import torch
from torch import nn

from bnlib import nn as bnn

PAIRS = [(bnn.BatchNorm1d, nn.BatchNorm1d), (bnn.BatchNorm2d, nn.BatchNorm2d)]
SHAPES = {bnn.BatchNorm1d: [(16, 5), (8, 5, 7)], bnn.BatchNorm2d: [(6, 5, 4, 3)]}
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}
OPTIONS = [
    {},
    {"momentum": None},
    {"momentum": 0.3, "eps": 1e-3},
    {"affine": False},
    {"bias": False},
    {"track_running_stats": False},
]


def scaled_error(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()


def cases():
    for (ours, theirs), dtype, options in itertools.product(PAIRS, TOLERANCE, OPTIONS):
        for shape in SHAPES[ours]:
            yield pytest.param(
                ours, theirs, shape, dtype, options, id=f"{ours.__name__}-{shape}-{dtype}-{options}"
            )


def make_pair(ours, theirs, dtype, options, num_features=5):
    torch.manual_seed(0)
    reference = theirs(num_features, dtype=dtype, **options)
    layer = ours(num_features, dtype=dtype, **options)
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter.normal_()
    layer.load_state_dict(reference.state_dict())
    return layer, reference


@pytest.mark.parametrize(("ours", "theirs", "shape", "dtype", "options"), list(cases()))
def test_same_outputs_gradients_and_running_stats(ours, theirs, shape, dtype, options):
    layer, reference = make_pair(ours, theirs, dtype, options)
    generator = torch.Generator().manual_seed(1)
    for _ in range(10):
        x = torch.randn(shape, dtype=dtype, generator=generator) * 3 + 1
        x_ours = x.clone().requires_grad_()
        x_ref = x.clone().requires_grad_()
        y_ours, y_ref = layer(x_ours), reference(x_ref)
        assert scaled_error(y_ours, y_ref) <= TOLERANCE[dtype]
        dy = torch.randn(shape, dtype=dtype, generator=generator)
        y_ours.backward(dy)
        y_ref.backward(dy)
        assert scaled_error(x_ours.grad, x_ref.grad) <= TOLERANCE[dtype]
        for a, b in zip(layer.parameters(), reference.parameters(), strict=True):
            assert scaled_error(a.grad, b.grad) <= TOLERANCE[dtype]
    for name, buffer in reference.named_buffers():
        ours_buffer = dict(layer.named_buffers())[name]
        assert ours_buffer.dtype == buffer.dtype
        difference = (ours_buffer.double() - buffer.double()).abs()
        assert (difference <= 1e-6 * (1 + buffer.double().abs())).all(), name

    layer.eval()
    reference.eval()
    x = torch.randn(shape, dtype=dtype, generator=generator)
    assert scaled_error(layer(x), reference(x)) <= TOLERANCE[dtype]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_state_dict_round_trip_both_ways(ours, theirs):
    shape = SHAPES[ours][0]
    source = theirs(5)
    source(torch.randn(shape) * 2 + 3)
    with torch.no_grad():
        source.weight.uniform_()
    target = ours(5)
    target.load_state_dict(source.state_dict())
    assert list(target.state_dict()) == list(source.state_dict())
    back = theirs(5)
    back.load_state_dict(target.state_dict())
    for key, value in source.state_dict().items():
        assert torch.equal(back.state_dict()[key], value), key


def test_same_parameters_and_buffers_names():
    assert [n for n, _ in bnn.BatchNorm2d(3).named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bnn.BatchNorm2d(3).named_buffers()] == [
        n for n, _ in nn.BatchNorm2d(3).named_buffers()
    ]
    for options in [{}, {"bias": False}, {"affine": False, "momentum": None}]:
        assert repr(bnn.BatchNorm1d(4, **options)) == repr(nn.BatchNorm1d(4, **options))


def test_gradcheck_float64():
    layer = bnn.BatchNorm2d(3, dtype=torch.float64)
    x = torch.randn(4, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))


def test_no_grad_training_forward_still_updates_running_stats():
    layer = bnn.BatchNorm1d(2)
    with torch.no_grad():
        layer(torch.randn(8, 2) + 5)
    assert layer.num_batches_tracked.item() == 1
    assert (layer.running_mean > 0.1).all()
