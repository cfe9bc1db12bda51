"""One round of Flower's SecAgg+ (``SecAggPlusWorkflow``) driven from the lab's ServerApp.

Flower ships SecAgg+ as a *fit workflow* of its legacy server: it asks a legacy ``Strategy``
which clients to sample (``configure_fit``), runs its four stages (setup, key sharing, masked
vectors, unmasking) and hands the unmasked aggregate to ``aggregate_fit``. The lab keeps its own
round loop (the same client selection, strategy and noise as the in-process simulation), so
this module wraps one round: a one-round strategy that samples exactly the clients the lab
chose and keeps the aggregate, and a ``LegacyContext`` holding the global model.

What SecAgg+ returns is the weighted *mean* of the clients' vectors (``sum(w v) / sum(w)``,
see :mod:`.flower_client`); the caller turns it back into a sum with the survivors' count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from flwr.app import ConfigRecord, Context
from flwr.common import FitIns, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.compat.common import recorddict_compat as compat
from flwr.server.client_manager import SimpleClientManager
from flwr.server.compat.grid_client_proxy import GridClientProxy
from flwr.server.compat.legacy_context import LegacyContext
from flwr.server.server_config import ServerConfig
from flwr.server.strategy import Strategy
from flwr.server.workflow import SecAggPlusWorkflow
from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, MAIN_PARAMS_RECORD
from flwr.server.workflow.constant import Key as WorkflowKey
from flwr.serverapp import Grid

__all__ = ["SecAggRound", "run_secagg_round", "secagg_shares"]


@dataclass
class SecAggRound:
    """What came out of a round: the unmasked mean and how many clients it covers."""

    mean: np.ndarray | None
    survivors: int
    failures: int


class _OneRound(Strategy):
    """A legacy strategy for one round: samples the given clients, keeps the aggregate."""

    def __init__(self, grid: Grid, fit: list[tuple[int, dict[str, Any]]], global_flat: np.ndarray) -> None:
        self._grid = grid
        self._fit = fit
        self._parameters = ndarrays_to_parameters([global_flat])
        self.mean: np.ndarray | None = None
        self.survivors = 0
        self.failures = 0

    def initialize_parameters(self, client_manager: Any) -> Any:
        return None

    def configure_fit(self, server_round: int, parameters: Any, client_manager: Any) -> list:
        run_id = self._grid.run.run_id
        return [
            (GridClientProxy(node_id, self._grid, run_id), FitIns(self._parameters, config))
            for node_id, config in self._fit
        ]

    def aggregate_fit(self, server_round: int, results: list, failures: list) -> tuple:
        self.failures = len(failures)
        if results:
            self.survivors = len(results)
            self.mean = parameters_to_ndarrays(results[0][1].parameters)[0]
        return None, {}

    def configure_evaluate(self, server_round: int, parameters: Any, client_manager: Any) -> list:
        return []

    def aggregate_evaluate(self, server_round: int, results: list, failures: list) -> tuple:
        return None, {}

    def evaluate(self, server_round: int, parameters: Any) -> None:
        return None


def secagg_shares(n: int, threshold: int | None) -> tuple[int | float, int | float]:
    """``(num_shares, reconstruction_threshold)`` for SecAgg+ with ``n`` sampled clients.

    Every client shares its secrets with every other (``num_shares = n``, the full graph of
    the original SecAgg, as the lab's own implementation does); the threshold is the user's, or
    a majority of the round's clients. Flower wants an integer threshold below ``num_shares``;
    with two clients, both must deliver (expressed as the proportion 1.0).
    """
    if n <= 2:
        return 1.0, 1.0
    t = threshold if threshold is not None else n // 2 + 1
    return n, max(2, min(int(t), n - 1))


def run_secagg_round(
    grid: Grid,
    context: Context,
    *,
    rnd: int,
    rounds: int,
    fit: list[tuple[int, dict[str, Any]]],
    global_flat: np.ndarray,
    threshold: int | None,
    max_weight: float,
    clipping_range: float,
    timeout: float | None,
) -> SecAggRound:
    """Run SecAgg+ over the ``(node_id, fit config)`` pairs of ``fit``; see :class:`SecAggRound`."""
    strategy = _OneRound(grid, fit, global_flat)
    legacy = LegacyContext(
        context,
        config=ServerConfig(num_rounds=rounds),
        strategy=strategy,
        client_manager=SimpleClientManager(),
    )
    legacy.state.config_records[MAIN_CONFIGS_RECORD] = ConfigRecord({WorkflowKey.CURRENT_ROUND: rnd})
    legacy.state.array_records[MAIN_PARAMS_RECORD] = compat.parameters_to_arrayrecord(
        ndarrays_to_parameters([global_flat]), keep_input=True
    )
    shares, t = secagg_shares(len(fit), threshold)
    workflow = SecAggPlusWorkflow(
        num_shares=shares,
        reconstruction_threshold=t,
        max_weight=max_weight,
        clipping_range=clipping_range,
        timeout=timeout,
    )
    workflow(grid, legacy)
    return SecAggRound(mean=strategy.mean, survivors=strategy.survivors, failures=strategy.failures)
