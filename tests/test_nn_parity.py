"""bnlib.nn contra torch.nn com as entradas de teste do próprio PyTorch (``module_db``).

Para cada amostra que o PyTorch usa nos testes de ``nn.BatchNorm1d/2d/3d`` (argumentos do
construtor e entrada), em float32 e float64, no treino e na avaliação: a camada da
``bnlib.nn`` e a do torch, com os mesmos parâmetros, dão as mesmas saídas (valores, dtype,
layout de memória), os mesmos gradientes e as mesmas estatísticas acumuladas ao longo de
três passos; a mesma amostra em *channels-last*; as segundas derivadas conferem com as
numéricas (``gradcheck`` e ``gradgradcheck``); e as entradas de erro do PyTorch levantam a
mesma exceção.
"""

import pytest
import torch
from torch import nn
from torch.testing._internal.common_modules import module_db

from bnlib import nn as bnn

OURS = {
    nn.BatchNorm1d: bnn.BatchNorm1d,
    nn.BatchNorm2d: bnn.BatchNorm2d,
    nn.BatchNorm3d: bnn.BatchNorm3d,
}
INFOS = [info for info in module_db if info.module_cls in OURS]
TOLERANCE = {torch.float32: 2e-6, torch.float64: 1e-13}
CHANNELS_LAST = {4: torch.channels_last, 5: torch.channels_last_3d}


def samples(info, dtype, training):
    torch.manual_seed(0)
    return info.module_inputs_func(
        info, device="cpu", dtype=dtype, requires_grad=True, training=training
    )


def cases():
    for info in INFOS:
        for dtype in TOLERANCE:
            for training in (True, False):
                for index, sample in enumerate(samples(info, dtype, training)):
                    label = f"{info.name}-{sample.desc or index}-{str(dtype)[6:]}-" + (
                        "train" if training else "eval"
                    )
                    yield pytest.param(info, dtype, training, index, id=label)


def make_pair(info, sample, dtype):
    args, kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
    reference = info.module_cls(*args, **kwargs).to(dtype)
    ours = OURS[info.module_cls](*args, **kwargs).to(dtype)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=dtype))
    ours.load_state_dict(reference.state_dict())
    return ours, reference


def scaled_error(a, b):
    if b.numel() == 0:
        return 0.0
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def assert_same_step(ours, reference, x, dtype):
    x_ours = x.detach().clone().requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    y_ours, y_ref = ours(x_ours), reference(x_ref)
    assert y_ours.dtype == y_ref.dtype
    assert y_ours.shape == y_ref.shape
    assert y_ours.stride() == y_ref.stride()
    assert scaled_error(y_ours, y_ref) <= TOLERANCE[dtype]
    dy = torch.randn(y_ref.shape, dtype=dtype)
    inputs_ours = [x_ours, *ours.parameters()]
    inputs_ref = [x_ref, *reference.parameters()]
    grads_ours = torch.autograd.grad(y_ours, inputs_ours, dy)
    grads_ref = torch.autograd.grad(y_ref, inputs_ref, dy)
    for mine, theirs in zip(grads_ours, grads_ref, strict=True):
        assert mine.dtype == theirs.dtype
        assert mine.stride() == theirs.stride()
        assert scaled_error(mine, theirs) <= TOLERANCE[dtype]
    buffers = dict(ours.named_buffers())
    for name, theirs in reference.named_buffers():
        mine = buffers[name]
        assert mine.dtype == theirs.dtype, name
        if theirs.is_floating_point():
            assert scaled_error(mine, theirs) <= TOLERANCE[dtype], name
        else:
            assert torch.equal(mine, theirs), name


@pytest.mark.parametrize(("info", "dtype", "training", "index"), list(cases()))
def test_same_as_torch_on_its_own_samples(info, dtype, training, index):
    sample = samples(info, dtype, training)[index]
    x = sample.forward_input.args[0]
    ours, reference = make_pair(info, sample, dtype)
    torch.manual_seed(2)
    if not training:
        # Três passos de treino antes, para que as estatísticas acumuladas não sejam 0 e 1.
        for _ in range(3):
            assert_same_step(ours, reference, x * 2 + 1, dtype)
    ours.train(training)
    reference.train(training)
    for _ in range(3):
        assert_same_step(ours, reference, x, dtype)
    if x.dim() in CHANNELS_LAST:
        x_last = x.detach().contiguous(memory_format=CHANNELS_LAST[x.dim()])
        assert_same_step(ours, reference, x_last, dtype)


@pytest.mark.parametrize(
    ("info", "training", "index"),
    [
        pytest.param(info, training, index, id=f"{info.name}-{index}-{training}")
        for info in INFOS
        for training in (True, False)
        for index in range(len(samples(info, torch.float64, training)))
    ],
)
def test_gradcheck_and_gradgradcheck_on_torch_samples(info, training, index):
    sample = samples(info, torch.float64, training)[index]
    ours, _ = make_pair(info, sample, torch.float64)
    ours.train(training)
    x = sample.forward_input.args[0].detach().requires_grad_()
    inputs = (x, *ours.parameters())

    def function(x, *parameters):
        return torch.func.functional_call(
            ours, dict(zip([n for n, _ in ours.named_parameters()], parameters, strict=True)), (x,)
        )

    assert torch.autograd.gradcheck(function, inputs, fast_mode=True)
    assert torch.autograd.gradgradcheck(function, inputs, fast_mode=True)


def outcome(layer, x):
    try:
        return layer(x)
    except Exception as error:  # o tipo da exceção é o que se compara
        return error


@pytest.mark.parametrize("info", INFOS, ids=lambda info: info.name)
@pytest.mark.parametrize("training", [True, False])
def test_torch_error_inputs_raise_the_same_exception(info, training):
    errors = info.module_error_inputs_func(
        info, device="cpu", dtype=torch.float32, requires_grad=False, training=training
    )
    assert errors
    for error in errors:
        sample = error.module_error_input
        args, kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
        x = sample.forward_input.args[0]
        mine = outcome(OURS[info.module_cls](*args, **kwargs).train(training), x)
        theirs = outcome(info.module_cls(*args, **kwargs).train(training), x)
        assert type(mine) is type(theirs)
        if training:
            # No treino, eps = 0 e eps = -1 são erros (fora dele, só eps < 0).
            assert isinstance(mine, error.error_type)
        if isinstance(mine, Exception):
            assert "`eps`" in str(mine)
