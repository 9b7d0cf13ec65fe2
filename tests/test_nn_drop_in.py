"""bnlib.nn no lugar de torch.nn em tudo o que um usuário faria: casos de borda e ferramentas.

Cada teste compara com o que o PyTorch faz no mesmo caso: o mesmo resultado, ou a mesma
exceção (o tipo; as mensagens da bnlib são em português).
"""

import itertools

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as fwad
from torch import nn
from torch.ao.quantization import fuse_modules

from bnlib import nn as bnn
from bnlib.nn.batchnorm import batch_norm
from bnlib.nn.folding import FUSER_METHOD_MAPPING, fold_graph

PAIRS = {1: (bnn.BatchNorm1d, nn.BatchNorm1d), 2: (bnn.BatchNorm2d, nn.BatchNorm2d)}
PAIRS[3] = (bnn.BatchNorm3d, nn.BatchNorm3d)


def pair(kind, *args, **kwargs):
    ours, theirs = PAIRS[kind]
    torch.manual_seed(0)
    reference = theirs(*args, **kwargs)
    layer = ours(*args, **kwargs)
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter.normal_()
    layer.load_state_dict(reference.state_dict())
    return layer, reference


def outcome(layer, *args, **kwargs):
    try:
        return layer(*args, **kwargs)
    except Exception as error:  # o tipo da exceção é o que se compara
        return error


def assert_same_outcome(layer, reference, x, atol=1e-6):
    mine, theirs = outcome(layer, x.clone()), outcome(reference, x.clone())
    assert type(mine) is type(theirs), (mine, theirs)
    if isinstance(theirs, torch.Tensor):
        assert mine.dtype == theirs.dtype
        assert mine.shape == theirs.shape
        assert mine.stride() == theirs.stride()
        torch.testing.assert_close(mine, theirs, atol=atol, rtol=atol)
    return mine


def relative_error(a, b):
    return ((a.double() - b.double()).abs().max() / b.double().abs().max()).item()


# --- Casos de borda --------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "shape"), [(1, (0, 5, 9)), (2, (0, 5, 2, 2)), (1, (0, 5))])
def test_empty_batch_in_training_counts_the_batch_like_torch(kind, shape):
    layer, reference = pair(kind, 5)
    x = torch.randn(shape)
    x_ours, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_ours, y_ref = layer(x_ours), reference(x_ref)
    assert y_ours.shape == shape and y_ours.stride() == y_ref.stride()
    assert layer.num_batches_tracked.item() == reference.num_batches_tracked.item() == 1
    torch.testing.assert_close(layer.running_mean, reference.running_mean)
    y_ours.sum().backward()
    y_ref.sum().backward()
    torch.testing.assert_close(layer.weight.grad, reference.weight.grad)
    assert x_ours.grad.shape == shape


def test_empty_batch_raises_only_in_strict_mode():
    with pytest.raises(ValueError, match="mais de um valor"):
        bnn.BatchNorm1d(5, strict=True)(torch.randn(0, 5))


@pytest.mark.parametrize("eps", [0.0, -1.0, 1e-5])
@pytest.mark.parametrize("training", [True, False])
def test_eps_is_checked_like_torch(eps, training):
    layer, reference = pair(1, 3, eps=eps)
    layer.train(training)
    reference.train(training)
    result = assert_same_outcome(layer, reference, torch.randn(4, 3))
    if training and eps <= 0 or eps < 0:
        assert isinstance(result, ValueError) and "`eps`" in str(result)


@pytest.mark.parametrize(("kind", "shape"), [(1, (1, 3)), (1, (1, 3, 1)), (2, (1, 3, 1, 1))])
def test_one_value_per_channel_without_running_stats_raises_in_eval_like_torch(kind, shape):
    layer, reference = pair(kind, 3, track_running_stats=False)
    layer.eval()
    reference.eval()
    result = assert_same_outcome(layer, reference, torch.randn(shape))
    assert isinstance(result, ValueError) and "mais de um valor" in str(result)
    # Com estatísticas acumuladas, um exemplo na avaliação é permitido (nos dois).
    layer, reference = pair(kind, 3)
    assert_same_outcome(layer.eval(), reference.eval(), torch.randn(shape))


DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]


@pytest.mark.parametrize(("module_dtype", "input_dtype"), list(itertools.product(DTYPES, DTYPES)))
@pytest.mark.parametrize("training", [True, False])
def test_dtype_rules_like_torch(module_dtype, input_dtype, training):
    layer, reference = pair(2, 3, dtype=module_dtype)
    layer.train(training)
    reference.train(training)
    x = torch.randn(4, 3, 2, 2).to(input_dtype)
    mine, theirs = outcome(layer, x), outcome(reference, x)
    assert type(mine) is type(theirs)
    if isinstance(theirs, torch.Tensor):
        assert mine.dtype == theirs.dtype == input_dtype
    else:
        assert isinstance(mine, RuntimeError)
        assert "dtype" in str(mine) or "tipos misturados" in str(mine)


def test_mixed_dtype_float64_input_in_float32_module_raises():
    with pytest.raises(RuntimeError, match="float64"):
        bnn.BatchNorm1d(3)(torch.randn(4, 3, dtype=torch.float64))
    with pytest.raises(NotImplementedError, match="ponto flutuante"):
        bnn.BatchNorm1d(3)(torch.ones(4, 3, dtype=torch.int64))


@pytest.mark.parametrize("low", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("module_dtype", ["float32", "low"])
@pytest.mark.parametrize("training", [True, False])
def test_half_precision_as_accurate_as_torch(low, module_dtype, training):
    dtype = torch.float32 if module_dtype == "float32" else low
    layer, reference = pair(2, 4, dtype=dtype)
    exact, _ = pair(2, 4, dtype=torch.float64)
    for module in (layer, reference, exact):
        module.train(training)
    generator = torch.Generator().manual_seed(3)
    x = (torch.randn(16, 4, 6, 6, generator=generator) * 3 + 2).to(low)
    dy = torch.randn(x.shape, generator=generator).to(low)
    results = []
    for module, dtype_in in ((layer, low), (reference, low), (exact, torch.float64)):
        xx = x.to(dtype_in).requires_grad_()
        y = module(xx)
        (dx,) = torch.autograd.grad(y, xx, dy.to(dtype_in))
        results.append((y, dx))
    (y_ours, dx_ours), (y_ref, dx_ref), (y_exact, dx_exact) = results
    assert y_ours.dtype == y_ref.dtype == dx_ours.dtype == low
    # O erro da bnlib, contra a conta em float64, não passa do do torch (com folga de 10 %
    # e de meio ulp da meia precisão, que é o arredondamento final da saída).
    half_ulp = torch.finfo(low).eps / 2
    assert relative_error(y_ours, y_exact) <= 1.1 * relative_error(y_ref, y_exact) + half_ulp
    assert relative_error(dx_ours, dx_exact) <= 1.1 * relative_error(dx_ref, dx_exact) + half_ulp


def test_autocast_bfloat16_conv_then_batchnorm_returns_bfloat16_like_torch():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3)
    ours = nn.Sequential(conv, bnn.BatchNorm2d(4))
    theirs = nn.Sequential(conv, nn.BatchNorm2d(4))
    x = torch.randn(2, 3, 6, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y_ours, y_ref = ours(x), theirs(x)
    assert y_ours.dtype == y_ref.dtype == torch.bfloat16
    torch.testing.assert_close(y_ours, y_ref, atol=2e-2, rtol=2e-2)
    torch.testing.assert_close(ours[1].running_var, theirs[1].running_var)


def test_input_keyword_argument_like_torch():
    layer, reference = pair(1, 3)
    x = torch.randn(4, 3)
    torch.testing.assert_close(layer(input=x), reference(input=x))


def test_old_state_dict_without_counter_keeps_the_counter_like_torch():
    source = nn.BatchNorm1d(3).state_dict()
    del source["num_batches_tracked"]
    source._metadata = {"": {"version": 1}}
    layer, reference = pair(1, 3)
    for module in (layer, reference):
        module.num_batches_tracked.fill_(7)
        module.load_state_dict(source)
    assert layer.num_batches_tracked.item() == reference.num_batches_tracked.item() == 7


@pytest.mark.parametrize(
    ("args", "kwargs", "x_shape"),
    [
        ((3,), {"momentum": 1.5}, (4, 3)),
        ((3,), {"momentum": -0.1}, (4, 3)),
        ((np.int64(3),), {}, (4, 3)),
        ((0,), {}, (4, 0)),
        ((3,), {"affine": False, "track_running_stats": False}, (4, 5)),
        ((3,), {"affine": False}, (4, 5)),
        ((3,), {"momentum": None}, (4, 3)),
    ],
)
def test_constructor_arguments_torch_accepts(args, kwargs, x_shape):
    layer, reference = pair(1, *args, **kwargs)
    assert repr(layer) == repr(reference)
    for _ in range(3):
        assert_same_outcome(layer, reference, torch.randn(x_shape) * 2 + 1)
    for name, buffer in reference.named_buffers():
        torch.testing.assert_close(dict(layer.named_buffers())[name], buffer)


def test_channel_mismatch_is_runtime_error_like_torch():
    layer, reference = pair(1, 3)
    result = assert_same_outcome(layer, reference, torch.randn(4, 5))
    assert isinstance(result, RuntimeError) and "num_features = 3" in str(result)


def test_strict_mode_refuses_what_torch_accepts():
    for kwargs in ({"momentum": 1.5}, {"momentum": -0.1}, {"eps": 0.0}):
        with pytest.raises(ValueError):
            bnn.BatchNorm1d(3, strict=True, **kwargs)
    for value in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="num_features"):
            bnn.BatchNorm2d(value, strict=True)
    layer = bnn.BatchNorm1d(np.int64(3), strict=True, affine=False, track_running_stats=False)
    with pytest.raises(RuntimeError, match="num_features = 3"):
        layer(torch.randn(4, 5))
    assert "strict=True" in repr(layer)


def layouts(ndim):
    """Entradas com todos os layouts: permutações dos eixos, fatias e um tensor expandido."""
    sizes = {3: (2, 3, 4), 4: (2, 3, 4, 5), 5: (2, 3, 2, 3, 4)}[ndim]
    for perm in itertools.permutations(range(ndim)):
        base = torch.randn([sizes[i] for i in perm])
        yield base.permute([perm.index(i) for i in range(ndim)])
    wide = torch.randn(*sizes[:-1], 2 * sizes[-1])
    yield wide[..., ::2]
    if ndim == 4:
        yield wide.contiguous(memory_format=torch.channels_last)[..., ::2]
    # Expandido: cada canal é constante (variância 0). A bnlib dá o valor exato, x_hat = 0;
    # o torch, um resíduo de arredondamento (~1e-5) multiplicado por 1 / sqrt(eps).
    yield torch.randn(1, sizes[1], *[1] * (ndim - 2)).expand(sizes)


@pytest.mark.parametrize("kind", [1, 2, 3])
@pytest.mark.parametrize("training", [True, False])
def test_output_and_gradient_strides_like_torch(kind, training):
    layer, reference = pair(kind, 3)
    layer.train(training)
    reference.train(training)
    for x in layouts(kind + 2):
        x_ours = x.detach().requires_grad_()
        x_ref = x.detach().requires_grad_()
        y_ours, y_ref = layer(x_ours), reference(x_ref)
        assert y_ours.stride() == y_ref.stride(), x.stride()
        constant = 0 in x.stride()
        loose = {"atol": 1e-4, "rtol": 1e-4} if constant else {}
        torch.testing.assert_close(y_ours, y_ref, **loose)
        swapped = [y_ref.shape[1], y_ref.shape[0], *y_ref.shape[2:]]
        for dy in (torch.randn(y_ref.shape), torch.randn(swapped).transpose(0, 1)):
            (g_ours,) = torch.autograd.grad(y_ours, x_ours, dy, retain_graph=True)
            (g_ref,) = torch.autograd.grad(y_ref, x_ref, dy, retain_graph=True)
            assert g_ours.stride() == g_ref.stride(), (x.stride(), dy.stride())
            torch.testing.assert_close(g_ours, g_ref, **loose)


@pytest.mark.parametrize("std", [1e14, 1e16])
@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_backward_accurate_at_extreme_scales(std, shift):
    generator = torch.Generator().manual_seed(0)
    x64 = torch.randn(64, 8, generator=generator, dtype=torch.float64) * std + shift * std
    dy = torch.randn(64, 8, generator=generator, dtype=torch.float64)
    x32 = x64.float().requires_grad_()
    exact = x32.detach().double().requires_grad_()
    (dx,) = torch.autograd.grad(bnn.BatchNorm1d(8)(x32), x32, dy.float())
    (dx_exact,) = torch.autograd.grad(nn.BatchNorm1d(8).double()(exact), exact, dy)
    assert relative_error(dx, dx_exact) < 1e-6
    assert torch.isfinite(dx).all()


def test_large_mean_more_accurate_than_one_pass():
    generator = torch.Generator().manual_seed(0)
    x64 = 1e4 + torch.randn(256, 16, generator=generator, dtype=torch.float64)
    x32 = x64.float()
    y = bnn.BatchNorm1d(16)(x32)
    y_exact = nn.BatchNorm1d(16).double()(x32.double())
    assert relative_error(y, y_exact) < 1e-6


def test_training_losses_match_torch_step_by_step():
    def train(norm):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(10, 16), norm(16), nn.ReLU(), nn.Linear(16, 3))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        generator = torch.Generator().manual_seed(1)
        losses = []
        for _ in range(30):
            x = torch.randn(32, 10, generator=generator)
            y = torch.randint(3, (32,), generator=generator)
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return np.array(losses), model

    ours, model_ours = train(bnn.BatchNorm1d)
    theirs, model_ref = train(nn.BatchNorm1d)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    reference_state = model_ref.state_dict()
    for name, value in model_ours.state_dict().items():
        torch.testing.assert_close(value, reference_state[name], rtol=1e-4, atol=1e-5)


# --- Retropropagação rápida contra a legível ----------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shift", [0.0, 1e4])
def test_fast_path_equals_readable_path(dtype, training, shift):
    # Média 0: as duas versões concordam até o arredondamento. Média 10⁴ (5 000 desvios
    # padrão): em float32 a versão legível perde dígitos (~1e-4) e a rápida não, então a
    # referência é a legível em float64; em float64 as duas ficam a ~5000·eps uma da outra.
    generator = torch.Generator().manual_seed(0)
    tolerance = {torch.float32: 1e-5, torch.float64: 1e-12}[dtype]
    if shift and dtype == torch.float64:
        tolerance = 1e-11
    for shape in [(7, 3), (5, 3, 4), (3, 3, 2, 5), (2, 3, 2, 2, 3)]:
        x = torch.randn(shape, generator=generator, dtype=dtype) * 2 + shift
        dy = torch.randn(shape, generator=generator, dtype=dtype)
        weight = torch.randn(3, generator=generator, dtype=dtype)
        bias = torch.randn(3, generator=generator, dtype=dtype)
        stats = [torch.randn(3, dtype=dtype) + shift, torch.rand(3, dtype=dtype) + 0.5]
        results = []
        readable_dtype = torch.float64 if shift else dtype
        for fast, work in ((True, dtype), (False, readable_dtype)):
            running = [s.clone().to(work) for s in stats]
            inputs = [t.clone().to(work).requires_grad_() for t in (x, weight, bias)]
            y = batch_norm(inputs[0], *running, *inputs[1:], training, 0.1, 1e-5, fast=fast)
            grads = torch.autograd.grad(y, inputs, dy.to(work))
            results.append((y, *grads, *running))
        for a, b in zip(*results, strict=True):
            assert relative_error(a, b) <= tolerance


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_double_backward_of_fast_path(training, affine):
    layer = bnn.BatchNorm2d(3, affine=affine, dtype=torch.float64).train(training)
    if not training:
        with torch.no_grad():
            layer.running_mean.normal_()
            layer.running_var.uniform_(0.5, 2.0)
    x = torch.randn(4, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))
    assert torch.autograd.gradgradcheck(layer, (x,))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("training", [True, False])
def test_forward_mode_ad_like_torch(training):
    layer, reference = pair(2, 3, dtype=torch.float64)
    layer.train(training)
    reference.train(training)
    x = torch.randn(4, 3, 2, 2, dtype=torch.float64)
    tangent = torch.randn_like(x)
    with fwad.dual_level():
        mine = fwad.unpack_dual(layer(fwad.make_dual(x, tangent))).tangent
        theirs = fwad.unpack_dual(reference(fwad.make_dual(x, tangent))).tangent
    torch.testing.assert_close(mine, theirs)


# --- Ferramentas do torch ---------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("kind", [1, 2, 3])
def test_torchscript(kind):
    layer, reference = pair(kind, 3)
    scripted = torch.jit.script(layer)
    x = torch.randn(4, 3, *[2] * kind)
    for _ in range(2):
        torch.testing.assert_close(scripted(x), reference(x))
    torch.testing.assert_close(scripted.running_var, reference.running_var)
    assert scripted.num_batches_tracked.item() == 2
    scripted.eval()
    reference.eval()
    torch.testing.assert_close(scripted(x), reference(x))
    with pytest.raises(Exception, match="num_features = 3"):
        scripted(torch.randn(4, 5, *[2] * kind))


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
def test_torchscript_trace_can_be_saved_and_loaded(tmp_path):
    layer, reference = pair(2, 3)
    x = torch.randn(4, 3, 2, 2)
    for training in (False, True):
        layer.train(training)
        reference.train(training)
        traced = torch.jit.trace(layer, x)
        torch.jit.save(traced, tmp_path / "bn.pt")
        loaded = torch.jit.load(tmp_path / "bn.pt")
        torch.testing.assert_close(loaded(x), reference(x))


def test_fx_symbolic_trace_records_a_call_and_keeps_the_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), bnn.BatchNorm1d(3), nn.ReLU())
    traced = torch.fx.symbolic_trace(model)
    targets = [n.target for n in traced.graph.nodes if n.op == "call_module"]
    assert targets == ["0", "1", "2"]
    x = torch.randn(8, 4)
    torch.testing.assert_close(traced(x), model(x))
    traced.eval()
    model.eval()
    torch.testing.assert_close(traced(x), model(x))
    # O GraphModule usa a mesma camada que o modelo: dois passos de treino contados.
    assert traced.get_submodule("1") is model[1]
    assert model[1].num_batches_tracked.item() == 2


def test_convert_sync_batchnorm_finds_bnlib_layers():
    layer, _ = pair(2, 4)
    layer(torch.randn(4, 4, 2, 2))
    model = nn.Sequential(nn.Conv2d(3, 4, 1), layer)
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert type(converted[1]) is nn.SyncBatchNorm
    torch.testing.assert_close(converted[1].running_mean, layer.running_mean)
    torch.testing.assert_close(converted[1].weight, layer.weight)


def test_replace_all_batch_norm_modules_and_per_example_gradients():
    def per_example_grads(norm):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3), norm(3), nn.Linear(3, 1))
        torch.func.replace_all_batch_norm_modules_(model)
        assert model[1].running_mean is None and not model[1].track_running_stats
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(params, x):
            return torch.func.functional_call(model, params, (x,)).pow(2).sum()

        xs = torch.randn(6, 5, 4, generator=torch.Generator().manual_seed(1))
        return torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0))(params, xs)

    mine, theirs = per_example_grads(bnn.BatchNorm1d), per_example_grads(nn.BatchNorm1d)
    for name in theirs:
        torch.testing.assert_close(mine[name], theirs[name])


def conv_bn_relu(norm):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), norm(4), nn.ReLU())
    for _ in range(3):
        model(torch.randn(8, 3, 6, 6))
    return model.eval()


def test_quantization_fuse_modules_with_the_mapping():
    model = conv_bn_relu(bnn.BatchNorm2d)
    config = {"additional_fuser_method_mapping": FUSER_METHOD_MAPPING}
    fused = fuse_modules(model, [["0", "1", "2"]], fuse_custom_config_dict=config)
    reference = fuse_modules(conv_bn_relu(nn.BatchNorm2d), [["0", "1", "2"]])
    assert [type(m) for m in fused] == [type(m) for m in reference]
    x = torch.randn(2, 3, 6, 6)
    torch.testing.assert_close(fused(x), model(x))
    torch.testing.assert_close(fused(x), reference(x))


def test_fold_graph_is_the_fx_fusion_for_any_batchnorm():
    x = torch.randn(2, 3, 6, 6)
    for norm in (bnn.BatchNorm2d, nn.BatchNorm2d):
        model = conv_bn_relu(norm)
        folded = fold_graph(model)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
        torch.testing.assert_close(folded(x), model(x))
        assert model[1].running_mean is not None  # o original não mudou
    with pytest.raises(ValueError, match="model.eval"):
        fold_graph(conv_bn_relu(bnn.BatchNorm2d).train())


def test_is_batchnorm():
    for layer in (bnn.BatchNorm1d(2), bnn.BatchNorm2d(2), bnn.BatchNorm3d(2), bnn.SyncBatchNorm(2)):
        assert bnn.is_batchnorm(layer)
        assert isinstance(layer, nn.modules.batchnorm._BatchNorm)
    assert not bnn.is_batchnorm(bnn.BatchRenorm1d(2))
    assert not bnn.is_batchnorm(nn.LayerNorm(2))


# --- As outras camadas usam as mesmas regras ---------------------------------------------


def test_sync_batchnorm_one_value_per_channel_raises_like_batchnorm():
    # Antes a BN sincronizada usava max(m - 1, 1) calada; agora é o erro da BN.
    with pytest.raises(ValueError, match="mais de um valor"):
        bnn.SyncBatchNorm(3)(torch.randn(1, 3))
    layer, reference = bnn.SyncBatchNorm(3, momentum=None), nn.BatchNorm1d(3, momentum=None)
    for _ in range(3):
        x = torch.randn(5, 3, 2) * 3 + 1
        torch.testing.assert_close(layer(x), reference(x))
    torch.testing.assert_close(layer.running_var, reference.running_var)
    assert layer.num_batches_tracked.item() == 3


def test_renorm_and_grouped_batchnorm_share_the_checks():
    with pytest.raises(ValueError, match="mais de um valor"):
        bnn.BatchRenorm1d(3)(torch.randn(1, 3))
    with pytest.raises(ValueError, match="mais de um valor"):
        bnn.GroupedBatchNorm2d(3, group_size=1)(torch.randn(4, 3, 1, 1))
