"""Privacy accounting for DP-SGD and DP-FedAvg, wrapping Google's ``dp-accounting``.

This is the module to import (``from ppml_lab.privacy import accounting``). It holds the noise
calibration, :func:`calibrate_noise`, and re-exports the rest, which lives in two modules by
job:

:mod:`ppml_lab.privacy.epsilon`
    The exact queries: the dp-accounting event of ``steps`` Poisson-subsampled Gaussian
    releases, the two accountants (``"pld"``, ``"rdp"``), input checks (:func:`check_delta`,
    :func:`default_delta`), :func:`epsilon_for` and the caches that make repeated queries cheap
    without changing any value (:func:`clear_caches`).
:mod:`ppml_lab.privacy.ledger`
    :class:`PrivacyLedger`, the epsilon spent so far by one run: exact for reported values, a
    checked upper bound within :data:`LIVE_REL_TOL` for the intermediate points of a live curve.

Every epsilon comes from one of dp-accounting's accountants, through its public API: nothing
here implements accountant maths; the modules choose events, cache, and search.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Final

from ppml_lab.privacy.epsilon import (
    ACCOUNTANTS,
    PLD_DISCRETIZATION,
    RDP_ORDERS,
    _check_common,
    _epsilon_cached,
    _is_real,
    # calibrate_noise looks these two up in this module's namespace, so a test can replace
    # them here (tests/unit/test_accounting.py, "a misleading bracket").
    _pld_epsilon,
    _rdp_epsilon,
    check_delta,
    clear_caches,
    default_delta,
    epsilon_for,
    rdp_orders,
)
from ppml_lab.privacy.ledger import LIVE_REL_TOL, PrivacyLedger

__all__ = [
    "ACCOUNTANTS",
    "PLD_DISCRETIZATION",
    "LIVE_REL_TOL",
    "RDP_ORDERS",
    "PrivacyLedger",
    "calibrate_noise",
    "check_delta",
    "clear_caches",
    "default_delta",
    "epsilon_for",
    "rdp_orders",
]


def _coarse_discretization(epsilon_scale: float, ratio: float) -> float:
    """PLD grid of ``ratio * epsilon_scale`` (capped at 3e-3) for an approximate query.

    Pessimistic rounding overstates epsilon by a relative amount that depends on
    ``grid / epsilon``: measured on DP-SGD on Adult (1880 steps), about 0.04 % at 3e-4, 0.3 %
    at 1e-3 and 2.5 % at 3e-3; fewer steps give less. Query cost falls in proportion to the
    grid, so ``ratio`` trades accuracy for speed.
    """
    return min(3e-3, ratio * epsilon_scale)


# A short grid of integer orders, about 10x cheaper to evaluate than RDP_ORDERS (the cost of
# an integer order grows with the order, and fractional orders need long series). Used only to
# *bracket* the PLD calibration, where a looser bound is harmless: it can only move the first
# guess for sigma up, and the PLD search that follows keeps its own bracket.
_BRACKET_ORDERS: Final = tuple(
    float(a)
    for a in list(range(2, 17)) + list(range(18, 33, 2)) + [40, 48, 56, 64, 80, 96, 128, 192, 256]
)


# --------------------------------------------------------------------------------------------
# Calibration

_Point = tuple[float, float]  # (log sigma, log epsilon)


def _log_eps(eps: float) -> float:
    if eps <= 0.0:
        return -math.inf
    return math.log(eps)  # math.log(inf) == inf


def _secant_solve(
    eps_fn: Callable[[float], float],
    *,
    aim: float,
    accept: tuple[float, float],
    x0: float,
    slope: float,
    max_iter: int = 12,
    max_step: float = 1.5,
) -> tuple[float, float, list[_Point]]:
    """Search log-sigma ``x`` with ``eps_fn(exp(x))`` inside ``accept``, aiming at ``aim``.

    log(epsilon) is close to linear in log(sigma) (slope about -1 for small epsilon, steeper
    for large), so a secant on (log sigma, log epsilon) lands in a 1 % band in two or three
    queries from a fair start. It is safeguarded by the tightest bracket seen so far
    (bisection when a step would leave it) and by a cap on the step, because the first slope
    is only a guess. Epsilon need only be non-increasing in sigma.

    Returns
    -------
    x, eps, points
        The last log-sigma, its epsilon (inside ``accept`` unless ``max_iter`` ran out), and
        every (log sigma, log epsilon) evaluated.
    """
    lo, hi = -math.inf, math.inf  # eps(exp(lo)) > accept[1]; eps(exp(hi)) < accept[0]
    points: list[_Point] = []
    x, k, eps = x0, slope, math.nan
    for _ in range(max_iter):
        eps = eps_fn(math.exp(x))
        le = _log_eps(eps)
        if accept[0] <= eps <= accept[1]:
            points.append((x, le))
            return x, eps, points
        if eps > accept[1]:
            lo = max(lo, x)
        else:
            hi = min(hi, x)
        finite = [(px, pl) for px, pl in points if math.isfinite(pl) and px != x]
        if math.isfinite(le) and finite:
            # Secant through the nearest earlier point; keep the old slope if this one is
            # flat or has the wrong sign (discretization noise, or a kink of the RDP minimum).
            px, pl = min(finite, key=lambda p: abs(p[0] - x))
            s = (le - pl) / (x - px)
            if s < -0.05:
                k = s
        points.append((x, le))
        if math.isfinite(le):
            step = (math.log(aim) - le) / k
        else:
            step = max_step if le > 0 else -max_step  # no noise-like / no privacy-loss values
        x_new = x + max(-max_step, min(max_step, step))
        if not lo < x_new < hi:
            x_new = 0.5 * (lo + hi) if math.isfinite(lo) and math.isfinite(hi) else x_new
            if not lo < x_new < hi:  # one-sided bracket: step halfway towards it instead
                x_new = 0.5 * (x + (lo if math.isfinite(lo) else hi))
        x = x_new
    return x, eps, points


def _fitted_slope(points: list[_Point], default: float) -> float:
    """Slope of log eps on log sigma through the last two finite points (negative)."""
    finite = [(x, le) for x, le in points if math.isfinite(le)]
    if len(finite) < 2:
        return default
    (x1, l1), (x2, l2) = finite[-2], finite[-1]
    if x1 == x2:
        return default
    s = (l2 - l1) / (x2 - x1)
    return s if s < -0.05 else default


def _initial_log_sigma(
    target_epsilon: float, delta: float, sample_rate: float, steps: int
) -> float:
    # A rough start from the moments-accountant scaling eps ~ q sqrt(T log(1/delta)) / sigma
    # (Abadi et al. 2016), which holds for sigma above about 1. Below that, epsilon rises much
    # faster than 1/sigma, so the formula undershoots; the floor keeps us in the right region.
    guess = 1.3 * sample_rate * math.sqrt(steps * math.log(1.0 / delta)) / target_epsilon
    return math.log(min(max(guess, 0.5), 1e5))


def calibrate_noise(
    *,
    target_epsilon: float,
    delta: float,
    sample_rate: float,
    steps: int,
    accountant: str = "pld",
    rel_tol: float = 0.01,
) -> float:
    """The noise multiplier that spends just under ``target_epsilon``.

    Parameters
    ----------
    target_epsilon : float
        The privacy budget, > 0.
    delta : float
        Target delta in (0, 1).
    sample_rate : float
        Poisson sampling probability in (0, 1].
    steps : int
        Number of releases, >= 0.
    accountant : {"pld", "rdp"}
        Accountant whose epsilon must meet the target.
    rel_tol : float
        The returned sigma has ``target * (1 - rel_tol) <= epsilon <= target``.

    Returns
    -------
    float
        sigma with ``epsilon_for(noise_multiplier=sigma, ...) <= target_epsilon``, checked with
        the precise accountant; never above the target. 0 if ``steps == 0``.

    Raises
    ------
    ValueError
        For target_epsilon <= 0 or any input :func:`epsilon_for` rejects.

    Warns
    -----
    RuntimeWarning
        If the band cannot be reached (only with a tiny ``rel_tol`` at a tiny epsilon, where
        the PLD grid is too coarse); the largest epsilon found below the target is used.

    Notes
    -----
    A bisection of 30 precise PLD queries takes 6-40 s on Adult-like settings, one query
    0.02-2 s. Instead, for ``"pld"``:

    1. *RDP bracket.* A log-log secant on the RDP accountant over a short grid of integer
       orders (about 15 ms a query) finds sigma with RDP epsilon in [0.9, 1] x target. RDP
       bounds epsilon from above more loosely than PLD, so this sigma is (in practice) an
       upper end for the PLD search, and the secant gives the slope of log epsilon in
       log sigma there.
    2. *Coarse PLD search.* The secant continues on PLD grids coarsened in proportion to the
       target: first ``min(3e-3, 3e-3 x target)`` (a few per cent high, cheap) to get close,
       then ``min(3e-3, 1e-3 x target)`` (at most ~0.3 % high; pessimistic rounding keeps
       coarse values above precise ones) aiming at the middle of the band. A grid less than
       twice the precise one is skipped (targets below ~0.2), as it would save little.
    3. *Precise check.* One query at dp-accounting's default grid, with secant corrections on
       precise values if it is outside the band (rare). Its single-step PLD and its epsilon
       stay cached, so the run's :class:`PrivacyLedger` reuses both.

    Only a sigma whose precise epsilon was computed and found ``<= target_epsilon`` is ever
    returned; as a last resort a bisection on precise values guarantees it. The precise check
    dominates the time: on Adult-like settings about 0.1-0.4 s in all for epsilon <= 1, and
    1-2.5 s for epsilon 3-10, where a single precise query alone takes 1-2 s.

    For ``"rdp"`` the secant runs on the RDP accountant itself (about 0.05-0.3 s a query).
    """
    if not _is_real(target_epsilon):
        raise ValueError(f"epsilon must be a number greater than 0 (got {target_epsilon!r}).")
    if not target_epsilon > 0:
        raise ValueError(
            f"epsilon must be greater than 0 (got {target_epsilon!r}): epsilon 0 would need "
            "infinite noise. Typical values run from 0.1 (very strong) to 10 (weak)."
        )
    if math.isinf(target_epsilon):
        raise ValueError(
            "epsilon must be finite; to train without privacy, use the baseline pattern."
        )
    if not 0.0 < rel_tol < 1.0:
        raise ValueError(f"rel_tol must be strictly between 0 and 1 (got {rel_tol!r}).")
    _check_common(sample_rate=sample_rate, steps=steps, delta=delta, accountant=accountant)
    if steps == 0:
        return 0.0  # nothing is released, so no noise is needed
    q, t, n, d = float(sample_rate), float(target_epsilon), int(steps), float(delta)
    band = (t * (1.0 - rel_tol), t)
    aim = t * (1.0 - rel_tol / 2.0)
    # The last coarse grid accepts only the middle 40 % of the band, so that its small
    # pessimistic excess over the precise value (<= 0.3 %) still lands inside the real band.
    inner = (t * (1.0 - 0.7 * rel_tol), t * (1.0 - 0.3 * rel_tol))
    x0 = _initial_log_sigma(t, d, q, n)

    def precise(sigma: float) -> float:
        return _epsilon_cached(sigma, q, n, d, accountant)

    # 1. RDP bracket.
    def rdp_bracket(sigma: float) -> float:
        return _rdp_epsilon(sigma, q, n, d, _BRACKET_ORDERS)

    x, _, pts = _secant_solve(rdp_bracket, aim=0.95 * t, accept=(0.9 * t, t), x0=x0, slope=-1.0)
    slope = _fitted_slope(pts, default=-1.0)

    if accountant == "rdp":
        # The full order grid is within a few per cent of the bracket grid: a secant step or
        # two from here.
        x, eps, pts = _secant_solve(precise, aim=aim, accept=band, x0=x, slope=slope)
        return _finish(x, eps, pts, precise, band, t)

    # 2. Coarse PLD search, on two grids: a very coarse one (a few per cent high) to get
    #    close cheaply, then one within about 0.3 % of the precise grid. The error of a grid
    #    is a nearly constant factor near the answer, so the second level needs one or two
    #    secant steps with the slope learned on the first.
    if q < 1.0:
        # A grid less than twice as coarse as the precise one saves too little to be worth
        # its own queries.
        grids = sorted(
            {
                h
                for h in (_coarse_discretization(t, 3e-3), _coarse_discretization(t, 1e-3))
                if h >= 2.0 * PLD_DISCRETIZATION
            },
            reverse=True,
        )
        for i, h in enumerate(grids):
            # Only the last grid before the precise check needs the narrow band.
            accept = inner if i == len(grids) - 1 else (0.98 * aim, 1.02 * aim)

            def coarse(sigma: float, h: float = h) -> float:
                return _pld_epsilon(sigma, q, n, d, h)

            x, _, pts = _secant_solve(
                coarse, aim=aim, accept=accept, x0=x, slope=slope, max_step=0.7
            )
            slope = _fitted_slope(pts, default=slope)

    # 3. Precise check (and secant corrections if ever needed).
    x, eps, pts = _secant_solve(
        precise, aim=aim, accept=band, x0=x, slope=slope, max_iter=8, max_step=0.7
    )
    return _finish(x, eps, pts, precise, band, t)


def _finish(
    x: float,
    eps: float,
    points: list[_Point],
    precise: Callable[[float], float],
    band: tuple[float, float],
    target: float,
) -> float:
    """Return a sigma whose precise epsilon is within ``band``, or the best one below target.

    ``points`` are precise (log sigma, log epsilon) pairs. The fallback bisection relies only
    on epsilon being non-increasing in sigma, so it always ends below the target.
    """
    if band[0] <= eps <= band[1]:
        return math.exp(x)
    log_t = math.log(target)
    feasible = [px for px, le in points if le <= log_t]
    hi = min(feasible) if feasible else x
    for _ in range(60):  # find an upper end: more noise, less epsilon
        if precise(math.exp(hi)) <= target:
            break
        hi += 1.0
    else:
        raise RuntimeError(f"no noise multiplier up to {math.exp(hi):.3g} reaches {target}.")
    lo = max((px for px, le in points if le > log_t and px < hi), default=hi - 3.0)
    best_x, best_eps = hi, precise(math.exp(hi))
    for _ in range(40):
        if band[0] <= best_eps <= band[1] or hi - lo < 1e-12:
            break
        mid = 0.5 * (lo + hi)
        e = precise(math.exp(mid))
        if e <= target:
            hi = mid
            if e >= best_eps:
                best_x, best_eps = mid, e
        else:
            lo = mid
    if not band[0] <= best_eps <= band[1]:
        warnings.warn(
            f"noise calibration reached epsilon {best_eps:.4g} for target {target:.4g}; "
            "the accountant's discretization does not allow a closer value from below.",
            RuntimeWarning,
            stacklevel=3,
        )
    return math.exp(best_x)
