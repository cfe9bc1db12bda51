"""The differential-privacy pattern: DP-SGD, objective perturbation and local DP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ppml_lab.data import PreparedData
from ppml_lab.engines.audit import audit_keeping, audit_summary, run_audit
from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
from ppml_lab.engines.contract import (
    ComplianceView,
    EngineBase,
    FormHints,
    Guarantee,
    Label,
    RunPlan,
)
from ppml_lab.engines.dp import compliance, contract
from ppml_lab.engines.dp.dpsgd import dp_sgd_train_fn, run_dp_sgd
from ppml_lab.engines.dp.local import run_local
from ppml_lab.engines.dp.objective import run_objective
from ppml_lab.engines.dp.params import DPParams
from ppml_lab.engines.events import Log
from ppml_lab.engines.registry import register
from ppml_lab.models import ModelParams
from ppml_lab.privacy import accounting
from ppml_lab.privacy.randomness import SEEDED_NOISE_WARNING

__all__ = ["DPEngine", "DPParams"]


_PUBLIC_BOUNDS_HINT = (
    "For a strict guarantee give public feature bounds and categories ([dataset] scaling = "
    "\"bounds\" with [dataset.bounds] and [dataset.categories])."
)


def preprocessing_warning(data: PreparedData, mechanism: str = "dp-sgd") -> str | None:
    """Plain-language warning when preprocessing used statistics of the private training rows.

    Under local DP it is worse than a leak the accountant does not count: the statistics were
    computed from the raw records *before* they were randomised, so the records had to leave
    their owners in the clear, which is exactly what local DP promises not to need.
    """
    if not data.data_dependent_steps:
        return None
    steps = "; ".join(data.data_dependent_steps)
    if mechanism == "local":
        return (
            f"Preprocessing was computed from the raw records before randomisation ({steps}). "
            "A real collector could only do that if the owners sent their records in the clear, "
            "so the local-DP promise does not hold for these statistics and epsilon does not "
            "cover them. " + _PUBLIC_BOUNDS_HINT
        )
    return (
        f"Preprocessing used statistics of the private training rows ({steps}). The privacy "
        "accountant does not count that leak, so the epsilon shown covers training only. "
        + _PUBLIC_BOUNDS_HINT
    )


class DPEngine(EngineBase):
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
    labels: ClassVar[Mapping[str, Label]] = contract.LABELS
    sweepable: ClassVar[bool] = True

    def plan(self, model: ModelParams, params: DPParams, data: PreparedData | None = None) -> RunPlan:
        return contract.plan(model, params)

    def form_rules(self, values: Mapping[str, Any]) -> FormHints:
        return contract.form_rules(values)

    def model_rules(
        self, pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]
    ) -> FormHints:
        return contract.model_rules(pattern_values, model_values)

    def guarantee(
        self, params: DPParams, result: EngineResult | None, *, n_train: int | None = None
    ) -> Guarantee:
        return contract.guarantee(
            params, result, n_train=n_train, not_protected=self.does_not_protect
        )

    def compliance(
        self, params: DPParams | None = None, guarantee: Guarantee | None = None
    ) -> ComplianceView:
        view = compliance.view(params.mechanism if params is not None else "dp-sgd")
        if guarantee is not None and guarantee.no_protection:
            return view.without_protection(guarantee.no_protection, guarantee.no_protection_reason)
        return view

    def compare_preset(self, model: ModelParams | None = None, *, tiny: bool = False) -> DPParams:
        """DP-SGD at a target epsilon of 1 (a moderate guarantee), noise calibrated to it."""
        return DPParams(mechanism="dp-sgd", epsilon=1.0)

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
        warning = preprocessing_warning(data, params.mechanism)
        if params.deterministic_noise:
            yield Log(message=SEEDED_NOISE_WARNING, level="warning")
        if warning:
            yield Log(message=warning, level="warning")
        runner = {"dp-sgd": run_dp_sgd, "objective": run_objective, "local": run_local}[
            params.mechanism
        ]
        result: EngineResult = yield from runner(data, model, params, seed=seed, cancel=cancel)
        if params.deterministic_noise:
            result.warnings.append(SEEDED_NOISE_WARNING)
        if warning:
            result.warnings.append(warning)
        if params.audit and result.model is not None:
            train_fn = None
            if params.mechanism == "dp-sgd":
                # Shadows pay the target's privacy cost: its q, step count and sigma.
                train_fn = dp_sgd_train_fn(
                    model,
                    noise_multiplier=float(result.privacy["noise_multiplier"]),
                    clip_norm=params.clip_norm,
                    n_classes=data.n_classes,
                    sample_rate=float(result.privacy["sample_rate"]),
                    steps=int(result.privacy["steps"]),
                )
            # A cancel during the audit keeps the trained result (AuditCancelled carries it).
            audit = yield from audit_keeping(result, run_audit(
                result.model,
                data,
                delta=float(result.privacy.get("delta") or accounting.default_delta(data.n_train)),
                train_fn=train_fn,
                accountant_epsilon=float(result.privacy["epsilon"]),
                seed=seed,
                cancel=cancel,
                step=model.epochs,
            ))
            result.extra["audit"] = audit
            result.privacy["audit"] = audit_summary(audit)
        return result


register(DPEngine())
