"""Velocidade da normalização em lote: bnlib (rápida e didática) contra torch e contra a memória.

Uso (a partir da raiz do repositório)::

    .venv/bin/python benchmarks/bn_speed.py            # completo: 1 a 2 min (até 5 se ocupada)
    .venv/bin/python benchmarks/bn_speed.py --quick    # menos tamanhos e repetições
    .venv/bin/python benchmarks/bn_speed.py --clock cpu  # tempo de CPU (máquina ocupada)

Não faz parte da suíte de testes. O método é impresso no início da saída.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bnlib  # noqa: E402
from bnlib.core.reference import batchnorm_backward_staged, batchnorm_forward_steps  # noqa: E402
from bnlib.lab.timing import bandwidth_bound, copy_bandwidth, median_times  # noqa: E402

TARGET_SHAPES = [(4096, 1024), (64, 64, 32, 32)]
SWEEP_N = [64, 256, 1024, 4096, 16384]
SWEEP_FEATURES = {"denso (N, 256)": (256,), "conv (N, 16, 8, 8)": (16, 8, 8)}
TARGET_TORCH_RATIO = 1.5
TARGET_BOUND_RATIO = 3.5
TARGET_FLATNESS = 2.0


def make_case(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=shape) * 2 + 1).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    gamma = rng.normal(size=shape[1]).astype(dtype)
    beta = rng.normal(size=shape[1]).astype(dtype)
    return x, dy, gamma, beta


def variants(shape, dtype, with_teaching=True):
    """Funções sem argumentos, cada uma um passo direto + retropropagação completos."""
    x, dy, gamma, beta = make_case(shape, dtype)
    y_buf, x_hat_buf, dx_buf = (np.empty_like(x) for _ in range(3))

    def fast():
        _, cache = bnlib.batchnorm_forward(x, gamma, beta)
        bnlib.batchnorm_backward(dy, cache)

    def fast_out():
        _, cache = bnlib.batchnorm_forward(x, gamma, beta, out=(y_buf, x_hat_buf))
        bnlib.batchnorm_backward(dy, cache, out=dx_buf)

    x_large = x + np.asarray(1e4, dtype)  # média grande: força as duas passadas corrigidas

    def fast_large_mean():
        _, cache = bnlib.batchnorm_forward(x_large, gamma, beta)
        bnlib.batchnorm_backward(dy, cache)

    def teaching():
        steps = batchnorm_forward_steps(x, gamma, beta)
        batchnorm_backward_staged(dy, steps)

    xt = torch.from_numpy(x).requires_grad_()
    gt = torch.from_numpy(gamma).requires_grad_()
    bt = torch.from_numpy(beta).requires_grad_()
    dyt = torch.from_numpy(dy)

    def torch_with(threads):
        def run():
            torch.set_num_threads(threads)
            xt.grad = gt.grad = bt.grad = None
            F.batch_norm(xt, None, None, gt, bt, training=True).backward(dyt)

        return run

    out = {
        "bnlib rápida": fast,
        "bnlib rápida (out=)": fast_out,
        "bnlib rápida, média 1e4": fast_large_mean,
    }
    if with_teaching:
        out["bnlib didática"] = teaching
    out["torch 1 thread"] = torch_with(1)
    out["torch 2 threads"] = torch_with(2)
    return out


def repeats_for(shape, base):
    """Menos repetições para os arrays grandes (o tempo total fica em poucos minutos)."""
    size = int(np.prod(shape))
    return max(5, min(base * 4, int(base * 2**22 / max(size, 1))))


def fmt_ms(seconds):
    return f"{seconds * 1e3:9.3f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="menos tamanhos e repetições")
    parser.add_argument("--repeats", type=int, default=11, help="repetições por variante")
    parser.add_argument("--warmup", type=int, default=2, help="execuções descartadas")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall = tempo de relógio (padrão); cpu = tempo de CPU do processo",
    )
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    repeats = 5 if args.quick else args.repeats
    sweep_n = [64, 1024, 16384] if args.quick else SWEEP_N
    started = time.perf_counter()

    print("# Benchmark da normalização em lote (treino: passo direto + retropropagação)")
    print(f"data: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
    )
    if hasattr(os, "getloadavg"):
        print("carga do sistema (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    print(
        "\nMétodo: cada variante faz passo direto + retropropagação completos. Aquecimento de "
        f"{args.warmup} execuções por variante; depois {repeats} (até {repeats * 4} nos "
        "tamanhos pequenos) execuções em rodízio entre as variantes; resultado = mediana. "
        f"Relógio: {'tempo de relógio (perf_counter)' if args.clock == 'wall' else 'CPU'}.\n"
        "Limite de banda = 8·S / banda, S = bytes de x (3S no passo direto: ler x para as "
        "estatísticas, ler x e escrever y; 5S na retropropagação), com a banda de uma cópia de "
        "256 MiB (lidos + escritos) medida neste mesmo processo.\n"
        "bnlib rápida aloca as saídas a cada chamada (como torch); '(out=)' reaproveita buffers;\n"
        "'média 1e4' usa x + 10⁴, que força a 2ª passada corrigida das estatísticas (os outros\n"
        "casos têm x = 2·randn + 1, média² ≤ variância, e usam uma passada)."
    )

    bandwidth = copy_bandwidth(256 * 2**20, repeats=9)
    print(f"\nbanda de cópia medida: {bandwidth / 1e9:.1f} GB/s")

    # 1. Os dois shapes das metas, float32 e float64.
    print("\n## Shapes das metas (ms; razões = tempo / referência)")
    header = (
        f"{'shape':>18} {'dtype':>7} {'variante':>24} {'ms':>9} {'/torch1':>8} "
        f"{'/torch2':>8} {'/limite':>8}"
    )
    print(header)
    verdicts = []
    for dtype in (np.float32, np.float64):
        for shape in TARGET_SHAPES:
            times = median_times(
                variants(shape, dtype), repeats_for(shape, repeats), args.warmup, clock
            )
            bound = bandwidth_bound(shape, dtype, bandwidth)
            for name, t in times.items():
                print(
                    f"{str(shape):>18} {np.dtype(dtype).name:>7} {name:>24} {fmt_ms(t)} "
                    f"{t / times['torch 1 thread']:8.2f} {t / times['torch 2 threads']:8.2f} "
                    f"{t / bound:8.2f}"
                )
            print(
                f"{str(shape):>18} {np.dtype(dtype).name:>7} {'limite de banda':>24} "
                f"{fmt_ms(bound)}"
            )
            if dtype == np.float32:
                for name in ("bnlib rápida", "bnlib rápida (out=)"):
                    verdicts.append(
                        (shape, name, times[name] / times["torch 1 thread"], times[name] / bound)
                    )

    # 2. Varredura em N: tempo por elemento.
    print("\n## Varredura em N (ns por elemento; didática e torch para comparação)")
    print(
        f"{'família':>20} {'dtype':>7} {'N':>6} {'rápida':>8} {'(out=)':>8} {'didática':>9} "
        f"{'torch1':>8} {'torch2':>8} {'limite':>8}"
    )
    flatness = []
    for dtype in (np.float32, np.float64):
        for family, rest in SWEEP_FEATURES.items():
            per_element = {}
            for n in sweep_n:
                shape = (n, *rest)
                size = int(np.prod(shape))
                times = median_times(
                    variants(shape, dtype), repeats_for(shape, repeats), args.warmup, clock
                )
                bound = bandwidth_bound(shape, dtype, bandwidth)
                ns = {k: v / size * 1e9 for k, v in times.items()}
                per_element[n] = ns["bnlib rápida"]
                print(
                    f"{family:>20} {np.dtype(dtype).name:>7} {n:>6} {ns['bnlib rápida']:8.3f} "
                    f"{ns['bnlib rápida (out=)']:8.3f} {ns['bnlib didática']:9.3f} "
                    f"{ns['torch 1 thread']:8.3f} {ns['torch 2 threads']:8.3f} "
                    f"{bound / size * 1e9:8.3f}"
                )
            big = [v for n, v in per_element.items() if 1024 <= n <= 16384]
            flatness.append((family, np.dtype(dtype).name, max(big) / min(big)))

    # 3. Metas.
    print("\n## Metas (float32)")
    ok_all = {"bnlib rápida": True, "bnlib rápida (out=)": True}
    for shape, name, r_torch, r_bound in verdicts:
        ok = r_torch <= TARGET_TORCH_RATIO and r_bound <= TARGET_BOUND_RATIO
        ok_all[name] &= ok
        print(
            f"{str(shape):>18} {name:>24}: {r_torch:.2f}× torch 1 thread "
            f"(meta ≤ {TARGET_TORCH_RATIO}), {r_bound:.2f}× limite de banda "
            f"(meta ≤ {TARGET_BOUND_RATIO}) -> {'atingida' if ok else 'NÃO atingida'}"
        )
    for family, dtype_name, ratio in flatness:
        ok = ratio <= TARGET_FLATNESS
        ok_all = {name: value and ok for name, value in ok_all.items()}
        print(
            f"tempo por elemento, {family} {dtype_name}, N = 1024..16384: máx/mín = {ratio:.2f} "
            f"(meta ≤ {TARGET_FLATNESS}) -> {'atingida' if ok else 'NÃO atingida'}"
        )
    for name, value in ok_all.items():
        print(f"todas as metas com {name}: {'sim' if value else 'não'}")
    print(f"duração do benchmark: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
