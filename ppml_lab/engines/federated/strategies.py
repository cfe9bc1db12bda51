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
    """What one client prepared in a round, before transport.

    ``vector`` is what the strategy asked the client to send (:meth:`Strategy.prepare`) and
    ``n_rows`` its weight (the client's number of training rows); a transport sends both and
    returns their sums.
    """

    client: int
    vector: np.ndarray
    n_rows: int


@dataclass
class TransportReport:
    """What arrived at the server in a round and what moving it cost.

    Attributes
    ----------
    total
        Sum of the survivors' vectors (the only thing a secure transport reveals).
    n_rows_total
        Sum of the survivors' weights (row counts), summed the same way as ``total``.
    bytes_up, bytes_down
        Serialised bytes moved client -> server and server -> client in the round, model
        download included.
    survivors, dropped
        Client ids whose upload arrived / was lost after the client had trained (and masked).
    extra
        Transport-specific costs of the round (e.g. ``secagg_seconds``), summed over rounds by
        the engine.
    """

    total: np.ndarray
    n_rows_total: float
    bytes_up: int
    bytes_down: int
    survivors: list[int]
    dropped: list[int]
    extra: dict[str, float] = field(default_factory=dict)


class Strategy(Protocol):
    name: str
    prox_mu: float

    def prepare(self, delta: np.ndarray, n_rows: int) -> np.ndarray:
        """What a client with ``n_rows`` rows sends for its model change ``delta``."""
        ...

    def combine(self, total: np.ndarray, n_rows_total: float) -> np.ndarray:
        """The change of the global model from the sum of what arrived and its total weight."""
        ...


class FedAvg:
    """Average of client updates weighted by client size (McMahan et al. 2017).

    Clients send ``n_k * delta_k`` (and ``n_k``) and the server divides the sum of the vectors by
    the sum of the sizes, so a dropped client simply does not count, and secure aggregation
    still works: the server only needs the two sums, never one client's update or size.
    """

    name = "fedavg"
    prox_mu = 0.0

    def prepare(self, delta: np.ndarray, n_rows: int) -> np.ndarray:
        return delta * float(n_rows)

    def combine(self, total: np.ndarray, n_rows_total: float) -> np.ndarray:
        # The weight sum is an exact integer even after fixed-point decoding (it is encoded
        # exactly); rounding guards against a float sum such as 119.99999999.
        n = round(float(n_rows_total))
        return total / n if n > 0 else np.zeros_like(total)


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

    def combine(self, total: np.ndarray, n_rows_total: float) -> np.ndarray:
        # The client sizes are not used: an unweighted, clipped sum has sensitivity ``clip``.
        noise = self.rng.normal(0.0, self.noise_multiplier * self.clip, size=total.shape)
        return (total + noise) / self.expected_clients


class Transport(Protocol):
    """Moves the round's contributions to the server and sums those that arrive.

    ``contributions`` holds every participant of the round (each received the model and
    trained); ``dropped`` names those among them whose upload was lost.
    """

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
    """Clients upload their vectors in the clear; the server sums them.

    A client's upload is its vector as float64 followed by its weight (row count) as one more
    float64: ``8 * (dim + 1)`` bytes, counted from the serialised payload. Every participant,
    dropped or not, downloaded the model first.
    """

    name = "plain"

    def collect(
        self,
        contributions: list[Contribution],
        dropped: list[int],
        *,
        model_bytes: int,
        round_id: int,
    ) -> TransportReport:
        lost = check_dropped(contributions, dropped)
        size = contributions[0].vector.size if contributions else model_bytes // 8
        total = np.zeros(size + 1)
        bytes_up = 0
        for c in contributions:
            if c.client in lost:  # trained, but the upload never arrived
                continue
            payload = serialise_plain(c)
            bytes_up += len(payload)
            total += np.frombuffer(payload, dtype="<f8")
        return TransportReport(
            total=total[:-1],
            n_rows_total=float(total[-1]),
            bytes_up=bytes_up,
            bytes_down=model_bytes * len(contributions),
            survivors=[c.client for c in contributions if c.client not in lost],
            dropped=[c.client for c in contributions if c.client in lost],
        )


def serialise_plain(c: Contribution) -> bytes:
    """A plain upload: the vector and the weight as little-endian float64."""
    vec = np.ascontiguousarray(c.vector, dtype="<f8")
    return vec.tobytes() + np.float64(c.n_rows).astype("<f8").tobytes()


def check_dropped(contributions: list[Contribution], dropped: list[int]) -> set[int]:
    """The dropped ids as a set, after checking each is one of the round's participants.

    A dropped client took part until its upload was lost (it trained, and under secure
    aggregation masked), so it must have a contribution; anything else is a programming error.
    """
    ids = [c.client for c in contributions]
    if len(set(ids)) != len(ids):
        raise ValueError("a client contributed twice in one round")
    lost = {int(d) for d in dropped}
    unknown = sorted(lost - set(ids))
    if unknown:
        raise ValueError(f"dropped clients {unknown} did not take part in the round")
    return lost


STRATEGIES = ("fedavg", "fedprox")


def make_strategy(name: str, *, mu: float = 0.0) -> Strategy:
    """Strategy registry: ``fedavg`` or ``fedprox``."""
    if name == "fedavg":
        return FedAvg()
    if name == "fedprox":
        return FedProx(mu)
    raise ValueError(f"unknown strategy {name!r}; use one of {', '.join(STRATEGIES)}")
