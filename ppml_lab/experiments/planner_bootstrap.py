"""The planner's uncertainty: a bootstrap over the pilot sweep's *training seeds*.

A replicate draws seeds with replacement and keeps all points of each drawn seed (private and
non-private), refits the curve (:func:`~.planner_curve.fit_curve`, starting from the full fit)
and solves for epsilon again. With 3 seeds there are only 10 distinct replicates, so the interval
is rough; more seeds narrow it. With few seeds every distinct resample is used with its exact
probability instead of sampling (:func:`_seed_resamples`).

Part of the inverse planner (:mod:`ppml_lab.experiments.planner`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from ppml_lab.experiments.planner_curve import CurveFit, fit_curve, solve_in_grid
from ppml_lab.experiments.sweep import SweepPoint

__all__ = ["bootstrap_epsilon"]


def bootstrap_epsilon(
    points: Sequence[SweepPoint],
    reps: Sequence[int],
    *,
    fit: CurveFit,
    tol: float,
    lo: float,
    hi: float,
    budget: int,
    random_seed: int,
    confidence: float,
) -> tuple[tuple[float, float] | None, float | None, int]:
    """Bootstrap interval of the smallest epsilon within ``tol`` of non-private.

    Parameters
    ----------
    points : sequence of SweepPoint
        The pilot sweep (private and non-private points).
    reps : sequence of int
        The sweep's distinct training seeds (``repetition``), sorted.
    fit : CurveFit
        The fit on all points, where every refit starts.
    tol : float
        Allowed accuracy loss, as a fraction.
    lo, hi : float
        The smallest and largest epsilon of the grid (see
        :func:`~.planner_curve.solve_in_grid`).
    budget : int
        Bootstrap resamples (0 = none).
    random_seed : int
        Seed of the generator when resamples are drawn at random.
    confidence : float
        Level of the interval.

    Returns
    -------
    interval, reachable_fraction, replicates
        The interval (its upper end ``inf`` when too many replicates did not reach the
        tolerance inside the grid) and the weight of the replicates that did, both None without
        any usable replicate, and the number of replicates used.
    """
    interval: tuple[float, float] | None = None
    reach_frac: float | None = None
    n_boot = 0
    if int(budget) > 0 and len(reps) >= 2:
        by_rep = {r: [p for p in points if p.repetition == r] for r in reps}

        def crossing(chosen: tuple[int, ...]) -> float | None:
            pts = [p for r in chosen for p in by_rep[r]]
            pub = [p.test_accuracy for p in pts if not p.private]
            prv = [p for p in pts if p.private]
            if not pub or len({p.epsilon for p in prv}) < 2:
                return None
            f = fit_curve([p.epsilon for p in prv], [p.test_accuracy for p in prv], start=fit)
            return solve_in_grid(f, float(np.mean(pub)) - tol, lo, hi)

        values, weights = [], []
        for chosen, weight in _seed_resamples(reps, int(budget), random_seed):
            e = crossing(chosen)
            if e is not None:
                values.append(e)
                weights.append(weight)
        n_boot = len(values)
        if values:
            arr, w = np.array(values), np.array(weights) / np.sum(weights)
            reach_frac = float(w[np.isfinite(arr)].sum())
            # "Not reached" counts as +inf, which sorts last.
            interval = (
                _weighted_quantile(arr, w, (1 - confidence) / 2),
                _weighted_quantile(arr, w, (1 + confidence) / 2),
            )
    return interval, reach_frac, n_boot


def _seed_resamples(
    reps: Sequence[int], budget: int, random_seed: int
) -> list[tuple[tuple[int, ...], float]]:
    """Bootstrap resamples of the seeds as (sorted multiset, probability weight).

    With k seeds there are only C(2k-1, k) distinct resamples (10 for 3 seeds, 126 for 5). When
    that is within ``budget`` all of them are used with their exact multinomial probabilities:
    the exact bootstrap distribution, with no Monte Carlo noise and one fit per distinct
    resample. Otherwise ``budget`` random resamples, each fitted once however often it is drawn.
    """
    k = len(reps)
    if math.comb(2 * k - 1, k) <= budget:
        out = []
        for combo in itertools.combinations_with_replacement(reps, k):
            counts = [combo.count(r) for r in set(combo)]
            ways = math.factorial(k) / math.prod(math.factorial(c) for c in counts)
            out.append((combo, ways / k**k))
        return out
    rng = np.random.default_rng(random_seed)
    drawn: dict[tuple[int, ...], float] = {}
    for _ in range(budget):
        combo = tuple(sorted(int(r) for r in rng.choice(reps, size=k, replace=True)))
        drawn[combo] = drawn.get(combo, 0.0) + 1.0
    return list(drawn.items())


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight reaches ``q``.

    Inverted CDF, no interpolation, so an infinite value ("not reached") never mixes with a finite
    one.
    """
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    i = int(np.searchsorted(cum, q * cum[-1] - 1e-12, side="left"))
    return float(values[order][min(i, len(values) - 1)])

