"""Aggregation strategies and the wrappers that add behaviour to them.

A strategy says what each client sends (``prepare``) and how the server turns the sum of what
arrived into the change of the global model (``combine``). Behaviour is added by wrapping, as
Flower's DP strategy wraps FedAvg: :class:`ClientLevelDP` wraps FedAvg or FedProx. *How* the sum
is computed is a transport: :class:`PlainTransport` (the server sees every update) or
``SecureAggregation`` (the server only sees masked updates; see :mod:`.secagg_transport`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Contribution:
    """What one client sends in a round, before transport."""

    client: int
    vector: np.ndarray
    n_rows: int


@dataclass
class TransportReport:
    """What the transport measured while summing a round's contributions."""

    total: np.ndarray
    bytes_up: int
    bytes_down: int
    survivors: list[int]
    dropped: list[int]
    extra: dict[str, float] = field(default_factory=dict)


class Strategy(Protocol):
    name: str
    prox_mu: float

    def prepare(self, delta: np.ndarray, n_rows: int) -> np.ndarray: ...
    def combine(self, total: np.ndarray, survivors: list[Contribution]) -> np.ndarray: ...


class FedAvg:
    """Average of client updates weighted by client size (McMahan et al. 2017).

    Clients send ``n_k * delta_k`` and the server divides the sum by the survivors' total size,
    so a dropped client simply does not count (and secure aggregation still works: the server
    only needs the sum).
    """

    name = "fedavg"
    prox_mu = 0.0

    def prepare(self, delta: np.ndarray, n_rows: int) -> np.ndarray:
        return delta * float(n_rows)

    def combine(self, total: np.ndarray, survivors: list[Contribution]) -> np.ndarray:
        n = sum(c.n_rows for c in survivors)
        return total / n if n else np.zeros_like(total)


class FedProx(FedAvg):
    """FedAvg aggregation with a proximal term mu/2 ||w - w_global||^2 in each client's loss."""

    name = "fedprox"

    def __init__(self, mu: float) -> None:
        self.prox_mu = mu


class ClientLevelDP:
    """DP-FedAvg (McMahan et al. 2018) wrapped around a strategy.

    Each client's update is clipped to L2 norm ``clip`` and sent unweighted; the server adds
    Gaussian noise N(0, (sigma * clip)^2) to the sum and divides by the *expected* number of
    clients per round (a fixed denominator, so one client's presence changes the result by at
    most clip / expected). The inner strategy's local objective (e.g. FedProx's mu) is kept.
    """

    def __init__(
        self,
        inner: Strategy,
        *,
        clip: float,
        noise_multiplier: float,
        expected_clients: float,
        rng: np.random.Generator,
    ) -> None:
        self.inner = inner
        self.name = f"dp-{inner.name}"
        self.prox_mu = inner.prox_mu
        self.clip = clip
        self.noise_multiplier = noise_multiplier
        self.expected_clients = expected_clients
        self.rng = rng

    def prepare(self, delta: np.ndarray, n_rows: int) -> np.ndarray:
        norm = float(np.linalg.norm(delta))
        return delta * min(1.0, self.clip / norm) if norm > 0 else delta

    def combine(self, total: np.ndarray, survivors: list[Contribution]) -> np.ndarray:
        noise = self.rng.normal(0.0, self.noise_multiplier * self.clip, size=total.shape)
        return (total + noise) / self.expected_clients


class Transport(Protocol):
    name: str

    def collect(
        self,
        contributions: list[Contribution],
        dropped: list[int],
        *,
        model_bytes: int,
        round_id: int,
    ) -> TransportReport: ...


class PlainTransport:
    """Clients upload their vectors in the clear (float64); the server sums them."""

    name = "plain"

    def collect(
        self,
        contributions: list[Contribution],
        dropped: list[int],
        *,
        model_bytes: int,
        round_id: int,
    ) -> TransportReport:
        size = contributions[0].vector.size if contributions else model_bytes // 8
        total = np.zeros(size)
        bytes_up = 0
        for c in contributions:
            payload = np.ascontiguousarray(c.vector, dtype=np.float64).tobytes()
            bytes_up += len(payload)
            total += np.frombuffer(payload, dtype=np.float64)
        return TransportReport(
            total=total,
            bytes_up=bytes_up,
            bytes_down=model_bytes * (len(contributions) + len(dropped)),
            survivors=[c.client for c in contributions],
            dropped=list(dropped),
        )


STRATEGIES = ("fedavg", "fedprox")


def make_strategy(name: str, *, mu: float = 0.0) -> Strategy:
    """Strategy registry: ``fedavg`` or ``fedprox``."""
    if name == "fedavg":
        return FedAvg()
    if name == "fedprox":
        return FedProx(mu)
    raise ValueError(f"unknown strategy {name!r}; use one of {', '.join(STRATEGIES)}")
