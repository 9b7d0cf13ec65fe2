"""Camadas de normalização em lote para PyTorch, com a conta escrita na ``bnlib``.

``BatchNorm1d``, ``BatchNorm2d`` e ``BatchNorm3d`` substituem as camadas do mesmo nome de
``torch.nn`` sem mudar nada no resto do código: mesmos argumentos no construtor, mesmos
parâmetros (``weight`` = gamma, ``bias`` = beta) e *buffers* (``running_mean``,
``running_var``, ``num_batches_tracked``), mesmas chaves no ``state_dict``, mesmas saídas,
gradientes, dtypes e layouts de memória, e os mesmos tipos de exceção nos mesmos casos (com
as mensagens em português).

**Por que elas derivam das classes do PyTorch.** Cada camada é uma subclasse de
``torch.nn.BatchNorm1d`` (``2d``, ``3d``), mas redefine o passo direto: a média, a variância,
a normalização, as estatísticas acumuladas e a retropropagação são as de
:mod:`bnlib.nn.functional` e :mod:`bnlib.nn.fast`; ``torch.nn.functional.batch_norm`` nunca
é chamada. Do PyTorch vêm só o construtor, os *buffers* e a leitura de ``state_dict``
antigos. Herdar o tipo é o que faz as ferramentas que procuram camadas BN pelo tipo
(``isinstance``) encontrarem as da ``bnlib``: ``torch.nn.SyncBatchNorm.convert_sync_batchnorm``,
``torch.func.replace_all_batch_norm_modules_``, a fusão de :mod:`bnlib.nn.folding`. O
TorchScript (``torch.jit.script`` e ``torch.jit.trace``) usa a versão legível, que pode ser
salva com ``torch.jit.save``; o ``torch.fx`` grava a camada
como um nó ``call_module``, como faz com as do PyTorch, e o modo (treino ou avaliação)
continua valendo depois do traçado. Duas ferramentas comparam o tipo **exato**
(``type(m) is nn.BatchNorm2d``) e não podem reconhecer uma subclasse:
``torch.ao.quantization.fuse_modules``, que aceita
:data:`bnlib.nn.folding.FUSER_METHOD_MAPPING` em ``fuse_custom_config_dict``, e
``torch.fx.experimental.optimization.fuse``, cujo equivalente é
:func:`bnlib.nn.folding.fold_graph`.

**Modo estrito** (``strict=True``, só com palavra-chave): para quem está aprendendo, recusa
o que o PyTorch aceita calado: ``num_features`` que não é um inteiro positivo, ``eps`` ≤ 0
e ``momentum`` fora de [0, 1] no construtor (``ValueError``); uma entrada com número de
canais diferente de ``num_features`` mesmo sem parâmetros nem estatísticas acumuladas
(``RuntimeError``); e um minilote vazio no treino (``ValueError``). O padrão,
``strict=False``, é o comportamento do PyTorch.

Como no PyTorch, valores NaN na entrada não são verificados (isso custaria uma passada a
mais e esconderia a divergência de um treino).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bnlib.nn.fast import batch_norm_function
from bnlib.nn.functional import batch_norm_reference, torch_layout
from bnlib.nn.validation import (
    check_channels,
    check_constructor,
    check_eps,
    check_input_dims,
    check_per_channel,
    compute_dtype,
    verify_batch_size,
)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
    name: str = "batch_norm",
    fast: bool = True,
) -> Tensor:
    """A BN como função, com o contrato de ``torch.nn.functional.batch_norm``.

    Parameters
    ----------
    input : Tensor, shape (N, C, ...)
    running_mean, running_var : Tensor, shape (C,), ou None
        Com ``training``, atualizadas no lugar (se dadas); sem, usadas para normalizar.
    weight, bias : Tensor, shape (C,), ou None
    training : bool
        Normalizar com as estatísticas do minilote.
    momentum : float
        Peso do minilote na atualização das estatísticas acumuladas.
    eps : float
    name : str
        Quem chama, para as mensagens de erro.
    fast : bool
        ``True``: :class:`bnlib.nn.fast.BatchNormFunction` (retropropagação escrita à mão);
        ``False``: :func:`bnlib.nn.functional.batch_norm_reference` (gradientes do
        *autograd*). O TorchScript (``torch.jit.script`` e ``torch.jit.trace``) usa sempre a
        segunda.

    Returns
    -------
    Tensor
        Shape e dtype de ``input``; o layout de memória que o PyTorch daria.
    """
    if training:
        verify_batch_size(input, name)
    check_eps(eps, training, name)
    if input.numel() == 0:
        # Como no PyTorch: uma saída vazia ligada a weight e bias (gradientes zero).
        out = input.clone()
        if weight is not None:
            out = out * weight[0]
        if bias is not None:
            out = out + bias[0]
        return out
    check_per_channel(input, running_mean, "running_mean", name)
    check_per_channel(input, running_var, "running_var", name)
    check_per_channel(input, weight, "weight", name)
    check_per_channel(input, bias, "bias", name)
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(
            f"{name}: fora do treino, `running_mean` e `running_var` são necessárias para "
            f"normalizar com as estatísticas acumuladas."
        )
    dtype = compute_dtype(
        input,
        [running_mean, running_var, weight, bias],
        ["running_mean", "running_var", "weight", "bias"],
        name,
    )
    x = input.to(dtype)
    w = weight if weight is None else weight.to(dtype)
    b = bias if bias is None else bias.to(dtype)
    if not torch.jit.is_scripting():
        if fast and not torch.jit.is_tracing():
            function = batch_norm_function()
            y = function.apply(x, w, b, running_mean, running_var, training, momentum, eps)
            return y[0].to(input.dtype)
    y = batch_norm_reference(x, running_mean, running_var, w, b, training, momentum, eps)
    return torch_layout(input, y).to(input.dtype)


def as_fx_leaf(module: nn.Module, input):
    """Sob o ``torch.fx``, grava ``module(input)`` como um nó ``call_module``; senão, ``None``.

    O ``torch.fx`` não entra nas camadas de ``torch.nn`` (grava uma chamada à camada), mas
    entraria nas da ``bnlib`` e congelaria o modo (treino ou avaliação) do momento do
    traçado. Chamada no início do ``forward``, esta função faz o traçado tratá-las como as
    do torch. Quando a própria camada é a raiz do traçado, devolve ``None`` (o torch também
    percorre o ``forward`` da raiz).
    """
    if isinstance(input, torch.fx.Proxy) and input.tracer.root is not module:
        tracer = input.tracer
        return tracer.create_proxy("call_module", tracer.path_of_module(module), (input,), {})
    return None


class _Forward:
    """O passo direto comum às camadas BN da ``bnlib`` (a lógica do ``forward`` do PyTorch)."""

    def _init_strict(self, strict: bool, num_features, eps, momentum) -> None:
        if strict:
            check_constructor(num_features, eps, momentum, type(self).__name__)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + ", strict=True" if self.strict else text

    def forward(self, input: Tensor) -> Tensor:
        name = "BatchNorm"
        if not torch.jit.is_scripting():
            name = type(self).__name__
            traced = as_fx_leaf(self, input)
            if traced is not None:
                return traced
        self._check_input_dim(input)
        if self.strict:
            check_channels(input, self.num_features, name)
            if self.training:
                verify_batch_size(input, name, strict=True)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
                if self.momentum is None:
                    factor = 1.0 / float(self.num_batches_tracked)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
            name,
        )


class BatchNorm1d(_Forward, nn.BatchNorm1d):
    """Normalização em lote para entradas (N, C) ou (N, C, L).

    Estatísticas por atributo C, sobre N (e L). Mesmos argumentos de
    ``torch.nn.BatchNorm1d``, mais ``strict`` (veja o modo estrito em
    :mod:`bnlib.nn.batchnorm`).

    Examples
    --------
    >>> bn = BatchNorm1d(3)
    >>> bn(torch.randn(8, 3)).shape
    torch.Size([8, 3])
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
        strict: bool = False,
    ) -> None:
        self._init_strict(strict, num_features, eps, momentum)
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )
        self.strict = strict

    def _check_input_dim(self, input: Tensor) -> None:
        layouts = "2 dimensões (N, C) ou 3 dimensões (N, C, L)"
        check_input_dims(input, [2, 3], layouts, "BatchNorm1d")


class BatchNorm2d(_Forward, nn.BatchNorm2d):
    """Normalização em lote para imagens (N, C, H, W): estatísticas por canal sobre N, H, W.

    Mesmos argumentos de ``torch.nn.BatchNorm2d``, mais ``strict``.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
        strict: bool = False,
    ) -> None:
        self._init_strict(strict, num_features, eps, momentum)
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )
        self.strict = strict

    def _check_input_dim(self, input: Tensor) -> None:
        check_input_dims(input, [4], "4 dimensões (N, C, H, W)", "BatchNorm2d")


class BatchNorm3d(_Forward, nn.BatchNorm3d):
    """Normalização em lote para volumes (N, C, D, H, W), por canal sobre N, D, H, W.

    Mesmos argumentos de ``torch.nn.BatchNorm3d``, mais ``strict``.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
        strict: bool = False,
    ) -> None:
        self._init_strict(strict, num_features, eps, momentum)
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )
        self.strict = strict

    def _check_input_dim(self, input: Tensor) -> None:
        check_input_dims(input, [5], "5 dimensões (N, C, D, H, W)", "BatchNorm3d")


TORCH_BATCHNORM_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def is_batchnorm(module: nn.Module) -> bool:
    """``True`` para camadas BN do torch (1d, 2d, 3d, sincronizada) ou da ``bnlib.nn``.

    As da ``bnlib.nn`` são subclasses das do torch; a renormalização em lote não conta.
    """
    return isinstance(module, TORCH_BATCHNORM_TYPES)
