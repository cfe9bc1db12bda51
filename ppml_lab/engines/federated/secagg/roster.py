"""Who takes part: the server's channel-key directory, the round's roster and its threshold.

Every client holds a long-lived X25519 channel key pair and registers the public key with the
server once (:class:`KeyDirectory`); a client downloads a peer's channel key the first time the
two share a round. After the participants advertise their round's mask keys, the server
broadcasts the :class:`Roster`: the participants in ascending id order, their mask and channel
public keys and the threshold ``t`` (default a majority, :func:`default_threshold`). With fewer
than ``t`` participants or survivors a round cannot be unmasked and is aborted
(:class:`ThresholdError`).

Part of :mod:`ppml_lab.engines.federated.secagg`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ppml_lab.engines.federated.secagg.primitives import ID_BYTES, KEY_BYTES, _check_id

__all__ = ["KeyDirectory", "Roster", "ThresholdError", "default_threshold"]


class ThresholdError(ValueError):
    """Fewer clients than the threshold: the server cannot finish, the round is aborted."""


def default_threshold(n: int) -> int:
    """A majority of ``n`` participants, ``n // 2 + 1``.

    See "What it protects" in :mod:`ppml_lab.engines.federated.secagg`: with ``t > n/2`` any two
    groups of ``t`` answering clients overlap.
    """
    return int(n) // 2 + 1


class KeyDirectory:
    """The server's registry of channel public keys, and which client holds which peer's key.

    Lives for the whole run: a client registers its channel key once, and downloads a peer's key
    the first time they share a round. The byte counts returned are what those messages cost.
    """

    def __init__(self) -> None:
        self._keys: dict[int, bytes] = {}
        self._known: dict[int, set[int]] = {}

    def __contains__(self, client_id: object) -> bool:
        return client_id in self._keys

    def key(self, client_id: int) -> bytes:
        """The registered channel public key of ``client_id``."""
        return self._keys[client_id]

    def register(self, client_id: int, public_key: bytes) -> int:
        """Record a client's channel key; return the bytes uploaded (``32 + 4`` the first time)."""
        cid = _check_id(client_id)
        pub = bytes(public_key)
        if len(pub) != KEY_BYTES:
            raise ValueError(f"a channel public key is {KEY_BYTES} bytes (got {len(pub)})")
        old = self._keys.get(cid)
        if old is not None:
            if old != pub:
                raise ValueError(f"client {cid} is already registered with another channel key")
            return 0
        self._keys[cid] = pub
        return KEY_BYTES + ID_BYTES

    def deliver(self, client_id: int, peers: Iterable[int]) -> int:
        """Bytes of the peers' channel keys ``client_id`` has not downloaded yet (then it has)."""
        known = self._known.setdefault(client_id, set())
        new = {p for p in peers if p != client_id} - known
        known |= new
        return len(new) * KEY_BYTES


@dataclass(frozen=True, eq=False)
class Roster:
    """What the server broadcasts after the keys are advertised.

    ``participants`` are in ascending id order; a participant's position + 1 is the
    x-coordinate of the Shamir shares it holds.
    """

    round_id: int
    threshold: int
    participants: tuple[int, ...]
    mask_keys: Mapping[int, bytes]
    channel_keys: Mapping[int, bytes]

    def x_of(self, client_id: int) -> int:
        """The Shamir x-coordinate of ``client_id``'s shares."""
        return self.participants.index(client_id) + 1
