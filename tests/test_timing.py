"""Testes leves de bnlib.lab.timing (sem depender da velocidade da máquina)."""

import numpy as np
import pytest

from bnlib.lab.timing import bandwidth_bound, batchnorm_traffic, copy_bandwidth, median_times


def test_median_times_runs_round_robin_and_returns_medians():
    calls = []
    fake_now = iter(range(1000))

    def clock():
        return float(next(fake_now))

    result = median_times(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
        repeats=3,
        warmup=1,
        clock=clock,
    )
    # Aquecimento (a, b) e depois rodízio a, b, a, b, a, b.
    assert calls == ["a", "b"] + ["a", "b"] * 3
    assert result == {"a": 1.0, "b": 1.0}


def fake_clock(durations):
    """Um relógio em que cada medida (início, fim) dura o próximo valor de ``durations``."""
    ticks = [0.0]
    for d in durations:
        ticks += [ticks[-1], ticks[-1] + d]
    values = iter(ticks[1:])
    return lambda: next(values)


def test_median_times_takes_the_median_not_the_mean():
    # 3 medidas de uma variante: 5, 1 e 3 segundos; a mediana ignora a interrompida (5)
    result = median_times({"x": lambda: None}, repeats=3, warmup=0, clock=fake_clock([5, 1, 3]))
    assert result == {"x": 3.0}


@pytest.mark.parametrize(("repeats", "warmup"), [(0, 1), (3, -1)])
def test_median_times_refuses_bad_counts(repeats, warmup):
    with pytest.raises(ValueError, match="median_times"):
        median_times({"x": lambda: None}, repeats=repeats, warmup=warmup)


def test_traffic_and_bound():
    traffic = batchnorm_traffic((4096, 1024), np.float32)
    assert traffic["S"] == 4096 * 1024 * 4
    assert traffic["forward"] == 3 * traffic["S"] and traffic["backward"] == 5 * traffic["S"]
    assert traffic["total"] == 8 * traffic["S"]
    assert batchnorm_traffic((2, 3, 4, 5), np.float64)["S"] == 120 * 8
    assert bandwidth_bound((4096, 1024), np.float32, 8 * traffic["S"]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="bandwidth"):
        bandwidth_bound((2, 2), np.float32, 0.0)


def test_copy_bandwidth_counts_bytes_read_and_written():
    nbytes = 4 * 2**20
    # cada cópia "dura" 2 ms no relógio falso: lidos + escritos = 2 · nbytes em 2 ms
    bandwidth = copy_bandwidth(nbytes, repeats=3, warmup=1, clock=fake_clock([2e-3] * 4))
    assert bandwidth == pytest.approx(2 * nbytes / 2e-3)
    with pytest.raises(ValueError, match="nbytes"):
        copy_bandwidth(1000)
