"""Secure aggregation as a federated transport: the server only ever sees masked updates.

Wraps the double-masking protocol of :mod:`.secagg` (Bonawitz et al. 2017: a self-mask and
pairwise masks per client, both mask secrets Shamir-shared among the round's participants)
behind the same :class:`~.strategies.Transport` interface as the plain transport, so any
strategy (FedAvg, FedProx, client-level DP) runs unchanged on top of it. Every round is one call
of :func:`.secagg.run_round`; this module adds the federated payload, the persistent clients and
the cost keys.

What a client uploads
---------------------
Its vector and its weight (row count) as one fixed-point vector of ``dim + 1`` words, masked:
the server learns the sum of the survivors' vectors and the sum of their sizes, never one
client's update *or its size*. (The plain transport sends the same ``dim + 1`` numbers as
float64, so a masked upload is exactly as large as a plain one; the protocol's other messages
are the overhead.)

Simulation of a round
---------------------
1. Every selected client downloads the model, trains, registers its long-lived channel key with
   the server the first time it takes part, advertises a fresh mask key for the round, and sends
   each peer (through the server, encrypted) its Shamir shares of its two round secrets: the
   self-mask seed and the mask-key seed.
2. It masks its real update with its self-mask and the pair masks with every other participant.
3. A client that *drops out* does so after masking: its upload never arrives. If fewer uploads
   arrive than the threshold (``secagg_threshold``, default a majority of the round's
   participants), the round is aborted: no update is applied (the report's ``aborted`` says
   why, and the engine logs it) and the run goes on. Otherwise each survivor hands the server
   one share per participant (of the self-mask seed of a survivor, of the mask-key seed of a
   dropped client), and the server removes every mask.

What it protects, and what it does not
--------------------------------------
See :mod:`.secagg`. In short: an honest-but-curious server, and one that lies about who dropped,
learns only the sum of each round's survivors; a dropped client's upload that arrives late stays
masked by its self-mask; mask keys are fresh every round. Not protected: the sum itself (a round
with one participant reveals that client's update; with two survivors each can work out the
other's), a server colluding with ``t`` or more clients of a round, an actively malicious server
that substitutes public keys or invents clients (no signatures, no consistency-check round),
clients that send garbage, and who takes part. Under client-level DP, whether a round is
aborted depends on how many clients the Poisson sampling picked; the accountant counts every
round as released and does not cover that abort decision.

Keys and randomness
-------------------
A client's channel key pair lives for the whole run (as on a real device) and only encrypts
shares; it is registered once and a peer downloads it once. Everything that masks (the two
round secrets, hence the mask keys) is fresh every round. All of it comes from the operating
system's randomness, never from the experiment seed: masks cancel exactly, so the result of a
run does not depend on them and stays reproducible.

Costs (the ``extra`` keys, summed over rounds by the engine)
------------------------------------------------------------
- ``secagg_seconds``: the protocol's time (keys, sharing, masking, unmasking).
- ``secagg_overhead_bytes``: bytes sent up and down beyond what the plain transport sends for
  the same round.
- ``secagg_key_bytes``: channel-key registrations and first-time downloads, the round's mask
  public keys up (32 bytes per participant) and the roster down (peer ids and mask keys).
- ``secagg_share_bytes``: the encrypted shares, up to the server and down to each peer
  (48 bytes per ordered pair of participants, each way).
- ``secagg_recovery_bytes``: the unmasking step: the dropped list to each survivor and the
  survivors' shares (16 bytes per participant each). Paid every round, dropouts or not, since
  the self-masks of the survivors are removed this way too.
- ``secagg_seeds_revealed``: secrets the server rebuilt: one per participant of a completed
  round (a survivor's self-mask seed or a dropped client's mask-key seed); 0 in an aborted round.

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
from dataclasses import dataclass

import numpy as np

from ppml_lab.engines.federated.secagg import (
    DEFAULT_SCALE_BITS,
    KeyDirectory,
    SecAggClient,
    max_abs_value,
    run_round,
)
from ppml_lab.engines.federated.strategies import Contribution, TransportReport, check_dropped


@dataclass
class SecAggTransportReport(TransportReport):
    """A :class:`~.strategies.TransportReport` that can say the round was aborted.

    ``aborted`` is the plain-language reason (fewer clients than the threshold took part or
    survived), empty when the sum was computed; an aborted round's ``total`` is zero and must
    not be applied.
    """

    aborted: str = ""


class SecureAggregation:
    """Sums the round's contributions under double masking; see the module docstring.

    Parameters
    ----------
    scale_bits
        Fractional bits of the fixed-point encoding (default 24: resolution ``2**-24``).
    threshold
        Shares needed to rebuild a client's secret, and so the fewest uploads a round needs;
        ``None`` = a majority of each round's participants.
    """

    name = "secure-aggregation"

    def __init__(self, *, scale_bits: int | None = None, threshold: int | None = None) -> None:
        self.scale_bits = DEFAULT_SCALE_BITS if scale_bits is None else int(scale_bits)
        self.threshold = threshold
        self._clients: dict[int, SecAggClient] = {}
        self._directory = KeyDirectory()  # the server's channel keys, kept for the whole run

    def _client(self, client_id: int) -> SecAggClient:
        client = self._clients.get(client_id)
        if client is None:
            client = self._clients[client_id] = SecAggClient(client_id, scale_bits=self.scale_bits)
        return client

    def collect(
        self,
        contributions: list[Contribution],
        dropped: list[int],
        *,
        model_bytes: int,
        round_id: int,
    ) -> SecAggTransportReport:
        lost = check_dropped(contributions, dropped)
        dim = (contributions[0].vector.size if contributions else model_bytes // 8) + 1
        participants = [c.client for c in contributions]
        survivors = [cid for cid in participants if cid not in lost]
        gone = [cid for cid in participants if cid in lost]
        extra = dict.fromkeys(
            (
                "secagg_seconds",
                "secagg_overhead_bytes",
                "secagg_key_bytes",
                "secagg_share_bytes",
                "secagg_recovery_bytes",
                "secagg_seeds_revealed",
            ),
            0.0,
        )
        if not contributions:  # nobody was selected: nothing to aggregate, nothing sent
            return SecAggTransportReport(
                total=np.zeros(dim - 1), n_rows_total=0.0, bytes_up=0, bytes_down=0,
                survivors=[], dropped=[], extra=extra,
            )
        limit = max_abs_value(self.scale_bits)
        payloads: dict[int, np.ndarray] = {}
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
            payloads[c.client] = payload
        t0 = time.perf_counter()
        outcome = run_round(
            {cid: self._client(cid) for cid in participants},
            payloads,
            round_id=round_id,
            dropped=gone,
            threshold=self.threshold,
            directory=self._directory,
            scale_bits=self.scale_bits,
        )
        seconds = time.perf_counter() - t0
        rep = outcome.report
        if outcome.total is None:  # aborted: nothing is unmasked, nothing applied
            total, n_rows = np.zeros(dim - 1), 0.0
        else:
            total, n_rows = outcome.total[:-1], float(outcome.total[-1])
        keys = rep.bytes_keys_up + rep.bytes_keys_down
        shares = rep.bytes_shares_up + rep.bytes_shares_down
        recovery = rep.bytes_recovery + rep.bytes_recovery_down
        # The plain transport uploads the same dim + 1 values as float64 from every survivor
        # (8 bytes each, like a masked word) and downloads the same model.
        plain_up = len(survivors) * dim * 8
        extra.update(
            secagg_seconds=seconds,
            secagg_overhead_bytes=float(rep.bytes_masked_uploads - plain_up + keys + shares + recovery),
            secagg_key_bytes=float(keys),
            secagg_share_bytes=float(shares),
            secagg_recovery_bytes=float(recovery),
            secagg_seeds_revealed=float(rep.seeds_revealed),
        )
        return SecAggTransportReport(
            total=total,
            n_rows_total=n_rows,
            bytes_up=rep.bytes_masked_uploads + rep.bytes_keys_up + rep.bytes_shares_up + rep.bytes_recovery,
            bytes_down=model_bytes * len(participants) + rep.bytes_keys_down + rep.bytes_shares_down + rep.bytes_recovery_down,
            survivors=survivors,
            dropped=gone,
            extra=extra,
            aborted=outcome.aborted,
        )


__all__ = ["SecAggTransportReport", "SecureAggregation"]
