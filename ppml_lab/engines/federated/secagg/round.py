"""One complete round of secure aggregation, from keys to the unmasked sum: :func:`run_round`.

This is the one implementation of a round; the federated transport
(:mod:`ppml_lab.engines.federated.secagg_transport`) calls it every round, and the tests play
lying servers and late uploads step by step with the classes it drives.

Part of :mod:`ppml_lab.engines.federated.secagg`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ppml_lab.engines.federated.secagg.client import SecAggClient
from ppml_lab.engines.federated.secagg.encoding import DEFAULT_SCALE_BITS, to_bytes
from ppml_lab.engines.federated.secagg.primitives import _check_id
from ppml_lab.engines.federated.secagg.roster import KeyDirectory, ThresholdError
from ppml_lab.engines.federated.secagg.server import SecAggReport, SecAggServer

__all__ = ["RoundOutcome", "run_round"]


@dataclass
class RoundOutcome:
    """The result of :func:`run_round`.

    Attributes
    ----------
    total
        The float64 sum of the survivors' updates, or ``None`` if the round was aborted.
    report
        Costs and counts; ``report.aborted`` says why a round was aborted.
    server
        The round's server, with what it learned (``self_seeds``, ``mask_key_seeds``, ``roster``).
    lost_uploads
        The masked uploads of the dropped clients, which never reached the server (kept so a test
        can play a late arrival).
    """

    total: np.ndarray | None
    report: SecAggReport
    server: SecAggServer
    lost_uploads: dict[int, bytes]

    @property
    def aborted(self) -> str:
        """Why the round was aborted, or an empty string."""
        return self.report.aborted


def run_round(
    clients: Mapping[int, SecAggClient],
    updates: Mapping[int, np.ndarray],
    *,
    round_id: int,
    dropped: Iterable[int] = (),
    threshold: int | None = None,
    directory: KeyDirectory | None = None,
    scale_bits: int = DEFAULT_SCALE_BITS,
) -> RoundOutcome:
    """Run one complete round: keys, shares, masked uploads, dropouts, unmasking.

    Parameters
    ----------
    clients
        ``{client_id: SecAggClient}`` covering the participants (they persist across rounds).
    updates
        ``{client_id: float vector}`` of every participant: each masks its update.
    round_id
        Round number, used once per client.
    dropped
        Participants whose masked upload is lost on the way (after masking).
    threshold
        Shares needed to rebuild a secret; ``None`` = a majority of the participants.
    directory
        The server's channel-key registry, kept across rounds so keys travel once.
    scale_bits
        Fixed-point fractional bits.

    Returns
    -------
    RoundOutcome
        The sum (``None`` if fewer clients than the threshold took part or survived: the round is
        aborted, which is data, not an exception) and the round's costs.
    """
    ids = [_check_id(c) for c in updates]
    if not ids:
        raise ValueError("a secure-aggregation round needs at least one participant")
    drop = {_check_id(d) for d in dropped}
    unknown = drop - set(ids)
    if unknown:
        raise ValueError(f"dropped clients {sorted(unknown)} did not start the round")
    dim = len(next(iter(updates.values())))
    server = SecAggServer(
        round_id, threshold=threshold, directory=directory, dim=dim, scale_bits=scale_bits
    )
    lost: dict[int, bytes] = {}
    try:
        for cid in ids:
            server.register(cid, clients[cid].channel_public_key)
        roster = server.advertise({cid: clients[cid].advertise(round_id) for cid in ids})
        inboxes = server.relay_shares({cid: clients[cid].share_keys(roster) for cid in ids})
        for cid in ids:
            masked = to_bytes(clients[cid].mask(updates[cid], inboxes[cid]))
            if cid in drop:
                lost[cid] = masked  # lost on the way: the server never sees it
            else:
                server.receive(cid, masked)
        survivors, gone = server.unmask_request()
        responses = {s: clients[s].unmask(survivors, gone) for s in survivors}
        total, report = server.finish(responses)
    except ThresholdError as refused:
        return RoundOutcome(None, server.report(aborted=str(refused)), server, lost)
    return RoundOutcome(total, report, server, lost)
