"""The masks: AES-CTR keystreams from HKDF-derived seeds, and the one-round X25519 mask keys.

A participant ``u`` uploads ``y_u = x_u + PRG(b_u) + sum_{v > u} PRG(k_uv) - sum_{v < u}
PRG(k_uv)`` modulo 2^64: its self-mask (:func:`self_mask`, from its self-mask seed ``b_u``) and
its signed pair masks (:func:`pairwise_mask`), where ``k_uv`` is HKDF of the X25519 secret of
the two *mask* keys with the round id and both ids (:func:`derive_pair_seed`). A mask key is
derived from the participant's mask-key seed ``s_u`` (:func:`mask_private_key`), so the server
can rebuild it from ``s_u``'s shares when ``u`` drops out, and remove ``u``'s pair masks.

Part of :mod:`ppml_lab.engines.federated.secagg`.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

import numpy as np
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ppml_lab.engines.federated.secagg.primitives import (
    _GCM_NONCE,
    _MASK_KEY,
    _PAIR,
    _SELF,
    SEED_BYTES,
    _field_bytes,
    _hkdf,
)

__all__ = ["derive_pair_seed", "expand_mask", "mask_private_key", "pairwise_mask", "self_mask"]


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
