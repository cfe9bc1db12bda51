"""Secure aggregation as a federated transport: the server only ever sees masked updates.

Wraps the pairwise-mask protocol of :mod:`.secagg` (X25519 + HKDF + AES-CTR from
``cryptography``) behind the same :class:`~.strategies.Transport` interface as the plain
transport, so any strategy (FedAvg, FedProx, client-level DP) runs unchanged on top of it.

What a client uploads
---------------------
Its vector and its weight (row count) as one fixed-point vector of ``dim + 1`` words, masked:
the server learns the sum of the survivors' vectors and the sum of their sizes, never one
client's update *or its size*. (The plain transport sends the same ``dim + 1`` numbers as
float64, so a masked upload is exactly as large as a plain one.)

Simulation of a round
---------------------
1. Every selected client downloads the model and the round's participant list (plus the public
   keys of peers it has not met before), trains, and masks its real update with the pair
   masks of every other participant.
2. A client that *drops out* does so after masking: its upload never arrives, so the masks the
   survivors shared with it do not cancel. The server tells each survivor who dropped; each
   survivor reveals its round seed with each dropped client (never its private key or the
   long-lived DH secret), and the server removes those masks (counted as recovery bytes).

Persistent keys
---------------
Client key pairs live for the whole run, as on real devices: a client registers its public key
with the server once, and downloads a peer's key the first time they share a round; later
rounds only send the participant list. The X25519 shared secret with a peer is computed once
and cached (:class:`~.secagg.SecAggClient`); each round only derives fresh pair seeds (HKDF)
and masks. Keys come from the operating system's randomness, never from the experiment seed:
masks cancel exactly, so the result of a run does not depend on them and stays reproducible.

Fixed-point range
-----------------
Masking works on 64-bit fixed-point words with 24 fractional bits (:mod:`.secagg`): a value
beyond about ``±5.4e8`` cannot be encoded. FedAvg sends ``n_k * delta_k``, so that limit is
reached only by a diverged run (e.g. 30,000 rows times a parameter change of 18,000). Rather
than clip silently and aggregate a model different from the plain one, :meth:`collect` refuses
such an update with a :class:`ValueError` that says so.
"""

from __future__ import annotations

import time

import numpy as np

from ppml_lab.engines.federated.secagg import (
    ID_BYTES,
    KEY_BYTES,
    SecAggClient,
    SecAggServer,
    max_abs_value,
    to_bytes,
)
from ppml_lab.engines.federated.strategies import Contribution, TransportReport, check_dropped


class SecureAggregation:
    """Sums the round's contributions under pairwise masking; see the module docstring.

    Parameters
    ----------
    scale_bits
        Fractional bits of the fixed-point encoding (default 24: resolution ``2**-24``).
    """

    name = "secure-aggregation"

    def __init__(self, *, scale_bits: int | None = None) -> None:
        self._scale = {} if scale_bits is None else {"scale_bits": scale_bits}
        self._clients: dict[int, SecAggClient] = {}
        self._registered: set[int] = set()  # clients whose public key the server holds
        self._known: dict[int, set[int]] = {}  # client -> peers whose key it has downloaded

    def _client(self, client_id: int) -> SecAggClient:
        client = self._clients.get(client_id)
        if client is None:
            client = self._clients[client_id] = SecAggClient(client_id, **self._scale)
        return client

    def _key_traffic(self, participants: list[int]) -> tuple[int, int]:
        """Bytes up/down to set up the round's masks, with keys sent only once per pair."""
        up = down = 0
        n = len(participants)
        for cid in participants:
            if cid not in self._registered:
                up += KEY_BYTES + ID_BYTES  # register the public key with the server, once
                self._registered.add(cid)
        everyone = set(participants)
        for cid in participants:
            known = self._known.setdefault(cid, set())
            new = everyone - known - {cid}
            # The participant list (one id per peer) every round; a key only for new peers.
            down += (n - 1) * ID_BYTES + len(new) * KEY_BYTES
            known |= new
        return up, down

    def collect(
        self,
        contributions: list[Contribution],
        dropped: list[int],
        *,
        model_bytes: int,
        round_id: int,
    ) -> TransportReport:
        lost = check_dropped(contributions, dropped)
        dim = (contributions[0].vector.size if contributions else model_bytes // 8) + 1
        participants = [c.client for c in contributions]
        survivors = [cid for cid in participants if cid not in lost]
        gone = [cid for cid in participants if cid in lost]
        limit = max_abs_value(self._scale.get("scale_bits", 24))
        t0 = time.perf_counter()
        keys_up, keys_down = self._key_traffic(participants)
        directory = {cid: self._client(cid).public_key_bytes() for cid in participants}
        server = SecAggServer(dim=dim, **self._scale)
        for c in contributions:
            payload = np.append(np.asarray(c.vector, dtype=np.float64), float(c.n_rows))
            biggest = float(np.max(np.abs(payload))) if payload.size else 0.0
            if not biggest <= limit:  # also catches NaN
                raise ValueError(
                    f"round {round_id}: client {c.client}'s update holds the value {biggest:.3g}, "
                    f"beyond the +/-{limit:.3g} that secure aggregation's fixed-point encoding "
                    "can carry; the training has most likely diverged. Lower the learning rate "
                    "(or switch secure aggregation off to watch the divergence)."
                )
            masked = self._client(c.client).mask(payload, directory, round_id)
            if c.client not in lost:
                server.receive(c.client, to_bytes(masked))  # the only thing the server gets
            # A dropped client's masked upload is lost on the way: the server never sees it.
        seeds = {
            s: {d: self._clients[s].reveal_pairwise_seed(d, round_id) for d in gone}
            for s in survivors
        }
        if survivors:
            summed, report = server.finish(survivors, gone, seeds)
            masked_up = report.bytes_masked_uploads
            recovery_up, recovery_down = report.bytes_recovery, report.bytes_recovery_down
            seeds_revealed = report.seeds_revealed
        else:  # everyone dropped: nothing arrived, nothing to unmask
            summed = np.zeros(dim)
            masked_up = recovery_up = recovery_down = seeds_revealed = 0
        seconds = time.perf_counter() - t0
        # Overhead against the plain transport, which uploads the same dim + 1 values as float64
        # (8 bytes each, like a masked word) and downloads the same model.
        plain_up = len(survivors) * dim * 8
        overhead = (masked_up - plain_up) + keys_up + keys_down + recovery_up + recovery_down
        return TransportReport(
            total=summed[:-1],
            n_rows_total=float(summed[-1]),
            bytes_up=masked_up + keys_up + recovery_up,
            bytes_down=model_bytes * len(participants) + keys_down + recovery_down,
            survivors=survivors,
            dropped=gone,
            extra={
                "secagg_seconds": seconds,
                "secagg_overhead_bytes": float(overhead),
                "secagg_key_bytes": float(keys_up + keys_down),
                "secagg_recovery_bytes": float(recovery_up + recovery_down),
                "secagg_seeds_revealed": float(seeds_revealed),
            },
        )


__all__ = ["SecureAggregation"]
