"""Sequências de brinquedo e um transformer pequeno para comparar normalizações.

Capítulo: ``book/redes/sequencias``.

- :func:`make_sequence_task`: sequências de inteiros de comprimentos variados, completadas
  com preenchimento (*padding*), e o alvo de cada posição (ordenar, inverter, contar);
- :func:`masked_moments`: média e variância de cada atributo só sobre as posições reais;
- :func:`make_tiny_transformer`: um codificador de poucas camadas com a normalização
  escolhida (``"bn"``, ``"bn_masked"``, ``"ln"``, ``"rms"``) antes ou depois de cada subcamada;
- :func:`train_sequence_model`: Adam com aquecimento (*warm-up*) opcional da taxa de
  aprendizado e mini-lotes sorteados com semente, misturados ou agrupados por comprimento;
- :func:`token_accuracy`: fração de posições reais previstas corretamente.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from bnlib.nn.sequence import RMSNorm, SequenceBatchNorm, SequenceLayerNorm

PAD = 0
"""O símbolo de preenchimento; os símbolos reais são 1, 2, ..., ``vocab_size - 1``."""

IGNORE = -100
"""O alvo das posições de preenchimento (``ignore_index`` da entropia cruzada)."""

TASKS = ("sort", "reverse", "count")

NORMS = {
    "bn": SequenceBatchNorm,
    "bn_masked": lambda d: SequenceBatchNorm(d, ignore_padding=True),
    "ln": SequenceLayerNorm,
    "rms": RMSNorm,
}


class SequenceData(NamedTuple):
    """Um conjunto de sequências completadas até o mesmo comprimento.

    Attributes
    ----------
    tokens : Tensor int64, shape (N, T)
        Os símbolos; ``PAD`` (0) depois do fim de cada sequência.
    targets : Tensor int64, shape (N, T)
        O alvo de cada posição; ``IGNORE`` (-100) no preenchimento.
    lengths : Tensor int64, shape (N,)
        O comprimento real de cada sequência.
    """

    tokens: torch.Tensor
    targets: torch.Tensor
    lengths: torch.Tensor

    @property
    def mask(self) -> torch.Tensor:
        """Tensor booleano (N, T), verdadeiro nas posições reais."""
        return self.tokens != PAD

    def subset(self, index: torch.Tensor) -> SequenceData:
        """As sequências de índices ``index``."""
        return SequenceData(self.tokens[index], self.targets[index], self.lengths[index])


def _check_int(value, name: str, low: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(
            f"{where}: o argumento `{name}` deve ser um inteiro ≥ {low}; recebido {value!r}."
        )
    return value


def make_sequence_task(
    task: str,
    num_sequences: int,
    min_length: int,
    max_length: int,
    vocab_size: int = 10,
    seed: int = 0,
) -> SequenceData:
    """Sequências de símbolos sorteados e o alvo de cada posição real.

    Cada sequência tem comprimento uniforme entre ``min_length`` e ``max_length`` e símbolos
    uniformes em 1, ..., ``vocab_size - 1``; todas são completadas com ``PAD`` até
    ``max_length``. Tarefas:

    - ``"sort"``: na posição t, o t-ésimo menor símbolo da sequência;
    - ``"reverse"``: na posição t, o símbolo da posição ``comprimento - 1 - t``;
    - ``"count"``: na posição t, quantas vezes o símbolo de t aparece na sequência.

    Parameters
    ----------
    task : {"sort", "reverse", "count"}
    num_sequences : int
        N.
    min_length, max_length : int
        1 ≤ ``min_length`` ≤ ``max_length`` = T.
    vocab_size : int
        Número de símbolos, contando o ``PAD``; ≥ 2.
    seed : int

    Returns
    -------
    SequenceData
        Com alvos em 0, ..., ``max(vocab_size, max_length + 1) - 1``.

    Examples
    --------
    >>> data = make_sequence_task("sort", 2, 2, 4, seed=0)
    >>> data.tokens.shape, int(data.mask.sum()) == int(data.lengths.sum())
    (torch.Size([2, 4]), True)
    """
    where = "make_sequence_task"
    if task not in TASKS:
        raise ValueError(f"{where}: `task` deve ser uma de {TASKS}; recebido {task!r}.")
    _check_int(num_sequences, "num_sequences", 1, where)
    _check_int(min_length, "min_length", 1, where)
    _check_int(max_length, "max_length", min_length, where)
    _check_int(vocab_size, "vocab_size", 2, where)
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_length, max_length + 1, (num_sequences,), generator=generator)
    tokens = torch.randint(1, vocab_size, (num_sequences, max_length), generator=generator)
    positions = torch.arange(max_length)
    mask = positions[None, :] < lengths[:, None]
    tokens[~mask] = PAD
    if task == "sort":
        targets = torch.where(mask, tokens, vocab_size).sort(dim=1).values
    elif task == "reverse":
        source = (lengths[:, None] - 1 - positions[None, :]).clamp(min=0)
        targets = tokens.gather(1, source)
    else:
        same = (tokens[:, :, None] == tokens[:, None, :]) & mask[:, None, :]
        targets = same.sum(dim=2)
    targets = torch.where(mask, targets, IGNORE)
    return SequenceData(tokens, targets, lengths)


def num_classes(vocab_size: int, max_length: int) -> int:
    """Classes de saída que cobrem as três tarefas: ``max(vocab_size, max_length + 1)``."""
    return max(vocab_size, max_length + 1)


def masked_moments(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Média e variância enviesada de cada atributo, só sobre as posições reais.

    Parameters
    ----------
    x : Tensor, shape (N, T, D)
    mask : Tensor bool, shape (N, T)
        Verdadeiro nas posições reais; precisa de pelo menos uma.

    Returns
    -------
    mean, var : Tensor, shape (D,)

    Examples
    --------
    >>> x = torch.tensor([[[1.0], [3.0], [0.0]]])
    >>> masked_moments(x, torch.tensor([[True, True, False]]))
    (tensor([2.]), tensor([1.]))
    """
    if x.dim() != 3 or mask.shape != x.shape[:2] or mask.dtype != torch.bool:
        raise ValueError(
            f"masked_moments: `x` deve ter shape (N, T, D) e `mask` ser booleano de shape "
            f"(N, T); recebidos {tuple(x.shape)} e {tuple(mask.shape)} ({mask.dtype})."
        )
    if not mask.any():
        raise ValueError("masked_moments: `mask` não tem nenhuma posição real.")
    real = x[mask]
    return real.mean(dim=0), real.var(dim=0, correction=0)


class _Block(nn.Module):
    """Atenção com várias cabeças e uma rede densa, cada uma com conexão residual e norma."""

    def __init__(self, d_model: int, num_heads: int, norm, pre_norm: bool, causal: bool):
        super().__init__()
        self.num_heads, self.pre_norm, self.causal = num_heads, pre_norm, causal
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, 2 * d_model), nn.ReLU(), nn.Linear(2 * d_model, d_model)
        )
        self.norm1, self.norm2 = norm(d_model), norm(d_model)

    def attention(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = self.qkv(x).reshape(n, t, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        allowed = mask[:, None, None, :]
        if self.causal:
            allowed = allowed & torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        # nenhuma posição olha para o preenchimento (nem para o futuro, se causal); um valor
        # finito em vez de -inf deixa as linhas do preenchimento sem NaN
        bias = torch.zeros(allowed.shape, dtype=x.dtype, device=x.device)
        bias = bias.masked_fill(~allowed, -1e9)
        heads = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return self.out(heads.transpose(1, 2).reshape(n, t, d))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:
            x = x + self.attention(self.norm1(x, mask), mask)
            return x + self.ffn(self.norm2(x, mask))
        x = self.norm1(x + self.attention(x, mask), mask)
        return self.norm2(x + self.ffn(x), mask)


class TinyTransformer(nn.Module):
    """O codificador de :func:`make_tiny_transformer`; devolve *logits* (N, classes, T)."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        max_length: int,
        d_model: int,
        num_heads: int,
        num_layers: int,
        norm: str,
        pre_norm: bool,
        causal: bool,
    ) -> None:
        super().__init__()
        factory = NORMS[norm]
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(max_length, d_model)
        self.blocks = nn.ModuleList(
            _Block(d_model, num_heads, factory, pre_norm, causal) for _ in range(num_layers)
        )
        self.final_norm = factory(d_model) if pre_norm else None
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 2 or tokens.shape[1] > self.position.num_embeddings:
            raise ValueError(
                f"TinyTransformer: `tokens` deve ter shape (N, T) com T ≤ "
                f"{self.position.num_embeddings}; recebido shape {tuple(tokens.shape)}."
            )
        mask = tokens != PAD
        x = self.embedding(tokens) + self.position.weight[: tokens.shape[1]]
        for block in self.blocks:
            x = block(x, mask)
        if self.final_norm is not None:
            x = self.final_norm(x, mask)
        return self.head(x).transpose(1, 2)


def make_tiny_transformer(
    vocab_size: int,
    num_classes: int,
    max_length: int,
    d_model: int = 32,
    num_heads: int = 2,
    num_layers: int = 2,
    norm: str = "ln",
    pre_norm: bool = True,
    causal: bool = False,
) -> TinyTransformer:
    """Um transformer codificador pequeno, com a normalização como argumento.

    Símbolo e posição (*embeddings* aprendidos) → ``num_layers`` blocos → camada densa de
    saída em cada posição. Cada bloco tem atenção (*self-attention*) com ``num_heads``
    cabeças, que nunca olha para o preenchimento, e uma rede densa ``D → 2D → D`` com ReLU.

    - ``pre_norm=False`` (pós-normalização, *Post-LN*, o transformer original):
      ``x = norm(x + subcamada(x))``;
    - ``pre_norm=True`` (pré-normalização, *Pre-LN*): ``x = x + subcamada(norm(x))``, e uma
      normalização a mais antes da saída.

    Parameters
    ----------
    vocab_size, num_classes, max_length : int
        Símbolos (com o ``PAD``), classes de saída e o maior T.
    d_model : int
        D, divisível por ``num_heads``.
    num_heads, num_layers : int
    norm : {"bn", "bn_masked", "ln", "rms"}
        ``"bn"``: normalização em lote sobre todas as posições, inclusive o preenchimento;
        ``"bn_masked"``: só sobre as posições reais; ``"ln"``: de camada; ``"rms"``: RMS.
    pre_norm : bool
    causal : bool
        Se ``True``, a posição t só olha para as posições ≤ t.

    Returns
    -------
    TinyTransformer
        ``model(tokens)`` com ``tokens`` (N, T) devolve *logits* (N, classes, T), a ordem de
        ``torch.nn.functional.cross_entropy``.

    Examples
    --------
    >>> model = make_tiny_transformer(10, 11, 8, norm="rms")
    >>> model(torch.randint(1, 10, (3, 8))).shape
    torch.Size([3, 11, 8])
    """
    where = "make_tiny_transformer"
    if norm not in NORMS:
        raise ValueError(f"{where}: `norm` deve ser uma de {sorted(NORMS)}; recebido {norm!r}.")
    for name, value in (
        ("vocab_size", vocab_size),
        ("num_classes", num_classes),
        ("max_length", max_length),
        ("d_model", d_model),
        ("num_heads", num_heads),
        ("num_layers", num_layers),
    ):
        _check_int(value, name, 1, where)
    if d_model % num_heads:
        raise ValueError(
            f"{where}: `d_model` ({d_model}) deve ser divisível por `num_heads` ({num_heads})."
        )
    return TinyTransformer(
        vocab_size, num_classes, max_length, d_model, num_heads, num_layers, norm, pre_norm, causal
    )


def length_buckets(lengths: torch.Tensor) -> list[torch.Tensor]:
    """Os índices das sequências de cada comprimento, do menor ao maior."""
    return [torch.nonzero(lengths == value).flatten() for value in lengths.unique()]


def _sample(data: SequenceData, batch_size: int, by_length: bool, buckets, generator):
    if not by_length:
        return torch.randint(len(data.lengths), (batch_size,), generator=generator)
    bucket = buckets[int(torch.randint(len(buckets), (1,), generator=generator))]
    return bucket[torch.randint(len(bucket), (batch_size,), generator=generator)]


def train_sequence_model(
    model: nn.Module,
    data: SequenceData,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int = 0,
    warmup_steps: int = 0,
    by_length: bool = False,
) -> list[float]:
    """Treina com Adam e entropia cruzada nas posições reais; devolve a perda de cada passo.

    Parameters
    ----------
    model : nn.Module
        ``model(tokens)`` devolve *logits* (N, classes, T).
    data : SequenceData
    steps, batch_size : int
    lr : float
        Taxa de aprendizado depois do aquecimento.
    seed : int
        Semente do sorteio dos mini-lotes.
    warmup_steps : int
        Se > 0, a taxa cresce linearmente de ``lr / warmup_steps`` até ``lr`` nesses passos.
    by_length : bool
        ``False``: sequências sorteadas do conjunto todo. ``True``: cada mini-lote sorteia um
        comprimento e só sequências desse comprimento (agrupamento por comprimento, que evita
        o preenchimento).

    Returns
    -------
    list of float
        A perda de cada passo; para no primeiro valor não finito (a divergência).
    """
    where = "train_sequence_model"
    _check_int(steps, "steps", 1, where)
    _check_int(batch_size, "batch_size", 1, where)
    _check_int(warmup_steps, "warmup_steps", 0, where)
    if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"{where}: `lr` deve ser um número positivo; recebido {lr!r}.")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
    )
    generator = torch.Generator().manual_seed(seed)
    buckets = length_buckets(data.lengths) if by_length else None
    losses: list[float] = []
    model.train()
    for _ in range(steps):
        index = _sample(data, batch_size, by_length, buckets, generator)
        loss = F.cross_entropy(model(data.tokens[index]), data.targets[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
    return losses


@torch.no_grad()
def token_accuracy(
    model: nn.Module, data: SequenceData, batch_size: int | None = None, train_mode: bool = False
) -> float:
    """Fração das posições reais em que a classe mais provável é o alvo.

    Parameters
    ----------
    model : nn.Module
    data : SequenceData
    batch_size : int, opcional
        Sequências por passo direto; ``None``: todas de uma vez. Com ``batch_size=1`` cada
        sequência é processada sozinha.
    train_mode : bool
        ``False`` (padrão): modo de avaliação (a BN usa as estatísticas acumuladas). ``True``:
        modo de treino numa cópia do modelo, para que as estatísticas acumuladas não mudem.

    Returns
    -------
    float
    """
    was_training = model.training
    if train_mode:
        state = {k: v.clone() for k, v in model.state_dict().items()}
    model.train(train_mode)
    size = len(data.lengths) if batch_size is None else batch_size
    correct = 0
    for start in range(0, len(data.lengths), size):
        part = data.subset(slice(start, start + size))
        predicted = model(part.tokens).argmax(dim=1)
        correct += int(((predicted == part.targets) & part.mask).sum())
    if train_mode:
        model.load_state_dict(state)
    model.train(was_training)
    return correct / int(data.mask.sum())
