"""Velocidade das camadas BN de ``bnlib.nn`` contra as do torch, na CPU.

Uso (a partir da raiz do repositório)::

    .venv/bin/python benchmarks/nn_speed.py            # completo: ~1 min numa máquina calma
    .venv/bin/python benchmarks/nn_speed.py --quick    # menos repetições
    .venv/bin/python benchmarks/nn_speed.py --clock cpu  # tempo de CPU (máquina ocupada)

Não faz parte da suíte de testes. Mede, na mesma execução e com 1 *thread* do torch:

- a camada sozinha, passo direto + retropropagação (treino), nos shapes das metas,
  (4096, 1024) e (64, 64, 32, 32), em float32 (e float64): ``torch.nn.BatchNorm1d/2d``,
  ``bnlib.nn.BatchNorm1d/2d`` (a versão rápida, :mod:`bnlib.nn.fast`) e a versão legível
  (:func:`bnlib.nn.functional.batch_norm_reference`, gradientes do *autograd*);
- o mesmo com média 10⁴ (a versão rápida passa às contas centradas), e no modo de avaliação;
- um passo de treino inteiro de uma LeNet com BN (MNIST, minilote de 64), com as BN do torch
  e com as da ``bnlib``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bnlib import nn as bnn  # noqa: E402
from bnlib.lab.timing import median_times  # noqa: E402
from bnlib.nn.batchnorm import batch_norm  # noqa: E402

TARGET_SHAPES = [(4096, 1024), (64, 64, 32, 32)]
TARGET_RATIO = 2.0


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def layer_variants(shape, dtype, shift=1.0, training=True):
    """Funções sem argumentos: um passo direto + retropropagação de cada versão da camada."""
    generator = torch.Generator().manual_seed(0)
    x = (torch.randn(shape, generator=generator, dtype=dtype) * 2 + shift).requires_grad_()
    dy = torch.randn(shape, generator=generator, dtype=dtype)
    kind = {2: (nn.BatchNorm1d, bnn.BatchNorm1d), 4: (nn.BatchNorm2d, bnn.BatchNorm2d)}
    theirs, ours = (cls(shape[1], dtype=dtype).train(training) for cls in kind[len(shape)])
    readable = ours.__class__(shape[1], dtype=dtype).train(training)

    def run_module(layer):
        def run():
            x.grad = layer.weight.grad = layer.bias.grad = None
            layer(x).backward(dy)

        return run

    def run_readable():
        x.grad = readable.weight.grad = readable.bias.grad = None
        y = batch_norm(
            x,
            readable.running_mean,
            readable.running_var,
            readable.weight,
            readable.bias,
            training,
            0.1,
            readable.eps,
            fast=False,
        )
        y.backward(dy)

    return {
        "torch": run_module(theirs),
        "bnlib rápida": run_module(ours),
        "bnlib legível": run_readable,
    }


def lenet(norm1d, norm2d):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2, bias=False),
        norm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, bias=False),
        norm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120, bias=False),
        norm1d(120),
        nn.ReLU(),
        nn.Linear(120, 84, bias=False),
        norm1d(84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def training_step_variants(batch_size=64):
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(batch_size, 1, 28, 28, generator=generator)
    y = torch.randint(10, (batch_size,), generator=generator)
    variants = {}
    for name, norms in (
        ("torch", (nn.BatchNorm1d, nn.BatchNorm2d)),
        ("bnlib rápida", (bnn.BatchNorm1d, bnn.BatchNorm2d)),
    ):
        model = lenet(*norms)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step(model=model, optimizer=optimizer):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()

        variants[name] = step
    return variants


def print_rows(label, times):
    base = times["torch"]
    for name, seconds in times.items():
        print(f"{label:>34} {name:>14} {seconds * 1e3:9.2f} {seconds / base:8.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="menos repetições")
    parser.add_argument("--repeats", type=int, default=21, help="repetições por variante")
    parser.add_argument("--warmup", type=int, default=3, help="execuções descartadas")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    repeats = 7 if args.quick else args.repeats
    torch.set_num_threads(1)
    started = time.perf_counter()

    print("# Velocidade das camadas BN: bnlib.nn contra torch.nn (CPU, 1 thread)")
    print(f"data: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"CPU: {cpu_name()}, {os.cpu_count()} núcleos lógicos")
    print(f"python {platform.python_version()}, torch {torch.__version__}")
    if hasattr(os, "getloadavg"):
        print("carga do sistema (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    print(
        f"\nMétodo: {args.warmup} execuções de aquecimento por variante; depois {repeats} em "
        "rodízio entre as variantes; vale a mediana. Relógio: "
        + ("tempo de relógio (perf_counter)." if args.clock == "wall" else "tempo de CPU.")
        + "\nCada execução da camada: passo direto + retropropagação de dy, com gradientes "
        "em relação a x, weight e bias; razão = tempo / torch."
    )
    print(f"\n{'caso':>34} {'variante':>14} {'ms':>9} {'/torch':>8}")
    verdicts = []
    cases = [(shape, torch.float32, 1.0, True) for shape in TARGET_SHAPES]
    if not args.quick:
        cases += [(shape, torch.float64, 1.0, True) for shape in TARGET_SHAPES]
        cases += [(shape, torch.float32, 1e4, True) for shape in TARGET_SHAPES]
        cases += [(shape, torch.float32, 1.0, False) for shape in TARGET_SHAPES]
    for shape, dtype, shift, training in cases:
        times = median_times(
            layer_variants(shape, dtype, shift, training), repeats, args.warmup, clock
        )
        label = f"{shape} {str(dtype)[6:]}"
        label += " treino" if training else " avaliação"
        label += ", média 1e4" if shift != 1.0 else ""
        print_rows(label, times)
        if dtype == torch.float32 and shift == 1.0 and training:
            verdicts.append((shape, times["bnlib rápida"] / times["torch"]))
    times = median_times(training_step_variants(), repeats, args.warmup, clock)
    print_rows("LeNet com BN, passo de treino (64)", times)

    print(f"\n## Meta: camada em float32, treino, no máximo {TARGET_RATIO}× torch (1 thread)")
    for shape, ratio in verdicts:
        ok = "atingida" if ratio <= TARGET_RATIO else "NÃO atingida"
        print(f"{str(shape):>18}: bnlib rápida {ratio:.2f}× torch -> {ok}")
    print(f"duração do benchmark: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
