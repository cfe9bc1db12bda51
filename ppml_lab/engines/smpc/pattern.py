"""The SMPC engine object: what the lab's registry, window and CLI see of the pattern."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from importlib.util import find_spec
from typing import Any, ClassVar

from ppml_lab.data import PreparedData
from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
from ppml_lab.engines.contract import (
    ComplianceView,
    EngineBase,
    FormHints,
    Guarantee,
    Label,
    RunPlan,
)
from ppml_lab.engines.registry import register
from ppml_lab.engines.smpc import compliance, contract
from ppml_lab.engines.smpc.params import SMPCParams
from ppml_lab.models import ModelParams

__all__ = ["SMPCEngine", "SMPCParams"]


class SMPCEngine(EngineBase):
    name: ClassVar[str] = "smpc"
    label: ClassVar[str] = "Secure multi-party computation"
    description: ClassVar[str] = (
        "Several organisations compute one model together (MPyC) without any of them seeing the "
        "others' data: each input is split into random-looking shares, one per party."
    )
    protects: ClassVar[str] = (
        "Each party's data during the computation: any minority of the parties (one of three, "
        "two of five) learns nothing but the output, here the trained model or the scores."
    )
    does_not_protect: ClassVar[str] = (
        "The output itself (the model can leak about its training rows; no differential "
        "privacy), a majority of parties colluding, or a party that deviates from the protocol. "
        "With two parties nothing is hidden from either."
    )
    Params: ClassVar[type] = SMPCParams
    labels: ClassVar[Mapping[str, Label]] = contract.LABELS
    compliance_view: ClassVar[ComplianceView] = compliance.VIEW

    def available(self) -> str | None:
        missing = [m for m in ("mpyc", "gmpy2") if find_spec(m) is None]
        if missing:
            return (f"needs {' and '.join(missing)} (pip install mpyc gmpy2; reinstall the lab "
                    "with scripts/setup.sh)")
        return None

    def plan(self, model: ModelParams, params: SMPCParams, data: Any = None) -> RunPlan:
        return contract.plan(model, params, data)

    def form_rules(self, values: Mapping[str, Any]) -> FormHints:
        return contract.form_rules(values)

    def model_rules(
        self, pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]
    ) -> FormHints:
        return contract.model_rules(pattern_values, model_values)

    def compare_preset(self, model: ModelParams | None = None, *, tiny: bool = False) -> SMPCParams:
        """Secure training by three parties (threshold 1), rows split, 20 iterations (3 if tiny)."""
        return SMPCParams(parties=3, split="rows", protocol="training", iterations=3 if tiny else 20)

    def compare_model(self, model: ModelParams) -> ModelParams:
        """The secure protocols train a logistic model: the plaintext reference does too."""
        return replace(model, kind="logistic") if model.kind != "logistic" else model

    def validate(self, data: PreparedData, model: ModelParams, params: SMPCParams) -> None:
        from ppml_lab.engines.smpc.engine import check

        check(data, params)

    def guarantee(
        self, params: SMPCParams, result: EngineResult | None, *, n_train: int | None = None
    ) -> Guarantee:
        return contract.guarantee(params, result, not_protected=self.does_not_protect)

    def run(
        self, data: PreparedData, model: ModelParams, params: SMPCParams, *, seed: int,
        cancel: CancelToken,
    ) -> EngineRun:
        from ppml_lab.engines.smpc.engine import run_smpc

        return run_smpc(data, model, params, seed=seed, cancel=cancel)


register(SMPCEngine())
