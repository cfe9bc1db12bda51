"""Pairwise-mask secure aggregation (after Bonawitz et al., CCS 2017), single server.

How it works
------------
1. Every client holds an X25519 key pair and the server relays the public keys of the round's
   participants to each of them.
2. Each pair of participants ``(i, j)`` computes the same shared secret by X25519 Diffie-Hellman
   and derives a 32-byte *pair seed* for this round with HKDF-SHA256, whose ``info`` names the
   protocol, the round id and the two client ids (so masks differ per round and per pair).
3. The seed is the key of AES-256 in CTR mode; its keystream, read as little-endian uint64, is the
   pair mask ``m_ij`` (one 64-bit word per model coordinate).
4. A client encodes its float update in fixed point (:func:`encode`), then adds ``m_ij`` for every
   peer ``j > i`` and subtracts it for every ``j < i``, modulo 2^64, and uploads only that masked
   vector.
5. The server adds the masked vectors modulo 2^64: every mask appears once with ``+`` and once
   with ``-`` and cancels, leaving the exact sum of the encoded updates, which :func:`decode`
   turns back into floats.
6. Dropout recovery: if a participant masked its update but its upload never arrived, the
   survivors' masks with it do not cancel. Each survivor then reveals its *round* pair seed with
   each dropped client (never its private key or the long-lived DH secret), and the server removes
   those masks.

All primitives (X25519, HKDF, SHA-256, AES-CTR) come from the ``cryptography`` package; this module
only writes the protocol on top of them. Each pair seed keys exactly one AES-CTR stream, so the
fixed all-zero nonce is never reused with the same key.

What it protects
----------------
Against an honest-but-curious server (one that follows the protocol but looks at everything it
receives): the server sees only masked vectors, each of which is uniformly distributed over
``[0, 2^64)`` and independent of the client's update as long as at least one of the client's
peers' masks stays hidden; it learns the sum of the survivors' updates and nothing else. The sum is
exact: masking adds no error beyond the fixed-point rounding of :func:`encode`.

What it does not protect
------------------------
- The aggregate itself: the server (and anyone who gets the model) learns the sum. With two
  participants the sum minus one's own update is the other's update. Add client-level DP for that.
- A malicious server. This simplified protocol has no self-masks, no Shamir secret sharing and no
  consistency checks (the full Bonawitz double-masking protocol). A server that claims a client
  dropped *after* receiving its masked upload gets the survivors' seeds with that client and can
  unmask its update; a server can also lie about who participated.
- Collusion: a server colluding with the other ``n - 2`` participants of a round can unmask the
  remaining two clients' sum, and with ``n - 1`` it learns the last client's update.
- Keys drawn from a seeded ``numpy`` generator (the reproducible simulation mode) are exactly as
  secret as the experiment seed, i.e. not secret: that mode demonstrates the protocol and measures
  its cost; it does not give cryptographic protection. Pass ``key=None`` for OS randomness.
- Clients are trusted to encode honestly: nothing stops a client from sending garbage (no range
  proofs), and values beyond :func:`max_abs_value` are clipped (see below).

Fixed point and overflow
------------------------
A value ``x`` is encoded as the 64-bit two's complement of ``round(x * 2**scale_bits)``, clipped to
``±(2**53 - 1)``. Ten bits of headroom remain, so the sum of up to :data:`MAX_SUMMANDS` (1024)
encoded values never wraps around. With the default ``scale_bits = 24`` the resolution is
``2**-24 ≈ 6e-8`` (rounding error at most ``2**-25`` per value), and values up to
``(2**53 - 1) / 2**24 ≈ 5.4e8`` in absolute value are encoded exactly; larger ones are clipped to
that bound (:meth:`SecAggClient.mask` records how many in ``last_clipped``). The clip limit
``2**53 - 1`` also keeps ``x * 2**scale_bits`` exactly representable in float64.

Cost
----
A masked upload is 8 bytes per coordinate: the same as float64 and twice float32. Key relay
(:meth:`SecAggServer.relay_keys`, a fresh exchange every round) costs ``32 + 4`` bytes per
participant up and ``(32 + 4) * (n - 1)`` down; the federated transport
(:mod:`.secagg_transport`) keeps keys across rounds and counts a key only once per client and
peer. Dropout recovery costs each survivor ``32 + 4`` bytes (seed + client id) per dropped
client.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DEFAULT_SCALE_BITS = 24
"""Fractional bits of the fixed-point encoding: resolution 2**-24 ≈ 6e-8."""

HEADROOM_BITS = 10
"""Bits kept free above each encoded value so that sums of up to 2**10 values cannot wrap."""

MAX_SUMMANDS = 1 << HEADROOM_BITS
"""The most encoded vectors that can be summed without overflow (1024 >= 1000 clients)."""

ENCODED_LIMIT = (1 << (63 - HEADROOM_BITS)) - 1
"""Largest magnitude of one encoded value (2**53 - 1; also exact in float64)."""

SEED_BYTES = 32
"""Size of a pair seed (an AES-256 key)."""

KEY_BYTES = 32
"""Size of a raw X25519 public key."""

ID_BYTES = 4
"""Bytes counted for a client id in protocol messages (recovery, key relay)."""

RECOVERY_BYTES_PER_SEED = SEED_BYTES + ID_BYTES
"""Bytes a survivor uploads per dropped client: the pair seed and the dropped client's id."""

_PROTOCOL = b"ppml-lab secagg v1 pairwise mask"
_ZERO_NONCE = bytes(16)


# ----------------------------------------------------------------------------------------------
# fixed-point encoding


def max_abs_value(scale_bits: int = DEFAULT_SCALE_BITS) -> float:
    """Largest absolute value :func:`encode` represents without clipping (≈ 5.4e8 at 24 bits).

    Parameters
    ----------
    scale_bits
        Fractional bits of the encoding.

    Returns
    -------
    float
        ``(2**53 - 1) / 2**scale_bits``.
    """
    _check_scale_bits(scale_bits)
    return ENCODED_LIMIT / float(1 << scale_bits)


def encode(vec: np.ndarray, scale_bits: int = DEFAULT_SCALE_BITS) -> np.ndarray:
    """Encode a float vector as fixed-point uint64 words (two's complement, modulo 2**64).

    Parameters
    ----------
    vec
        1-D array of finite floats. Values beyond :func:`max_abs_value` are clipped to it.
    scale_bits
        Fractional bits: each value becomes ``round(x * 2**scale_bits)``.

    Returns
    -------
    numpy.ndarray
        uint64 array of the same length.

    Raises
    ------
    ValueError
        If the vector is not 1-D or holds NaN or infinity.
    """
    x = _as_float_vector(vec)
    _check_scale_bits(scale_bits)
    scaled = np.rint(x * float(1 << scale_bits))
    np.clip(scaled, -ENCODED_LIMIT, ENCODED_LIMIT, out=scaled)
    # float64 -> int64 is exact here because |scaled| <= 2**53 - 1; the view then reinterprets
    # the two's complement bits as unsigned, which is what modular arithmetic needs.
    return scaled.astype(np.int64).view(np.uint64)


def clipped_count(vec: np.ndarray, scale_bits: int = DEFAULT_SCALE_BITS) -> int:
    """How many values of ``vec`` :func:`encode` would clip."""
    x = _as_float_vector(vec)
    return int(np.count_nonzero(np.abs(x) > max_abs_value(scale_bits)))


def decode(
    sum_uint64: np.ndarray, n_summed: int, scale_bits: int = DEFAULT_SCALE_BITS
) -> np.ndarray:
    """Turn a modular sum of encoded vectors back into floats.

    Parameters
    ----------
    sum_uint64
        The sum (mod 2**64) of ``n_summed`` vectors from :func:`encode`, masks removed.
    n_summed
        How many vectors were summed, 0 to :data:`MAX_SUMMANDS`. Beyond that the sum could have
        wrapped around and would decode to garbage, so it is refused.
    scale_bits
        The fractional bits used by :func:`encode`.

    Returns
    -------
    numpy.ndarray
        float64 sum.

    Raises
    ------
    ValueError
        If ``n_summed`` is outside ``0 .. MAX_SUMMANDS``.
    """
    if not 0 <= int(n_summed) <= MAX_SUMMANDS:
        raise ValueError(
            f"decode: {n_summed} summands is outside 0..{MAX_SUMMANDS}; the fixed-point headroom "
            "only guarantees no overflow for that many."
        )
    _check_scale_bits(scale_bits)
    words = np.ascontiguousarray(sum_uint64, dtype=np.uint64)
    return words.view(np.int64).astype(np.float64) / float(1 << scale_bits)


def to_bytes(masked: np.ndarray) -> bytes:
    """Serialise a masked (or any uint64) vector as little-endian 64-bit words: 8 bytes each."""
    return np.ascontiguousarray(masked, dtype="<u8").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """Inverse of :func:`to_bytes`: a native uint64 array."""
    if len(data) % 8:
        raise ValueError(
            f"a masked update must be a whole number of 8-byte words (got {len(data)} bytes)"
        )
    return np.frombuffer(data, dtype="<u8").astype(np.uint64)


# ----------------------------------------------------------------------------------------------
# masks


def expand_mask(seed: bytes, dim: int) -> np.ndarray:
    """Expand a 32-byte pair seed into ``dim`` pseudo-random uint64 words (AES-256-CTR keystream).

    Parameters
    ----------
    seed
        32-byte AES-256 key, used for this one stream only (so the zero nonce is safe).
    dim
        Number of 64-bit words.

    Returns
    -------
    numpy.ndarray
        uint64 array of length ``dim``.
    """
    if len(seed) != SEED_BYTES:
        raise ValueError(f"a pair seed is {SEED_BYTES} bytes (got {len(seed)})")
    encryptor = Cipher(algorithms.AES(seed), modes.CTR(_ZERO_NONCE)).encryptor()
    # Encrypting zeros yields the raw keystream.
    stream = encryptor.update(bytes(8 * dim)) + encryptor.finalize()
    return np.frombuffer(stream, dtype="<u8").astype(np.uint64)


def derive_pair_seed(shared_secret: bytes, round_id: int, a: int, b: int) -> bytes:
    """Round-specific seed of the pair ``{a, b}`` from their X25519 shared secret (HKDF-SHA256).

    The ids are put in ascending order so both clients derive the same seed.
    """
    lo, hi = (a, b) if a < b else (b, a)
    info = _PROTOCOL + struct.pack("<qQQ", int(round_id), lo, hi)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=SEED_BYTES, salt=None, info=info)
    return hkdf.derive(shared_secret)


# ----------------------------------------------------------------------------------------------
# client


class SecAggClient:
    """One participant of pairwise-mask secure aggregation.

    Parameters
    ----------
    client_id
        Non-negative integer id, unique among the clients; it orders the pairs (who adds and who
        subtracts a pair mask).
    key
        The X25519 private key; or a ``numpy.random.Generator`` to derive one reproducibly (as
        secret as the generator's seed: simulation only); or 32 raw private-key bytes; or
        ``None`` for a fresh key from the operating system.
    scale_bits
        Fractional bits of the fixed-point encoding; all clients and the server must agree.
    """

    def __init__(
        self,
        client_id: int,
        key: X25519PrivateKey | np.random.Generator | bytes | None = None,
        *,
        scale_bits: int = DEFAULT_SCALE_BITS,
    ) -> None:
        self.client_id = _check_id(client_id)
        _check_scale_bits(scale_bits)
        self.scale_bits = scale_bits
        if key is None:
            self._key = X25519PrivateKey.generate()
        elif isinstance(key, X25519PrivateKey):
            self._key = key
        elif isinstance(key, np.random.Generator):
            self._key = X25519PrivateKey.from_private_bytes(key.bytes(32))
        elif isinstance(key, (bytes, bytearray)):
            self._key = X25519PrivateKey.from_private_bytes(bytes(key))
        else:
            raise TypeError(
                f"key must be an X25519PrivateKey, a numpy Generator, bytes or None, not {type(key)!r}"
            )
        self._public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        # The DH secret with a given peer key never changes, and X25519 is the most expensive step,
        # so it is computed once per peer key; only the cheap HKDF runs every round.
        self._shared: dict[tuple[int, bytes], bytes] = {}
        self._round: int | None = None
        self._round_peers: dict[int, bytes] = {}
        self.last_clipped = 0

    def public_key_bytes(self) -> bytes:
        """The raw 32-byte X25519 public key to hand to the server for relaying."""
        return self._public

    def mask(self, update: np.ndarray, peers: Mapping[int, bytes], round_id: int) -> np.ndarray:
        """Encode ``update`` and add the pair masks with every peer of this round.

        Parameters
        ----------
        update
            1-D float vector (same length for every participant).
        peers
            ``{client_id: public_key_bytes}`` of the round's participants. The client's own entry
            may be included (it is skipped).
        round_id
            Round number; masks differ per round.

        Returns
        -------
        numpy.ndarray
            The masked uint64 vector: the only thing to upload.
        """
        encoded = encode(update, self.scale_bits)
        self.last_clipped = clipped_count(update, self.scale_bits)
        out = encoded.copy()
        dim = out.size
        round_peers: dict[int, bytes] = {}
        for peer_id, pub in peers.items():
            peer_id = _check_id(peer_id)
            pub = bytes(pub)
            if peer_id == self.client_id:
                if pub != self._public:
                    raise ValueError(
                        f"client {peer_id} appears among its own peers with another key"
                    )
                continue
            seed = self._pair_seed(peer_id, pub, round_id)
            m = expand_mask(seed, dim)
            # uint64 arithmetic wraps modulo 2**64, exactly the group the masks live in.
            if peer_id > self.client_id:
                out += m
            else:
                out -= m
            round_peers[peer_id] = pub
        self._round = int(round_id)
        self._round_peers = round_peers
        return out

    def reveal_pairwise_seed(self, peer_id: int, round_id: int | None = None) -> bytes:
        """The round's pair seed with ``peer_id``, for the server to remove a dropped peer's mask.

        Only the seed of the round this client last masked is revealed, and only for a peer it
        actually masked with; it unlocks that one mask and nothing about other rounds.

        Parameters
        ----------
        peer_id
            The dropped client.
        round_id
            Must be the round of the last :meth:`mask` call (default: that round).

        Returns
        -------
        bytes
            32-byte seed.
        """
        if self._round is None:
            raise ValueError(f"client {self.client_id} has not masked any update yet")
        if round_id is not None and int(round_id) != self._round:
            raise ValueError(
                f"client {self.client_id} only reveals seeds for the round it last masked "
                f"({self._round}), not round {round_id}"
            )
        if peer_id not in self._round_peers:
            raise ValueError(
                f"client {self.client_id} did not mask with client {peer_id} in round {self._round}"
            )
        return self._pair_seed(peer_id, self._round_peers[peer_id], self._round)

    def _pair_seed(self, peer_id: int, pub: bytes, round_id: int) -> bytes:
        cache_key = (peer_id, pub)
        shared = self._shared.get(cache_key)
        if shared is None:
            shared = self._key.exchange(X25519PublicKey.from_public_bytes(pub))
            self._shared[cache_key] = shared
        return derive_pair_seed(shared, round_id, self.client_id, peer_id)


# ----------------------------------------------------------------------------------------------
# server


@dataclass(frozen=True)
class SecAggReport:
    """What one secure-aggregation round cost and who took part. All sizes in bytes."""

    survivors: int
    dropped: int
    dim: int
    bytes_masked_uploads: int
    """Masked vectors received (8 bytes per coordinate), including any discarded from dropped clients."""
    bytes_plain_float64: int
    """What the survivors' updates would have cost uploaded in the clear as float64."""
    bytes_plain_float32: int
    """... and as float32."""
    bytes_recovery: int
    """Seeds uploaded by survivors for dropped clients (:data:`RECOVERY_BYTES_PER_SEED` each)."""
    bytes_recovery_down: int
    """The list of dropped clients sent to each survivor (:data:`ID_BYTES` per id)."""
    bytes_keys_up: int
    """Public keys sent to the server for relaying (0 unless :meth:`SecAggServer.relay_keys` ran)."""
    bytes_keys_down: int
    """Peers' public keys relayed to each participant."""
    seeds_revealed: int

    @property
    def bytes_overhead(self) -> int:
        """Extra bytes compared with uploading float64 in the clear."""
        return (
            self.bytes_masked_uploads
            - self.bytes_plain_float64
            + self.bytes_recovery
            + self.bytes_recovery_down
            + self.bytes_keys_up
            + self.bytes_keys_down
        )

    def as_dict(self) -> dict[str, int]:
        """Plain-Python copy, JSON-serialisable, with ``bytes_overhead`` included."""
        out: dict[str, int] = dict(asdict(self))
        out["bytes_overhead"] = self.bytes_overhead
        return out


class SecAggServer:
    """The aggregator of one round: relays keys, sums masked uploads, removes dropped masks.

    Use a new server per round. It never sees a client's update in the clear.

    Parameters
    ----------
    dim
        Length of the update vectors; ``None`` takes it from the first upload.
    scale_bits
        Fractional bits of the fixed-point encoding (as the clients').
    """

    def __init__(self, *, dim: int | None = None, scale_bits: int = DEFAULT_SCALE_BITS) -> None:
        _check_scale_bits(scale_bits)
        self.dim = dim
        self.scale_bits = scale_bits
        self._uploads: dict[int, np.ndarray] = {}
        self._bytes_up = 0
        self._keys_up = 0
        self._keys_down = 0
        self._finished = False

    def relay_keys(self, public_keys: Mapping[int, bytes]) -> dict[int, bytes]:
        """Record the key exchange for the round's participants and return the key directory.

        Each participant uploads its key and downloads the ``n - 1`` others; the returned
        ``{client_id: key}`` is what each client passes to :meth:`SecAggClient.mask`.
        """
        keys = {_check_id(cid): bytes(pub) for cid, pub in public_keys.items()}
        n = len(keys)
        self._keys_up += n * (KEY_BYTES + ID_BYTES)
        self._keys_down += n * max(n - 1, 0) * (KEY_BYTES + ID_BYTES)
        return keys

    def receive(self, client_id: int, masked: np.ndarray | bytes) -> None:
        """Accept one client's masked upload (a uint64 array or its :func:`to_bytes` form)."""
        if self._finished:
            raise RuntimeError("this round is finished; use a new SecAggServer for the next round")
        client_id = _check_id(client_id)
        if client_id in self._uploads:
            raise ValueError(f"client {client_id} uploaded twice in one round")
        if isinstance(masked, (bytes, bytearray, memoryview)):
            data = bytes(masked)
            vec = from_bytes(data)
            n_bytes = len(data)
        else:
            vec = np.asarray(masked)
            if vec.dtype != np.uint64 or vec.ndim != 1:
                raise ValueError(
                    "a masked update must be a 1-D uint64 array (see SecAggClient.mask)"
                )
            n_bytes = vec.size * 8  # what to_bytes() would send
        if self.dim is None:
            self.dim = vec.size
        elif vec.size != self.dim:
            raise ValueError(
                f"client {client_id} uploaded {vec.size} values; this round expects {self.dim}"
            )
        self._uploads[client_id] = vec
        self._bytes_up += n_bytes

    @property
    def received(self) -> list[int]:
        """Ids of the clients whose upload arrived, in arrival order."""
        return list(self._uploads)

    def finish(
        self,
        survivors: Iterable[int],
        dropped: Iterable[int],
        seeds_from_survivors: Mapping[int, Mapping[int, bytes]] | None = None,
    ) -> tuple[np.ndarray, SecAggReport]:
        """Sum the survivors' updates, removing the masks they shared with dropped clients.

        Parameters
        ----------
        survivors
            Clients whose uploads are summed; each must have uploaded.
        dropped
            Clients that masked in this round (they were in the survivors' peer lists) but whose
            upload is not used. An upload that did arrive from one of them is discarded.
        seeds_from_survivors
            ``{survivor: {dropped: seed}}`` from :meth:`SecAggClient.reveal_pairwise_seed`; needed
            for every survivor/dropped pair.

        Returns
        -------
        (numpy.ndarray, SecAggReport)
            The float64 sum of the survivors' updates (exact up to fixed-point rounding) and the
            round's costs.
        """
        if self._finished:
            raise RuntimeError("finish() was already called for this round")
        surv = [_check_id(s) for s in survivors]
        drop = [_check_id(d) for d in dropped]
        if len(set(surv)) != len(surv) or len(set(drop)) != len(drop):
            raise ValueError("a client is listed twice among survivors or dropped clients")
        both = set(surv) & set(drop)
        if both:
            raise ValueError(f"clients {sorted(both)} are listed both as survivors and as dropped")
        missing = [s for s in surv if s not in self._uploads]
        if missing:
            raise ValueError(f"survivors {missing} never uploaded a masked update")
        if len(surv) > MAX_SUMMANDS:
            raise ValueError(f"at most {MAX_SUMMANDS} updates can be summed without overflow")
        dim = int(self.dim or 0)
        seeds = seeds_from_survivors or {}
        total = np.zeros(dim, dtype=np.uint64)
        for s in surv:
            total += self._uploads[s]
        n_seeds = 0
        for s in surv:
            revealed = seeds.get(s, {})
            for d in drop:
                seed = revealed.get(d)
                if seed is None:
                    raise ValueError(
                        f"survivor {s} did not reveal its seed with dropped client {d}"
                    )
                m = expand_mask(bytes(seed), dim)
                # Survivor s added m when the peer id was larger, subtracted it otherwise: undo.
                if d > s:
                    total -= m
                else:
                    total += m
                n_seeds += 1
        self._finished = True
        report = SecAggReport(
            survivors=len(surv),
            dropped=len(drop),
            dim=dim,
            bytes_masked_uploads=self._bytes_up,
            bytes_plain_float64=len(surv) * dim * 8,
            bytes_plain_float32=len(surv) * dim * 4,
            bytes_recovery=n_seeds * RECOVERY_BYTES_PER_SEED,
            bytes_recovery_down=len(surv) * len(drop) * ID_BYTES if drop else 0,
            bytes_keys_up=self._keys_up,
            bytes_keys_down=self._keys_down,
            seeds_revealed=n_seeds,
        )
        return decode(total, len(surv), self.scale_bits), report


# ----------------------------------------------------------------------------------------------
# one whole round in process


def run_round(
    updates: Mapping[int, np.ndarray],
    clients: Mapping[int, SecAggClient],
    *,
    round_id: int,
    dropped: Iterable[int] = (),
    scale_bits: int = DEFAULT_SCALE_BITS,
) -> tuple[np.ndarray, SecAggReport]:
    """Simulate one complete round: key relay, masking, upload, dropout recovery, unmasking.

    Parameters
    ----------
    updates
        ``{client_id: float vector}`` of every participant that starts the round (masks).
    clients
        ``{client_id: SecAggClient}`` covering the participants.
    round_id
        Round number (fresh masks every round).
    dropped
        Participants that mask but whose upload is lost; the others' masks with them are removed
        through revealed seeds.
    scale_bits
        Fixed-point fractional bits.

    Returns
    -------
    (numpy.ndarray, SecAggReport)
        Float64 sum of the surviving participants' updates, and the round's costs.
    """
    ids = list(updates)
    drop = list(dropped)
    unknown = set(drop) - set(ids)
    if unknown:
        raise ValueError(f"dropped clients {sorted(unknown)} did not start the round")
    server = SecAggServer(scale_bits=scale_bits)
    directory = server.relay_keys({cid: clients[cid].public_key_bytes() for cid in ids})
    dropped_set = set(drop)
    survivors = [cid for cid in ids if cid not in dropped_set]
    for cid in ids:
        masked = clients[cid].mask(updates[cid], directory, round_id)
        if cid not in dropped_set:
            server.receive(cid, to_bytes(masked))
    if not survivors:
        dim = len(next(iter(updates.values()))) if updates else 0
        server.dim = dim
    seeds = {s: {d: clients[s].reveal_pairwise_seed(d, round_id) for d in drop} for s in survivors}
    return server.finish(survivors, drop, seeds)


# ----------------------------------------------------------------------------------------------
# helpers


def _as_float_vector(vec: np.ndarray) -> np.ndarray:
    x = np.asarray(vec, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"secure aggregation works on 1-D update vectors (got shape {x.shape})")
    if not np.all(np.isfinite(x)):
        raise ValueError("the update contains NaN or infinity; it cannot be encoded in fixed point")
    return x


def _check_scale_bits(scale_bits: int) -> None:
    if not 0 <= int(scale_bits) <= 52:
        raise ValueError(f"scale_bits must be between 0 and 52 (got {scale_bits})")


def _check_id(client_id: int) -> int:
    if isinstance(client_id, bool) or not isinstance(client_id, (int, np.integer)):
        raise TypeError(f"client ids must be integers (got {client_id!r})")
    cid = int(client_id)
    if not 0 <= cid < 2**63:
        raise ValueError(f"client ids must be non-negative 64-bit integers (got {cid})")
    return cid
