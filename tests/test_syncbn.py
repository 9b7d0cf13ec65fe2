"""BN sincronizada: 2 processos com b exemplos cada == 1 processo com 2b exemplos."""

import numpy as np
import pytest
import torch

from bnlib.lab import distributed as syncbn


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(8, 3, 4, 4))
    dy = rng.normal(size=x.shape)
    return x, dy


@pytest.fixture(scope="module")
def single_process(batch):
    x, dy = batch
    xt = torch.from_numpy(x).requires_grad_()
    bn = torch.nn.BatchNorm2d(3).double()
    y = bn(xt)
    (y * torch.from_numpy(dy)).sum().backward()
    return {
        "y": y.detach().numpy(),
        "dx": xt.grad.numpy(),
        "dweight": bn.weight.grad.numpy(),
        "dbias": bn.bias.grad.numpy(),
        "running_mean": bn.running_mean.numpy(),
        "running_var": bn.running_var.numpy(),
    }


@pytest.fixture(scope="module")
def two_workers(batch):
    x, dy = batch
    synced = syncbn.run_world(syncbn.forward_backward_worker, 2, (x, dy, True))
    unsynced = syncbn.run_world(syncbn.forward_backward_worker, 2, (x, dy, False))
    return synced, unsynced


def test_synchronized_equals_single_process(two_workers, single_process):
    synced, _ = two_workers
    for key in ("y", "dx"):
        joined = np.concatenate([r[key] for r in synced])
        np.testing.assert_allclose(joined, single_process[key], atol=1e-12)
    for rank in range(2):
        for key in ("dweight", "dbias", "running_mean", "running_var"):
            np.testing.assert_allclose(synced[rank][key], single_process[key], atol=1e-12)


def test_unsynchronized_differs(two_workers, single_process):
    _, unsynced = two_workers
    for key in ("y", "dx"):
        joined = np.concatenate([r[key] for r in unsynced])
        assert np.abs(joined - single_process[key]).max() > 1e-2
    # Cada processo acumulou estatísticas diferentes.
    assert np.abs(unsynced[0]["running_mean"] - unsynced[1]["running_mean"]).max() > 1e-3


def test_training_two_workers_equals_one_process():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 784))
    y = rng.integers(0, 10, size=64)
    args = (x, y, 5, 16, 0.1)
    single = syncbn.train_worker(0, 1, *args, True)
    synced = syncbn.run_world(syncbn.train_worker, 2, (*args, True))
    unsynced = syncbn.run_world(syncbn.train_worker, 2, (*args, False))
    for rank in range(2):
        np.testing.assert_allclose(synced[rank]["params"], single["params"], atol=1e-10)
    np.testing.assert_allclose(synced[0]["loss"], single["loss"], atol=1e-12)
    assert np.abs(unsynced[0]["params"] - single["params"]).max() > 1e-3


def test_module_without_process_group_is_plain_bn():
    torch.manual_seed(0)
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    ours = syncbn.SyncBatchNorm(4).double()
    ref = torch.nn.BatchNorm1d(4).double()
    torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours.running_var, ref.running_var)
    ours.eval(), ref.eval()
    torch.testing.assert_close(ours(x), ref(x))


def test_run_world_rejects_bad_size():
    with pytest.raises(ValueError, match="world_size"):
        syncbn.run_world(syncbn.forward_backward_worker, 0)


def test_four_workers_equal_single_process(batch, single_process):
    x, dy = batch
    results = syncbn.run_world(syncbn.forward_backward_worker, 4, (x, dy, True))
    np.testing.assert_allclose(
        np.concatenate([r["dx"] for r in results]), single_process["dx"], atol=1e-12
    )
    np.testing.assert_allclose(results[3]["dweight"], single_process["dweight"], atol=1e-12)
