"""Fixed-point encoding of update vectors as 64-bit words, so that masks can cancel exactly.

Fixed point and overflow
------------------------
A value ``x`` is encoded as the 64-bit two's complement of ``round(x * 2**scale_bits)``, clipped to
``±(2**53 - 1)``. Ten bits of headroom remain, so the sum of up to :data:`MAX_SUMMANDS` (1024)
encoded values never wraps around. With the default ``scale_bits = 24`` the resolution is
``2**-24 ≈ 6e-8`` (rounding error at most ``2**-25`` per value), and values up to
``(2**53 - 1) / 2**24 ≈ 5.4e8`` in absolute value are encoded exactly; larger ones are clipped to
that bound (:meth:`.client.SecAggClient.mask` records how many in ``last_clipped``). The clip
limit ``2**53 - 1`` also keeps ``x * 2**scale_bits`` exactly representable in float64.

Masked vectors travel as little-endian 64-bit words (:func:`to_bytes`, :func:`from_bytes`): 8
bytes per coordinate, as float64. Part of :mod:`ppml_lab.engines.federated.secagg`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DEFAULT_SCALE_BITS",
    "ENCODED_LIMIT",
    "HEADROOM_BITS",
    "MAX_SUMMANDS",
    "clipped_count",
    "decode",
    "encode",
    "from_bytes",
    "max_abs_value",
    "to_bytes",
]

DEFAULT_SCALE_BITS = 24
"""Fractional bits of the fixed-point encoding: resolution 2**-24 ≈ 6e-8."""

HEADROOM_BITS = 10
"""Bits kept free above each encoded value so that sums of up to 2**10 values cannot wrap."""

MAX_SUMMANDS = 1 << HEADROOM_BITS
"""The most encoded vectors that can be summed without overflow (1024 >= 1000 clients)."""

ENCODED_LIMIT = (1 << (63 - HEADROOM_BITS)) - 1
"""Largest magnitude of one encoded value (2**53 - 1; also exact in float64)."""


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
