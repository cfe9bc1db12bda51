"""The aggregator of one round, :class:`SecAggServer`, and what a round cost, :class:`SecAggReport`.

The server collects the round's mask keys and broadcasts the roster, relays the encrypted share
messages it cannot read, receives the masked uploads, asks the survivors for one share per
participant and, from ``t`` shares each, rebuilds every survivor's self-mask seed and every
dropped client's mask key to remove all masks. What remains is the exact sum of the survivors'
encoded updates.

Cost
----
Per round with ``n`` participants, ``s`` survivors and ``d = n - s`` dropped, each size counted
from the serialised message (:class:`SecAggReport`; no framing, as for the plain transport):

- masked upload: 8 bytes per coordinate, the same as float64 (each survivor);
- mask public key up: 32 bytes per participant; roster down: ``(n - 1) * (4 + 32)`` bytes per
  participant (peer ids and mask keys), plus 32 bytes per peer channel key the participant has
  not downloaded before; channel-key registration: ``32 + 4`` bytes once per client;
- encrypted shares: :data:`SHARE_MESSAGE_BYTES` = 2 x 16 (two shares) + 16 (GCM tag) = 48 bytes
  per ordered pair, up to the server and again down to the recipient: ``48 * (n - 1)`` bytes up
  and down per participant;
- unmasking: ``4 * d`` bytes down (the dropped ids) and ``16 * n`` bytes up (one share per
  participant) per survivor.

The share cost per peer is fixed, independent of the model size: 48 bytes up is already 6 model
coordinates' worth per peer, so with 10 clients and a 100-coordinate model the secure upload is
about 1.8x the plain one, while with 6,400 coordinates it is about 1.01x.

Part of :mod:`ppml_lab.engines.federated.secagg`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from ppml_lab.engines.federated.secagg.encoding import (
    DEFAULT_SCALE_BITS,
    _check_scale_bits,
    decode,
    from_bytes,
)
from ppml_lab.engines.federated.secagg.masks import mask_private_key, pairwise_mask, self_mask
from ppml_lab.engines.federated.secagg.primitives import (
    ID_BYTES,
    KEY_BYTES,
    _bytes_field,
    _check_id,
    _raw_public,
)
from ppml_lab.engines.federated.secagg.roster import (
    KeyDirectory,
    Roster,
    ThresholdError,
    default_threshold,
)
from ppml_lab.engines.federated.secagg.shares import (
    SHARE_BYTES,
    SHARE_MESSAGE_BYTES,
    recombine_secrets,
)

__all__ = ["SecAggReport", "SecAggServer"]


@dataclass(frozen=True)
class SecAggReport:
    """What one secure-aggregation round cost and who took part. All sizes in bytes."""

    survivors: int
    dropped: int
    dim: int
    threshold: int
    bytes_masked_uploads: int
    """Masked vectors received (8 bytes per coordinate)."""
    bytes_plain_float64: int
    """What the survivors' updates would have cost uploaded in the clear as float64."""
    bytes_plain_float32: int
    """... and as float32."""
    bytes_keys_up: int
    """Mask public keys of the round, and channel keys registered for the first time."""
    bytes_keys_down: int
    """Rosters (peer ids and mask keys) and channel keys downloaded for the first time."""
    bytes_shares_up: int
    """Encrypted share messages sent to the server for relaying."""
    bytes_shares_down: int
    """Encrypted share messages relayed to their recipients."""
    bytes_recovery: int
    """Shares the survivors uploaded at unmasking (:data:`SHARE_BYTES` per participant each)."""
    bytes_recovery_down: int
    """The list of dropped clients sent to each survivor (:data:`ID_BYTES` per id)."""
    seeds_revealed: int
    """Secrets the server rebuilt: survivors' self-mask seeds plus dropped clients' mask-key seeds."""
    shares_revealed: int
    """Shares the survivors sent at unmasking."""
    aborted: str = ""
    """Why the round was aborted (fewer clients than the threshold), or empty."""

    @property
    def bytes_overhead(self) -> int:
        """Extra bytes compared with uploading float64 in the clear."""
        return (
            self.bytes_masked_uploads
            - self.bytes_plain_float64
            + self.bytes_keys_up
            + self.bytes_keys_down
            + self.bytes_shares_up
            + self.bytes_shares_down
            + self.bytes_recovery
            + self.bytes_recovery_down
        )

    def as_dict(self) -> dict[str, int | str]:
        """Plain-Python copy, JSON-serialisable, with ``bytes_overhead`` included."""
        out: dict[str, int | str] = dict(asdict(self))
        out["bytes_overhead"] = self.bytes_overhead
        return out


class SecAggServer:
    """The aggregator of one round. It never sees a client's update or secret in the clear.

    Use a new server per round; pass the same :class:`KeyDirectory` every round.

    Parameters
    ----------
    round_id
        The round number (it is in every key derivation).
    threshold
        Shares needed to rebuild a secret; ``None`` = :func:`default_threshold` of the round's
        participants.
    directory
        The long-lived channel-key registry; ``None`` starts an empty one.
    dim
        Length of the update vectors; ``None`` takes it from the first upload.
    scale_bits
        Fractional bits of the fixed-point encoding (as the clients').

    Attributes
    ----------
    self_seeds, mask_key_seeds
        What the server learned at unmasking: ``{client: b_u}`` of the survivors and
        ``{client: s_u}`` of the dropped clients.
    """

    def __init__(
        self,
        round_id: int,
        *,
        threshold: int | None = None,
        directory: KeyDirectory | None = None,
        dim: int | None = None,
        scale_bits: int = DEFAULT_SCALE_BITS,
    ) -> None:
        _check_scale_bits(scale_bits)
        if threshold is not None and int(threshold) < 1:
            raise ValueError(f"the threshold must be at least 1 (got {threshold})")
        self.round_id = int(round_id)
        self._threshold = threshold
        self.directory = directory if directory is not None else KeyDirectory()
        self.dim = dim
        self.scale_bits = scale_bits
        self.roster: Roster | None = None
        self.self_seeds: dict[int, int] = {}
        self.mask_key_seeds: dict[int, int] = {}
        self._uploads: dict[int, np.ndarray] = {}
        self._request: tuple[list[int], list[int]] | None = None
        self._closed = False
        self._finished = False
        self._n = 0
        self._bytes = dict.fromkeys(
            ("masked", "keys_up", "keys_down", "shares_up", "shares_down", "rec_up", "rec_down"), 0
        )
        self._seeds = self._shares = 0

    @property
    def threshold(self) -> int:
        """The round's threshold (known once the participants are)."""
        return int(self._threshold) if self._threshold is not None else default_threshold(self._n)

    def register(self, client_id: int, channel_public_key: bytes) -> None:
        """A client's channel key (counted only the first time it reaches the directory)."""
        self._bytes["keys_up"] += self.directory.register(client_id, channel_public_key)

    def advertise(self, mask_keys: Mapping[int, bytes]) -> Roster:
        """Collect the round's mask public keys and return the roster every participant downloads.

        Raises
        ------
        ThresholdError
            If fewer clients take part than the threshold: the round cannot be unmasked.
        """
        if self.roster is not None:
            raise RuntimeError(f"round {self.round_id}: the keys were already advertised")
        keys = {_check_id(c): bytes(k) for c, k in mask_keys.items()}
        participants = tuple(sorted(keys))
        unregistered = [c for c in participants if c not in self.directory]
        if unregistered:
            raise ValueError(f"clients {unregistered} have not registered a channel key")
        self._n = n = len(participants)
        self._bytes["keys_up"] += KEY_BYTES * n
        t = self.threshold
        if t > n:
            raise ThresholdError(
                f"round {self.round_id}: secure aggregation needs at least {t} clients (the "
                f"threshold) but only {n} took part, so the server could never unmask the sum; "
                "the round was aborted: no update was applied and the run goes on with the "
                "next round."
            )
        for cid in participants:
            # Each participant downloads the peer ids with their mask keys, and the channel keys
            # of peers it has not met before.
            self._bytes["keys_down"] += (n - 1) * (ID_BYTES + KEY_BYTES)
            self._bytes["keys_down"] += self.directory.deliver(cid, participants)
        self.roster = Roster(
            round_id=self.round_id,
            threshold=t,
            participants=participants,
            mask_keys=keys,
            channel_keys={c: self.directory.key(c) for c in participants},
        )
        return self.roster

    def relay_shares(self, outboxes: Mapping[int, Mapping[int, bytes]]) -> dict[int, dict[int, bytes]]:
        """Forward each encrypted share message to its recipient (the server cannot read them).

        Parameters
        ----------
        outboxes
            ``{sender: {recipient: ciphertext}}`` from :meth:`SecAggClient.share_keys`.

        Returns
        -------
        dict
            ``{recipient: {sender: ciphertext}}``, each participant's inbox.
        """
        roster = self._need_roster()
        inboxes: dict[int, dict[int, bytes]] = {c: {} for c in roster.participants}
        for sender, box in outboxes.items():
            if sender not in inboxes:
                raise ValueError(f"client {sender} is not a participant of round {self.round_id}")
            for recipient, message in box.items():
                if recipient not in inboxes or recipient == sender:
                    raise ValueError(f"client {sender} sent shares to a non-peer {recipient}")
                message = bytes(message)
                if len(message) != SHARE_MESSAGE_BYTES:
                    raise ValueError(f"a share message is {SHARE_MESSAGE_BYTES} bytes")
                inboxes[recipient][sender] = message
                self._bytes["shares_up"] += len(message)
                self._bytes["shares_down"] += len(message)
        return inboxes

    def receive(self, client_id: int, masked: np.ndarray | bytes) -> None:
        """Accept one participant's masked upload (a uint64 array or its :func:`to_bytes` form)."""
        roster = self._need_roster()
        if self._closed:
            raise RuntimeError(
                f"round {self.round_id} is closed: the server already asked for the unmasking "
                f"shares, so client {client_id}'s late upload is not taken into the sum"
            )
        client_id = _check_id(client_id)
        if client_id not in roster.participants:
            raise ValueError(f"client {client_id} is not a participant of round {self.round_id}")
        if client_id in self._uploads:
            raise ValueError(f"client {client_id} uploaded twice in one round")
        if isinstance(masked, (bytes, bytearray, memoryview)):
            data = bytes(masked)
            vec = from_bytes(data)
            n_bytes = len(data)
        else:
            vec = np.asarray(masked)
            if vec.dtype != np.uint64 or vec.ndim != 1:
                raise ValueError("a masked update must be a 1-D uint64 array (see SecAggClient.mask)")
            n_bytes = vec.size * 8  # what to_bytes() would send
        if self.dim is None:
            self.dim = vec.size
        elif vec.size != self.dim:
            raise ValueError(
                f"client {client_id} uploaded {vec.size} values; this round expects {self.dim}"
            )
        self._uploads[client_id] = vec
        self._bytes["masked"] += n_bytes

    @property
    def received(self) -> list[int]:
        """Ids of the clients whose upload arrived, in arrival order."""
        return list(self._uploads)

    def unmask_request(self) -> tuple[list[int], list[int]]:
        """Close the uploads and return ``(survivors, dropped)`` to send to every survivor.

        Raises
        ------
        ThresholdError
            If fewer uploads arrived than the threshold: the server cannot finish the round.
        """
        roster = self._need_roster()
        if self._request is not None:
            return self._request
        self._closed = True
        survivors = [c for c in roster.participants if c in self._uploads]
        dropped = [c for c in roster.participants if c not in self._uploads]
        if len(survivors) < roster.threshold:
            raise ThresholdError(
                f"round {self.round_id}: only {len(survivors)} of {len(roster.participants)} "
                f"clients' masked updates arrived, fewer than the secure-aggregation threshold "
                f"of {roster.threshold}; the server cannot unmask the sum, so the round was "
                "aborted: no update was applied and the run goes on with the next round."
            )
        self._bytes["rec_down"] += len(survivors) * len(dropped) * ID_BYTES
        self._request = (survivors, dropped)
        return self._request

    def finish(self, responses: Mapping[int, bytes]) -> tuple[np.ndarray, SecAggReport]:
        """Rebuild the secrets from the survivors' shares and return the unmasked sum.

        Parameters
        ----------
        responses
            ``{survivor: bytes}`` from :meth:`SecAggClient.unmask`; at least the threshold.

        Returns
        -------
        (numpy.ndarray, SecAggReport)
            The float64 sum of the survivors' updates (exact up to fixed-point rounding) and the
            round's costs.

        Raises
        ------
        ThresholdError
            If fewer survivors answered than the threshold.
        """
        roster = self._need_roster()
        if self._request is None:
            raise RuntimeError("call unmask_request() before finish()")
        if self._finished:
            raise RuntimeError("finish() was already called for this round")
        survivors, dropped = self._request
        n = len(roster.participants)
        parsed: dict[int, list[int]] = {}
        for cid, data in responses.items():
            if cid not in survivors:
                raise ValueError(f"client {cid} is not a survivor of round {self.round_id}")
            data = bytes(data)
            if len(data) != SHARE_BYTES * n:
                raise ValueError(f"client {cid}'s answer must hold {n} shares of {SHARE_BYTES} bytes")
            self._bytes["rec_up"] += len(data)
            self._shares += n
            parsed[cid] = [
                _bytes_field(data[i : i + SHARE_BYTES]) for i in range(0, len(data), SHARE_BYTES)
            ]
        t = roster.threshold
        if len(parsed) < t:
            raise ThresholdError(
                f"round {self.round_id}: only {len(parsed)} survivors returned their shares, "
                f"fewer than the threshold of {t}; the server cannot finish the round."
            )
        # Any t shares rebuild a secret; the first t (fixed x-coordinates) reuse MPyC's cached
        # Lagrange vector.
        chosen = sorted(parsed)[:t]
        values = recombine_secrets([(roster.x_of(c), parsed[c]) for c in chosen])
        dim = int(self.dim or 0)
        total = np.zeros(dim, dtype=np.uint64)
        for s in survivors:
            total += self._uploads[s]
        surviving_keys = {s: roster.mask_keys[s] for s in survivors}
        surviving = set(survivors)
        for cid, value in zip(roster.participants, values):
            if cid in surviving:
                self.self_seeds[cid] = value
                total -= self_mask(value, self.round_id, cid, dim)
            else:
                key = mask_private_key(value, self.round_id, cid)
                if _raw_public(key) != roster.mask_keys[cid]:
                    raise ValueError(
                        f"round {self.round_id}: the shares of client {cid}'s mask key do not "
                        "rebuild the key it advertised (a wrong share was sent)"
                    )
                self.mask_key_seeds[cid] = value
                # The survivors' masks with cid did not cancel; cid's own signed masks with them
                # are exactly their negation.
                total += pairwise_mask(key, cid, surviving_keys, self.round_id, dim)
            self._seeds += 1
        self._finished = True
        return decode(total, len(survivors), self.scale_bits), self.report()

    def report(self, aborted: str = "") -> SecAggReport:
        """The round's costs so far (also for an aborted round)."""
        b = self._bytes
        survivors = len(self._uploads)
        dim = int(self.dim or 0)
        return SecAggReport(
            survivors=survivors,
            dropped=self._n - survivors,
            dim=dim,
            threshold=self.threshold,
            bytes_masked_uploads=b["masked"],
            bytes_plain_float64=survivors * dim * 8,
            bytes_plain_float32=survivors * dim * 4,
            bytes_keys_up=b["keys_up"],
            bytes_keys_down=b["keys_down"],
            bytes_shares_up=b["shares_up"],
            bytes_shares_down=b["shares_down"],
            bytes_recovery=b["rec_up"],
            bytes_recovery_down=b["rec_down"],
            seeds_revealed=self._seeds,
            shares_revealed=self._shares,
            aborted=aborted,
        )

    def _need_roster(self) -> Roster:
        if self.roster is None:
            raise RuntimeError(f"round {self.round_id}: no keys have been advertised yet")
        return self.roster
