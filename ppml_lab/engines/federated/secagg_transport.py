"""Secure aggregation as a federated transport: the server only ever sees masked updates.

Wraps the pairwise-mask protocol of :mod:`.secagg` (X25519 + HKDF + AES-CTR from
``cryptography``) behind the same :class:`~.strategies.Transport` interface as the plain
transport, so any strategy (FedAvg, FedProx, client-level DP) runs unchanged on top of it.

Simulation of a round
---------------------
Every selected client takes part in the key exchange and masks what it will send. A client that
*drops out* does so after masking: its upload never arrives, so the masks the survivors shared
with it do not cancel; each survivor then reveals its round seed with that client and the server
removes those masks (counted as recovery bytes). What a dropped client masked is irrelevant (its
upload is lost), so the simulation masks a zero vector for it instead of training it.

Client key pairs live for the whole run (as on real devices), so the expensive X25519 exchange
with a given peer happens once; each round only derives fresh pair seeds (HKDF) and masks.
Keys come from the operating system's randomness, never from the experiment seed: masks cancel
exactly, so the result of a run does not depend on them and stays reproducible.
"""

from __future__ import annotations

import time

import numpy as np

from ppml_lab.engines.federated.secagg import SecAggClient, SecAggServer, max_abs_value, to_bytes
from ppml_lab.engines.federated.strategies import Contribution, TransportReport


class SecureAggregation:
    """Sums the round's contributions under pairwise masking; see the module docstring."""

    name = "secure-aggregation"

    def __init__(self) -> None:
        self._clients: dict[int, SecAggClient] = {}

    def _client(self, client_id: int) -> SecAggClient:
        client = self._clients.get(client_id)
        if client is None:
            client = self._clients[client_id] = SecAggClient(client_id)
        return client

    def collect(
        self,
        contributions: list[Contribution],
        dropped: list[int],
        *,
        model_bytes: int,
        round_id: int,
    ) -> TransportReport:
        dim = contributions[0].vector.size if contributions else model_bytes // 8
        survivors = [c.client for c in contributions]
        participants = survivors + [int(d) for d in dropped]
        t0 = time.perf_counter()
        server = SecAggServer(dim=dim)
        directory = server.relay_keys(
            {cid: self._client(cid).public_key_bytes() for cid in participants}
        )
        clipped = 0
        for c in contributions:
            client = self._client(c.client)
            masked = client.mask(c.vector, directory, round_id)
            clipped += client.last_clipped
            server.receive(c.client, to_bytes(masked))  # the only thing the server gets
        for d in dropped:
            self._client(int(d)).mask(np.zeros(dim), directory, round_id)  # upload lost
        seeds = {
            s: {int(d): self._clients[s].reveal_pairwise_seed(int(d), round_id) for d in dropped}
            for s in survivors
        }
        if survivors:
            total, report = server.finish(survivors, [int(d) for d in dropped], seeds)
        else:  # everyone dropped: nothing arrived, nothing to unmask
            total = np.zeros(dim)
            report = None
        seconds = time.perf_counter() - t0
        bytes_up = bytes_down = 0
        extra: dict[str, float] = {"secagg_seconds": seconds, "secagg_clipped_values": float(clipped)}
        if report is not None:
            bytes_up = report.bytes_masked_uploads + report.bytes_recovery + report.bytes_keys_up
            bytes_down = report.bytes_keys_down + report.bytes_recovery_down
            extra["secagg_overhead_bytes"] = float(report.bytes_overhead)
            extra["secagg_seeds_revealed"] = float(report.seeds_revealed)
        return TransportReport(
            total=total,
            bytes_up=bytes_up,
            bytes_down=bytes_down + model_bytes * len(participants),
            survivors=survivors,
            dropped=[int(d) for d in dropped],
            extra=extra,
        )


__all__ = ["SecureAggregation", "max_abs_value"]
