"""The federated-learning pattern: simulated clients, FedAvg/FedProx, client-level DP, secure aggregation."""

from __future__ import annotations

from collections.abc import Mapping
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
from ppml_lab.engines.federated import compliance, contract
from ppml_lab.engines.federated.engine import run_federated, validate
from ppml_lab.engines.federated.params import FederatedParams
from ppml_lab.engines.registry import register
from ppml_lab.models import ModelParams

__all__ = ["FederatedEngine", "FederatedParams"]


class FederatedEngine(EngineBase):
    name: ClassVar[str] = "federated"
    label: ClassVar[str] = "Federated learning"
    description: ClassVar[str] = (
        "The data stays with its owners (clients); only model updates travel to a server, which "
        "averages them into a shared model."
    )
    protects: ClassVar[str] = (
        "Raw records: they never leave their owner. With secure aggregation the server sees only "
        "the sum of updates, never one client's; with client-level DP the final model reveals "
        "little about any one client."
    )
    does_not_protect: ClassVar[str] = (
        "Without DP, model updates can leak information about the rows behind them (gradient "
        "inversion, membership inference), and the final model is as revealing as a centrally "
        "trained one. Secure aggregation hides each update but not the round's sum: it hides "
        "nothing in a round where only one update arrives (and with two, each client can work "
        "out the other's from the new model); it does not hold against a server colluding with "
        "as many clients as the threshold, or a server that swaps public keys or invents "
        "clients (there are no signatures), and nothing stops a client from sending garbage."
    )
    Params: ClassVar[type] = FederatedParams

    labels: ClassVar[Mapping[str, Label]] = contract.LABELS
    sweepable: ClassVar[bool] = True

    def plan(
        self, model: ModelParams, params: FederatedParams, data: PreparedData | None = None
    ) -> RunPlan:
        return contract.plan(model, params)

    def form_rules(self, values: Mapping[str, Any]) -> FormHints:
        return contract.form_rules(values)

    def model_rules(
        self, pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]
    ) -> FormHints:
        return contract.model_rules(pattern_values, model_values)

    def guarantee(
        self, params: FederatedParams, result: EngineResult | None, *, n_train: int | None = None
    ) -> Guarantee:
        return contract.guarantee(
            params, result, protects=self.protects, not_protected=self.does_not_protect
        )

    def compliance(
        self, params: FederatedParams | None = None, guarantee: Guarantee | None = None
    ) -> ComplianceView:
        view = compliance.view(params if params is not None else FederatedParams())
        if guarantee is not None and guarantee.no_protection:
            return view.without_protection(guarantee.no_protection, guarantee.no_protection_reason)
        return view

    def compare_preset(
        self, model: ModelParams | None = None, *, tiny: bool = False
    ) -> FederatedParams:
        """10 clients, IID, FedAvg, one local epoch per round and as many rounds as the model's
        epochs: the same passes over the data as the plaintext baseline (2 rounds if ``tiny``).
        """
        rounds = int(model.epochs) if model is not None else FederatedParams().rounds
        return FederatedParams(
            clients=10, partition="iid", strategy="fedavg", local_epochs=1,
            rounds=min(rounds, 2) if tiny else rounds,
        )

    def validate(self, data: PreparedData, model: ModelParams, params: FederatedParams) -> None:
        """Raise ValueError (with what to change) for settings this data cannot support."""
        validate(data, params)
        if params.backend == "flower":
            from ppml_lab.engines.federated.flower_setup import validate_flower

            validate_flower(data, params)

    def run(
        self,
        data: PreparedData,
        model: ModelParams,
        params: FederatedParams,
        *,
        seed: int,
        cancel: CancelToken,
    ) -> EngineRun:
        if params.backend == "flower":  # Flower is imported by its child processes only
            from ppml_lab.engines.federated.flower_engine import run_flower

            return run_flower(data, model, params, seed=seed, cancel=cancel)
        return run_federated(data, model, params, seed=seed, cancel=cancel)


register(FederatedEngine())
