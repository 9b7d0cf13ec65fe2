"""LN, IN, GN e renormalização em lote da bnlib contra o torch e contra diferenças finitas."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import bnlib
from bnlib.core import alternatives as alt
from bnlib.core import renorm
from bnlib.core.gradcheck import numerical_gradient, relative_error
from bnlib.lab.models import make_small_cnn
from bnlib.nn import alternatives as nalt


def _data(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(5.0, 3.0, size=shape)
    c = shape[1]
    return x, rng.normal(size=c), rng.normal(size=c), rng.normal(size=shape)


def _torch_grads(fn, x, gamma, beta, dy):
    xt = torch.from_numpy(x).requires_grad_()
    gt = torch.from_numpy(gamma).requires_grad_()
    bt = torch.from_numpy(beta).requires_grad_()
    y = fn(xt, gt, bt)
    (y * torch.from_numpy(dy)).sum().backward()
    return y.detach().numpy(), xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


@given(
    n=st.integers(1, 4),
    groups=st.sampled_from([1, 2, 3, 6]),
    hw=st.sampled_from([(1, 2), (3, 4), (2, 2)]),
    seed=st.integers(0, 1000),
)
def test_group_norm_matches_torch(n, groups, hw, seed):
    x, g, b, dy = _data((n, 6, *hw), seed)
    y, cache = alt.group_norm_forward(x, g, b, groups)
    dx, dg, db = alt.group_norm_backward(dy, cache)
    ref = _torch_grads(lambda a, w, c: F.group_norm(a, groups, w, c, eps=1e-5), x, g, b, dy)
    for ours, theirs in zip((y, dx, dg, db), ref, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-10, rtol=1e-9)


def test_group_norm_module_matches_torch_module():
    torch.manual_seed(0)
    x = torch.randn(3, 8, 5, 5) * 4 + 2
    ours, ref = nalt.GroupNorm(8, num_groups=4), torch.nn.GroupNorm(4, 8)
    with torch.no_grad():
        for m in (ours, ref):
            m.weight.copy_(torch.linspace(0.5, 2, 8))
            m.bias.copy_(torch.linspace(-1, 1, 8))
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)


def test_layer_norm_matches_torch_dense():
    x, g, b, dy = _data((5, 7))
    y, cache = alt.layer_norm_forward(x, g, b)
    dx, dg, db = alt.layer_norm_backward(dy, cache)
    ln = torch.nn.LayerNorm(7).double()
    ref = _torch_grads(lambda a, w, c: F.layer_norm(a, (7,), w, c), x, g, b, dy)
    for ours, theirs in zip((y, dx, dg, db), ref, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-10)
    module = nalt.LayerNorm(7).double()
    torch.testing.assert_close(module(torch.from_numpy(x)), ln(torch.from_numpy(x)))


def test_layer_norm_images_matches_torch_layernorm_with_per_channel_affine():
    x, g, b, _ = _data((2, 3, 4, 4))
    y, _ = alt.layer_norm_forward(x, g, b)
    ln = torch.nn.LayerNorm([3, 4, 4]).double()
    with torch.no_grad():
        ln.weight.copy_(torch.from_numpy(g)[:, None, None].expand(3, 4, 4))
        ln.bias.copy_(torch.from_numpy(b)[:, None, None].expand(3, 4, 4))
    np.testing.assert_allclose(y, ln(torch.from_numpy(x)).detach().numpy(), atol=1e-12)


def test_instance_norm_matches_torch():
    x, g, b, dy = _data((3, 4, 5, 6))
    y, cache = alt.instance_norm_forward(x, g, b)
    dx, dg, db = alt.instance_norm_backward(dy, cache)
    inorm = torch.nn.InstanceNorm2d(4, affine=True).double()
    ref = _torch_grads(lambda a, w, c: F.instance_norm(a, weight=w, bias=c, eps=1e-5), x, g, b, dy)
    for ours, theirs in zip((y, dx, dg, db), ref, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-10)
    module = nalt.InstanceNorm2d(4).double()
    with torch.no_grad():
        for m in (module, inorm):
            m.weight.copy_(torch.from_numpy(g))
            m.bias.copy_(torch.from_numpy(b))
    torch.testing.assert_close(module(torch.from_numpy(x)), inorm(torch.from_numpy(x)))


@pytest.mark.parametrize(
    ("name", "forward", "shape"),
    [
        ("layer", lambda x, g, b: alt.layer_norm_forward(x, g, b), (4, 5)),
        ("instance", lambda x, g, b: alt.instance_norm_forward(x, g, b), (2, 3, 3, 2)),
        ("group", lambda x, g, b: alt.group_norm_forward(x, g, b, 2), (3, 4, 2, 3)),
    ],
)
def test_gradient_check(name, forward, shape):
    x, g, b, dy = _data(shape, seed=3)
    _, cache = forward(x, g, b)
    dx, dg, db = alt.group_norm_backward(dy, cache)
    num_dx = numerical_gradient(lambda z: forward(z, g, b)[0], x.copy(), dy)
    num_dg = numerical_gradient(lambda z: forward(x, z, b)[0], g.copy(), dy)
    num_db = numerical_gradient(lambda z: forward(x, g, z)[0], b.copy(), dy)
    assert relative_error(dx, num_dx) < 1e-6, name
    assert relative_error(dg, num_dg) < 1e-7, name
    assert relative_error(db, num_db) < 1e-7, name


def test_gradient_check_fails_on_wrong_backward():
    """A verificação acusa um gradiente que trata a média e a variância como constantes."""
    x, g, b, dy = _data((4, 6), seed=4)
    _, cache = alt.group_norm_forward(x, g, b, 2)
    dx = dy * g * np.repeat(cache.inv_std, 3, axis=1)
    num_dx = numerical_gradient(lambda z: alt.group_norm_forward(z, g, b, 2)[0], x.copy(), dy)
    assert relative_error(dx, num_dx) > 1e-3


def test_per_example_norms_do_not_depend_on_the_batch():
    x, g, b, _ = _data((6, 4, 3, 3))
    whole, _ = alt.group_norm_forward(x, g, b, 2)
    alone, _ = alt.group_norm_forward(x[2:3], g, b, 2)
    np.testing.assert_allclose(whole[2:3], alone, atol=1e-12)


def test_batch_renorm_with_unit_limits_is_batchnorm():
    x, g, b, dy = _data((8, 3, 2, 2))
    rng = np.random.default_rng(9)
    running_mean, running_var = rng.normal(size=3), rng.uniform(0.5, 4, size=3)
    y, cache = renorm.batch_renorm_forward(x, g, b, running_mean, running_var, rmax=1.0, dmax=0.0)
    y_bn, cache_bn = bnlib.batchnorm_forward(x, g, b)
    np.testing.assert_allclose(y, y_bn, atol=1e-12)
    np.testing.assert_array_equal(cache.r, np.ones(3))
    np.testing.assert_array_equal(cache.d, np.zeros(3))
    for ours, theirs in zip(
        renorm.batch_renorm_backward(dy, cache), bnlib.batchnorm_backward(dy, cache_bn), strict=True
    ):
        np.testing.assert_allclose(ours, theirs, atol=1e-10)
    expected = bnlib.update_running_stats(running_mean, running_var, cache_bn, 0.1)
    np.testing.assert_allclose(cache.running_mean, expected[0])
    np.testing.assert_allclose(cache.running_var, expected[1])


def test_batch_renorm_without_clipping_uses_running_statistics():
    """Com limites enormes, r e d não são cortados e o treino normaliza com as acumuladas."""
    x, g, b, _ = _data((16, 3))
    rm, rv = np.array([4.0, 5.0, 6.0]), np.array([8.0, 9.0, 10.0])
    y, cache = renorm.batch_renorm_forward(x, g, b, rm, rv, rmax=1e6, dmax=1e6)
    expected = g * (x - rm) / np.sqrt(rv + 1e-5) + b
    np.testing.assert_allclose(y, expected, atol=1e-10)
    assert np.all(cache.r != 1.0)


def test_batch_renorm_clips():
    x, g, b, _ = _data((16, 3))
    y, cache = renorm.batch_renorm_forward(
        x, g, b, np.full(3, -100.0), np.full(3, 1e-4), rmax=2.0, dmax=1.5
    )
    np.testing.assert_allclose(cache.r, 2.0)
    np.testing.assert_allclose(cache.d, 1.5)


@pytest.mark.parametrize(
    "cls, shape", [(nalt.BatchRenorm1d, (8, 3)), (nalt.BatchRenorm2d, (8, 3, 4, 4))]
)
def test_batch_renorm_module_matches_numpy(cls, shape):
    x, g, b, dy = _data(shape, seed=5)
    rng = np.random.default_rng(6)
    rm, rv = rng.normal(size=3), rng.uniform(0.5, 4, size=3)
    module = cls(3, warmup_steps=0, ramp_steps=0).double()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(g))
        module.bias.copy_(torch.from_numpy(b))
        module.running_mean.copy_(torch.from_numpy(rm))
        module.running_var.copy_(torch.from_numpy(rv))
        module.num_batches_tracked.fill_(1)
    xt = torch.from_numpy(x).requires_grad_()
    y = module(xt)
    (y * torch.from_numpy(dy)).sum().backward()
    y_np, cache = renorm.batch_renorm_forward(x, g, b, rm, rv)
    dx, dg, db = renorm.batch_renorm_backward(dy, cache)
    np.testing.assert_allclose(y.detach().numpy(), y_np, atol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), dx, atol=1e-10)
    np.testing.assert_allclose(module.weight.grad.numpy(), dg, atol=1e-10)
    np.testing.assert_allclose(module.bias.grad.numpy(), db, atol=1e-10)
    np.testing.assert_allclose(module.running_var.numpy(), cache.running_var, atol=1e-12)
    module.eval()
    inference = bnlib.batchnorm_inference(x, g, b, cache.running_mean, cache.running_var)
    np.testing.assert_allclose(module(xt).detach().numpy(), inference, atol=1e-12)


def test_batch_renorm_module_in_warmup_is_batchnorm():
    torch.manual_seed(0)
    x = torch.randn(10, 4) * 3 + 1
    brn = nalt.BatchRenorm1d(4, warmup_steps=5)
    bn = torch.nn.BatchNorm1d(4)
    for _ in range(3):
        torch.testing.assert_close(brn(x), bn(x))
    torch.testing.assert_close(brn.running_mean, bn.running_mean)


def test_renorm_limits_schedule():
    assert renorm.renorm_limits(10, 100, 200) == (1.0, 0.0)
    assert renorm.renorm_limits(200, 100, 200) == (2.0, 2.5)
    assert renorm.renorm_limits(10_000, 100, 200) == (3.0, 5.0)
    with pytest.raises(ValueError, match="warmup_steps"):
        renorm.renorm_limits(0, -1, 10)


def test_errors_name_the_argument_and_shape():
    x = np.zeros((2, 6, 3, 3))
    with pytest.raises(ValueError, match=r"num_groups.*C = 6.*\(2, 6, 3, 3\)"):
        alt.group_norm_forward(x, np.ones(6), np.zeros(6), 4)
    with pytest.raises(ValueError, match=r"`gamma`.*\(6,\).*\(5,\)"):
        alt.layer_norm_forward(x, np.ones(5), np.zeros(6))
    with pytest.raises(ValueError, match=r"`x`.*\(N, C, H, W\).*\(2, 6\)"):
        alt.instance_norm_forward(np.zeros((2, 6)), np.ones(6), np.zeros(6))
    with pytest.raises(TypeError, match="cache"):
        alt.group_norm_backward(x, cache=None)
    with pytest.raises(ValueError, match="rmax"):
        renorm.batch_renorm_forward(x, np.ones(6), np.zeros(6), np.zeros(6), np.ones(6), rmax=0.5)
    with pytest.raises(ValueError, match="num_groups"):
        nalt.GroupNorm(6, num_groups=4)
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        nalt.LayerNorm(4)(torch.zeros(3, 5))


def test_small_cnn_shapes():
    for norm in (None, nalt.LayerNorm, nalt.InstanceNorm2d, nalt.BatchRenorm2d):
        assert make_small_cnn(norm=norm, global_pool=True)(torch.zeros(2, 1, 7, 7)).shape == (2, 10)


def test_grouped_batchnorm_equals_batchnorm_on_each_group():
    torch.manual_seed(0)
    x = torch.randn(12, 3, 4, 4) * 2 + 1
    grouped = nalt.GroupedBatchNorm2d(3, group_size=4)
    reference = torch.nn.BatchNorm2d(3)
    y = grouped(x)
    for k in range(3):
        part = torch.nn.functional.batch_norm(x[4 * k : 4 * k + 4], None, None, training=True)
        torch.testing.assert_close(y[4 * k : 4 * k + 4], part)
    whole = nalt.GroupedBatchNorm2d(3, group_size=12)
    torch.testing.assert_close(whole(x), reference(x))
    torch.testing.assert_close(whole.running_var, reference.running_var)
    with pytest.raises(ValueError, match="múltiplo"):
        grouped(x[:10])
