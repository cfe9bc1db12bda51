"""Helpers shared by engines: evaluation and the per-epoch metric events."""

from __future__ import annotations

from collections.abc import Iterator

from ppml_lab.data import PreparedData
from ppml_lab.engines.events import Event, Metric
from ppml_lab.models import Model, accuracy


def evaluate(model: Model, data: PreparedData) -> dict[str, float]:
    """Loss and accuracy of ``model`` on the training and test splits."""
    return {
        "train_loss": model.loss(data.X_train, data.y_train),
        "train_accuracy": accuracy(model, data.X_train, data.y_train),
        "test_loss": model.loss(data.X_test, data.y_test),
        "test_accuracy": accuracy(model, data.X_test, data.y_test),
    }


def metric_events(step: int, metrics: dict[str, float]) -> Iterator[Event]:
    """One :class:`Metric` event per entry of ``metrics``."""
    for name, value in metrics.items():
        yield Metric(step=step, name=name, value=float(value))
