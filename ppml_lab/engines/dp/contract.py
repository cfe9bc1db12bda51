"""What the differential-privacy engine declares: plan, form rules, labels and guarantee."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ppml_lab.engines.base import EngineResult
from ppml_lab.engines.contract import FormHints, Guarantee, Label, RunPlan
from ppml_lab.engines.dp.params import DPParams

#: What epsilon covers, per mechanism (``privacy.covers`` in the results document).
COVERS = {
    "dp-sgd": "the trained model, and what is computed from it on held-out data (test accuracy "
    "and loss)",
    "objective": "the trained model, and what is computed from it on held-out data (test "
    "accuracy and loss)",
    "local": "each record as it left its owner, randomised, and so everything the collector "
    "computes from the randomised table: the model, its training curves and its test figures",
}

LABELS: Mapping[str, Label] = {
    # Bookkeeping and set-up, not training: the like-for-like cost shows them separately.
    "accounting_seconds": Label("privacy accounting time", "s", one_off=True),
    "calibration_seconds": Label("noise calibration time", "s", one_off=True),
}

_SEEDED_NOTE = (
    "Deterministic noise is on: the noise can be replayed from the seed, so this run will NOT "
    "be private. Use it for teaching and debugging only."
)

SEEDED_REASON = (
    "NOT PRIVATE: this run drew its noise from the experiment seed, which is published with the "
    "results, so anyone can replay it and remove the noise. The sentences below describe what "
    "the same settings give with secret noise, not this run."
)


def plan(model: Any, params: DPParams) -> RunPlan:
    """Epochs of DP-SGD or local DP; objective perturbation is one fit."""
    target = params.epsilon if params.noise_multiplier is None else None
    if params.mechanism == "objective":
        return RunPlan(steps=None, step_name="fit (one shot)", reference=model,
                       target_epsilon=target)
    return RunPlan(steps=int(model.epochs), step_name="epoch", reference=model,
                   target_epsilon=target)


def form_rules(values: Mapping[str, Any]) -> FormHints:
    """Which DP settings apply: sigma, delta and the accountant only to DP-SGD, ..."""
    mechanism = values.get("mechanism", "dp-sgd")
    disabled: dict[str, str] = {}
    notes: list[str] = []
    if mechanism != "dp-sgd":
        pure = f"mechanism '{mechanism}' gives pure ε-DP: δ is 0 and the whole ε is spent at once"
        disabled["noise_multiplier"] = (
            f"only DP-SGD takes a noise multiplier; {mechanism} is calibrated from the target ε"
        )
        disabled["delta"] = pure
        disabled["accountant"] = f"{pure}, so there is nothing to account over steps"
    if mechanism == "local":
        disabled["clip_norm"] = (
            "local DP randomises each feature within its range instead of clipping a norm"
        )
    if mechanism == "dp-sgd" and values.get("noise_multiplier") is not None:
        disabled["epsilon"] = (
            "the noise multiplier is set, so the run reports the ε it spends instead of aiming "
            "at a target"
        )
    if mechanism == "objective":
        notes.append(
            "Objective perturbation (diffprivlib) fits a logistic regression in one go: the "
            "whole ε is spent at once, and Clip norm C bounds each row's norm."
        )
    elif mechanism == "local":
        notes.append(
            "Local DP: every record's features and label are randomised before training, with ε "
            "split over the attributes; expect a large accuracy loss compared with central DP."
        )
    elif values.get("noise_multiplier") is None:
        notes.append("DP-SGD: the noise is calibrated so the run spends at most the target ε.")
    if values.get("deterministic_noise"):
        notes.append(_SEEDED_NOTE)
    return FormHints(
        disabled=disabled,
        unset_text={
            "delta": "auto: 1/(10 × training rows)",
            "noise_multiplier": "off: calibrated from ε",
            "epsilon": "not set",
        },
        notes=notes,
    )


def model_rules(pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]) -> FormHints:
    """What DP uses of the model section."""
    notes: list[str] = []
    mechanism = pattern_values.get("mechanism", "dp-sgd")
    if mechanism == "objective":
        notes.append(
            "Objective perturbation trains its own logistic regression: epochs, batch size, "
            "learning rate and L2 here apply to the plaintext baseline only."
        )
        if model_values.get("kind") == "mlp":
            notes.append("The MLP choice is ignored by objective perturbation.")
    elif mechanism == "dp-sgd":
        notes.append(
            "For DP-SGD the batch size is the expected batch under Poisson sampling "
            "(rate = batch size / training rows)."
        )
    return FormHints(notes=notes)


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


def guarantee(
    params: DPParams, result: EngineResult | None, *, n_train: int | None, not_protected: str
) -> Guarantee:
    """Record-level (epsilon, delta) of the run, or what it would be, with its scope."""
    privacy = dict(result.privacy) if result is not None else {}
    eps, delta = privacy.get("epsilon"), privacy.get("delta")
    seeded = privacy.get("noise_source", "seeded" if params.deterministic_noise else "os") == "seeded"
    local = params.mechanism == "local"
    assumptions = [
        "the noise and the sampling are secret: drawn from the operating system's entropy, "
        "never from the published seed"
        if not seeded
        else "none: the noise was drawn from the published seed"
    ]
    if not local:
        assumptions.append("whoever trains sees the data in the clear and runs the mechanism "
                           "honestly")
    return Guarantee(
        protects=(
            "each record before it leaves its owner (randomised response and Laplace noise)"
            if local
            else "any one record's influence on the released model"
        ),
        adversary=(
            "the collector and anyone who sees the model" if local
            else "anyone who sees the trained model, whatever else they know"
        ),
        not_protected=(not_protected,),
        assumptions=tuple(assumptions),
        epsilon=float(eps) if isinstance(eps, (int, float)) else None,
        delta=float(delta) if isinstance(delta, (int, float)) else None,
        unit="record",
        n_protected=n_train or None,
        headline=(
            "per record, randomised before it leaves its owner (local DP)" if local
            else "per training record"
        ),
        no_protection="deterministic noise" if seeded else "",
        no_protection_reason=SEEDED_REASON if seeded else "",
        covers=COVERS[params.mechanism],
        diagnostics=tuple(diagnostics(params.mechanism, params.audit)),
    )
