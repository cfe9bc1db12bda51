"""Helpers shared by engines: evaluation and the per-epoch metric events."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.engines.events import Event, Metric
from ppml_lab.models import Model, accuracy


def loss_and_accuracy(model: Model, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on (X, y) from a single forward pass."""
    if len(y) == 0:
        return float("nan"), float("nan")
    losses_from_logits = getattr(model, "_losses_from_logits", None)
    if losses_from_logits is None:  # a model without the shared output layer
        return model.loss(X, y), accuracy(model, X, y)
    z = model.logits(X)
    loss = float(np.mean(losses_from_logits(z, y)))
    # argmax of the logits = argmax of the probabilities (sigmoid for one output column).
    pred = (z[:, 0] > 0).astype(np.int64) if z.shape[1] == 1 else np.argmax(z, axis=1)
    return loss, float(np.mean(pred == y))


def evaluate(model: Model, data: PreparedData) -> dict[str, float]:
    """Loss and accuracy of ``model`` on the training and test splits."""
    train_loss, train_acc = loss_and_accuracy(model, data.X_train, data.y_train)
    test_loss, test_acc = loss_and_accuracy(model, data.X_test, data.y_test)
    return {
        "train_loss": train_loss,
        "train_accuracy": train_acc,
        "test_loss": test_loss,
        "test_accuracy": test_acc,
    }


def metric_events(step: int, metrics: dict[str, float]) -> Iterator[Event]:
    """One :class:`Metric` event per entry of ``metrics``."""
    for name, value in metrics.items():
        yield Metric(step=step, name=name, value=float(value))
