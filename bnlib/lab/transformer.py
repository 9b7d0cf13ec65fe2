"""Um transformer pequeno, com a normalização escolhida, e o seu treino nas sequências de brinquedo.

Capítulo: ``book/redes/sequencias``. Os dados estão em :mod:`bnlib.lab.sequences`.

- :func:`make_tiny_transformer`: um codificador de poucas camadas com a normalização
  escolhida (``"bn"``, ``"bn_masked"``, ``"ln"``, ``"rms"``) antes ou depois de cada subcamada;
- :func:`train_sequence_model`: Adam com aquecimento (*warm-up*) opcional da taxa de
  aprendizado e minilotes sorteados com semente, misturados ou agrupados por comprimento;
- :func:`token_accuracy`: fração de posições reais previstas corretamente.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from bnlib.core.validation import check_int
from bnlib.lab.sequences import PAD, SequenceData, length_buckets
from bnlib.nn.sequence import RMSNorm, SequenceBatchNorm, SequenceLayerNorm

NORMS = {
    "bn": SequenceBatchNorm,
    "bn_masked": lambda d: SequenceBatchNorm(d, ignore_padding=True),
    "ln": SequenceLayerNorm,
    "rms": RMSNorm,
}


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
        check_int(value, name, 1, where)
    if d_model % num_heads:
        raise ValueError(
            f"{where}: `d_model` ({d_model}) deve ser divisível por `num_heads` ({num_heads})."
        )
    return TinyTransformer(
        vocab_size, num_classes, max_length, d_model, num_heads, num_layers, norm, pre_norm, causal
    )


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
        Semente do sorteio dos minilotes.
    warmup_steps : int
        Se > 0, a taxa cresce linearmente de ``lr / warmup_steps`` até ``lr`` nesses passos.
    by_length : bool
        ``False``: sequências sorteadas do conjunto todo. ``True``: cada minilote sorteia um
        comprimento e só sequências desse comprimento (agrupamento por comprimento, que evita
        o preenchimento).

    Returns
    -------
    list of float
        A perda de cada passo; para no primeiro valor não finito (a divergência).
    """
    where = "train_sequence_model"
    check_int(steps, "steps", 1, where)
    check_int(batch_size, "batch_size", 1, where)
    check_int(warmup_steps, "warmup_steps", 0, where)
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
