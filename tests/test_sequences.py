"""Normalizações de sequências (RMS, camada, lote com máscara) e o transformer pequeno."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from bnlib.core import alternatives as alt
from bnlib.core.gradcheck import numerical_gradient, scaled_error
from bnlib.lab import sequences as seq
from bnlib.lab import transformer as tr
from bnlib.nn import RMSNorm, SequenceBatchNorm, SequenceLayerNorm

TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}

shapes = st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 9))


# --- numpy: bnlib.core.alternatives.rms_norm_forward / rms_norm_backward -----------------


@given(shape=shapes, seed=st.integers(0, 10_000), three_dims=st.booleans())
def test_rms_norm_numpy_matches_torch_float64(shape, seed, three_dims):
    rng = np.random.default_rng(seed)
    shape = shape if three_dims else (shape[0] * shape[1], shape[2])
    x = rng.normal(1.0, 3.0, size=shape)
    gamma, dy = rng.normal(size=shape[-1]), rng.normal(size=shape)
    y, cache = alt.rms_norm_forward(x, gamma, eps=1e-6)
    dx, dgamma = alt.rms_norm_backward(dy, cache)

    xt = torch.from_numpy(x).requires_grad_()
    gt = torch.from_numpy(gamma).requires_grad_()
    yt = F.rms_norm(xt, (shape[-1],), gt, eps=1e-6)
    (yt * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dgamma, gt.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("shape", [(4, 7), (3, 5, 6), (2, 1, 3)])
def test_rms_norm_numpy_gradient_check(shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(0.5, 2.0, size=shape)
    gamma, dy = rng.normal(size=shape[-1]), rng.normal(size=shape)
    _, cache = alt.rms_norm_forward(x, gamma)
    dx, dgamma = alt.rms_norm_backward(dy, cache)
    dx_num = numerical_gradient(lambda z: alt.rms_norm_forward(z, gamma)[0], x.copy(), dy)
    dgamma_num = numerical_gradient(lambda g: alt.rms_norm_forward(x, g)[0], gamma.copy(), dy)
    assert scaled_error(dx, dx_num) < 1e-8
    assert scaled_error(dgamma, dgamma_num) < 1e-8


def test_rms_norm_numpy_gradient_check_fails_on_a_wrong_backward():
    """A verificação distingue: sem o termo de projeção o gradiente fica errado."""
    rng = np.random.default_rng(3)
    x, gamma, dy = rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=(3, 5))
    _, cache = alt.rms_norm_forward(x, gamma)
    wrong = dy * gamma * cache.inv_rms[..., None]
    dx_num = numerical_gradient(lambda z: alt.rms_norm_forward(z, gamma)[0], x.copy(), dy)
    assert scaled_error(wrong, dx_num) > 1e-2


def test_rms_norm_numpy_float32_and_definition():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 1.0, size=(5, 8)).astype(np.float32)
    gamma = rng.normal(size=8).astype(np.float32)
    y, cache = alt.rms_norm_forward(x, gamma, eps=1e-6)
    assert y.dtype == np.float32 and cache.x_hat.dtype == np.float32
    x64 = x.astype(np.float64)
    expected = gamma * x64 / np.sqrt((x64**2).mean(axis=1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    reference = F.rms_norm(torch.from_numpy(x), (8,), torch.from_numpy(gamma), eps=1e-6)
    np.testing.assert_allclose(y, reference.numpy(), rtol=1e-5, atol=1e-6)
    # sem subtrair a média: a média de x_hat não é zero, mas a média dos quadrados é 1
    assert np.abs(cache.x_hat.mean(axis=1)).min() > 0.5
    np.testing.assert_allclose((cache.x_hat.astype(np.float64) ** 2).mean(axis=1), 1, rtol=1e-5)


def test_rms_norm_numpy_errors_are_clear():
    with pytest.raises(ValueError, match=r"`x` deve ter pelo menos 2 dimensões.*\(4,\)"):
        alt.rms_norm_forward(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match=r"`gamma` deve ter shape \(3,\)"):
        alt.rms_norm_forward(np.ones((2, 3)), np.ones(4))
    with pytest.raises(TypeError, match="`x` deve conter números de ponto flutuante"):
        alt.rms_norm_forward(np.ones((2, 3), dtype=int), np.ones(3))
    with pytest.raises(ValueError, match="`eps`"):
        alt.rms_norm_forward(np.ones((2, 3)), np.ones(3), eps=-1.0)
    with pytest.raises(TypeError, match="`cache`"):
        alt.rms_norm_backward(np.ones((2, 3)), cache=None)
    _, cache = alt.rms_norm_forward(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"`dy` deve ter o mesmo shape.*\(2, 3\)"):
        alt.rms_norm_backward(np.ones((3, 2)), cache)


# --- torch: bnlib.nn.sequence ------------------------------------------------------------


def _compare_modules(ours, theirs, shape, dtype, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
            p_theirs.copy_(torch.randn(p_theirs.shape, generator=generator, dtype=dtype))
            p_ours.copy_(p_theirs)
    x = (torch.randn(shape, generator=generator, dtype=dtype) * 3 + 1).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    dy = torch.randn(shape, generator=generator, dtype=dtype)
    y, y_ref = ours(x), theirs(x_ref)
    (y * dy).sum().backward()
    (y_ref * dy).sum().backward()
    tol = TOLERANCE[dtype]
    torch.testing.assert_close(y, y_ref, atol=tol, rtol=tol)
    torch.testing.assert_close(x.grad, x_ref.grad, atol=tol * 10, rtol=tol * 10)
    for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(p_ours.grad, p_theirs.grad, atol=tol * 10, rtol=tol * 10)


@settings(deadline=None, max_examples=30)
@given(shape=shapes, dtype=st.sampled_from([torch.float32, torch.float64]), seed=st.integers())
def test_rms_norm_module_matches_torch(shape, dtype, seed):
    d = shape[-1]
    ours = RMSNorm(d, eps=1e-6).to(dtype)
    theirs = torch.nn.RMSNorm(d, eps=1e-6).to(dtype)
    _compare_modules(ours, theirs, shape, dtype, seed % 2**32)


@settings(deadline=None, max_examples=30)
@given(shape=shapes, dtype=st.sampled_from([torch.float32, torch.float64]), seed=st.integers())
def test_sequence_layer_norm_matches_torch(shape, dtype, seed):
    d = shape[-1]
    ours = SequenceLayerNorm(d).to(dtype)
    theirs = torch.nn.LayerNorm(d).to(dtype)
    _compare_modules(ours, theirs, shape, dtype, seed % 2**32)


def test_rms_norm_module_gradcheck_and_numpy_agree():
    torch.manual_seed(0)
    layer = RMSNorm(5).double()
    with torch.no_grad():
        layer.weight.normal_()
    x = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))
    y_numpy, _ = alt.rms_norm_forward(x.detach().numpy(), layer.weight.detach().numpy())
    np.testing.assert_allclose(layer(x).detach().numpy(), y_numpy, rtol=1e-12, atol=1e-12)


def test_rms_norm_without_affine_and_repr():
    layer = RMSNorm(4, elementwise_affine=False)
    assert layer.weight is None and list(layer.parameters()) == []
    x = torch.randn(3, 4)
    torch.testing.assert_close(layer(x), F.rms_norm(x, (4,), eps=1e-6))
    assert "4, eps=1e-06" in repr(layer)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("options", [{}, {"momentum": 0.3, "eps": 1e-3}, {"affine": False}])
def test_sequence_batchnorm_without_mask_is_torch_batchnorm1d(dtype, options):
    torch.manual_seed(0)
    ours = SequenceBatchNorm(6, **options).to(dtype)
    theirs = torch.nn.BatchNorm1d(6, **options).to(dtype)
    x = torch.randn(4, 7, 6, dtype=dtype) * 2 + 3
    tol = TOLERANCE[dtype]
    for _ in range(3):  # modo de treino: saídas e estatísticas acumuladas
        torch.testing.assert_close(
            ours(x), theirs(x.transpose(1, 2)).transpose(1, 2), atol=tol, rtol=tol
        )
    torch.testing.assert_close(ours.running_mean, theirs.running_mean, atol=tol, rtol=tol)
    torch.testing.assert_close(ours.running_var, theirs.running_var, atol=tol, rtol=tol)
    ours.eval()
    theirs.eval()
    torch.testing.assert_close(ours(x), theirs(x.transpose(1, 2)).transpose(1, 2))


def test_sequence_batchnorm_ignores_padding_only_when_asked():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]]) > 0
    masked = SequenceBatchNorm(4, ignore_padding=True).double()
    reference = torch.nn.BatchNorm1d(4).double()
    y = masked(x, mask)
    torch.testing.assert_close(y[mask], reference(x[mask]))
    assert (y[~mask] == 0).all()
    torch.testing.assert_close(masked.running_mean, reference.running_mean)
    torch.testing.assert_close(masked.running_var, reference.running_var)
    y.sum().backward()
    assert (x.grad[~mask] == 0).all()  # o preenchimento não recebe gradiente
    # o preenchimento não muda as posições reais
    x2 = x.detach().clone()
    x2[~mask] = 100.0
    torch.testing.assert_close(masked(x2, mask)[mask], y[mask].detach())
    # sem ignore_padding a máscara não muda nada: o preenchimento entra nas estatísticas
    plain = SequenceBatchNorm(4).double()
    torch.testing.assert_close(plain(x.detach(), mask), plain(x.detach()))
    assert not torch.allclose(plain(x2, mask)[mask], plain(x.detach(), mask)[mask])


def test_sequence_norm_errors_are_clear():
    with pytest.raises(ValueError, match=r"D = 4 no último eixo; recebido shape \(2, 3\)"):
        RMSNorm(4)(torch.randn(2, 3))
    with pytest.raises(ValueError, match="`normalized_shape` deve ser um inteiro positivo"):
        RMSNorm((4,))
    with pytest.raises(ValueError, match="`eps`"):
        RMSNorm(4, eps=-1.0)
    with pytest.raises(ValueError, match=r"`mask` deve ser um tensor booleano de shape \(2, 3\)"):
        SequenceBatchNorm(4, ignore_padding=True)(torch.randn(2, 3, 4), torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"mais de uma posição.*\(1, 1, 4\), com 1 posição"):
        SequenceBatchNorm(4)(torch.randn(1, 1, 4))
    one_real = torch.tensor([[True, False, False]])
    with pytest.raises(ValueError, match="com 1 posição"):
        SequenceBatchNorm(4, ignore_padding=True)(torch.randn(1, 3, 4), one_real)
    SequenceBatchNorm(4).eval()(torch.randn(1, 1, 4))  # na avaliação, um valor basta
    with pytest.raises(ValueError, match="SequenceLayerNorm"):
        SequenceLayerNorm(4)(torch.randn(2, 3, 5))


# --- laboratório: bnlib.lab.sequences -----------------------------------------------------


def test_tasks_are_what_they_say():
    for task in seq.TASKS:
        data = seq.make_sequence_task(task, 50, 2, 7, vocab_size=6, seed=4)
        again = seq.make_sequence_task(task, 50, 2, 7, vocab_size=6, seed=4)
        assert torch.equal(data.tokens, again.tokens)
        assert data.tokens.shape == (50, 7) and data.lengths.min() >= 2
        assert torch.equal(data.mask.sum(1), data.lengths)
        assert (data.targets[~data.mask] == seq.IGNORE).all()
        assert data.targets[data.mask].max() < seq.num_classes(6, 7)
        for tokens, targets, length in zip(data.tokens, data.targets, data.lengths, strict=True):
            real, wanted = tokens[:length].tolist(), targets[:length].tolist()
            if task == "sort":
                assert wanted == sorted(real)
            elif task == "reverse":
                assert wanted == real[::-1]
            else:
                assert wanted == [real.count(v) for v in real]


def test_masked_moments_match_numpy():
    torch.manual_seed(0)
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    mask = torch.rand(4, 6) > 0.4
    mask[0, 0] = True
    mean, var = seq.masked_moments(x, mask)
    real = x.numpy()[mask.numpy()]
    np.testing.assert_allclose(mean.numpy(), real.mean(axis=0))
    np.testing.assert_allclose(var.numpy(), real.var(axis=0))
    with pytest.raises(ValueError, match="nenhuma posição real"):
        seq.masked_moments(x, torch.zeros(4, 6, dtype=torch.bool))


@pytest.mark.parametrize("norm", ["ln", "rms", "bn_masked"])
@pytest.mark.parametrize("pre_norm", [True, False])
def test_padding_and_companions_do_not_change_per_token_norms(norm, pre_norm):
    """Com LN e RMS (e com a BN com máscara no modo de avaliação) cada sequência é
    processada sozinha: nem o preenchimento nem as outras sequências mudam a saída."""
    data = seq.make_sequence_task("sort", 8, 2, 9, seed=0)
    torch.manual_seed(0)
    model = tr.make_tiny_transformer(10, 11, 9, norm=norm, pre_norm=pre_norm).eval()
    with torch.no_grad():
        together = model(data.tokens)
        for i, length in enumerate(data.lengths.tolist()):
            alone = model(data.tokens[i : i + 1, :length])
            torch.testing.assert_close(alone[0], together[i, :, :length], atol=1e-5, rtol=1e-5)


def test_batchnorm_in_train_mode_depends_on_the_batch_and_on_the_future():
    torch.manual_seed(0)
    tokens = torch.randint(1, 10, (4, 6))
    for norm, depends in (("bn", True), ("ln", False)):
        torch.manual_seed(1)
        model = tr.make_tiny_transformer(10, 11, 6, norm=norm, causal=True).train()
        with torch.no_grad():
            first = model(tokens)[:, :, 0]
            changed = tokens.clone()
            changed[:, -1] = tokens[:, -1] % 9 + 1  # muda só o último símbolo
            after = model(changed)[:, :, 0]
        assert (first - after).abs().max().item() > 1e-4 if depends else torch.equal(first, after)


def test_training_learns_warms_up_and_keeps_running_statistics():
    data = seq.make_sequence_task("reverse", 500, 2, 6, seed=0)
    torch.manual_seed(0)
    model = tr.make_tiny_transformer(10, 11, 6, norm="bn")
    before = tr.token_accuracy(model, data)
    losses = tr.train_sequence_model(model, data, steps=80, batch_size=32, lr=1e-2, seed=0)
    assert len(losses) == 80 and np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    assert tr.token_accuracy(model, data) > before + 0.2
    running = model.blocks[0].norm1.running_mean.clone()
    tr.token_accuracy(model, data, batch_size=16, train_mode=True)
    assert torch.equal(model.blocks[0].norm1.running_mean, running)
    assert model.training  # o modo é restaurado

    torch.manual_seed(0)
    warm = tr.make_tiny_transformer(10, 11, 6, norm="ln")
    rates = []
    original = torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        rates.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    torch.optim.Adam.step = spy
    try:
        tr.train_sequence_model(warm, data, steps=6, batch_size=8, lr=0.4, warmup_steps=4)
    finally:
        torch.optim.Adam.step = original
    np.testing.assert_allclose(rates, [0.1, 0.2, 0.3, 0.4, 0.4, 0.4])


def test_length_buckets_hold_one_length_each():
    data = seq.make_sequence_task("sort", 200, 3, 8, seed=0)
    buckets = seq.length_buckets(data.lengths)
    assert sum(len(b) for b in buckets) == 200
    for bucket in buckets:
        assert data.lengths[bucket].unique().numel() == 1
    torch.manual_seed(0)
    model = tr.make_tiny_transformer(10, 11, 8, norm="bn")
    lengths = []
    model.register_forward_pre_hook(lambda m, args: lengths.append((args[0] != seq.PAD).sum(1)))
    tr.train_sequence_model(model, data, steps=5, batch_size=8, lr=1e-3, by_length=True)
    assert all(batch.unique().numel() == 1 for batch in lengths)


def test_lab_errors_are_clear():
    with pytest.raises(ValueError, match="`task` deve ser uma de"):
        seq.make_sequence_task("copy", 10, 2, 5)
    with pytest.raises(ValueError, match="`max_length` deve ser um inteiro ≥ 5"):
        seq.make_sequence_task("sort", 10, 5, 3)
    with pytest.raises(ValueError, match="`norm` deve ser uma de"):
        tr.make_tiny_transformer(10, 11, 5, norm="gn")
    with pytest.raises(ValueError, match="divisível por `num_heads`"):
        tr.make_tiny_transformer(10, 11, 5, d_model=30, num_heads=4)
    with pytest.raises(ValueError, match=r"T ≤ 5; recebido shape \(2, 6\)"):
        tr.make_tiny_transformer(10, 11, 5)(torch.ones(2, 6, dtype=torch.long))
    model = tr.make_tiny_transformer(10, 11, 5)
    data = seq.make_sequence_task("sort", 10, 2, 5)
    with pytest.raises(ValueError, match="`lr` deve ser um número positivo"):
        tr.train_sequence_model(model, data, steps=1, batch_size=2, lr=0.0)
