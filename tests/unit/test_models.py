"""Numpy models: ghost norms, weighted gradients and finite-difference gradient checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppml_lab.models import LinearModel, MLPModel, ModelParams, make_model, sgd_epoch


def make(kind: str, d: int, k: int, seed: int = 0, hidden: int = 7):
    rng = np.random.default_rng(seed)
    if kind == "linear":
        model = LinearModel(n_features=d, n_classes=k)
        # Zero init gives identical per-example structure; random weights exercise the maths.
        model.set_flat(rng.normal(0.0, 0.7, model.n_params))
    else:
        model = MLPModel(n_features=d, n_classes=k, hidden=hidden, rng=rng)
        model.set_flat(model.get_flat() + rng.normal(0.0, 0.1, model.n_params))
    return model


def batch(d: int, k: int, b: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.5, size=(b, d))
    y = rng.integers(0, k, size=b)
    return X, y


def numerical_grad(model, X, y, eps: float = 1e-6) -> np.ndarray:
    theta = model.get_flat()
    grad = np.empty_like(theta)
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += eps
        down[i] -= eps
        model.set_flat(up)
        f_up = model.loss(X, y)
        model.set_flat(down)
        f_down = model.loss(X, y)
        grad[i] = (f_up - f_down) / (2 * eps)
    model.set_flat(theta)
    return grad


CASES = [("linear", 2), ("linear", 3), ("mlp", 2), ("mlp", 3)]


@pytest.mark.parametrize(("kind", "k"), CASES)
def test_ghost_norms_equal_materialised_norms(kind, k):
    model = make(kind, d=5, k=k)
    X, y = batch(5, k, 13)
    per = model.per_example_grads(X, y)
    assert per.shape == (13, model.n_params)
    np.testing.assert_allclose(
        model.per_example_grad_norms(X, y), np.linalg.norm(per, axis=1), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize(("kind", "k"), CASES)
def test_weighted_grad_equals_weights_times_per_example_grads(kind, k):
    model = make(kind, d=4, k=k)
    X, y = batch(4, k, 11)
    w = np.random.default_rng(5).uniform(-1.0, 2.0, size=11)
    flat = np.concatenate([g.ravel() for g in model.weighted_grad(X, y, w)])
    np.testing.assert_allclose(flat, w @ model.per_example_grads(X, y), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("kind", "k"), CASES)
def test_mean_gradient_matches_finite_differences(kind, k):
    model = make(kind, d=4, k=k, hidden=5)
    X, y = batch(4, k, 9)
    analytic = np.concatenate(
        [g.ravel() for g in model.weighted_grad(X, y, np.full(len(y), 1.0 / len(y)))]
    )
    np.testing.assert_allclose(analytic, numerical_grad(model, X, y), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("kind", "k"), CASES)
def test_per_example_grad_matches_finite_differences_of_its_own_loss(kind, k):
    model = make(kind, d=3, k=k, hidden=4)
    X, y = batch(3, k, 4)
    per = model.per_example_grads(X, y)
    for i in range(len(y)):
        np.testing.assert_allclose(
            per[i], numerical_grad(model, X[i : i + 1], y[i : i + 1]), rtol=1e-5, atol=1e-7
        )


@pytest.mark.parametrize(("kind", "k"), CASES)
def test_probabilities_and_losses(kind, k):
    model = make(kind, d=4, k=k)
    X, y = batch(4, k, 20)
    p = model.predict_proba(X)
    assert p.shape == (20, k)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(model.per_example_losses(X, y), -np.log(p[np.arange(20), y]), rtol=1e-9)
    np.testing.assert_array_equal(model.predict(X), p.argmax(axis=1))


def test_binary_logistic_golden_values():
    model = LinearModel(n_features=2, n_classes=2)
    model.set_flat(np.array([1.0, -2.0, 0.5]))  # W = [1, -2], b = 0.5
    X = np.array([[1.0, 1.0], [0.0, 0.0]])
    y = np.array([1, 0])
    z = np.array([-0.5, 0.5])
    p1 = 1.0 / (1.0 + np.exp(-z))
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], p1)
    np.testing.assert_allclose(model.per_example_losses(X, y), [np.log1p(np.exp(0.5)), np.log1p(np.exp(0.5))])
    residual = p1 - y
    np.testing.assert_allclose(
        model.per_example_grad_norms(X, y), np.abs(residual) * np.sqrt([3.0, 1.0])
    )


def test_extreme_logits_are_finite():
    model = LinearModel(n_features=1, n_classes=2)
    model.set_flat(np.array([1000.0, 0.0]))
    X = np.array([[1.0], [-1.0]])
    y = np.array([0, 1])
    losses = model.per_example_losses(X, y)
    np.testing.assert_allclose(losses, [1000.0, 1000.0])
    assert np.all(np.isfinite(model.per_example_grad_norms(X, y)))


def test_flat_round_trip_and_copy_independence():
    model = make("mlp", d=3, k=3)
    theta = model.get_flat()
    clone = model.copy()
    clone.set_flat(theta + 1.0)
    np.testing.assert_array_equal(model.get_flat(), theta)
    np.testing.assert_array_equal(clone.get_flat(), theta + 1.0)
    with pytest.raises(ValueError, match="expected"):
        model.set_flat(theta[:-1])


def test_make_model_and_bad_arguments():
    rng = np.random.default_rng(0)
    assert isinstance(make_model(ModelParams(), n_features=3, n_classes=2, rng=rng), LinearModel)
    mlp = make_model(ModelParams(kind="mlp", hidden=6), n_features=3, n_classes=4, rng=rng)
    assert isinstance(mlp, MLPModel) and mlp.params[0].shape == (3, 6) and mlp.params[2].shape == (6, 4)
    with pytest.raises(ValueError, match="unknown model kind"):
        make_model(ModelParams(kind="svm"), n_features=3, n_classes=2, rng=rng)
    with pytest.raises(ValueError, match="two classes"):
        LinearModel(n_features=3, n_classes=1)


def test_sgd_reduces_the_loss_on_separable_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(np.int64)
    for model in (LinearModel(n_features=3, n_classes=2), MLPModel(n_features=3, n_classes=2, hidden=8)):
        start = model.loss(X, y)
        for _ in range(20):
            sgd_epoch(model, X, y, batch_size=32, learning_rate=0.5, rng=rng)
        assert model.loss(X, y) < 0.25 * start
        assert np.mean(model.predict(X) == y) > 0.95


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["linear", "mlp"]),
    d=st.integers(1, 6),
    k=st.integers(2, 4),
    b=st.integers(1, 8),
    hidden=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_ghost_norms_and_weighted_grad_over_shapes(kind, d, k, b, hidden, seed):
    model = make(kind, d=d, k=k, seed=seed, hidden=hidden)
    X, y = batch(d, k, b, seed=seed + 1)
    per = model.per_example_grads(X, y)
    assert per.shape == (b, model.n_params)
    np.testing.assert_allclose(
        model.per_example_grad_norms(X, y), np.linalg.norm(per, axis=1), rtol=1e-9, atol=1e-12
    )
    w = np.random.default_rng(seed).uniform(0.0, 1.0, size=b)
    flat = np.concatenate([g.ravel() for g in model.weighted_grad(X, y, w)])
    np.testing.assert_allclose(flat, w @ per, rtol=1e-9, atol=1e-12)
    shapes = [p.shape for p in model.params]
    assert [g.shape for g in model.weighted_grad(X, y, w)] == shapes
