"""Poisson subsampling, the sampling the privacy accountant assumes.

Each record joins each batch independently with probability q. Drawing N uniforms per step is
O(N); instead we draw the gaps between included records, which are Geometric(q): the positions
``cumsum(gaps) - 1`` below N are exactly a Bernoulli(q) process over the records, in O(B).
"""

from __future__ import annotations

import numpy as np


def poisson_batch(n: int, q: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a Poisson(q) subsample of ``range(n)`` (possibly empty)."""
    if q >= 1.0:
        return np.arange(n)
    expected = n * q
    # Enough gaps to pass n with overwhelming probability; extend in the rare case we fall short.
    chunk = int(expected + 6.0 * np.sqrt(expected + 1.0) + 16)
    positions = np.cumsum(rng.geometric(q, size=chunk)) - 1
    while positions[-1] < n:
        more = np.cumsum(rng.geometric(q, size=chunk)) + positions[-1]
        positions = np.concatenate([positions, more])
    return positions[: np.searchsorted(positions, n)]
