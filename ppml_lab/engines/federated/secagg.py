"""Double-masked secure aggregation (Bonawitz et al., CCS 2017), single server.

One round
---------
0. *Channel keys, once per client.* Every client holds a long-lived X25519 channel key pair and
   registers the public key with the server once (:class:`KeyDirectory`); a client downloads a
   peer's channel key the first time the two share a round. The channel key only encrypts
   shares to peers: it is never shared, revealed or used for masks.
1. *Advertise keys.* Each participant draws two fresh secrets for the round from the operating
   system (``secrets.randbelow``), both elements of the prime field GF(p), p = 2^128 - 159
   (16 bytes each): a *self-mask seed* ``b_u`` and a *mask-key seed* ``s_u``. From ``s_u`` it
   derives a fresh X25519 *mask key* pair (private key = HKDF-SHA256 of ``s_u`` with the round
   and its id) and uploads the public key. The server sends back the roster: the participants
   in ascending id order, their mask public keys and the threshold ``t``.
2. *Share keys.* Each participant splits ``b_u`` and ``s_u`` into ``n`` Shamir shares of degree
   ``t - 1`` (any ``t`` rebuild a secret, ``t - 1`` say nothing about it; peer ``v``'s share is
   the polynomial at ``v``'s position in the roster + 1) and sends peer ``v`` its two shares in
   one AES-256-GCM message, keyed by HKDF of the X25519 secret of the two *channel* keys with the
   round id and "u -> v" in the HKDF info. Each key encrypts exactly one message (a client takes
   part in a round id once), so the fixed nonce is safe. The server only relays ciphertexts.
3. *Masked input.* Each participant encodes its update in fixed point (:func:`encode`) and
   uploads ``y_u = x_u + PRG(b_u) + sum_{v > u} PRG(k_uv) - sum_{v < u} PRG(k_uv)`` modulo 2^64,
   where ``k_uv`` is HKDF of the X25519 secret of the two *mask* keys with the round id and both
   ids, and PRG is the AES-256-CTR keystream read as uint64 words (:func:`expand_mask`).
4. *Unmasking.* The clients whose upload arrived are the survivors, the others dropped. With
   fewer than ``t`` survivors the server cannot unmask anything and the round is aborted
   (:class:`ThresholdError`). Otherwise it tells the survivors who dropped; each survivor decrypts
   the shares it received and returns one share per participant: of ``b_u`` if ``u`` survived,
   of ``s_u`` if ``u`` dropped. An honest client never reveals both for one client in one round
   (:class:`SecAggRefusal`). From ``t`` shares each, the server rebuilds every survivor's ``b_u``
   and subtracts its self-mask, and every dropped client's ``s_u``, from which it re-derives the
   mask private key (checked against the advertised public key) and removes that client's pair
   masks with the survivors. The survivors' pair masks with each other cancel in the sum. What
   remains is the exact sum of the survivors' encoded updates.

All primitives (X25519, HKDF-SHA256, AES-CTR, AES-GCM) come from ``cryptography``, and Shamir
sharing comes from MPyC; this module only writes the protocol. :func:`run_round` is the one
implementation of a round; the federated transport (:mod:`.secagg_transport`) calls it.

Which Shamir implementation
---------------------------
Two maintained implementations were measured on this machine (2 shared cores). pycryptodome's
``Crypto.Protocol.SecretSharing.Shamir`` (16-byte secrets over GF(2^128), pure Python) takes
0.5 ms to split one secret 10 ways with threshold 6 and 3 ms to combine 6 shares: a 10-client
round (20 splits, 10 combines) would spend about 40 ms in sharing alone, against a 17 ms plain
round and a target of at most 2x. MPyC's ``mpyc.thresha.random_split`` / ``recombine`` over
``mpyc.finfields.GF(p)`` (gmpy2 arithmetic, coefficients from ``secrets.randbelow``, the Lagrange
vector cached per set of x-coordinates) takes about 0.04 ms to split a client's two secrets and
0.03 ms to rebuild all ten secrets of a round, so it is the one used. Importing ``mpyc.thresha``
does not start MPyC's runtime. ``recombine`` returns unreduced integers, so
:func:`recombine_secrets` reduces them modulo p.

What it protects
----------------
- Each upload is hidden by its self-mask ``PRG(b_u)`` on top of the pair masks, so a masked
  vector is uniform on ``[0, 2^64)`` word by word and independent of the update. For every client
  the server learns at most one of its two secrets: ``b_u`` if it survived, its one-round mask key
  if it dropped. A dropped client's upload that arrives late (ordinary network delay) therefore
  still decodes to noise after its pair masks were removed: its self-mask seed was never
  revealed. A server that falsely reports a client as dropped gets its pair masks but not its
  self-mask, and no longer unmasks it.
- A lying server. Honest clients answer one consistent unmasking request per round and refuse a
  ``b``-share for a client reported dropped and a key share for one reported surviving. With
  ``t > n/2`` (the default, :func:`default_threshold`) any two groups of ``t`` answering clients
  overlap, so even a server that tells some clients "u dropped" and others "u survived" cannot
  collect ``t`` shares of both of ``u``'s secrets, unless it colludes with clients (below).
- Earlier and later rounds. Mask keys are fresh every round, derived from ``s_u``, so rebuilding
  a dropped client's key exposes only that round's pair masks, never those of rounds in which
  its self-mask seed was revealed. The long-lived channel key is never shared or revealed.
- The result is exact: masks cancel completely, leaving only the fixed-point rounding of
  :func:`encode`.

What it does not protect
------------------------
- The sum itself: the server (and whoever gets the model) learns the sum of the survivors'
  updates. A round with one participant reveals that client's update (its self-mask seed is
  rebuilt from its own share); in a round with two survivors each of them can work out the
  other's update from the new model. Add client-level DP for that.
- Collusion: a server colluding with ``t`` or more of a round's clients can rebuild any client's
  two secrets and unmask its update. With ``c`` colluding clients a server that lies about
  dropouts needs ``t > (n + c) / 2`` to be stopped; the majority default assumes ``c = 0``.
- An actively malicious server. This is the semi-honest version of Bonawitz et al.: no
  signatures on the keys and no consistency-check round. The server relays the channel and mask
  public keys, so a server that substitutes its own keys (man in the middle) reads the shares,
  and one that invents clients (Sybils) can fill the threshold itself. A public-key
  infrastructure, signed keys and the consistency round would close this.
- Dishonest clients: nothing stops a client from uploading garbage (no range proofs) or sending
  wrong shares. A wrong share of a mask-key seed is detected (the rebuilt key does not match the
  advertised one); a wrong share of a self-mask seed silently corrupts the sum.
- Who takes part: the server knows every round's participants and who dropped.
- Secrets drawn from a seeded ``numpy`` generator (``SecAggClient(..., rng=...)``, for
  reproducible tests) are exactly as secret as that seed, i.e. not secret. Leave ``rng=None``
  (the default, used by the federated transport) for the operating system's randomness.

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
"""

from __future__ import annotations

import secrets
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from mpyc.finfields import GF
from mpyc.thresha import random_split, recombine

DEFAULT_SCALE_BITS = 24
"""Fractional bits of the fixed-point encoding: resolution 2**-24 ≈ 6e-8."""

HEADROOM_BITS = 10
"""Bits kept free above each encoded value so that sums of up to 2**10 values cannot wrap."""

MAX_SUMMANDS = 1 << HEADROOM_BITS
"""The most encoded vectors that can be summed without overflow (1024 >= 1000 clients)."""

ENCODED_LIMIT = (1 << (63 - HEADROOM_BITS)) - 1
"""Largest magnitude of one encoded value (2**53 - 1; also exact in float64)."""

FIELD_PRIME = (1 << 128) - 159
"""The largest prime below 2**128: secrets and Shamir shares are elements of GF(p), 16 bytes."""

SECRET_BYTES = 16
"""Size of a serialised field element: a self-mask seed, a mask-key seed or one share."""

SHARE_BYTES = SECRET_BYTES
"""Size of one Shamir share."""

TAG_BYTES = 16
"""AES-GCM authentication tag."""

SHARE_MESSAGE_BYTES = 2 * SHARE_BYTES + TAG_BYTES
"""One encrypted share message u -> v: v's shares of b_u and of s_u, and the GCM tag (48 bytes)."""

SEED_BYTES = 32
"""Size of a PRG key (AES-256)."""

KEY_BYTES = 32
"""Size of a raw X25519 public key."""

ID_BYTES = 4
"""Bytes counted for a client id in protocol messages (registration, roster, dropped list)."""

_PROTOCOL = b"ppml-lab secagg v2 "
_PAIR = _PROTOCOL + b"pair mask"
_SELF = _PROTOCOL + b"self mask"
_MASK_KEY = _PROTOCOL + b"mask key"
_SHARE_KEY = _PROTOCOL + b"share key"
_GCM_NONCE = bytes(12)
_FIELD = GF(FIELD_PRIME)


class ThresholdError(ValueError):
    """Fewer clients than the threshold: the server cannot finish, the round is aborted."""


class SecAggRefusal(ValueError):
    """An honest client refuses an unmasking request that would expose a client's update."""


def default_threshold(n: int) -> int:
    """A majority of ``n`` participants, ``n // 2 + 1``: see "What it protects"."""
    return int(n) // 2 + 1


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
    """Expand a 32-byte seed into ``dim`` pseudo-random uint64 words (AES-256-CTR keystream).

    The keystream is computed as ``cryptography``'s AES-GCM encryption of zeros with an all-zero
    nonce, minus the tag: GCM's ciphertext is the plaintext XOR the AES-CTR keystream from the
    counter block ``0^96 || 2``, so this is exactly AES-256-CTR, at a tenth of the per-call cost
    of ``Cipher(AES, CTR)`` for short vectors. Each seed keys this one stream only, so the fixed
    nonce is never reused with the same key.

    Parameters
    ----------
    seed
        32-byte AES-256 key, used for this one stream only.
    dim
        Number of 64-bit words.

    Returns
    -------
    numpy.ndarray
        Read-only uint64 array of length ``dim``.
    """
    if len(seed) != SEED_BYTES:
        raise ValueError(f"a mask seed is {SEED_BYTES} bytes (got {len(seed)})")
    stream = AESGCM(seed).encrypt(_GCM_NONCE, bytes(8 * dim), None)
    return np.frombuffer(stream, dtype="<u8", count=dim)


def derive_pair_seed(shared_secret: bytes, round_id: int, a: int, b: int) -> bytes:
    """Round-specific seed of the pair ``{a, b}`` from their mask keys' X25519 secret (HKDF-SHA256).

    The ids are put in ascending order so both clients derive the same seed.
    """
    lo, hi = (a, b) if a < b else (b, a)
    return _hkdf(shared_secret, _PAIR + struct.pack("<qQQ", int(round_id), lo, hi))


def self_mask(seed: int, round_id: int, client_id: int, dim: int) -> np.ndarray:
    """The self-mask ``PRG(b_u)``: AES-256-CTR keyed by HKDF of the self-mask seed."""
    key = _hkdf(_field_bytes(seed), _SELF + struct.pack("<qQ", int(round_id), int(client_id)))
    return expand_mask(key, dim)


def mask_private_key(seed: int, round_id: int, client_id: int) -> X25519PrivateKey:
    """The one-round X25519 mask key of ``client_id``, derived from its mask-key seed."""
    raw = _hkdf(_field_bytes(seed), _MASK_KEY + struct.pack("<qQ", int(round_id), int(client_id)))
    return X25519PrivateKey.from_private_bytes(raw)


def pairwise_mask(
    private_key: X25519PrivateKey,
    client_id: int,
    peer_keys: Mapping[int, bytes],
    round_id: int,
    dim: int,
) -> np.ndarray:
    """Signed sum of ``client_id``'s pair masks with ``peer_keys`` (mask public keys).

    ``+PRG(k_uv)`` for every peer with a larger id, ``-PRG(k_uv)`` for a smaller one, modulo
    2**64: what a client adds to its update, and what the server removes for a dropped client
    (with the survivors as peers) once it has rebuilt that client's mask key.
    """
    total = np.zeros(dim, dtype=np.uint64)
    for peer_id, pub in peer_keys.items():
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(bytes(pub)))
        m = expand_mask(derive_pair_seed(shared, round_id, client_id, peer_id), dim)
        # uint64 arithmetic wraps modulo 2**64, exactly the group the masks live in.
        if peer_id > client_id:
            total += m
        else:
            total -= m
    return total


# ----------------------------------------------------------------------------------------------
# Shamir secret sharing (MPyC) over GF(2**128 - 159)


def split_secrets(values: Sequence[int], threshold: int, n: int) -> list[list[int]]:
    """Split each value into ``n`` Shamir shares of which any ``threshold`` rebuild it.

    Parameters
    ----------
    values
        Field elements, ``0 <= value < FIELD_PRIME``.
    threshold
        Shares needed, ``1 <= threshold <= n`` (polynomials of degree ``threshold - 1``).
    n
        Number of shares.

    Returns
    -------
    list of list of int
        ``shares[i][h]`` is share ``h`` for x-coordinate ``i + 1``.
    """
    if not 1 <= threshold <= n:
        raise ValueError(f"a threshold must be between 1 and {n} (got {threshold})")
    vals = [int(v) for v in values]
    if any(not 0 <= v < FIELD_PRIME for v in vals):
        raise ValueError("a secret must be a field element, 0 <= value < 2**128 - 159")
    return [[int(s) for s in row] for row in random_split(_FIELD, vals, threshold - 1, n)]


def recombine_secrets(points: Sequence[tuple[int, Sequence[int]]]) -> list[int]:
    """Lagrange-interpolate at 0: ``points`` are ``(x, [share of each secret])``.

    With fewer shares than the threshold the result is a wrong, uniformly random field element.
    """
    pts = [(int(x), [int(s) for s in shares]) for x, shares in points]
    if not pts:
        raise ValueError("no shares to recombine")
    return [int(v) % FIELD_PRIME for v in recombine(_FIELD, pts)]


# ----------------------------------------------------------------------------------------------
# the server's long-lived key directory and the round's roster


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


# ----------------------------------------------------------------------------------------------
# client


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
            aead = self._share_aead(roster.channel_keys[peer], st.round_id, me, peer)
            plaintext = _field_bytes(b_share) + _field_bytes(s_share)
            out[peer] = aead.encrypt(_GCM_NONCE, plaintext, None)
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

    def _share_aead(self, peer_channel_key: bytes, round_id: int, sender: int, recipient: int) -> AESGCM:
        secret = self._channel_secrets.get(peer_channel_key)
        if secret is None:
            secret = self._channel.exchange(X25519PublicKey.from_public_bytes(peer_channel_key))
            self._channel_secrets[peer_channel_key] = secret
        info = _SHARE_KEY + struct.pack("<qQQ", int(round_id), sender, recipient)
        return AESGCM(_hkdf(secret, info))

    def _open_share(self, sender: int, st: _RoundState) -> tuple[int, int]:
        assert st.roster is not None and st.inbox is not None
        aead = self._share_aead(st.roster.channel_keys[sender], st.round_id, sender, self.client_id)
        try:
            plain = aead.decrypt(_GCM_NONCE, st.inbox[sender], None)
        except InvalidTag:
            raise ValueError(
                f"client {self.client_id}: the shares from client {sender} do not authenticate "
                "(tampered with, or not encrypted to this client)"
            ) from None
        return _bytes_field(plain[:SHARE_BYTES]), _bytes_field(plain[SHARE_BYTES:])


# ----------------------------------------------------------------------------------------------
# server


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


# ----------------------------------------------------------------------------------------------
# one whole round


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


# ----------------------------------------------------------------------------------------------
# helpers


def _hkdf(key_material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=SEED_BYTES, salt=None, info=info).derive(
        key_material
    )


def _raw_public(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _field_bytes(value: int) -> bytes:
    return int(value).to_bytes(SECRET_BYTES, "little")


def _bytes_field(data: bytes) -> int:
    value = int.from_bytes(data, "little")
    if value >= FIELD_PRIME:
        raise ValueError("a share is not a field element")
    return value


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
    cid = client_id
    if type(cid) is not int:  # fast path for plain ints: ids are checked in every message
        if isinstance(client_id, bool) or not isinstance(client_id, (int, np.integer)):
            raise TypeError(f"client ids must be integers (got {client_id!r})")
        cid = int(client_id)
    if not 0 <= cid < 2**63:
        raise ValueError(f"client ids must be non-negative 64-bit integers (got {cid})")
    return cid
