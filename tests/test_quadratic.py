"""Testes da descida de gradiente em quadráticas (``bnlib.lab.quadratic``)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bnlib.lab.quadratic import Quadratic, gradient_descent, least_squares


def diagonal(a: float, b: float) -> Quadratic:
    return Quadratic(np.diag([a, b]), np.array([1.0, -2.0]), minimum=0.5)


def test_loss_and_gradient_match_finite_differences():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(3, 3))
    q = Quadratic(m @ m.T + np.eye(3), rng.normal(size=3), minimum=1.5)
    w = rng.normal(size=3)
    h = 1e-6
    numeric = np.array([(q.loss(w + h * e) - q.loss(w - h * e)) / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(q.gradient(w), numeric, rtol=1e-6)
    assert q.loss(q.minimizer) == pytest.approx(1.5)
    grid = rng.normal(size=(4, 5, 3))
    assert q.loss(grid).shape == (4, 5)


def test_gradient_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).normal(size=(20, 2)) * [10.0, 0.1]
    y = np.random.default_rng(2).normal(size=20)
    q = least_squares(x, y)
    w = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    loss = 0.5 * ((torch.from_numpy(x) @ w - torch.from_numpy(y)) ** 2).mean()
    loss.backward()
    assert q.loss(w.detach().numpy()) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(q.gradient(w.detach().numpy()), w.grad.numpy(), rtol=1e-10)


def test_condition_number_and_learning_rates():
    q = diagonal(100.0, 1.0)
    assert q.condition_number == pytest.approx(100.0)
    assert q.max_stable_lr == pytest.approx(0.02)
    assert q.best_lr == pytest.approx(2 / 101)


@given(st.floats(1.0, 300.0), st.floats(0.2, 0.99))
def test_converges_below_and_diverges_above_two_over_lambda_max(curvature, fraction):
    q = diagonal(curvature, 1.0)
    below = gradient_descent(q, np.zeros(2), fraction * q.max_stable_lr, max_steps=10**6)
    assert below.steps is not None and not below.diverged
    above = gradient_descent(q, np.zeros(2), 1.05 * q.max_stable_lr, max_steps=10**6)
    assert above.diverged and above.steps is None


@pytest.mark.parametrize("kappa", [2.0, 10.0, 100.0, 1000.0])
def test_steps_with_best_lr_follow_the_contraction_rate(kappa):
    q = diagonal(kappa, 1.0)
    run = gradient_descent(q, np.array([3.0, 4.0]), q.best_lr, max_steps=10**6, tol=1e-6)
    rate = (kappa - 1) / (kappa + 1)
    expected = np.ceil(np.log(1e-6) / (2 * np.log(rate)))
    assert abs(run.steps - expected) <= 1


def test_path_and_losses_are_consistent():
    q = diagonal(4.0, 1.0)
    run = gradient_descent(q, np.array([3.0, 3.0]), 0.1, max_steps=5, tol=1e-12)
    assert run.path.shape == (6, 2) and run.losses.shape == (6,)
    np.testing.assert_allclose(run.path[0], [3.0, 3.0])
    np.testing.assert_allclose(run.path[1], run.path[0] - 0.1 * q.gradient(run.path[0]))
    np.testing.assert_allclose(run.losses, [q.loss(w) for w in run.path])
    assert run.steps is None and not run.diverged
    assert np.all(np.diff(run.losses) < 0)


def test_least_squares_matches_numpy_lstsq():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=30)
    q = least_squares(x, y)
    np.testing.assert_allclose(q.minimizer, np.linalg.lstsq(x, y, rcond=None)[0])
    np.testing.assert_allclose(q.hessian, x.T @ x / 30)
    run = gradient_descent(q, np.zeros(3), q.best_lr, max_steps=10_000, tol=1e-12)
    np.testing.assert_allclose(run.path[-1], q.minimizer, atol=1e-5)


def test_standardizing_reduces_condition_number():
    from bnlib.lab.scaling import fit_standardize, make_houses

    x, y = make_houses(200, seed=0)
    raw = least_squares(x - x.mean(axis=0), y - y.mean())
    std = least_squares(fit_standardize(x).transform(x), y - y.mean())
    assert raw.condition_number > 100 * std.condition_number


def test_errors_are_in_portuguese():
    with pytest.raises(ValueError, match="positiva definida"):
        Quadratic(np.diag([1.0, 0.0]), np.zeros(2))
    with pytest.raises(ValueError, match="simétrica"):
        Quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]), np.zeros(2))
    with pytest.raises(ValueError, match=r"`minimizer`.*\(2,\).*\(3,\)"):
        Quadratic(np.eye(2), np.zeros(3))
    q = diagonal(2.0, 1.0)
    with pytest.raises(ValueError, match="`lr`"):
        gradient_descent(q, np.zeros(2), -0.1, 10)
    with pytest.raises(ValueError, match=r"`w0`.*\(2,\).*\(3,\)"):
        gradient_descent(q, np.zeros(3), 0.1, 10)
    with pytest.raises(ValueError, match="`max_steps`"):
        gradient_descent(q, np.zeros(2), 0.1, 0)
    with pytest.raises(ValueError, match=r"`y`.*\(4,\)"):
        least_squares(np.ones((4, 2)), np.ones(3))
    with pytest.raises(ValueError, match="2 parâmetros"):
        import matplotlib.pyplot as plt

        from bnlib.plots.contours import plot_loss_contours

        plot_loss_contours(plt.gca(), Quadratic(np.eye(3), np.zeros(3)), (0, 1), (0, 1))
