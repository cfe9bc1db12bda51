"""One participant of the protocol across rounds: :class:`SecAggClient`.

In each round a client advertises a fresh mask key (:meth:`SecAggClient.advertise`), shares
its two round secrets with its peers (:meth:`~SecAggClient.share_keys`), uploads its masked
update (:meth:`~SecAggClient.mask`) and answers the server's unmasking request
(:meth:`~SecAggClient.unmask`) with one share per participant, refusing any request that would
reveal both secrets of one client (:class:`SecAggRefusal`).

Part of :mod:`ppml_lab.engines.federated.secagg`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from ppml_lab.engines.federated.secagg.encoding import (
    DEFAULT_SCALE_BITS,
    _check_scale_bits,
    clipped_count,
    encode,
)
from ppml_lab.engines.federated.secagg.masks import mask_private_key, pairwise_mask, self_mask
from ppml_lab.engines.federated.secagg.primitives import (
    FIELD_PRIME,
    SECRET_BYTES,
    _check_id,
    _field_bytes,
    _raw_public,
)
from ppml_lab.engines.federated.secagg.roster import Roster
from ppml_lab.engines.federated.secagg.shares import open_shares, seal_shares, split_secrets

__all__ = ["SecAggClient", "SecAggRefusal"]


class SecAggRefusal(ValueError):
    """An honest client refuses an unmasking request that would expose a client's update."""



@dataclass
class _RoundState:
    round_id: int
    self_seed: int
    key_seed: int
    mask_key: X25519PrivateKey
    roster: Roster | None = None
    own_shares: tuple[int, int] | None = None
    inbox: dict[int, bytes] | None = None
    reported: dict[int, str] = field(default_factory=dict)


class SecAggClient:
    """One participant of double-masked secure aggregation, across rounds.

    Parameters
    ----------
    client_id
        Non-negative integer id, unique among the clients; it orders the pairs (who adds and who
        subtracts a pair mask).
    scale_bits
        Fractional bits of the fixed-point encoding; all clients and the server must agree.
    rng
        ``None`` (default): the channel key and each round's secrets come from the operating
        system. A ``numpy.random.Generator`` makes them reproducible for tests, and exactly as
        secret as its seed: never for protection.
    """

    def __init__(
        self,
        client_id: int,
        *,
        scale_bits: int = DEFAULT_SCALE_BITS,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.client_id = _check_id(client_id)
        _check_scale_bits(scale_bits)
        self.scale_bits = scale_bits
        self._rng = rng
        self._channel = (
            X25519PrivateKey.generate()
            if rng is None
            else X25519PrivateKey.from_private_bytes(rng.bytes(32))
        )
        self._channel_public = _raw_public(self._channel)
        # The channel key is long-lived and never revealed, so its DH secret with a peer's
        # channel key is computed once; every message still gets its own HKDF-derived key.
        self._channel_secrets: dict[bytes, bytes] = {}
        self._rounds_used: set[int] = set()
        self._state: _RoundState | None = None
        self.last_clipped = 0

    @property
    def channel_public_key(self) -> bytes:
        """The raw 32-byte X25519 channel public key, registered with the server once."""
        return self._channel_public

    def advertise(self, round_id: int) -> bytes:
        """Start a round: draw fresh ``b_u`` and ``s_u``; return the round's mask public key."""
        rid = int(round_id)
        if rid in self._rounds_used:
            raise ValueError(
                f"client {self.client_id} already took part in round {rid}; a round id is used "
                "once (it keys the share encryption)"
            )
        self._rounds_used.add(rid)
        key_seed = self._draw()
        self._state = _RoundState(
            round_id=rid,
            self_seed=self._draw(),
            key_seed=key_seed,
            mask_key=mask_private_key(key_seed, rid, self.client_id),
        )
        return _raw_public(self._state.mask_key)

    def share_keys(self, roster: Roster) -> dict[int, bytes]:
        """Split ``b_u`` and ``s_u`` and encrypt each peer's two shares to it.

        Parameters
        ----------
        roster
            The round's roster from :meth:`SecAggServer.advertise`.

        Returns
        -------
        dict
            ``{peer_id: ciphertext}`` of :data:`SHARE_MESSAGE_BYTES` each, for the server to relay.
        """
        st = self._round(roster.round_id)
        me = self.client_id
        if st.roster is not None:
            raise ValueError(f"client {me} already shared its keys for round {st.round_id}")
        if me not in roster.participants:
            raise ValueError(f"client {me} is not in the roster of round {st.round_id}")
        if roster.mask_keys.get(me) != _raw_public(st.mask_key):
            raise ValueError(f"the roster holds another mask key for client {me}")
        if roster.channel_keys.get(me) != self._channel_public:
            raise ValueError(f"the roster holds another channel key for client {me}")
        n = len(roster.participants)
        shares = split_secrets([st.self_seed, st.key_seed], roster.threshold, n)
        out: dict[int, bytes] = {}
        for position, peer in enumerate(roster.participants):
            b_share, s_share = shares[position]
            if peer == me:
                st.own_shares = (b_share, s_share)
                continue
            secret = self._channel_secret(roster.channel_keys[peer])
            out[peer] = seal_shares(secret, st.round_id, me, peer, b_share, s_share)
        st.roster = roster
        return out

    def mask(self, update: np.ndarray, inbox: Mapping[int, bytes]) -> np.ndarray:
        """Keep the peers' encrypted shares; encode ``update`` and add the self and pair masks.

        Parameters
        ----------
        update
            1-D float vector (same length for every participant).
        inbox
            ``{peer_id: ciphertext}`` relayed by the server: one from every peer of the round.

        Returns
        -------
        numpy.ndarray
            The masked uint64 vector: the only thing to upload.
        """
        st = self._state
        if st is None or st.roster is None:
            raise ValueError(f"client {self.client_id} has not shared its keys for this round")
        if st.inbox is not None:
            raise ValueError(f"client {self.client_id} already masked an update in round {st.round_id}")
        roster = st.roster
        peers = [p for p in roster.participants if p != self.client_id]
        if set(inbox) != set(peers):
            raise ValueError(
                f"client {self.client_id} expected shares from every peer of round {st.round_id}"
            )
        encoded = encode(update, self.scale_bits)
        self.last_clipped = clipped_count(update, self.scale_bits)
        dim = encoded.size
        out = encoded + self_mask(st.self_seed, st.round_id, self.client_id, dim)
        out += pairwise_mask(
            st.mask_key, self.client_id, {p: roster.mask_keys[p] for p in peers}, st.round_id, dim
        )
        st.inbox = {p: bytes(c) for p, c in inbox.items()}
        return out

    def unmask(self, survivors: Iterable[int], dropped: Iterable[int]) -> bytes:
        """Answer the server's unmasking request: one share per participant of the round.

        For a survivor ``u`` the share of its self-mask seed ``b_u``, for a dropped client the
        share of its mask-key seed ``s_u``. The request is refused (:class:`SecAggRefusal`) if it
        would hand the server both for one client: a client listed both as surviving and as
        dropped, or listed otherwise than in an earlier request of the same round. It is also
        refused if it names fewer survivors than the threshold, does not cover the roster, or
        reports this client itself as dropped.

        Parameters
        ----------
        survivors, dropped
            The server's claim of whose masked upload arrived and whose did not.

        Returns
        -------
        bytes
            :data:`SHARE_BYTES` per participant, in roster order.
        """
        st = self._state
        if st is None or st.roster is None or st.inbox is None or st.own_shares is None:
            raise ValueError(f"client {self.client_id} has not masked an update in this round")
        roster = st.roster
        surv = [_check_id(s) for s in survivors]
        drop = [_check_id(d) for d in dropped]
        both = sorted(set(surv) & set(drop))
        if both:
            raise SecAggRefusal(
                f"client {self.client_id} refuses: the server reports clients {both} both as "
                "surviving and as dropped, which would reveal both of their secrets"
            )
        for cid, status in [(s, "survived") for s in surv] + [(d, "dropped") for d in drop]:
            before = st.reported.get(cid)
            if before is not None and before != status:
                raise SecAggRefusal(
                    f"client {self.client_id} refuses: client {cid} was reported as {before} "
                    f"earlier in round {st.round_id} and now as {status}; answering both would "
                    f"reveal both its self-mask seed and its mask key"
                )
        if sorted(surv + drop) != list(roster.participants):
            raise SecAggRefusal(
                f"client {self.client_id} refuses: the survivors and dropped clients must be "
                f"exactly the participants of round {st.round_id}"
            )
        if self.client_id not in surv:
            raise SecAggRefusal(f"client {self.client_id} refuses: it is reported as dropped")
        if len(surv) < roster.threshold:
            raise SecAggRefusal(
                f"client {self.client_id} refuses: {len(surv)} survivors are fewer than the "
                f"threshold {roster.threshold}"
            )
        status_of = {s: "survived" for s in surv} | {d: "dropped" for d in drop}
        st.reported.update(status_of)
        out = bytearray()
        for peer in roster.participants:
            if peer == self.client_id:
                b_share, s_share = st.own_shares
            else:
                b_share, s_share = self._open_share(peer, st)
            out += _field_bytes(b_share if status_of[peer] == "survived" else s_share)
        return bytes(out)

    # -- internals

    def _draw(self) -> int:
        if self._rng is None:
            return secrets.randbelow(FIELD_PRIME)
        return int.from_bytes(self._rng.bytes(SECRET_BYTES), "little") % FIELD_PRIME

    def _round(self, round_id: int) -> _RoundState:
        st = self._state
        if st is None or st.round_id != int(round_id):
            raise ValueError(f"client {self.client_id} has not advertised keys for round {round_id}")
        return st

    def _channel_secret(self, peer_channel_key: bytes) -> bytes:
        secret = self._channel_secrets.get(peer_channel_key)
        if secret is None:
            secret = self._channel.exchange(X25519PublicKey.from_public_bytes(peer_channel_key))
            self._channel_secrets[peer_channel_key] = secret
        return secret

    def _open_share(self, sender: int, st: _RoundState) -> tuple[int, int]:
        assert st.roster is not None and st.inbox is not None
        secret = self._channel_secret(st.roster.channel_keys[sender])
        try:
            return open_shares(secret, st.round_id, sender, self.client_id, st.inbox[sender])
        except InvalidTag:
            raise ValueError(
                f"client {self.client_id}: the shares from client {sender} do not authenticate "
                "(tampered with, or not encrypted to this client)"
            ) from None
