"""The differential-privacy pattern: DP-SGD, objective perturbation and local DP."""

from __future__ import annotations

from typing import ClassVar

from ppml_lab.data import PreparedData
from ppml_lab.engines.audit import audit_summary, run_audit
from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
from ppml_lab.engines.dp.dpsgd import dp_sgd_train_fn, run_dp_sgd
from ppml_lab.engines.dp.local import run_local
from ppml_lab.engines.dp.objective import run_objective
from ppml_lab.engines.dp.params import DPParams
from ppml_lab.engines.events import Log
from ppml_lab.engines.registry import register
from ppml_lab.models import ModelParams
from ppml_lab.privacy import accounting

__all__ = ["DPEngine", "DPParams"]


def preprocessing_warning(data: PreparedData) -> str | None:
    """Plain-language warning when preprocessing used statistics of the private training rows."""
    if not data.data_dependent_steps:
        return None
    return (
        "Preprocessing used statistics of the private training rows ("
        + "; ".join(data.data_dependent_steps)
        + "). The privacy accountant does not count that leak, so the epsilon shown covers "
        "training only. For a strict guarantee give public feature bounds and categories "
        "([dataset] scaling = \"bounds\" with [dataset.bounds] and [dataset.categories])."
    )


class DPEngine:
    name: ClassVar[str] = "dp"
    label: ClassVar[str] = "Differential privacy"
    description: ClassVar[str] = (
        "Adds calibrated noise during training so the model barely depends on any one person's "
        "record; epsilon measures the worst-case leak."
    )
    protects: ClassVar[str] = (
        "Membership and attributes of any single record in the released model: whatever an "
        "attacker does with the model, their confidence about one person changes by at most a "
        "factor set by epsilon (except with probability delta)."
    )
    does_not_protect: ClassVar[str] = (
        "The training data from whoever runs the training (they see it in the clear, except with "
        "local DP); group-level facts the model is meant to learn; and privacy spent by "
        "data-dependent preprocessing or by repeated runs on the same data."
    )
    Params: ClassVar[type] = DPParams

    def validate(self, data: PreparedData, model: ModelParams, params: DPParams) -> None:
        """Raise ValueError (with what to change) for settings this data cannot support."""
        if params.delta is not None and params.mechanism == "dp-sgd":
            accounting.check_delta(params.delta, data.n_train)

    def run(
        self,
        data: PreparedData,
        model: ModelParams,
        params: DPParams,
        *,
        seed: int,
        cancel: CancelToken,
    ) -> EngineRun:
        warning = preprocessing_warning(data)
        if warning and params.mechanism != "local":
            yield Log(message=warning, level="warning")
        runner = {"dp-sgd": run_dp_sgd, "objective": run_objective, "local": run_local}[
            params.mechanism
        ]
        result: EngineResult = yield from runner(data, model, params, seed=seed, cancel=cancel)
        if warning and params.mechanism != "local":
            result.warnings.append(warning)
        if params.audit and result.model is not None:
            train_fn = None
            if params.mechanism == "dp-sgd":
                train_fn = dp_sgd_train_fn(
                    model,
                    noise_multiplier=float(result.privacy["noise_multiplier"]),
                    clip_norm=params.clip_norm,
                    n_classes=data.n_classes,
                )
            audit = yield from run_audit(
                result.model,
                data,
                delta=float(result.privacy.get("delta") or accounting.default_delta(data.n_train)),
                train_fn=train_fn,
                accountant_epsilon=float(result.privacy["epsilon"]),
                seed=seed,
                cancel=cancel,
                step=model.epochs,
            )
            result.extra["audit"] = audit
            result.privacy["audit"] = audit_summary(audit)
        return result


register(DPEngine())
