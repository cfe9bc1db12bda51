"""The federated-learning pattern: simulated clients, FedAvg/FedProx, client-level DP, secure aggregation."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ppml_lab.data import PreparedData
from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
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
        "trained one. Secure aggregation hides each update but not the round's sum: it hides "
        "nothing in a round where only one update arrives (and with two, each client can work "
        "out the other's from the new model); it does not hold against a server colluding with "
        "as many clients as the threshold, or a server that swaps public keys or invents "
        "clients (there are no signatures), and nothing stops a client from sending garbage."
    )
    Params: ClassVar[type] = FederatedParams

    def reference_model(self, model: ModelParams, params: FederatedParams) -> ModelParams:
        """The plaintext reference trains ``rounds x local_epochs`` centralised epochs.

        That is as many passes over every row as the federation makes (with all clients
        selected), so the comparison is like for like whatever ``[model] epochs`` says.
        """
        return dataclasses.replace(model, epochs=params.rounds * params.local_epochs)

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
        result: EngineResult = yield from run_federated(
            data, model, params, seed=seed, cancel=cancel
        )
        result.privacy.update(scope(params))
        return result


def scope(params: FederatedParams) -> dict[str, object]:
    """What the run's protection covers, and what its results compute without it."""
    dp = params.epsilon is not None
    diagnostics = [
        "training loss and accuracy (history train_*, final.train_*), computed on all clients' "
        "rows together, which a real federation's server could not do",
        "per-client row and class counts (extra.partition)"
        + (", exactly what client-level DP protects" if dp else ""),
    ]
    if params.local_test:
        diagnostics.append("per-client test accuracy (extra.local_test_accuracy)")
    if dp:
        covers = (
            "the global model after every round, and what is computed from it on held-out data "
            "(test accuracy and loss): any one client's whole contribution is bounded by epsilon"
        )
    elif params.secure_aggregation:
        covers = (
            "the clients' raw rows (they never leave their owner) and each client's update (the "
            "server sees only the round's sum); there is no epsilon: the global model is as "
            "revealing as a centrally trained one"
        )
    else:
        covers = (
            "the clients' raw rows, which never leave their owner; the server sees every "
            "client's update and there is no epsilon"
        )
    return {"covers": covers, "diagnostics": diagnostics}


register(FederatedEngine())
