"""The HE engine object: what the lab's registry, window and CLI see of the pattern."""

from __future__ import annotations

from collections.abc import Mapping
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
from ppml_lab.engines.he import compliance, contract
from ppml_lab.engines.he.params import HEParams
from ppml_lab.engines.registry import register
from ppml_lab.models import ModelParams

__all__ = ["HEEngine", "HEParams"]


class HEEngine(EngineBase):
    name: ClassVar[str] = "he"
    label: ClassVar[str] = "Homomorphic encryption"
    description: ClassVar[str] = (
        "A server computes on data it cannot read: the data owner encrypts (CKKS, Microsoft "
        "SEAL via TenSEAL), the server scores, trains or adds on the ciphertexts, and only the "
        "key holder decrypts the result."
    )
    protects: ClassVar[str] = (
        "The data from the server: records, labels, scores, model updates and (in training) the "
        "model stay encrypted while the server computes; only the key holder can decrypt."
    )
    does_not_protect: ClassVar[str] = (
        "The result from the key holder, who decrypts it; what the released model or scores "
        "reveal (no differential privacy); sizes and timing. In scoring the model is the "
        "server's and not hidden. Below 128-bit security nothing is protected."
    )
    Params: ClassVar[type] = HEParams
    labels: ClassVar[Mapping[str, Label]] = contract.LABELS
    compliance_view: ClassVar[ComplianceView] = compliance.VIEW

    def available(self) -> str | None:
        if find_spec("tenseal") is None:
            return "needs tenseal (pip install tenseal; reinstall the lab with scripts/setup.sh)"
        return None

    def plan(self, model: ModelParams, params: HEParams, data: Any = None) -> RunPlan:
        return contract.plan(model, params, data)

    def form_rules(self, values: Mapping[str, Any]) -> FormHints:
        return contract.form_rules(values)

    def model_rules(
        self, pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]
    ) -> FormHints:
        return contract.model_rules(pattern_values, model_values)

    def validate(self, data: PreparedData, model: ModelParams, params: HEParams) -> None:
        from ppml_lab.engines.he.engine import check

        check(data, model, params)

    def guarantee(
        self, params: HEParams, result: EngineResult | None, *, n_train: int | None = None
    ) -> Guarantee:
        return contract.guarantee(params, result, not_protected=self.does_not_protect)

    def run(
        self, data: PreparedData, model: ModelParams, params: HEParams, *, seed: int,
        cancel: CancelToken,
    ) -> EngineRun:
        from ppml_lab.engines.he.engine import run_he

        return run_he(data, model, params, seed=seed, cancel=cancel)


register(HEEngine())
