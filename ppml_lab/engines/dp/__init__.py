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


#: What epsilon covers, per mechanism (``privacy.covers`` in the results document).
COVERS = {
    "dp-sgd": "the trained model, and what is computed from it on held-out data (test accuracy "
    "and loss)",
    "objective": "the trained model, and what is computed from it on held-out data (test "
    "accuracy and loss)",
    "local": "each record as it left its owner, randomised, and so everything the collector "
    "computes from the randomised table: the model, its training curves and its test figures",
}


def diagnostics(mechanism: str, audit: bool) -> list[str]:
    """What this engine's results compute from the private training rows *without* noise."""
    out = []
    if mechanism != "local":
        # Local DP's training metrics are measured on the randomised table the collector holds,
        # which the guarantee covers; central mechanisms measure them on the clean rows.
        out.append("training loss and accuracy (history train_*, final.train_*)")
    if audit:
        out.append("the membership audit (extra.audit, privacy.audit), which attacks the model "
                   "with the private training rows")
    return out


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
        result.privacy["covers"] = COVERS[params.mechanism]
        result.privacy["diagnostics"] = diagnostics(params.mechanism, params.audit)
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
