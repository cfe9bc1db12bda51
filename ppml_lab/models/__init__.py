"""Qt-free numpy models with cheap per-example gradient norms."""

from __future__ import annotations

from ppml_lab.models.core import (
    LinearModel,
    MLPModel,
    Model,
    ModelParams,
    make_model,
)
from ppml_lab.models.training import accuracy, iterate_minibatches, sgd_epoch, sgd_step

__all__ = [
    "LinearModel",
    "MLPModel",
    "Model",
    "ModelParams",
    "accuracy",
    "iterate_minibatches",
    "make_model",
    "sgd_epoch",
    "sgd_step",
]
