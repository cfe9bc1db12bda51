"""Plain minibatch SGD, shared by the baseline and by federated clients."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ppml_lab.models.core import Model


def accuracy(model: Model, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose predicted class equals ``y``."""
    if len(y) == 0:
        return float("nan")
    return float(np.mean(model.predict(X) == y))


def iterate_minibatches(
    n: int, batch_size: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Yield index arrays of a fresh random permutation of ``range(n)``, ``batch_size`` at a time."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def sgd_step(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    *,
    learning_rate: float,
    l2: float = 0.0,
    prox_center: list[np.ndarray] | None = None,
    prox_mu: float = 0.0,
) -> None:
    """One SGD step on the minibatch mean gradient, in place.

    ``prox_center`` and ``prox_mu`` add FedProx's proximal term ``mu/2 ||w - w_global||^2``.
    """
    w = np.full(len(y), 1.0 / len(y))
    grads = model.weighted_grad(X, y, w)
    for i, (p, g) in enumerate(zip(model.params, grads)):
        if l2:
            g = g + l2 * p
        if prox_center is not None and prox_mu:
            g = g + prox_mu * (p - prox_center[i])
        p -= learning_rate * g


def sgd_epoch(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    learning_rate: float,
    rng: np.random.Generator,
    l2: float = 0.0,
    prox_center: list[np.ndarray] | None = None,
    prox_mu: float = 0.0,
) -> int:
    """One pass of minibatch SGD over (X, y) in a random order; returns the number of steps."""
    steps = 0
    for idx in iterate_minibatches(len(y), batch_size, rng):
        sgd_step(
            model,
            X[idx],
            y[idx],
            learning_rate=learning_rate,
            l2=l2,
            prox_center=prox_center,
            prox_mu=prox_mu,
        )
        steps += 1
    return steps
