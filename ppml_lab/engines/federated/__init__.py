"""The federated-learning pattern: simulated clients, FedAvg/FedProx, client-level DP, secure aggregation."""

from __future__ import annotations

from typing import ClassVar

from ppml_lab.data import PreparedData
from ppml_lab.engines.base import CancelToken, EngineRun
from ppml_lab.engines.federated.engine import run_federated, validate
from ppml_lab.engines.federated.params import FederatedParams
from ppml_lab.engines.registry import register
from ppml_lab.models import ModelParams

__all__ = ["FederatedEngine", "FederatedParams"]


class FederatedEngine:
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
        "trained one. Secure aggregation assumes an honest-but-curious server that does not "
        "collude with clients; it hides nothing in a round where only one update arrives (and with "
        "two, each client can work out the other's from the new model)."
    )
    Params: ClassVar[type] = FederatedParams

    def validate(self, data: PreparedData, model: ModelParams, params: FederatedParams) -> None:
        """Raise ValueError (with what to change) for settings this data cannot support."""
        validate(data, params)

    def run(
        self,
        data: PreparedData,
        model: ModelParams,
        params: FederatedParams,
        *,
        seed: int,
        cancel: CancelToken,
    ) -> EngineRun:
        return run_federated(data, model, params, seed=seed, cancel=cancel)


register(FederatedEngine())
