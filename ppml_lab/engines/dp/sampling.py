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


def poisson_batches(n: int, q: float, steps: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``steps`` independent Poisson(q) subsamples of ``range(n)``, drawn in one vectorised pass.

    The steps are laid end to end as one Bernoulli(q) process over ``steps * n`` slots (the same
    geometric-gap construction as :func:`poisson_batch`); slot ``t * n + i`` is record ``i`` in
    step ``t``. Each step's batch is therefore an independent Poisson(q) subsample, exactly as
    with ``steps`` calls of :func:`poisson_batch`, at a fraction of the per-call overhead.
    """
    if steps <= 0:
        return []
    if q >= 1.0:
        return [np.arange(n) for _ in range(steps)]
    total = n * steps
    positions = poisson_batch(total, q, rng)
    bounds = np.searchsorted(positions, np.arange(1, steps) * n)
    return [part - t * n for t, part in enumerate(np.split(positions, bounds))]
