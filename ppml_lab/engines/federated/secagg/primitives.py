"""The building blocks every part of the protocol shares: field elements, key derivation, ids.

* Secrets and Shamir shares are elements of the prime field GF(p), p = 2^128 - 159, serialised
  as 16 little-endian bytes (:func:`_field_bytes`, :func:`_bytes_field`).
* Every symmetric key is HKDF-SHA256 (:func:`_hkdf`) of a secret with a protocol label, the
  round id and the client ids in the HKDF info, so no two uses share a key.
* AES-GCM is used with a fixed all-zero nonce (:data:`_GCM_NONCE`), which is safe because each
  derived key encrypts one message or keys one mask stream only.
* Public keys travel as raw 32-byte X25519 keys (:func:`_raw_public`); client ids are
  non-negative 64-bit integers (:func:`_check_id`), counted as :data:`ID_BYTES` in messages.

All primitives come from ``cryptography``. Part of :mod:`ppml_lab.engines.federated.secagg`.
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = ["FIELD_PRIME", "ID_BYTES", "KEY_BYTES", "SECRET_BYTES", "SEED_BYTES"]

FIELD_PRIME = (1 << 128) - 159
"""The largest prime below 2**128: secrets and Shamir shares are elements of GF(p), 16 bytes."""

SECRET_BYTES = 16
"""Size of a serialised field element: a self-mask seed, a mask-key seed or one share."""

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


def _check_id(client_id: int) -> int:
    cid = client_id
    if type(cid) is not int:  # fast path for plain ints: ids are checked in every message
        if isinstance(client_id, bool) or not isinstance(client_id, (int, np.integer)):
            raise TypeError(f"client ids must be integers (got {client_id!r})")
        cid = int(client_id)
    if not 0 <= cid < 2**63:
        raise ValueError(f"client ids must be non-negative 64-bit integers (got {cid})")
    return cid
