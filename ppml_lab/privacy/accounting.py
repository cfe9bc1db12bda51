"""Privacy accounting for DP-SGD and DP-FedAvg, wrapping Google's ``dp-accounting``.

Both algorithms release ``steps`` noisy sums, each over a Poisson subsample of the records
(DP-SGD) or clients (DP-FedAvg) drawn with probability ``sample_rate``, with Gaussian noise of
standard deviation ``noise_multiplier`` times the clipping norm. Their privacy is that of the
``dp_accounting`` event::

    SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(sigma)), steps)

under the add-or-remove-one neighbouring relation. Every epsilon in this module comes from one
of dp-accounting's two accountants:

``"pld"``
    :class:`dp_accounting.pld.PLDAccountant` at its default discretization (1e-4). Privacy loss
    distributions give the tightest known bound; pessimistic rounding keeps it an upper bound.
``"rdp"``
    :class:`dp_accounting.rdp.RdpAccountant` over :data:`RDP_ORDERS`, a denser grid of Renyi
    orders than the library default. Faster, but looser: typically 5-15 % above PLD.

Nothing here implements accountant maths; the module chooses events, caches, and searches.

Speed. For DP-SGD on Adult (q = 256/24130, 20 epochs) a precise PLD query costs about 0.02 s
at epsilon 0.1 and 1-2 s at epsilon 3-10 on a 2-core machine; most of it is building the
single-step PLD, a Python loop inside dp-accounting. Two caches make the repeated queries of a
training run cheaper without changing any value:

* the single-step PLD for ``(sigma, q)`` is built once and self-composed for each ``steps``
  (exactly what :class:`~dp_accounting.pld.PLDAccountant` does internally, so the numbers are
  bit-identical; ``tests/unit/test_accounting.py`` checks this);
* the single-step RDP vector for ``(sigma, q)`` is computed once; ``steps`` releases are that
  vector times ``steps``, exactly as :class:`~dp_accounting.rdp.RdpAccountant` composes them
  (bit-identical again), so an RDP query after the first costs microseconds;
* finished epsilons are memoised, so the final check done by :func:`calibrate_noise` makes the
  last ``PrivacyLedger.epsilon_after`` of the run free.

For the intermediate points of a live curve, :meth:`PrivacyLedger.live_epsilon_after` composes
one epoch's PLD into the running total (one convolution per point, 1-7 ms) on a coarser grid,
checked against the exact value at both ends of the curve, or falls back to exact queries
where no coarse grid is close enough (small epsilon, where they are cheap): an upper bound,
never below the exact value and at most :data:`LIVE_REL_TOL` (1 %) above it.
Reported values never use it.
"""

from __future__ import annotations

import logging
import math
import numbers
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Final

import dp_accounting
import numpy as np
from dp_accounting.pld import pld_privacy_accountant
from dp_accounting.pld import privacy_loss_distribution as pld_lib
from dp_accounting.rdp import rdp_privacy_accountant

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

ACCOUNTANTS: Final = ("pld", "rdp")

#: dp-accounting's default PLD grid: the value every *reported* epsilon uses.
PLD_DISCRETIZATION: Final = 1e-4

#: Relative tolerance of :meth:`PrivacyLedger.live_epsilon_after` (never a reported value):
#: a live value ``v`` after ``steps`` releases has ``exact <= v <= exact * (1 + LIVE_REL_TOL)``,
#: where ``exact`` is the reported epsilon (:func:`epsilon_for`) after ``steps``.
LIVE_REL_TOL: Final = 0.01

# A coarse live grid is used only if its excess over the exact value, checked at the ledger's
# first live point and at its planned end, is at most this: half the tolerance, as a margin
# for the points in between (measured: below 1.25x the larger end's excess).
_LIVE_ACCEPT: Final = LIVE_REL_TOL / 2
# First live grid tried, relative to the planned final epsilon, and how many grids to try.
_LIVE_GRID_GUESS: Final = 2e-3
_LIVE_GRID_ATTEMPTS: Final = 3


def _live_grid_multiple(wanted: float) -> int:
    """Largest k of 1, 2, 3, 5, 10, 20, 30, 50, 100, ... with ``k * PLD_DISCRETIZATION <= wanted``.

    Live grids are whole multiples of the precise grid, so that they dominate it (see
    :class:`PrivacyLedger`), taken from a short series so that single-step PLDs are shared
    between runs.
    """
    k = wanted / PLD_DISCRETIZATION
    if not k >= 2.0:  # also NaN
        return 1
    decade = 10 ** math.floor(math.log10(k))
    return next(m * decade for m in (5, 3, 2, 1) if m * decade <= k)


def _coarse_discretization(epsilon_scale: float, ratio: float) -> float:
    """PLD grid of ``ratio * epsilon_scale`` (capped at 3e-3) for an approximate query.

    Pessimistic rounding overstates epsilon by a relative amount that depends on
    ``grid / epsilon``: measured on DP-SGD on Adult (1880 steps), about 0.04 % at 3e-4, 0.3 %
    at 1e-3 and 2.5 % at 3e-3; fewer steps give less. Query cost falls in proportion to the
    grid, so ``ratio`` trades accuracy for speed.
    """
    return min(3e-3, ratio * epsilon_scale)


def rdp_orders() -> tuple[float, ...]:
    """The Renyi orders used by the ``"rdp"`` accountant.

    dp-accounting's default grid jumps 63 -> 128 -> 256 -> 512; small epsilons (large sigma)
    have their optimum in those gaps, so the bound is looser than it needs to be (about 7 %
    at epsilon 0.03). We keep the default fine steps of 0.1 below 11, where large epsilons have
    their optimum, and fill the gaps above 64.

    Returns
    -------
    tuple of float
        Sorted orders, all greater than 1.
    """
    fractional = [1.0 + k / 10.0 for k in range(1, 100)]  # 1.1 ... 10.9
    small_int = list(range(11, 64))
    large_int = list(range(64, 256, 8)) + [256, 320, 384, 448, 512, 640, 768, 1024, 1536, 2048]
    return tuple(float(a) for a in fractional + small_int + large_int)


RDP_ORDERS: Final = rdp_orders()

# A short grid of integer orders, about 10x cheaper to evaluate than RDP_ORDERS (the cost of
# an integer order grows with the order, and fractional orders need long series). Used only to
# *bracket* the PLD calibration, where a looser bound is harmless: it can only move the first
# guess for sigma up, and the PLD search that follows keeps its own bracket.
_BRACKET_ORDERS: Final = tuple(
    float(a)
    for a in list(range(2, 17)) + list(range(18, 33, 2)) + [40, 48, 56, 64, 80, 96, 128, 192, 256]
)


# dp-accounting logs a warning (through absl) for every fractional Renyi order whose series
# does not converge, which happens for orders below ~2.5 at sampling rates of 0.1-0.9 (typical
# of DP-FedAvg). It then drops that order, which only loosens the bound slightly: the other
# orders still count. We silence exactly that message, only while our own RDP calls run.
_quiet = threading.local()


class _DropUnconvergedOrderWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(_quiet, "active", False):
            return True
        return not str(record.msg).startswith("_compute_log_a_frac failed to converge")


_ABSL_FILTER: Final = _DropUnconvergedOrderWarnings()
logging.getLogger("absl").addFilter(_ABSL_FILTER)


@contextmanager
def _quiet_rdp() -> Iterator[None]:
    previous = getattr(_quiet, "active", False)
    _quiet.active = True
    try:
        yield
    finally:
        _quiet.active = previous


# --------------------------------------------------------------------------------------------
# Validation


def _is_real(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _check_common(*, sample_rate: float, steps: int, delta: float, accountant: str) -> None:
    if accountant not in ACCOUNTANTS:
        raise ValueError(
            f"Unknown privacy accountant {accountant!r}: choose 'pld' (privacy loss "
            "distributions, the tightest) or 'rdp' (Renyi DP, faster but looser)."
        )
    if not (_is_real(delta) and 0.0 < delta < 1.0):
        raise ValueError(
            f"delta must be strictly between 0 and 1 (got {delta!r}); it is the small "
            "probability that the epsilon guarantee fails, typically below 1/(number of records)."
        )
    if not (_is_real(sample_rate) and 0.0 < sample_rate <= 1.0):
        raise ValueError(
            f"sample rate must be in (0, 1] (got {sample_rate!r}); it is the chance that a given "
            "record (or client) takes part in one step, batch size / number of records."
        )
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0 (got {steps!r}).")


def _check_sigma(noise_multiplier: float) -> None:
    if not _is_real(noise_multiplier) or math.isnan(noise_multiplier):
        raise ValueError(f"noise multiplier must be a number (got {noise_multiplier!r}).")
    if noise_multiplier < 0:
        raise ValueError(
            f"noise multiplier must be >= 0 (got {noise_multiplier!r}); it is the noise "
            "standard deviation divided by the clipping norm."
        )


def default_delta(n_records: int) -> float:
    """The delta used when the user does not choose one: ``1 / (10 n)``.

    Parameters
    ----------
    n_records : int
        Number of protected units (records for DP-SGD, clients for DP-FedAvg).

    Returns
    -------
    float
        ``1 / (10 * n_records)``, comfortably below the ``1/n`` limit of :func:`check_delta`.
    """
    if n_records < 1:
        raise ValueError(f"need at least one record to choose delta (got {n_records}).")
    return 1.0 / (10.0 * n_records)


def check_delta(delta: float, n_records: int) -> None:
    """Refuse a delta that would allow leaking a whole record.

    Parameters
    ----------
    delta : float
        The proposed delta.
    n_records : int
        Number of protected units (records or clients).

    Raises
    ------
    ValueError
        If ``delta`` is outside (0, 1) or ``delta >= 1 / n_records``.

    Notes
    -----
    (epsilon, delta)-DP allows anything to happen with probability delta. The mechanism
    "publish one record chosen at random, in the clear" is (0, 1/n)-DP: each person is exposed
    with probability 1/n. So any delta of 1/n or more permits the total loss of someone's
    privacy, whatever epsilon says; delta must be well below 1/n.
    """
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be strictly between 0 and 1 (got {delta!r}).")
    if n_records >= 1 and delta >= 1.0 / n_records:
        raise ValueError(
            f"delta = {delta:.3g} is too large for {n_records} records: it must be below "
            f"1/{n_records} = {1.0 / n_records:.3g}, and ideally far below "
            f"(default 1/(10 n) = {default_delta(n_records):.3g}). With delta >= 1/n the "
            "guarantee would still hold for a mechanism that publishes one whole record, "
            "chosen at random, in the clear."
        )


# --------------------------------------------------------------------------------------------
# Single queries


def _event(noise_multiplier: float, sample_rate: float, steps: int) -> dp_accounting.DpEvent:
    """The dp-accounting event of ``steps`` Poisson-subsampled Gaussian releases."""
    if sample_rate == 1.0:
        # No subsampling: every step is a plain Gaussian. dp-accounting composes T Gaussians
        # exactly (one Gaussian with sigma / sqrt(T)) instead of discretising T times.
        inner: dp_accounting.DpEvent = dp_accounting.GaussianDpEvent(noise_multiplier)
    else:
        inner = dp_accounting.PoissonSampledDpEvent(
            sample_rate, dp_accounting.GaussianDpEvent(noise_multiplier)
        )
    return dp_accounting.SelfComposedDpEvent(inner, steps)


@lru_cache(maxsize=8)
def _single_step_pld(
    noise_multiplier: float, sample_rate: float, discretization: float
) -> pld_lib.PrivacyLossDistribution:
    # Same call, same arguments as PLDAccountant._maybe_compose makes for a
    # PoissonSampledDpEvent(GaussianDpEvent); the expensive part of every PLD query.
    return pld_lib.from_gaussian_mechanism(
        standard_deviation=noise_multiplier,
        value_discretization_interval=discretization,
        sampling_prob=sample_rate,
        neighboring_relation=dp_accounting.NeighboringRelation.ADD_OR_REMOVE_ONE,
    )


def _pld_epsilon(
    noise_multiplier: float, sample_rate: float, steps: int, delta: float, discretization: float
) -> float:
    """PLD epsilon (validated inputs, ``steps >= 1``, ``sigma > 0``)."""
    if sample_rate == 1.0:
        # Cheap (a single Gaussian PLD): let the accountant do everything.
        acc = pld_privacy_accountant.PLDAccountant(value_discretization_interval=discretization)
        acc.compose(_event(noise_multiplier, sample_rate, steps))
        return float(acc.get_epsilon(delta))
    composed = _single_step_pld(noise_multiplier, sample_rate, discretization).self_compose(steps)
    # PLDAccountant starts from the identity PLD and composes the event into it; composing
    # with the identity re-truncates the tails, so we do it too to get bit-identical values.
    total = pld_lib.identity(value_discretization_interval=discretization).compose(composed)
    return float(total.get_epsilon_for_delta(delta))


@lru_cache(maxsize=64)
def _single_step_rdp(
    noise_multiplier: float, sample_rate: float, orders: tuple[float, ...]
) -> np.ndarray:
    """dp-accounting's RDP vector of one release, over ``orders`` (read-only array).

    :class:`~dp_accounting.rdp.RdpAccountant` composes ``SelfComposedDpEvent(event, steps)`` as
    ``rdp = 0 + steps * rdp(event)``, so multiplying this cached vector by ``steps`` gives the
    accountant's own numbers bit for bit (``tests/unit/test_accounting.py`` checks it) without
    recomputing the per-order series, the expensive part (~70 ms over :data:`RDP_ORDERS`).
    """
    acc = rdp_privacy_accountant.RdpAccountant(orders=list(orders))
    with _quiet_rdp():
        acc.compose(_event(noise_multiplier, sample_rate, 1))
    rdp = np.array(acc.rdp, dtype=np.float64)  # the public property: a copy of the same array
    rdp.flags.writeable = False
    return rdp


def _rdp_epsilon(
    noise_multiplier: float,
    sample_rate: float,
    steps: int,
    delta: float,
    orders: tuple[float, ...] = RDP_ORDERS,
) -> float:
    rdp = steps * _single_step_rdp(noise_multiplier, sample_rate, orders)
    eps, _ = rdp_privacy_accountant.compute_epsilon(np.array(orders), rdp, delta)
    return float(eps)


@lru_cache(maxsize=1024)
def _epsilon_cached(
    noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: str
) -> float:
    if steps == 0:
        return 0.0  # nothing has been released yet
    if noise_multiplier == 0.0:
        return math.inf  # a noiseless release of a record's contribution: no DP at all
    if accountant == "pld":
        return _pld_epsilon(noise_multiplier, sample_rate, steps, delta, PLD_DISCRETIZATION)
    return _rdp_epsilon(noise_multiplier, sample_rate, steps, delta)


def clear_caches() -> None:
    """Forget cached single-step PLDs and epsilons (for cold-start timings and tests)."""
    _single_step_pld.cache_clear()
    _single_step_rdp.cache_clear()
    _increment_pld.cache_clear()
    _epsilon_cached.cache_clear()


def epsilon_for(
    *,
    noise_multiplier: float,
    sample_rate: float,
    steps: int,
    delta: float,
    accountant: str = "pld",
) -> float:
    """Epsilon spent by ``steps`` Poisson-subsampled Gaussian releases.

    Parameters
    ----------
    noise_multiplier : float
        Noise standard deviation divided by the clipping norm (sigma), >= 0.
    sample_rate : float
        Poisson sampling probability q in (0, 1]; 1 means every step uses all data.
    steps : int
        Number of noisy releases (optimizer steps or federated rounds), >= 0.
    delta : float
        Target delta in (0, 1).
    accountant : {"pld", "rdp"}
        Which dp-accounting accountant to use (see the module docstring).

    Returns
    -------
    float
        The epsilon such that the whole run is (epsilon, delta)-DP; 0 for ``steps == 0``,
        ``inf`` for ``noise_multiplier == 0``.

    Raises
    ------
    ValueError
        For a delta outside (0, 1), a sample rate outside (0, 1], negative steps, a negative
        noise multiplier, or an unknown accountant.
    """
    _check_common(sample_rate=sample_rate, steps=steps, delta=delta, accountant=accountant)
    _check_sigma(noise_multiplier)
    return _epsilon_cached(
        float(noise_multiplier), float(sample_rate), int(steps), float(delta), accountant
    )


# --------------------------------------------------------------------------------------------
# Ledger


@lru_cache(maxsize=8)
def _increment_pld(
    noise_multiplier: float, sample_rate: float, discretization: float, steps: int
) -> pld_lib.PrivacyLossDistribution:
    """The PLD of ``steps`` releases on a grid (one epoch's worth, for the live curve)."""
    return _single_step_pld(noise_multiplier, sample_rate, discretization).self_compose(steps)


class PrivacyLedger:
    """Epsilon spent so far by one training run, for a live budget curve.

    Parameters
    ----------
    noise_multiplier : float
        Sigma of the run.
    sample_rate : float
        Poisson sampling probability of the run.
    delta : float
        Target delta.
    accountant : {"pld", "rdp"}
        The accountant the user chose.
    planned_steps : int, optional
        The run's total number of releases, if known. The exact epsilon at that point (usually
        already memoised by :func:`calibrate_noise`) then checks the live grid and caps every
        live value (see the notes); without it, live values are exact.

    Notes
    -----
    :meth:`epsilon_after` is *exact*: it returns the very same float as :func:`epsilon_for`
    with the same arguments, so the last value an engine yields is the one it reports. The
    module's caches make it cheaper: the single-step PLD of ``(sigma, q)`` is built once per
    process (usually already by :func:`calibrate_noise`), so only the self-composition runs per
    query, and the value at the planned total steps is usually memoised by the calibration's
    own check. Even so an exact PLD query costs about 10 ms for DP-SGD on Adult at epsilon
    <= 0.1 and 20-300 ms at epsilon 0.3 to 10; at small epsilon most of it is fixed Python
    overhead in dp-accounting's truncation bounds, so a coarser grid alone hardly helps.

    :meth:`live_epsilon_after` is the cheap choice for the intermediate points of a curve: an
    **upper bound** on the exact value, never below it and at most :data:`LIVE_REL_TOL`
    (1 %) above it, whatever the epsilon. How, with PLD and ``planned_steps`` given:

    1. *A coarse grid, checked.* At the ledger's first live point the ledger tries up to three
       grids that are whole multiples of the precise one (1e-4), from about ``2e-3 x`` the
       planned final epsilon down, and keeps the first whose excess over the exact value is
       at most half the tolerance at *both* ends of the curve: the first point (one exact
       query) and ``planned_steps`` (the memoised final value). A whole multiple dominates
       the precise grid (connect-the-dots discretization interpolates a convex privacy
       profile; dropping nodes can only raise it, and composition preserves dominance), so a
       coarse value is never below the exact one. The excess depends on the grid relative to
       the privacy loss of one step, not simply to epsilon, and varies little along a curve
       (measured on 70 random DP-SGD/DP-FedAvg-like settings, epsilon 0.05-8: never above
       0.33 % in between when both ends pass), hence the factor-2 margin.
    2. *The exact value otherwise.* If no grid of at least twice the precise one passes
       (small epsilon, i.e. large sigma, where one step's privacy loss is below the grid:
       epsilon below about 0.1 for DP-SGD on Adult), every point is an exact query; those are
       cheap there (about 10 ms), because the PLDs are short. The first point of a curve,
       points before it, and points at or after ``planned_steps`` are always exact.
    3. *Incremental composition.* On a coarse grid the ledger keeps the composed PLD of the
       steps so far and composes it with the PLD of the new steps (one epoch's worth, built
       once and cached) using dp-accounting's ``PrivacyLossDistribution.compose``: one FFT
       convolution per point (1-7 ms on Adult) instead of a fresh self-composition.
       ``compose`` truncates tails pessimistically (the right tail goes to the infinite-loss
       mass), so the composed PLD still dominates.
    4. *Monotone and capped.* The true epsilon never decreases with more steps, so any
       earlier upper bound is also one for now (``max`` with the previous live value), and
       the exact epsilon at ``planned_steps`` bounds every point before it (``min`` with it).
       So the curve never dips and never ends above the final, reported value.

    Measured (DP-SGD, q = 256/24129 with 20 epochs and q = 64/455 with 10 epochs, targets
    1e-6 to 10; ``tests/unit/test_accounting.py`` checks them): the worst live / exact ratio
    is 1.0049, at epsilon 0.1 on Adult; 1.002-1.003 at epsilon 0.3-10 there; 1 (exact
    values) at epsilon 0.01 and below, where dp-accounting's own value at the default grid
    is 0 for most of a 1e-6 run (its pessimistic PLD proves (0, delta)-DP there).
    For 20 epochs on Adult the live curve costs 0.08 / 0.08 / 0.15 s at epsilon
    0.3 / 1 / 3 including its first, exact point; about 0.2 s where it falls back to exact
    values.

    With ``"rdp"`` live values are exact (RDP composes by multiplying one cached vector, so
    a query costs microseconds). Engines should call :meth:`live_epsilon_after` for every
    epoch but the last and :meth:`epsilon_after` for the last; a live value must never be
    reported as the final epsilon.
    """

    def __init__(
        self,
        *,
        noise_multiplier: float,
        sample_rate: float,
        delta: float,
        accountant: str = "pld",
        planned_steps: int | None = None,
    ) -> None:
        _check_common(sample_rate=sample_rate, steps=0, delta=delta, accountant=accountant)
        _check_sigma(noise_multiplier)
        if planned_steps is not None:
            _check_common(
                sample_rate=sample_rate, steps=planned_steps, delta=delta, accountant=accountant
            )
        self.noise_multiplier = float(noise_multiplier)
        self.sample_rate = float(sample_rate)
        self.delta = float(delta)
        self.accountant = accountant
        self.planned_steps = None if planned_steps is None else int(planned_steps)
        self.steps = 0
        self.epsilon = 0.0
        # Live-curve state: grid (None: not chosen yet; 0.0: exact values), the first live point
        # (coarse values only after it), composed PLD and its steps, last live point.
        self._live_grid: float | None = None
        self._live_from = 0
        self._live_pld: pld_lib.PrivacyLossDistribution | None = None
        self._live_pld_steps = 0
        self._live_last: tuple[int, float] = (0, 0.0)

    def __repr__(self) -> str:
        return (
            f"PrivacyLedger(noise_multiplier={self.noise_multiplier!r}, "
            f"sample_rate={self.sample_rate!r}, delta={self.delta!r}, "
            f"accountant={self.accountant!r}, steps={self.steps}, epsilon={self.epsilon!r})"
        )

    def _exact(self, steps: int) -> float:
        return epsilon_for(
            noise_multiplier=self.noise_multiplier,
            sample_rate=self.sample_rate,
            steps=steps,
            delta=self.delta,
            accountant=self.accountant,
        )

    def epsilon_after(self, steps: int) -> float:
        """Exact epsilon after ``steps`` releases (identical to :func:`epsilon_for`).

        Also records ``steps`` and the epsilon on the ledger (``self.steps``,
        ``self.epsilon``).
        """
        eps = self._exact(steps)
        self.steps, self.epsilon = int(steps), eps
        return eps

    def step(self, count: int = 1) -> float:
        """Add ``count`` releases and return the exact epsilon spent so far."""
        if count < 0:
            raise ValueError(f"cannot undo releases (count={count}).")
        return self.epsilon_after(self.steps + count)

    def final_epsilon(self) -> float | None:
        """Exact epsilon at ``planned_steps`` (memoised), or None if no plan was given."""
        return None if self.planned_steps is None else self._exact(self.planned_steps)

    def live_epsilon_after(self, steps: int) -> float:
        """An upper bound on the epsilon after ``steps``, for intermediate curve points.

        ``exact <= value <= exact * (1 + LIVE_REL_TOL)`` where ``exact`` is
        ``epsilon_for(...)`` at ``steps`` (see the class notes); exact with ``"rdp"``, with no
        subsampling, without ``planned_steps``, at 0 steps and whenever the cheap route cannot
        meet the tolerance. Non-decreasing over increasing ``steps``. It does not update
        ``self.steps`` / ``self.epsilon``, which only hold values from :meth:`epsilon_after`.
        """
        _check_common(
            sample_rate=self.sample_rate, steps=steps, delta=self.delta, accountant=self.accountant
        )
        steps = int(steps)
        planned = self.planned_steps
        if (
            self.accountant == "rdp"
            or steps == 0
            or self.noise_multiplier == 0.0
            or self.sample_rate == 1.0
            or planned is None
            or steps >= planned
        ):
            eps = self._exact(steps)
        else:
            if self._live_grid is None:
                self._choose_live_grid(steps)
            if self._live_grid == 0.0 or steps <= self._live_from:
                eps = self._exact(steps)
            else:
                eps = self._coarse_epsilon(steps)
        last_steps, last_eps = self._live_last
        if steps >= last_steps:
            eps = max(eps, last_eps)  # an upper bound at fewer steps bounds these too
        final = self.final_epsilon()
        if final is not None and planned is not None and steps <= planned:
            eps = min(eps, final)  # ... and the exact value at more steps bounds this one
        self._live_last = (steps, eps)
        return eps

    def _choose_live_grid(self, first: int) -> None:
        """Pick a coarse live grid within ``_LIVE_ACCEPT`` at ``first`` and at the plan's end.

        Sets ``_live_grid`` to 0.0 (exact values) if no grid of at least twice the precise
        one passes in ``_LIVE_GRID_ATTEMPTS`` tries.
        """
        sigma, q, delta = self.noise_multiplier, self.sample_rate, self.delta
        planned = self.planned_steps
        self._live_grid, self._live_from = 0.0, first
        final = self.final_epsilon()
        exact_first = self._exact(first)
        if planned is None or final is None or not (0.0 < exact_first and 0.0 < final < math.inf):
            return  # at zero epsilon a relative tolerance leaves no room: stay exact
        wanted = _LIVE_GRID_GUESS * final
        if wanted >= PLD_DISCRETIZATION:
            # Try at least twice the precise grid once: near epsilon 0.1 it may pass, saving
            # an exact query per point, and a failed try costs about one exact query.
            wanted = max(wanted, 2 * PLD_DISCRETIZATION)
        for _ in range(_LIVE_GRID_ATTEMPTS):
            k = _live_grid_multiple(wanted)
            if k < 2:
                return
            grid = k * PLD_DISCRETIZATION
            end = _single_step_pld(sigma, q, grid).self_compose(planned)
            excess = float(end.get_epsilon_for_delta(delta)) / final - 1.0
            if excess < 0.0:
                return  # below the exact value: impossible for a dominating grid; stay exact
            if excess <= _LIVE_ACCEPT:
                start_pld = _increment_pld(sigma, q, grid, first)
                excess_start = float(start_pld.get_epsilon_for_delta(delta)) / exact_first - 1.0
                if excess_start < 0.0:
                    return  # (as above)
                excess = max(excess, excess_start)
                if excess <= _LIVE_ACCEPT:
                    self._live_grid = grid
                    self._live_pld, self._live_pld_steps = start_pld, first
                    return
            # The excess grows about as the square of the grid: aim at 70 % of the limit.
            wanted = grid * math.sqrt(0.7 * _LIVE_ACCEPT / excess)

    def _coarse_epsilon(self, steps: int) -> float:
        """Epsilon after ``steps`` on the live grid, by composing onto the running PLD."""
        sigma, q, grid = self.noise_multiplier, self.sample_rate, self._live_grid
        assert grid  # a coarse grid has been chosen
        if self._live_pld is None or steps < self._live_pld_steps:
            pld = _increment_pld(sigma, q, grid, steps)  # out of order: compose afresh
        elif steps > self._live_pld_steps:
            new = _increment_pld(sigma, q, grid, steps - self._live_pld_steps)
            pld = self._live_pld.compose(new)
        else:
            pld = self._live_pld
        self._live_pld, self._live_pld_steps = pld, steps
        return float(pld.get_epsilon_for_delta(self.delta))


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
