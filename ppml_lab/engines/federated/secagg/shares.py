"""Shamir sharing of the round secrets over GF(2^128 - 159), and their encryption to peers.

Each participant splits its self-mask seed ``b_u`` and its mask-key seed ``s_u`` into ``n``
Shamir shares of degree ``t - 1`` (:func:`split_secrets`: any ``t`` rebuild a secret, ``t - 1``
say nothing about it; peer ``v``'s share is the polynomial at ``v``'s position in the roster
+ 1) and sends peer ``v`` its two shares in one AES-256-GCM message (:func:`seal_shares`), keyed
by HKDF of the X25519 secret of the two *channel* keys with the round id and "u -> v" in the
HKDF info. Each key encrypts exactly one message (a client takes part in a round id once), so
the fixed nonce is safe. The server only relays the ciphertexts; at unmasking it rebuilds
secrets from ``t`` shares (:func:`recombine_secrets`).

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


Part of :mod:`ppml_lab.engines.federated.secagg`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from mpyc.finfields import GF
from mpyc.thresha import random_split, recombine

from ppml_lab.engines.federated.secagg.primitives import (
    _GCM_NONCE,
    _SHARE_KEY,
    FIELD_PRIME,
    SECRET_BYTES,
    _bytes_field,
    _field_bytes,
    _hkdf,
)

__all__ = [
    "SHARE_BYTES",
    "SHARE_MESSAGE_BYTES",
    "TAG_BYTES",
    "open_shares",
    "recombine_secrets",
    "seal_shares",
    "split_secrets",
]

SHARE_BYTES = SECRET_BYTES
"""Size of one Shamir share."""

TAG_BYTES = 16
"""AES-GCM authentication tag."""

SHARE_MESSAGE_BYTES = 2 * SHARE_BYTES + TAG_BYTES
"""One encrypted share message u -> v: v's shares of b_u and of s_u, and the GCM tag (48 bytes)."""


_FIELD = GF(FIELD_PRIME)


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



def _share_cipher(channel_secret: bytes, round_id: int, sender: int, recipient: int) -> AESGCM:
    """The AES-256-GCM key of the one share message ``sender -> recipient`` of a round."""
    info = _SHARE_KEY + struct.pack("<qQQ", int(round_id), sender, recipient)
    return AESGCM(_hkdf(channel_secret, info))


def seal_shares(
    channel_secret: bytes, round_id: int, sender: int, recipient: int, b_share: int, s_share: int
) -> bytes:
    """Encrypt ``recipient``'s shares of ``sender``'s two secrets: :data:`SHARE_MESSAGE_BYTES`.

    ``channel_secret`` is the X25519 secret of the two participants' channel keys.
    """
    plaintext = _field_bytes(b_share) + _field_bytes(s_share)
    return _share_cipher(channel_secret, round_id, sender, recipient).encrypt(
        _GCM_NONCE, plaintext, None
    )


def open_shares(
    channel_secret: bytes, round_id: int, sender: int, recipient: int, message: bytes
) -> tuple[int, int]:
    """Decrypt a message of :func:`seal_shares`: the shares of ``b_u`` and of ``s_u``.

    Raises
    ------
    cryptography.exceptions.InvalidTag
        If the message does not authenticate (tampered with, or not for this pair and round).
    ValueError
        If a share is not a field element.
    """
    cipher = _share_cipher(channel_secret, round_id, sender, recipient)
    plain = cipher.decrypt(_GCM_NONCE, message, None)
    return _bytes_field(plain[:SHARE_BYTES]), _bytes_field(plain[SHARE_BYTES:])
